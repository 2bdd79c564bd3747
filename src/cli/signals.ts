import { SIGNAL_EXIT_CODES, STOP_SIGNALS, type StopSignal } from '../engine/exit-code.ts'

export interface StopSignals {
  /** The first signal received, if any. */
  readonly received: StopSignal | undefined
  dispose(): void
}

/**
 * SIGINT, SIGTERM and SIGHUP: the first asks the command to finish with what it has (a
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
  for (const name of STOP_SIGNALS) process.on(name, handle)
  return {
    get received() {
      return received
    },
    dispose() {
      for (const name of STOP_SIGNALS) process.off(name, handle)
    },
  }
}
