import { SseProbeUsageError } from '../engine/errors.ts'
import { type CloseRecord, type ProbeRecord, roundMs } from '../engine/records.ts'
import { createEventStream } from '../engine/stream.ts'
import { sseComment, sseEvent, sseId, sseRetry } from './sse-text.ts'

/**
 * What `sse-probe serve` replays, made from a file without any I/O: a
 * transcript (the JSON records of --record or --json, one per line) or a plain
 * event-stream file. Bad input is a SseProbeUsageError naming the file and line.
 */

interface ReplayStep {
  /** After the previous step of the same connection, or after the response for the first. */
  delayMs: number
  /** One complete block of event-stream text. */
  text: string
  /** Whether the block dispatches an event. */
  event: boolean
  /** What the block sets the client's last-event-ID buffer to, if it sets it: where Last-Event-ID resumes. */
  id?: string
}

interface StreamConnection {
  type: 'stream'
  /** The Last-Event-ID the recorded client sent (null: none); undefined for the first connection. */
  lastEventId?: string | null
  steps: ReplayStep[]
  /** How the server ended it; none when the recording ended with the connection open. */
  close?: { delayMs: number; cause: CloseRecord['cause'] }
}

/** A reconnect the recorded server turned down: an HTTP status, or no response at all (status undefined). */
interface RefusedConnection {
  type: 'refuse'
  lastEventId: string | null
  status?: number
  /** What the refusal's response body said: the recorded start of the body, else the error message. */
  message: string
}

interface NoContentConnection {
  type: 'no-content'
  lastEventId: string | null
}

type ReplayConnection = StreamConnection | RefusedConnection | NoContentConnection

export interface ReplayPlan {
  /** Every connection the recorded client made, in order; the first is always a stream. */
  connections: ReplayConnection[]
  events: number
  /** Whether the plan came from a transcript (with its own timing) or a plain event-stream file. */
  source: 'transcript' | 'event-stream'
  /** With --loop, between the end of the recording and its start again (the --interval of a plain file). */
  loopGapMs: number
}

/**
 * A file is a transcript when the first thing in it is a JSON object; anything
 * else is an event stream, sent with intervalMs between events (given only for those).
 */
export function parseReplayFile(
  bytes: Uint8Array,
  file: string,
  intervalMs: number | undefined,
): ReplayPlan {
  const text = new TextDecoder().decode(bytes)
  if (text.trim() === '')
    throw new SseProbeUsageError(`${file}:1: the file is empty: nothing to replay`)
  if (
    !text
      .replace(/^\uFEFF/, '')
      .trimStart()
      .startsWith('{')
  )
    return parseEventStreamFile(bytes, file, intervalMs ?? DEFAULT_INTERVAL_MS)
  if (intervalMs !== undefined)
    throw new SseProbeUsageError(
      `--interval is for plain event-stream files; ${file} is a transcript, which keeps its recorded timing`,
    )
  return parseTranscript(text, file)
}

export const DEFAULT_INTERVAL_MS = 1000

/** A problem with one line; the caller adds the file name and line number. */
class LineProblem extends Error {}

/** Replays what a probe recorded: its connections, their closes and failed reconnects, with their timing. */
export function parseTranscript(text: string, file: string): ReplayPlan {
  const plan = createPlanBuilder()
  readTranscript(text, file, (record, line) => plan.add(record, line))
  return plan.finish(file, 'transcript', 0)
}

/**
 * The records of a transcript, checked line by line (serve replays them, diff
 * compares them); `visit` sees each in turn and may refuse it with a LineProblem.
 */
export function readTranscript(
  text: string,
  file: string,
  visit?: (record: ProbeRecord, line: number) => void,
): ProbeRecord[] {
  const lines = text.replace(/^\uFEFF/, '').split('\n')
  const records: ProbeRecord[] = []
  let summaryLine: number | undefined
  for (const [index, raw] of lines.entries()) {
    const lineNumber = index + 1
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line.trim() === '') continue
    try {
      if (summaryLine !== undefined)
        throw new LineProblem(
          `a record after the summary on line ${summaryLine}: one recording per file`,
        )
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        const last = index === lines.length - 1
        throw new LineProblem(
          last
            ? 'truncated: the file ends in the middle of a record'
            : `not a JSON record (${(error as Error).message})`,
        )
      }
      const record = checkRecord(value)
      visit?.(record, lineNumber)
      records.push(record)
      if (record.type === 'summary') summaryLine = lineNumber
    } catch (error) {
      if (error instanceof LineProblem)
        throw new SseProbeUsageError(`${file}:${lineNumber}: ${error.message}`)
      throw error
    }
  }
  if (records.length === 0)
    throw new SseProbeUsageError(`${file}:1: the file is empty: no records to replay`)
  // What `--json -q` writes: the summary of a stream whose records are not in the file.
  const summary = records.at(-1)
  const counted = summary?.type === 'summary' ? (summary.events as unknown) : 0
  if (typeof counted === 'number' && counted > 0 && !records.some((r) => r.type === 'open'))
    throw new SseProbeUsageError(
      `${file}:${summaryLine}: only the summary of a stream (its ${counted} events are not in the file): written with -q? --record (or --json without -q) writes every record`,
    )
  return records
}

