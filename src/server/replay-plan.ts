import { SseProbeUsageError } from '../engine/errors.ts'
import { type CloseRecord, type ProbeRecord, roundMs } from '../engine/records.ts'
import { createEventStream } from '../engine/stream.ts'
import { LineProblem, readTranscript } from '../engine/transcript-read.ts'
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

/** When the recorded client had the answer, in ms since it started: where a replayed reconnect keeps to the recorded timeline. */
interface Answered {
  at: number
}

interface StreamConnection extends Answered {
  type: 'stream'
  /** From the request to the response headers, as recorded (a server that answers once it has something to say). */
  respondAfterMs: number
  /** The Last-Event-ID the recorded client sent (null: none); undefined for the first connection. */
  lastEventId?: string | null
  steps: ReplayStep[]
  /** How the server ended it; none when the recording ended with the connection open. */
  close?: { delayMs: number; cause: CloseRecord['cause'] }
}

/** A reconnect the recorded server turned down: an HTTP status, or no response at all (status undefined). */
interface RefusedConnection extends Answered {
  type: 'refuse'
  respondAfterMs: number
  lastEventId: string | null
  status?: number
  /** What the refusal's response body said: the recorded start of the body, else the error message. */
  message: string
}

interface NoContentConnection extends Answered {
  type: 'no-content'
  respondAfterMs: number
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

/** Replays what a probe recorded: its connections, their closes and failed reconnects, with their timing. */
export function parseTranscript(text: string, file: string): ReplayPlan {
  const plan = createPlanBuilder()
  readTranscript(text, file, (record, line) => plan.add(record, line))
  return plan.finish(file, 'transcript', 0)
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
  let reconnect: { t: number; lastEventId: string | null } | undefined
  let events = 0

  function push(connection: ReplayConnection) {
    connections.push(connection)
    reconnect = undefined
  }

  // The first request goes out as the probe starts (t = 0), each later one at its reconnect record.
  const respondAfter = (t: number) =>
    roundMs(Math.max(0, t - (reconnect?.t ?? (connections.length === 0 ? 0 : t))))

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
            at: record.t,
            respondAfterMs: respondAfter(record.t),
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
          reconnect = { t: record.t, lastEventId: record.lastEventId }
          return
        case 'error':
          if (open)
            throw new LineProblem(
              `an error record while the connection opened on line ${open.line} is still open (no close record)`,
            )
          return push({
            type: 'refuse',
            at: record.t,
            respondAfterMs: respondAfter(record.t),
            lastEventId: reconnect?.lastEventId ?? null,
            ...(record.status !== undefined && { status: record.status }),
            message: record.body ?? record.message,
          })
        case 'summary':
          // A 204 leaves no record of its own: a reconnect, then the summary says why it ended.
          if (reconnect && record.reason === 'no-content')
            push({
              type: 'no-content',
              at: record.t,
              respondAfterMs: respondAfter(record.t),
              lastEventId: reconnect.lastEventId,
            })
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

/**
 * The Last-Event-ID header a server receives for this last-event-ID buffer (null: none): HTTP
 * drops the spaces and tabs around a header value, and an empty header is none. An id such as
 * `x ` comes back as `x`, and must still be found.
 */
export function asReceived(id: string | null): string | null {
  return id?.replace(/^[ \t]+|[ \t]+$/g, '') || null
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
 * `expected` is the connection the recording went on to after a close
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
  if (
    expected !== undefined &&
    asReceived(plan.connections[expected]?.lastEventId ?? null) === lastEventId
  ) {
    return { connection: expected, step: 0, note: `connection ${expected + 1} of the recording` }
  }
  if (lastEventId === null) return { connection: 0, step: 0, note: 'from the start' }
  for (const [c, connection] of plan.connections.entries()) {
    if (connection.type !== 'stream') continue
    const s = connection.steps.findIndex((step) => asReceived(step.id ?? null) === lastEventId)
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

/**
 * Where a client starting here is on the recording's timeline (ms since the recorded client
 * started): the recorded request of a connection it starts, else the step it resumes after.
 */
export function recordedTimeAt(plan: ReplayPlan, { connection, step }: ReplayStart): number {
  const answered = plan.connections[connection]
  if (!answered) return 0
  if (step === 0) return answered.at - answered.respondAfterMs
  const steps = answered.type === 'stream' ? answered.steps.slice(0, step) : []
  return steps.reduce((t, s) => t + s.delayMs, answered.at)
}
