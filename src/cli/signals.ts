import { SIGNAL_EXIT_CODES, STOP_SIGNALS, type StopSignal } from '../engine/exit-code.ts'

/** Where a command hears stop signals: the process, and one held from start-up. */
export interface SignalSource {
  process: NodeJS.Process
  /**
   * A stop signal that came during start-up, before the command listened (src/cli/entry.ts).
   * Taken once: the command then hears it as if it came now.
   */
  heldSignal?: () => StopSignal | undefined
}

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
  source: SignalSource,
  stop: (signal: StopSignal) => void,
): StopSignals {
  const { process } = source
  let received: StopSignal | undefined
  const handle = (name: StopSignal) => {
    if (received) process.exit(SIGNAL_EXIT_CODES[name])
    received = name
    stop(name)
  }
  for (const name of STOP_SIGNALS) process.on(name, handle)
  const held = source.heldSignal?.()
  if (held) {
    // Received already (a command that starts work before its next tick sees it); stopped as soon
    // as the caller has what this returns, before any I/O: the signal came first.
    received = held
    queueMicrotask(() => stop(held))
  }
  return {
    get received() {
      return received
    },
    dispose() {
      for (const name of STOP_SIGNALS) process.off(name, handle)
    },
  }
}

/**
 * What `work` resolves to, or undefined if a stop signal comes first: reading stdin or a pipe at
 * start-up may never end (a terminal, a writer that stays), and the Ctrl-C that entry.ts holds
 * for the command would wait for it. The signal stays held: the command takes it as usual.
 */
export async function untilStopSignal<T>(
  process: NodeJS.Process,
  work: Promise<T>,
): Promise<T | undefined> {
  let stop = () => {}
  const signalled = new Promise<undefined>((resolve) => (stop = () => resolve(undefined)))
  for (const name of STOP_SIGNALS) process.once(name, stop)
  try {
    return await Promise.race([work, signalled])
  } finally {
    for (const name of STOP_SIGNALS) process.off(name, stop)
  }
}
