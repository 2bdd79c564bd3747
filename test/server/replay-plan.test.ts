import { describe, expect, it } from 'vitest'
import {
  parseEventStreamFile,
  parseReplayFile,
  parseTranscript,
  type ReplayPlan,
  resolveStart,
} from '../../src/server/replay-plan.ts'

const lines = (...records: object[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('')
const open = (t: number) => ({
  type: 'open',
  t,
  attempt: 1,
  url: 'http://x/',
  status: 200,
  httpVersion: '1.1',
  headers: {},
})
const event = (
  t: number,
  id: string | null,
  data: string,
  lastEventId = id ?? '',
  type = 'message',
) => ({ type: 'event', t, attempt: 1, event: type, id, lastEventId, data, dt: null })
const close = (t: number, cause = 'network-error') => ({ type: 'close', t, attempt: 1, cause })
const reconnect = (t: number, lastEventId: string | null) => ({
  type: 'reconnect',
  t,
  attempt: 2,
  delayMs: 10,
  lastEventId,
})
const summary = (t: number, reason = 'end-event') => ({ type: 'summary', t, reason, exitCode: 0 })
const bytes = (text: string) => new TextEncoder().encode(text)

// The demo's shape: events, a retry and a drop, a resume after id 2, the end.
const RESTART = lines(
  open(10),
  event(12, '1', 'a', '1', 'status'),
  { type: 'comment', t: 100, attempt: 1, text: ' ping' },
  event(210, '2', 'b'),
  { type: 'retry', t: 300, attempt: 1, ms: 50 },
  close(305),
  reconnect(360, '2'),
  open(365),
  event(366, '3', 'c'),
  event(500, '4', 'bye', '4', 'end'),
  summary(501),
)

describe('transcripts', () => {
  it('become connections of timed event-stream blocks, with the recorded closes', () => {
    const plan = parseTranscript(RESTART, 'r.ndjson')
    expect(plan).toMatchObject({ events: 4, source: 'transcript' })
    expect(plan.connections).toEqual([
      {
        type: 'stream',
        // The headers came 10ms after the probe started, and 5ms after the reconnect.
        at: 10,
        respondAfterMs: 10,
        steps: [
          { delayMs: 2, text: 'event: status\nid: 1\ndata: a\n\n', event: true, id: '1' },
          { delayMs: 88, text: ': ping\n\n', event: false },
          { delayMs: 110, text: 'id: 2\ndata: b\n\n', event: true, id: '2' },
          { delayMs: 90, text: 'retry: 50\n\n', event: false },
        ],
        close: { delayMs: 5, cause: 'network-error' },
      },
      {
        type: 'stream',
        at: 365,
        respondAfterMs: 5,
        lastEventId: '2',
        steps: [
          { delayMs: 1, text: 'id: 3\ndata: c\n\n', event: true, id: '3' },
          { delayMs: 134, text: 'event: end\nid: 4\ndata: bye\n\n', event: true, id: '4' },
        ],
      },
    ])
  })

  it('keeps multi-line data, and ids set by blocks without data', () => {
    const plan = parseTranscript(
      lines(
        open(0),
        event(1, null, 'x\ny', '7'),
        event(2, null, 'z', '7'),
        close(3),
        reconnect(4, '9'),
        open(5),
        event(6, null, 'w', '9'),
      ),
      't',
    )
    const [first, second] = plan.connections as Extract<
      ReplayPlan['connections'][number],
      { type: 'stream' }
    >[]
    expect(first!.steps.map((s) => s.text)).toEqual([
      'id: 7\n\ndata: x\ndata: y\n\n',
      'data: z\n\n',
      'id: 9\n\n',
    ])
    expect(first!.steps.map((s) => s.id)).toEqual(['7', undefined, '9'])
    expect(second!.steps.map((s) => s.text)).toEqual(['data: w\n\n'])
  })

  it('keeps failed reconnects: no response, an HTTP status, a 204', () => {
    const plan = parseTranscript(
      lines(
        open(0),
        event(1, '1', 'a'),
        close(2),
        reconnect(3, '1'),
        { type: 'error', t: 4, attempt: 2, message: 'ECONNREFUSED' },
        reconnect(5, '1'),
        { type: 'error', t: 6, attempt: 3, message: 'HTTP 503', status: 503 },
        reconnect(7, '1'),
        summary(8, 'no-content'),
      ),
      't',
    )
    expect(plan.connections.slice(1)).toEqual([
      { type: 'refuse', at: 4, respondAfterMs: 1, lastEventId: '1', message: 'ECONNREFUSED' },
      {
        type: 'refuse',
        at: 6,
        respondAfterMs: 1,
        lastEventId: '1',
        status: 503,
        message: 'HTTP 503',
      },
      { type: 'no-content', at: 8, respondAfterMs: 1, lastEventId: '1' },
    ])
  })

  it('reads CRLF line ends, a BOM and blank lines', () => {
    expect(parseTranscript(`\uFEFF${RESTART.replaceAll('\n', '\r\n')}\r\n\r\n`, 't').events).toBe(4)
  })

  const broken = RESTART.split('\n')
  it.each([
    ['', 1, 'the file is empty'],
    ['\n  \n', 1, 'the file is empty'],
    [
      RESTART.slice(0, RESTART.indexOf('"data":"b"')),
      4,
      'truncated: the file ends in the middle of a record',
    ],
    [
      [...broken.slice(0, 2), '{"type": "event",', ...broken.slice(3)].join('\n'),
      3,
      'not a JSON record',
    ],
    [[...broken.slice(0, 2), 'data: x', ...broken.slice(3)].join('\n'), 3, 'not a JSON record'],
    [lines(open(0), [1, 2]), 2, 'not a record: expected a JSON object'],
    [
      lines(open(0), { type: 'ping', t: 1 }),
      2,
      'unknown record type "ping" (expected one of open, event, comment, retry, close, reconnect, error, summary, violation, trigger)',
    ],
    [
      lines(open(0), { level: 'info', msg: 'x' }),
      2,
      'no record type (expected one of open, event, comment, retry, close, reconnect, error, summary, violation, trigger)',
    ],
    [
      lines(open(0), { type: 'event', t: 1, id: null, lastEventId: '', data: 'x' }),
      2,
      'event record: "event" is missing: expected a string without line breaks',
    ],
    [
      lines(open(0), { ...event(1, 'a\nb', 'x') }),
      2,
      'event record: "id" must be a string without line breaks, or null',
    ],
    [
      lines(open(0), { ...event(1, null, 'x'), t: -1 }),
      2,
      'event record: "t" must be a number of milliseconds',
    ],
    [
      lines(open(0), { type: 'retry', t: 1, ms: 1.5 }),
      2,
      'retry record: "ms" must be a whole number',
    ],
    [
      lines(open(0), close(1, 'gone')),
      2,
      'close record: "cause" must be "server-closed" or "network-error"',
    ],
    [
      lines(event(1, null, 'x')),
      1,
      'a stream record outside a connection (no open record before it)',
    ],
    [lines(open(0), close(1), event(2, null, 'x')), 3, 'a stream record outside a connection'],
    [
      lines(open(0), open(1)),
      2,
      'an open record while the connection opened on line 1 is still open (no close record)',
    ],
    [
      lines(open(0), reconnect(1, null)),
      2,
      'a reconnect record while the connection opened on line 1 is still open',
    ],
    [
      lines(open(0), event(1, null, 'x'), summary(2), open(3)),
      4,
      'a record after the summary on line 3: one recording per file',
    ],
    [
      lines(
        { type: 'error', t: 1, attempt: 1, message: 'ECONNREFUSED' },
        summary(2, 'connect-failed'),
      ),
      1,
      'nothing to replay: the recording has no open record (its first connection failed)',
    ],
    [
      lines(open(0), { type: 'comment', t: 1, attempt: 1, text: ' hi' }),
      1,
      'nothing to replay: the recording has no event',
    ],
    [
      lines({ ...summary(400, 'end-data'), events: 13 }),
      1,
      'only the summary of a stream (its 13 events are not in the file): written with -q?',
    ],
    [
      // A stream of pings alone: no event counted, but a connection (not a first one that failed).
      lines({ ...summary(400, 'duration'), events: 0, pings: 4, connections: 1 }),
      1,
      'only the summary of a stream (its 1 connection is not in the file): written with -q?',
    ],
  ])('rejects bad input with the file and line: %#', (text, line, message) => {
    expect(() => parseReplayFile(bytes(text), 'bad.ndjson', undefined)).toThrow(
      `bad.ndjson:${line}: ${message}`,
    )
  })
})

describe('plain event-stream files', () => {
  it('send their events --interval apart; comments and retry go with the event before them', () => {
    const plan = parseReplayFile(
      bytes(
        ': hi\nretry: 500\n\nid: 1\nevent: status\ndata: a\n\n: ping\n\ndata: b\r\n\r\nid: 3\ndata: c',
      ),
      'x.sse',
      200,
    )
    expect(plan).toMatchObject({ events: 3, source: 'event-stream' })
    const [stream] = plan.connections as Extract<
      ReplayPlan['connections'][number],
      { type: 'stream' }
    >[]
    expect(stream!.steps.map((s) => [s.delayMs, s.text])).toEqual([
      [0, ': hi\n\n'],
      [0, 'retry: 500\n\n'],
      [0, 'event: status\nid: 1\ndata: a\n\n'],
      [0, ': ping\n\n'],
      [200, 'data: b\n\n'],
      [200, 'id: 3\ndata: c\n\n'],
    ])
    expect(stream!.close).toBeUndefined()
  })

  it('send a huge retry as digits, which a client reads as the same number', () => {
    const plan = parseReplayFile(bytes(`retry: ${'9'.repeat(400)}\n\ndata: a\n\n`), 'x.sse', 10)
    const text = (plan.connections[0] as { steps: { text: string }[] }).steps[0]!.text
    expect(text).toMatch(/^retry: \d{309}\n\n$/)
    expect(Number(text.slice(7))).toBe(Number.MAX_VALUE)
    const recorded = parseTranscript(
      lines(open(0), { type: 'retry', t: 1, ms: 1.2345678901234569e23 }, event(2, null, 'a')),
      'r',
    )
    const sent = (recorded.connections[0] as { steps: { text: string }[] }).steps[0]!.text
    expect(sent).toMatch(/^retry: \d{24}\n\n$/)
    expect(Number(sent.slice(7))).toBe(1.2345678901234569e23)
  })

  it('default to 1s between events, and need at least one event', () => {
    const plan = parseReplayFile(bytes('data: a\n\ndata: b\n\n'), 'x.sse', undefined)
    expect(
      (plan.connections[0] as { steps: { delayMs: number }[] }).steps.map((s) => s.delayMs),
    ).toEqual([0, 1000])
    expect(() =>
      parseEventStreamFile(bytes(': only a comment\n\nevent: x\n\n'), 'x.sse', 10),
    ).toThrow('x.sse: no event to replay')
  })

  it('--interval is refused for a transcript, whose timing is recorded', () => {
    expect(() => parseReplayFile(bytes(RESTART), 'r.ndjson', 100)).toThrow(
      '--interval is for plain event-stream files; r.ndjson is a transcript',
    )
  })
})

describe('where a client starts', () => {
  const plan = parseTranscript(RESTART, 'r')

  it('from the start without Last-Event-ID, or with an id not in the recording', () => {
    expect(resolveStart(plan, null, undefined, false)).toEqual({
      connection: 0,
      step: 0,
      note: 'from the start',
    })
    expect(resolveStart(plan, '99', undefined, false)).toMatchObject({
      connection: 0,
      step: 0,
      note: 'id 99 is not in the recording: from the start',
    })
  })

  it('after the block that set the id', () => {
    expect(resolveStart(plan, '1', undefined, false)).toMatchObject({ connection: 0, step: 1 })
    expect(resolveStart(plan, '3', undefined, false)).toMatchObject({ connection: 1, step: 1 })
  })

  it('on the next connection when only the close was left after the id', () => {
    expect(resolveStart(plan, '2', undefined, false)).toEqual({
      connection: 1,
      step: 0,
      note: 'resuming after id 2',
    })
  })

  it('on the recorded 204 when that is what followed the close after the id', () => {
    const stopped = parseTranscript(
      lines(
        open(0),
        event(1, '1', 'a'),
        close(2, 'server-closed'),
        reconnect(3, '1'),
        summary(4, 'no-content'),
      ),
      'r',
    )
    expect(stopped.connections[1]).toMatchObject({ type: 'no-content' })
    expect(resolveStart(stopped, '1', undefined, false)).toEqual({
      connection: 1,
      step: 0,
      note: 'resuming after id 1',
    })
  })

  it('past the end after the last id, or from the start again with --loop', () => {
    expect(resolveStart(plan, '4', undefined, false)).toMatchObject({ connection: 1, step: 2 })
    const closedAtEnd = parseTranscript(
      lines(open(0), event(1, '1', 'a'), close(2, 'server-closed')),
      'r',
    )
    expect(resolveStart(closedAtEnd, '1', undefined, false)).toMatchObject({
      connection: 1,
      note: 'resuming after id 1: nothing left to send',
    })
    expect(resolveStart(closedAtEnd, '1', undefined, true)).toMatchObject({
      connection: 0,
      step: 0,
    })
  })

  it('on the connection the recording went on to, when the client reconnects as the recorded one did', () => {
    const failing = parseTranscript(
      lines(
        open(0),
        event(1, null, 'a'),
        close(2),
        reconnect(3, null),
        { type: 'error', t: 4, attempt: 2, message: 'refused' },
        reconnect(5, null),
        open(6),
        event(7, null, 'b'),
      ),
      'r',
    )
    expect(resolveStart(failing, null, 1, false)).toMatchObject({
      connection: 1,
      note: 'connection 2 of the recording',
    })
    expect(resolveStart(failing, null, 2, false)).toMatchObject({ connection: 2, step: 0 })
    // A different client (here: one with a Last-Event-ID) is not taken for the recorded one.
    expect(resolveStart(plan, '1', 1, false)).toMatchObject({ connection: 0, step: 1 })
  })

  it('finds an id with spaces around it as the server receives it: HTTP drops them', () => {
    const spaced = parseTranscript(
      lines(
        open(0),
        event(1, ' a ', 'a'),
        event(2, 'b\t', 'b'),
        close(3),
        reconnect(4, 'b\t'),
        open(5),
        event(6, '  ', 'c'),
      ),
      'r',
    )
    expect(resolveStart(spaced, 'b', 1, false)).toMatchObject({ connection: 1, step: 0 })
    expect(resolveStart(spaced, 'a', undefined, false)).toMatchObject({ connection: 0, step: 1 })
    // An id of spaces alone is an empty header: none, from the start.
    expect(resolveStart(spaced, null, undefined, false)).toMatchObject({ connection: 0, step: 0 })
  })
})
