import { MAX_DELAY_MS } from './duration.ts'
import type { EndReason } from './records.ts'

/**
 * The reconnection rules of the browser's EventSource, as pure transitions:
 * the probe loop performs the effects (read, wait, end), this decides them.
 */

export interface ConnState {
  /** 1 for the first connection. */
  attempt: number
  /** Whether any connection has been established: until then a network error means a wrong URL. */
  opened: boolean
  /** Reconnects in a row that have produced no event. */
  barren: number
  retryMs: number
}

export type Verdict = 'ok' | 'no-content' | 'http-error' | 'not-event-stream'

export type ConnInput =
  | { type: 'response'; verdict: Verdict }
  | { type: 'network-error' }
  | { type: 'closed' }
  | { type: 'event' }
  | { type: 'retry'; ms: number }

export type Effect =
  | { type: 'none' }
  | { type: 'read' }
  | { type: 'wait'; ms: number }
  | { type: 'end'; reason: EndReason }

export interface ReconnectOptions {
  reconnect: boolean
  maxReconnects: number
}

const NONE: Effect = { type: 'none' }
const READ: Effect = { type: 'read' }
const end = (reason: EndReason): Effect => ({ type: 'end', reason })

export function initialState(retryMs: number): ConnState {
  return { attempt: 1, opened: false, barren: 0, retryMs }
}

export function step(s: ConnState, input: ConnInput, o: ReconnectOptions): [ConnState, Effect] {
  switch (input.type) {
    case 'retry':
      // A server's `retry: 99999999999` means "much later", not "at once" as an overflowing timer would.
      return [{ ...s, retryMs: Math.min(input.ms, MAX_DELAY_MS) }, NONE]
    case 'event':
      return s.barren === 0 ? [s, NONE] : [{ ...s, barren: 0 }, NONE]
    case 'response':
      // [spec] 204 and any other non-200 or non-event-stream response fail the connection: never retried.
      if (input.verdict === 'ok') return [{ ...s, opened: true }, READ]
      return [s, end(input.verdict === 'no-content' ? 'no-content' : input.verdict)]
    case 'network-error':
      // A first connection that cannot be made at all means a wrong URL: no point in retrying.
      return s.opened ? retry(s, o) : [s, end('connect-failed')]
    case 'closed':
      return retry(s, o)
  }
}

function retry(s: ConnState, o: ReconnectOptions): [ConnState, Effect] {
  if (!o.reconnect) return [s, end('server-closed')]
  if (s.barren >= o.maxReconnects) return [s, end('reconnects-exhausted')]
  return [
    { ...s, barren: s.barren + 1, attempt: s.attempt + 1 },
    { type: 'wait', ms: s.retryMs },
  ]
}