/**
 * Replays a plain event-stream file (what `--format raw` captures, or one
 * written by hand) as one connection, with intervalMs between events; comments
 * and retry fields go out with the event before them. The end of the file ends
 * its last event, even without the blank line.
 */
export function parseEventStreamFile(
  bytes: Uint8Array,
  file: string,
  intervalMs: number,
): ReplayPlan {
  const plan = createPlanBuilder()
  plan.add(
    { type: 'open', t: 0, attempt: 1, url: '', status: 200, httpVersion: '1.1', headers: {} },
    1,
  )
  let t = 0
  let events = 0
  const stream = createEventStream(
    {
      onEvent(event, id, data, lastEventId) {
        if (events++ > 0) t += intervalMs
        plan.add({ type: 'event', t, attempt: 1, event, id, lastEventId, data, dt: null }, 1)
      },
      onComment: (text) => plan.add({ type: 'comment', t, attempt: 1, text }, 1),
      onRetry: (ms) => plan.add({ type: 'retry', t, attempt: 1, ms }, 1),
      onTooLarge() {},
    },
    { lastEventId: '', maxEventSize: Infinity },
  )
  stream.feed(bytes)
  stream.feed(new TextEncoder().encode('\n\n'))
  stream.end()
  if (events === 0)
    throw new SseProbeUsageError(
      `${file}: no event to replay (an event is a data: line followed by a blank line)`,
    )
  return plan.finish(file, 'event-stream', intervalMs)
}

/** Builds the plan record by record, checking that the records make a session a probe could have written. */
function createPlanBuilder() {
  const connections: ReplayConnection[] = []
  let open: { connection: StreamConnection; line: number } | undefined
  let lastStream: StreamConnection | undefined
  let lastT = 0
  // The client's last-event-ID buffer as the recording shows it.
  let buffer = ''
  // A reconnect whose outcome has not been recorded yet.
  let reconnect: { lastEventId: string | null } | undefined
  let events = 0

  function push(connection: ReplayConnection) {
    connections.push(connection)
    reconnect = undefined
  }

  function step(t: number, text: string, extra: { event: boolean; id?: string }) {
    if (!open)
      throw new LineProblem('a stream record outside a connection (no open record before it)')
    open.connection.steps.push({ delayMs: roundMs(Math.max(0, t - lastT)), text, ...extra })
    lastT = t
  }

  return {
    add(record: ProbeRecord, line: number) {
      switch (record.type) {
        case 'open':
          if (open)
            throw new LineProblem(
              `an open record while the connection opened on line ${open.line} is still open (no close record)`,
            )
          lastStream = {
            type: 'stream',
            ...(reconnect && { lastEventId: reconnect.lastEventId }),
            steps: [],
          }
          push(lastStream)
          open = { connection: lastStream, line }
          lastT = record.t
          return
        case 'event': {
          // An id set by a block without data shows only in lastEventId: send it as such a block.
          const idBlock =
            record.id === null && record.lastEventId !== buffer ? sseId(record.lastEventId) : ''
          step(record.t, idBlock + sseEvent(record), {
            event: true,
            id: record.id ?? (idBlock ? record.lastEventId : undefined),
          })
          buffer = record.lastEventId
          events++
          return
        }
        case 'comment':
          return step(record.t, sseComment(record.text), { event: false })
        case 'retry':
          return step(record.t, sseRetry(record.ms), { event: false })
        case 'close':
          if (!open)
            throw new LineProblem('a close record outside a connection (no open record before it)')
          open.connection.close = {
            delayMs: roundMs(Math.max(0, record.t - lastT)),
            cause: record.cause,
          }
          open = undefined
          return
        case 'reconnect':
          if (open)
            throw new LineProblem(
              `a reconnect record while the connection opened on line ${open.line} is still open (no close record)`,
            )
          if ((record.lastEventId ?? '') !== buffer && lastStream) {
            // The last connection set the id after its last event, in a block without data.
            lastStream.steps.push({
              delayMs: 0,
              text: sseId(record.lastEventId ?? ''),
              event: false,
              id: record.lastEventId ?? '',
            })
            buffer = record.lastEventId ?? ''
          }
          reconnect = { lastEventId: record.lastEventId }
          return
        case 'error':
          if (open)
            throw new LineProblem(
              `an error record while the connection opened on line ${open.line} is still open (no close record)`,
            )
          return push({
            type: 'refuse',
            lastEventId: reconnect?.lastEventId ?? null,
            ...(record.status !== undefined && { status: record.status }),
            message: record.body ?? record.message,
          })
        case 'summary':
          // A 204 leaves no record of its own: a reconnect, then the summary says why it ended.
          if (reconnect && record.reason === 'no-content')
            push({ type: 'no-content', lastEventId: reconnect.lastEventId })
          return
      }
    },
    finish(file: string, source: ReplayPlan['source'], loopGapMs: number): ReplayPlan {
      if (connections[0]?.type !== 'stream')
        throw new SseProbeUsageError(
          `${file}:1: nothing to replay: the recording has no open record (its first connection failed)`,
        )
      if (events === 0)
        throw new SseProbeUsageError(`${file}:1: nothing to replay: the recording has no event`)
      return { connections, events, source, loopGapMs }
    },
  }
}

