import { SIGNAL_EXIT_CODES, type StopSignal } from '../engine/exit-code.ts'

export interface StopSignals {
  /** The first signal received, if any. */
  readonly received: StopSignal | undefined
  dispose(): void
}

/**
 * SIGINT and SIGTERM: the first asks the command to finish with what it has (a
 * summary, a report); a second means the user is done waiting, and exits at once.
 */
export function onStopSignals(
  process: NodeJS.Process,
  stop: (signal: StopSignal) => void,
): StopSignals {
  let received: StopSignal | undefined
  const handle = (name: StopSignal) => {
    if (received) process.exit(SIGNAL_EXIT_CODES[name])
    received = name
    stop(name)
  }
  const onSigint = () => handle('SIGINT')
  const onSigterm = () => handle('SIGTERM')
  process.on('SIGINT', onSigint)
  process.on('SIGTERM', onSigterm)
  return {
    get received() {
      return received
    },
    dispose() {
      process.off('SIGINT', onSigint)
      process.off('SIGTERM', onSigterm)
    },
  }
}
