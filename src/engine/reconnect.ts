import { MAX_DELAY_MS } from './duration.ts'
import type { ReconnectOptions } from './options.ts'
import type { EndReason } from './records.ts'
import { hasHeaderControl, type StreamRequest, withLastEventId } from './request.ts'

/**
 * The probe's decisions as pure transitions: the reconnection rules of the browser's
 * EventSource and every way a probe ends. probe.ts performs the effects (connect, read, wait,
 * end) and feeds back what happened; timers, limits and aborts come in as `stop` inputs, so the
 * first end decided here is the one reported.
 */

export interface ConnState {
  /** 1 for the first connection. */
  attempt: number
  /** Whether any connection has been established: until then a network error means a wrong URL. */
  opened: boolean
  /** Reconnects in a row that have produced no event. */
  barren: number
  retryMs: number
  /** [spec] a reconnect fetches the same request again, as redirects left it (whatwg/html#503). */
  request: StreamRequest
  /** Whether the current connection has dispatched an event. */
  connectionHadEvent: boolean
  /** How the probe ended, once it has: the first end wins. */
  ended?: { reason: EndReason; message?: string }
}

/** too-many-redirects: fetch's network error, not a response (the browser retries it as one). */
export type Verdict = 'ok' | 'no-content' | 'http-error' | 'not-event-stream' | 'too-many-redirects'

export type ConnInput =
  /** An attempt is due, with the last-event-ID buffer it would send. */
  | { type: 'connect'; lastEventId: string }
  | { type: 'response'; verdict: Verdict; request: StreamRequest; message?: string }
  | { type: 'network-error'; message: string }
  | { type: 'closed'; cause: 'server-closed' | 'network-error' }
  /** An event, with the end condition it met (session.ts), if any. */
  | { type: 'event'; end?: EndReason }
  | { type: 'retry'; ms: number }
  /** From outside the stream: a timer, a limit, an abort, an extension. */
  | { type: 'stop'; reason: EndReason; message?: string }

export type Effect =
  | { type: 'none' }
  | { type: 'connect'; request: StreamRequest }
  | { type: 'read' }
  | { type: 'wait'; ms: number }
  | { type: 'end'; reason: EndReason; message?: string }

type Policy = Pick<ReconnectOptions, 'when' | 'maxReconnects'>

const NONE: Effect = { type: 'none' }
const READ: Effect = { type: 'read' }

export function initialState(retryMs: number, request: StreamRequest): ConnState {
  return {
    attempt: 1,
    opened: false,
    barren: 0,
    retryMs,
    request,
    connectionHadEvent: false,
  }
}

function end(s: ConnState, reason: EndReason, message?: string): [ConnState, Effect] {
  const ended = message === undefined ? { reason } : { reason, message }
  return [
    { ...s, ended },
    { type: 'end', ...ended },
  ]
}

export function step(s: ConnState, input: ConnInput, o: Policy): [ConnState, Effect] {
  if (s.ended) return [s, NONE]
  switch (input.type) {
    case 'stop':
      return end(s, input.reason, input.message)
    case 'connect': {
      // A browser sends such an id raw; undici refuses it on every attempt: say so once and stop.
      if (hasHeaderControl(input.lastEventId)) {
        const id = JSON.stringify(input.lastEventId)
        return end(
          s,
          'connect-failed',
          `cannot reconnect: the last event ID ${id} has control characters that an HTTP header cannot carry`,
        )
      }
      const headers = withLastEventId(s.request.headers, input.lastEventId)
      return [s, { type: 'connect', request: { ...s.request, headers } }]
    }
    case 'retry':
      // A server's `retry: 99999999999` means "much later", not "at once" as an overflowing timer would.
      return [{ ...s, retryMs: Math.min(input.ms, MAX_DELAY_MS) }, NONE]
    case 'event': {
      // Only a connection's first event changes the state: it ends a run of barren reconnects.
      const next = s.connectionHadEvent ? s : { ...s, connectionHadEvent: true, barren: 0 }
      return input.end ? end(next, input.end) : [next, NONE]
    }
    case 'response':
      // [spec] 204 and any other non-200 or non-event-stream response fail the connection: never retried.
      if (input.verdict === 'ok') {
        return [{ ...s, opened: true, request: input.request, connectionHadEvent: false }, READ]
      }
      if (input.verdict === 'too-many-redirects') return networkError(s, o, input.message ?? '')
      return end({ ...s, request: input.request }, input.verdict, input.message)
    case 'network-error':
      return networkError(s, o, input.message)
    case 'closed':
      // on-error: a body that ended cleanly was the whole answer (an LLM's), not a failure.
      if (o.when === 'on-error' && input.cause === 'server-closed') return end(s, 'server-closed')
      return retry(s, o)
  }
}

// A first connection that cannot be made at all means a wrong URL: no point in retrying.
function networkError(s: ConnState, o: Policy, message: string): [ConnState, Effect] {
  return s.opened ? retry(s, o, message) : end(s, 'connect-failed', message)
}

function retry(s: ConnState, o: Policy, message?: string): [ConnState, Effect] {
  if (o.when === 'never') return end(s, 'server-closed')
  if (s.barren >= o.maxReconnects) {
    // The summary says why an erroring probe ended, also when the last close was a clean one.
    const n = o.maxReconnects
    const why =
      n === 0
        ? 'the stream closed and --max-reconnects 0 allows no reconnect'
        : `${n} reconnect${n === 1 ? '' : 's'} in a row brought no event (--max-reconnects ${n})`
    return end(s, 'reconnects-exhausted', message === undefined ? why : `${why}: ${message}`)
  }
  const next = { ...s, barren: s.barren + 1, attempt: s.attempt + 1 }
  return [next, { type: 'wait', ms: s.retryMs }]
}
