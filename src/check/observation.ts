import type { Verdict } from '../engine/reconnect.ts'
import type { StreamRequest } from '../engine/request.ts'

// What check/observe.ts measures, as plain data: check/checks.ts judges it without sockets.

/** What browsers send; the probe itself asks for no compression. */
export const BROWSER_ACCEPT_ENCODING = 'gzip, deflate, br'

/**
 * Events and reads kept over the stream's connections: plenty to judge by, and a fast stream
 * cannot fill memory. Nor can long event types and ids: MAX_KEPT_MIB of their characters.
 */
export const MAX_SEEN = 10_000
export const MAX_KEPT_MIB = 64

/** What one network read of a response body brought. Times are ms since the check started. */
interface ReadSeen {
  t: number
  /** Since the previous read, or since the request for the first one (headers held back with the data are part of the silence). */
  silenceMs: number
  /**
   * Events completed by this read, pings aside: a keep-alive written with an event is one
   * write, while events that a server sent apart and arrive together were held on the way.
   */
  events: number
}

export interface EventSeen {
  t: number
  event: string
  id: string | null
  ping: boolean
}

export interface ResponseSeen {
  url: string
  status: number
  statusText: string
  headers: Record<string, string>
  verdict: Verdict
  httpVersion: string
  /** The start of a refused response's body, on one line (an API's error message). */
  body?: string
}

/** `full`: the connections delivered MAX_SEEN events or reads (or MAX_KEPT_MIB), and reading stopped there. */
export type ReadEnd =
  | 'end-event'
  | 'first-event'
  | 'server-closed'
  | 'network-error'
  | 'window'
  | 'full'

/** One request and, when it was an event stream that was read, everything it delivered. */
export interface ConnectionSeen {
  requestAt: number
  /** The request as redirects left it: what a reconnect sends again, as a browser's EventSource does. */
  request?: StreamRequest
  headersAt?: number
  response?: ResponseSeen
  /** A transport error instead of a response. */
  error?: string
  /** The error is --connect-timeout after the connection was made: no response headers came. */
  unanswered?: true
  reads: ReadSeen[]
  events: EventSeen[]
  comments: number
  retries: number[]
  /** The type of an event the body ended in the middle of (discarded, as clients do). */
  cutOff?: string
  /** The type of the body's last block when it had no data line (no event: clients drop it). */
  dataless?: string
  /** The first retry field that was not digits only, which clients ignore. */
  invalidRetry?: string
  /** How reading ended; absent when the body was not read. */
  end?: { t: number; cause: ReadEnd }
}

export interface ResumeSeen {
  /** The ids seen in the main observation, in order, each once. */
  ids: string[]
  lastEventId: string
  connection: ConnectionSeen
}

export interface Observation {
  /** The stream's URL as given, before any redirect. */
  url: string
  windowMs: number
  /** Ctrl-C ended the window early (and no resume was tried). */
  interrupted: boolean
  /** How long the main observation lasted (less than the window when the stream ended). */
  observedMs: number
  /** GET is followed as EventSource does; another method as fetch-based clients do (on-error). */
  method: string
  endEvents: string[]
  origin?: string
  /** Whether the request carried cookies, which an EventSource sends only with withCredentials. */
  credentials: boolean
  /**
   * The stream as a browser follows it: the first connection and every reconnect, plus,
   * when the window ended while a reconnect was due, that reconnect (its answer only).
   */
  connections: ConnectionSeen[]
  /** The same request with a browser's Accept-Encoding, made alongside the first connection. */
  compressed: ConnectionSeen
  /** A reconnect with a Last-Event-ID from the middle of what was seen, when at least two ids were. */
  resume?: ResumeSeen
}

/** The ids of the events that carry one (pings and end events aside), in order, each once. */
export function idsSeen(
  connections: readonly ConnectionSeen[],
  endEvents: readonly string[],
): string[] {
  const ids = new Set<string>()
  for (const c of connections) {
    for (const e of c.events) if (!e.ping && !endEvents.includes(e.event) && e.id) ids.add(e.id)
  }
  return [...ids]
}