type Check = [test: (value: unknown) => boolean, expected: string]

const oneLine: Check = [
  (v) => typeof v === 'string' && !/[\r\n]/.test(v),
  'a string without line breaks',
]
const oneLineOrNull: Check = [
  (v) => v === null || oneLine[0](v),
  'a string without line breaks, or null',
]
const text: Check = [(v) => typeof v === 'string', 'a string']
const optionalText: Check = [(v) => v === undefined || typeof v === 'string', 'a string']
const count: Check = [(v) => Number.isInteger(v) && (v as number) >= 0, 'a whole number']
const optionalStatus: Check = [
  (v) => v === undefined || (Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 599),
  'an HTTP status',
]
const closeCause: Check = [
  (v) => v === 'server-closed' || v === 'network-error',
  '"server-closed" or "network-error"',
]

/** The fields the replay reads, per record type; the rest of a record is not needed and not checked. */
const FIELDS: Record<ProbeRecord['type'], Record<string, Check>> = {
  open: {},
  event: { event: oneLine, id: oneLineOrNull, lastEventId: oneLine, data: text },
  comment: { text: oneLine },
  retry: { ms: count },
  close: { cause: closeCause },
  reconnect: { lastEventId: oneLineOrNull },
  error: { message: text, status: optionalStatus, body: optionalText },
  summary: { reason: text },
  // What extensions add (contracts.md): kept in a transcript, nothing to replay.
  violation: {},
  trigger: {},
}

function checkRecord(value: unknown): ProbeRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new LineProblem('not a record: expected a JSON object')
  const record = value as Record<string, unknown>
  const type = record.type
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) {
    throw new LineProblem(
      `unknown record type ${JSON.stringify(type)} (expected one of ${Object.keys(FIELDS).join(', ')})`,
    )
  }
  // JSON.parse reads 1e400 as Infinity.
  if (typeof record.t !== 'number' || !(record.t >= 0) || record.t === Infinity)
    throw new LineProblem(`${type} record: "t" must be a number of milliseconds`)
  for (const [field, [test, expected]] of Object.entries(FIELDS[type as ProbeRecord['type']])) {
    if (!test(record[field]))
      throw new LineProblem(
        `${type} record: "${field}" ${field in record ? 'must be' : 'is missing: expected'} ${expected}`,
      )
  }
  return record as unknown as ProbeRecord
}

/** Where a client's connection starts, and how the log line explains it. */
export interface ReplayStart {
  /** An index into plan.connections; its length means "nothing left": the connection stays open, silent. */
  connection: number
  step: number
  note: string
}

/**
 * Where to start for a client that sent this Last-Event-ID (null: none).
 * `expected` is the connection the recording went on to after the last close
 * or refusal served: a client that reconnects as the recorded one did gets
 * it, failed reconnects included. Otherwise Last-Event-ID resumes after the
 * block that set that id, and no Last-Event-ID starts from the beginning.
 */
export function resolveStart(
  plan: ReplayPlan,
  lastEventId: string | null,
  expected: number | undefined,
  loop: boolean,
): ReplayStart {
  if (expected !== undefined && plan.connections[expected]?.lastEventId === lastEventId) {
    return { connection: expected, step: 0, note: `connection ${expected + 1} of the recording` }
  }
  if (lastEventId === null) return { connection: 0, step: 0, note: 'from the start' }
  for (const [c, connection] of plan.connections.entries()) {
    if (connection.type !== 'stream') continue
    const s = connection.steps.findIndex((step) => step.id === lastEventId)
    if (s === -1) continue
    const note = `resuming after id ${lastEventId}`
    // When only a close was left after that id, the client has seen it: that is why it reconnects.
    if (!connection.close || connection.steps.slice(s + 1).some((step) => step.event))
      return { connection: c, step: s + 1, note }
    // The next recorded connection, whatever it was: a 204 or a refusal is replayed too.
    if (c + 1 < plan.connections.length) return { connection: c + 1, step: 0, note }
    return loop
      ? { connection: 0, step: 0, note: `${note}: the recording starts again` }
      : { connection: plan.connections.length, step: 0, note: `${note}: nothing left to send` }
  }
  return {
    connection: 0,
    step: 0,
    note: `id ${lastEventId} is not in the recording: from the start`,
  }
}
