import type { EndReason, ExpectationResult } from './records.ts'

const EXIT_CODES: Record<Exclude<EndReason, 'interrupted'>, number> = {
  'end-event': 0,
  'end-data': 0,
  'max-events': 0,
  duration: 0,
  'server-closed': 0,
  'no-content': 0,
  timeout: 4,
  'idle-timeout': 4,
  'http-error': 3,
  'not-event-stream': 3,
  'connect-failed': 3,
  'reconnects-exhausted': 3,
  'event-too-large': 3,
  'stream-error': 3,
  'expectation-failed': 1,
  'trigger-failed': 3,
}

/**
 * SIGINT → 130, SIGTERM → 143 (128 + the signal's number), as shells report them; SIGHUP → 129:
 * the terminal has gone (a dropped SSH session), and a --record transcript still gets its summary.
 */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES
/** The signals that stop a command, which then finishes with what it has. */
export const STOP_SIGNALS = Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]

/** The exit code for how the probe ended: a failed expectation turns 0 into 1, other codes stand. */
export function exitCodeFor(
  reason: EndReason,
  expectations: readonly ExpectationResult[],
  signal: StopSignal = 'SIGINT',
): number {
  const code = reason === 'interrupted' ? SIGNAL_EXIT_CODES[signal] : EXIT_CODES[reason]
  return code === 0 && expectations.some((e) => !e.ok) ? 1 : code
}
