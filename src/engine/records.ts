import type { LlmSummary } from '../llm/types.ts'

/**
 * The records a probe emits, one member per JSON record type of the contract
 * (../shared/design/cli.md, "JSON records"). Renderers turn them into text;
 * `--format json` writes them as they are.
 */

export type EndReason =
  | 'end-event'
  | 'end-data'
  | 'max-events'
  | 'duration'
  | 'server-closed'
  | 'no-content'
  | 'timeout'
  | 'idle-timeout'
  | 'http-error'
  | 'not-event-stream'
  | 'connect-failed'
  | 'reconnects-exhausted'
  | 'event-too-large'
  | 'interrupted'
  /** A stream that breaks a rule an extension enforces (contracts: a schema, an order). */
  | 'stream-error'
  /** An extension found an expectation failed and ended the probe early. */
  | 'expectation-failed'
  /** The action that should have made the server send (contracts: --trigger) failed. */
  | 'trigger-failed'

export interface OpenRecord {
  type: 'open'
  t: number
  attempt: number
  url: string
  status: number
  httpVersion: string
  headers: Record<string, string>
}

export interface EventRecord {
  type: 'event'
  t: number
  attempt: number
  event: string
  id: string | null
  lastEventId: string
  data: string
  dt: number | null
}

export interface CommentRecord {
  type: 'comment'
  t: number
  attempt: number
  text: string
}

export interface RetryRecord {
  type: 'retry'
  t: number
  attempt: number
  ms: number
}

export interface CloseRecord {
  type: 'close'
  t: number
  attempt: number
  cause: 'server-closed' | 'network-error'
  message?: string
  /** Bytes of an event that was still incomplete when the stream ended (discarded, as the spec says). */
  discardedBytes?: number
  /**
   * The stream's last block named an end event type (`event: end`) but had no data line: no event
   * (the spec dispatches only blocks with data; browsers drop it too), so the probe did not end.
   */
  datalessEnd?: string
}

export interface ReconnectRecord {
  type: 'reconnect'
  t: number
  attempt: number
  delayMs: number
  /** The Last-Event-ID header sent, or null when the buffer was empty and none was sent. */
  lastEventId: string | null
}

export interface ErrorRecord {
  type: 'error'
  t: number
  attempt: number
  message: string
  status?: number
  /** The response headers of a refused response (credentials redacted). */
  headers?: Record<string, string>
  /** The start of a refused response's body (e.g. a JSON error), on one line. */
  body?: string
}

export interface GapStats {
  min: number
  p50: number
  p95: number
  max: number
}

export interface ExpectationResult {
  /** The flag as typed: `--expect-min-events 50`. */
  name: string
  ok: boolean
  /** What was seen: a count, the longest gap in ms, the types seen in order, … */
  actual?: unknown
  /** Where it first went wrong (an extension's own detail, e.g. a record's `t`). */
  first?: unknown
}

/** The counts and timings of a whole probe, as the summary reports them. */
export interface SummaryCounts {
  events: number
  eventsByType: Record<string, number>
  pings: number
  comments: number
  /** Connections that opened (200 and text/event-stream). */
  connections: number
  /** Reconnect attempts, successful or not. */
  reconnects: number
  bytes: number
  firstEventMs: number | null
  gapMs: GapStats | null
}

export interface SummaryRecord extends SummaryCounts {
  type: 'summary'
  t: number
  /** The wall clock (ISO 8601) of t = 0, to match any `t` with server logs. */
  startedAt: string
  reason: EndReason
  exitCode: number
  message?: string
  expectations: ExpectationResult[]
  /** LLM stream assembly (llm.md), when the probe followed one. */
  llm?: LlmSummary
  /** From a trigger to the first event it caused (contracts.md). */
  triggerToEventMs?: number | null
}

/** An event that broke a contract: `--schema`, `--openapi` (contracts.md). */
export interface ViolationRecord {
  type: 'violation'
  t: number
  attempt: number
  /** The event's position, counted from 1, pings included. */
  index: number
  id: string | null
  event: string
  /** The flag as typed: `--schema status=status.json`. */
  check: string
  /** A JSON pointer into the data (into the event object for --openapi). */
  pointer: string
  message: string
}

/** The request that makes the server send (contracts.md, --trigger): when it was sent, its answer. */
export interface TriggerRecord {
  type: 'trigger'
  t: number
  method: string
  url: string
  /** null: no answer before the probe stopped waiting for one (or it could not be sent: load). */
  status: number | null
  /** Until its response, or until the probe stopped waiting. */
  ms: number
}

export type ProbeRecord =
  | OpenRecord
  | EventRecord
  | CommentRecord
  | RetryRecord
  | CloseRecord
  | ReconnectRecord
  | ErrorRecord
  | ViolationRecord
  | TriggerRecord
  | SummaryRecord

/** Milliseconds with at most 3 decimals, as every `t` and duration in the records. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
