import { describe, expect, it } from 'vitest'
import {
  type CheckResult,
  checkBuffering,
  checkCacheControl,
  checkCompression,
  checkContentType,
  checkCors,
  checkEarlyHeaders,
  checkEndOfStream,
  checkExitCode,
  checkIds,
  checkKeepAlive,
  checkRetry,
  runChecks,
} from '../../src/check/checks.ts'
import {
  type ConnectionSeen,
  idsSeen,
  type Observation,
  type ResponseSeen,
} from '../../src/check/observation.ts'

const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }

function response(overrides: Partial<ResponseSeen> = {}): ResponseSeen {
  return {
    url: 'http://host/',
    status: 200,
    statusText: 'OK',
    headers: SSE,
    verdict: 'ok',
    httpVersion: '1.1',
    ...overrides,
  }
}

/** A connection that opened at `at`, got headers 5ms later, and read what `reads` says (times since the headers). */
function connection(at = 0, overrides: Partial<ConnectionSeen> = {}): ConnectionSeen {
  return {
    requestAt: at,
    headersAt: at + 5,
    response: response(),
    reads: [],
    events: [],
    comments: 0,
    retries: [],
    end: { t: at + 1000, cause: 'server-closed' },
    ...overrides,
  }
}

const events = (ids: (string | null)[], t = 10) =>
  ids.map((id) => ({ t, event: 'message', id, ping: false }))

function observation(overrides: Partial<Observation> = {}): Observation {
  return {
    url: 'http://127.0.0.1:8000/stream',
    windowMs: 20_000,
    interrupted: false,
    observedMs: 20_000,
    method: 'GET',
    endEvents: ['end'],
    credentials: false,
    connections: [connection()],
    compressed: connection(),
    ...overrides,
  }
}

describe('content-type and cache-control', () => {
  it.each([
    [
      '204',
      response({ status: 204, statusText: 'No Content', verdict: 'no-content' }),
      'fail',
      'HTTP 204 No Content',
    ],
    [
      'no Content-Type',
      response({ headers: {}, verdict: 'not-event-stream' }),
      'fail',
      '200 with Content-Type (none)',
    ],
    [
      'a quoted Shift_JIS charset',
      response({ headers: { 'content-type': 'text/event-stream;charset="Shift_JIS"' } }),
      'warn',
      'Shift_JIS',
    ],
    [
      'charset=UTF8',
      response({ headers: { 'content-type': 'text/event-stream; charset=UTF8' } }),
      'pass',
      'charset=UTF8',
    ],
  ] as const)('%s: %s', (_case, r, status, measured) => {
    const result = checkContentType(observation({ connections: [connection(0, { response: r })] }))
    expect(result).toMatchObject({ status })
    expect(result.measured).toContain(measured)
  })

  it.each([
    ['no-store', 'pass'],
    ['private, No-Cache', 'pass'],
    ['max-age=0', 'warn'],
    ['private', 'warn'],
    ['s-maxage=30', 'fail'],
    ['public', 'fail'],
  ] as const)('Cache-Control: %s is %s', (value, status) => {
    const r = response({ headers: { ...SSE, 'cache-control': value } })
    expect(
      checkCacheControl(observation({ connections: [connection(0, { response: r })] })).status,
    ).toBe(status)
  })

  it.each([
    [
      401,
      'Unauthorized',
      '{"error":"invalid api key"}',
      'HTTP 401 Unauthorized: {"error":"invalid api key"}',
      /^the endpoint wants credentials: pass them with -H/,
    ],
    [403, 'Forbidden', undefined, 'HTTP 403 Forbidden', /^the credentials were refused/],
    [404, 'Not Found', 'no such page', 'HTTP 404 Not Found: no such page', /^nothing at this URL/],
    [503, 'Service Unavailable', undefined, 'HTTP 503 Service Unavailable', /^the server failed/],
  ] as const)(
    'HTTP %d: shows the body the server sent, and a hint for that status',
    (status, statusText, body, measured, hint) => {
      const r = response({
        status,
        statusText,
        verdict: 'http-error',
        headers: { 'content-type': 'application/json' },
        ...(body && { body }),
      })
      expect(
        checkContentType(observation({ connections: [connection(0, { response: r })] })),
      ).toEqual({ status: 'fail', measured, hint: expect.stringMatching(hint) })
    },
  )

  it('skips the stream checks when there is no event stream, and judges the status alone', () => {
    const results = runChecks(
      observation({
        connections: [
          connection(0, {
            response: response({ status: 404, statusText: 'Not Found', verdict: 'http-error' }),
            end: undefined,
          }),
        ],
      }),
    )
    expect(results.map((r) => r.status)).toEqual(['fail', ...Array(10).fill('skip')])
  })
})

describe('compression', () => {
  const compressed = (first: number | undefined) =>
    connection(0, {
      response: response({ headers: { ...SSE, 'content-encoding': 'br' } }),
      events: first === undefined ? [] : events(['1'], first),
    })

  it('reports how much later the first compressed event came', () => {
    const o = observation({
      connections: [connection(0, { events: events(['1'], 40) })],
      compressed: compressed(1540),
    })
    expect(checkCompression(o)).toMatchObject({
      status: 'warn',
      measured: 'br-compressed: first event after 1.54s, 1.5s later than uncompressed (40ms)',
    })
  })

  it('passes a compressor that flushes every event: the first came as soon as uncompressed', () => {
    const o = observation({
      connections: [connection(0, { events: events(['1'], 40) })],
      compressed: compressed(60),
    })
    expect(checkCompression(o)).toEqual({
      status: 'pass',
      measured:
        'br-compressed, without holding events back: first event after 60ms, uncompressed 40ms',
    })
  })

  it('cannot tell flushing from holding in a stream that ended at once: warns', () => {
    const o = observation({
      connections: [
        connection(0, { events: events(['1'], 40), end: { t: 50, cause: 'end-event' } }),
      ],
      compressed: compressed(60),
    })
    expect(checkCompression(o)).toMatchObject({
      status: 'warn',
      measured: 'br-compressed: first event after 60ms, 20ms later than uncompressed (40ms)',
    })
  })

  it('warns also when no compressed event came, or none at all to compare', () => {
    expect(
      checkCompression(
        observation({
          connections: [connection(0, { events: events(['1'], 40) })],
          compressed: compressed(undefined),
        }),
      ).measured,
    ).toBe('br-compressed: no event within the window, against 40ms uncompressed')
    expect(checkCompression(observation({ compressed: compressed(undefined) })).measured).toMatch(
      /^br-compressed \(no event in the window/,
    )
  })

  it('does not call a stream compressed without Accept-Encoding uncompressed', () => {
    const gzip = (first: number) =>
      connection(0, {
        response: response({ headers: { ...SSE, 'content-encoding': 'gzip' } }),
        events: events(['1'], first),
      })
    expect(
      checkCompression(observation({ connections: [gzip(40)], compressed: gzip(45) })),
    ).toMatchObject({
      status: 'warn',
      measured: 'gzip-compressed even without Accept-Encoding: first event after 40ms',
    })
  })

  it('skips when the compressed request failed; identity is not compression', () => {
    expect(
      checkCompression(
        observation({
          compressed: connection(0, { error: 'socket hang up', response: undefined }),
        }),
      ).status,
    ).toBe('skip')
    expect(
      checkCompression(
        observation({
          compressed: connection(0, {
            response: response({ headers: { ...SSE, 'content-encoding': 'identity' } }),
          }),
        }),
      ).status,
    ).toBe('pass')
  })

  it('warns when the compressed request got a coding it did not offer, one no browser then reads', () => {
    const zstd = connection(0, {
      response: response({
        headers: { ...SSE, 'content-encoding': 'zstd' },
        verdict: 'not-event-stream',
      }),
    })
    expect(checkCompression(observation({ compressed: zstd }))).toMatchObject({
      status: 'warn',
      measured:
        'asked with Accept-Encoding: gzip, deflate, br, the stream came with Content-Encoding zstd: sse-probe decodes gzip, deflate and br, not zstd',
    })
  })

  it('names the codings of a Content-Encoding list, identity and case aside', () => {
    const listed = connection(0, {
      response: response({ headers: { ...SSE, 'content-encoding': 'GZip, identity' } }),
      events: events(['1'], 45),
    })
    expect(
      checkCompression(observation({ connections: [listed], compressed: listed })).measured,
    ).toBe('gzip-compressed even without Accept-Encoding: first event after 45ms')
  })
})

describe('buffering', () => {
  const withReads = (reads: [number, number][]) =>
    observation({
      connections: [
        connection(0, {
          reads: reads.map(([silenceMs, events], i) => ({ t: i, silenceMs, events })),
        }),
      ],
    })

  it('warns when most events came in reads after a long silence', () => {
    expect(
      checkBuffering(
        withReads([
          [1200, 23],
          [800, 18],
        ]),
      ),
    ).toMatchObject({
      status: 'warn',
      measured: expect.stringMatching(
        /^41 of 41 events arrived together in 2 bursts \(up to 23 in one read after 1\.2s of silence\)/,
      ),
    })
  })

  it('passes a stream with an occasional pair, and quick reads of several events', () => {
    expect(
      checkBuffering(
        withReads([
          [1000, 1],
          [1000, 2],
          [1000, 1],
          [1000, 1],
          [1000, 1],
        ]),
      ).status,
    ).toBe('pass')
    expect(
      checkBuffering(
        withReads([
          [10, 5],
          [10, 5],
        ]),
      ).status,
    ).toBe('pass')
  })

  it('judges 150,000 reads (10,000 on each of 15 connections), not an internal error', () => {
    const reads = Array.from({ length: 10_000 }, (_, t) => ({ t, silenceMs: 10, events: 1 }))
    const connections = Array.from({ length: 15 }, (_, i) => connection(i * 1000, { reads }))
    expect(checkBuffering(observation({ connections }))).toMatchObject({
      status: 'pass',
      measured: '150000 events in 150000 reads, at most 1 per read',
    })
  })

  it('the end event sharing the last read does not make it a burst; held events with it still do', () => {
    const ended = (last: number) =>
      observation({
        connections: [
          connection(0, {
            reads: [
              { t: 300, silenceMs: 300, events: 1 },
              { t: 600, silenceMs: 300, events: 1 },
              { t: 900, silenceMs: 300, events: last },
            ],
            end: { t: 900, cause: 'end-event' },
          }),
        ],
      })
    expect(checkBuffering(ended(2))).toMatchObject({
      status: 'pass',
      measured: '4 events in 3 reads, at most 2 per read',
    })
    expect(checkBuffering(ended(3)).status).toBe('warn')
  })

  it('a fast stream that came in one read without a silence before it: "1 read"', () => {
    const o = observation({
      connections: [connection(0, { reads: [{ t: 20, silenceMs: 20, events: 6 }] })],
    })
    expect(checkBuffering(o)).toMatchObject({
      status: 'pass',
      measured: '6 events in 1 read, at most 6 per read',
    })
  })

  it('cannot tell from fewer than 3 events', () => {
    expect(checkBuffering(withReads([[2000, 2]])).status).toBe('skip')
  })
})

describe('early headers', () => {
  const first = (headersMs: number, readAfterHeadersMs: number | undefined, eventMs?: number) =>
    observation({
      connections: [
        connection(0, {
          headersAt: headersMs,
          reads:
            readAfterHeadersMs === undefined
              ? []
              : [
                  {
                    t: headersMs + readAfterHeadersMs,
                    silenceMs: headersMs + readAfterHeadersMs,
                    events: 1,
                  },
                ],
          events: eventMs === undefined ? [] : events(['1'], eventMs),
        }),
      ],
    })

  it('passes headers that come before a late first event', () => {
    expect(checkEarlyHeaders(first(3, 2000, 2003))).toMatchObject({
      status: 'pass',
      measured: 'headers after 3ms, first event after 2s',
    })
  })

  it('warns on late headers, saying when they came with the first data', () => {
    expect(checkEarlyHeaders(first(1500, 1, 1501)).measured).toBe(
      'headers after 1.5s, held back until the first data; first event after 1.5s',
    )
    expect(checkEarlyHeaders(first(1500, undefined)).measured).toBe(
      'headers after 1.5s; no event in 20s',
    )
  })
})

describe('keep-alive', () => {
  const silent = (ms: number, comments = 3, overrides: Partial<ConnectionSeen> = {}) =>
    observation({
      connections: [
        connection(0, {
          reads: [
            { t: 10, silenceMs: 5, events: 1 },
            { t: 10 + ms, silenceMs: ms, events: 1 },
          ],
          comments,
          end: { t: 20 + ms, cause: 'window' },
          ...overrides,
        }),
      ],
    })

  it.each([
    [5_000, 'pass', 'longest silence 5s, 3 pings or comments'],
    [35_000, 'warn', 'longest silence 35s: close to the 60s idle timeout of nginx and AWS ALB'],
    [
      60_000,
      'fail',
      'longest silence 1m00s: longer than the 60s idle timeout of nginx and AWS ALB',
    ],
    [
      100_000,
      'fail',
      'longest silence 1m40s: longer than the idle timeouts of nginx and AWS ALB (60s) and Cloudflare (100s)',
    ],
  ] as const)('a silence of %d ms: %s', (ms, status, measured) => {
    expect(checkKeepAlive(silent(ms))).toEqual({
      status,
      measured,
      ...(status !== 'pass' && { hint: expect.stringContaining(': ping') }),
    })
  })

  it('counts the wait for held-back headers as silence: a proxy idle timer runs then too', () => {
    const held = connection(0, {
      headersAt: 65_000,
      reads: [{ t: 65_001, silenceMs: 65_001, events: 1 }],
      comments: 1,
      end: { t: 65_100, cause: 'end-event' },
    })
    expect(checkKeepAlive(observation({ connections: [held] }))).toMatchObject({
      status: 'fail',
      measured: expect.stringMatching(/^longest silence 1m05s/),
    })
  })

  it('counts ping events as pings, and needs none from a stream that ended', () => {
    expect(checkKeepAlive(silent(20_000, 0)).status).toBe('warn')
    expect(
      checkKeepAlive(silent(20_000, 0, { events: [{ t: 5, event: 'ping', id: null, ping: true }] }))
        .status,
    ).toBe('pass')
    expect(checkKeepAlive(silent(1000, 0, { end: { t: 1020, cause: 'end-event' } }))).toMatchObject(
      { status: 'pass', measured: 'longest silence 1s, no pings needed: the stream ended' },
    )
  })

  it('names an idle timeout that cuts connections at their longest silence, and does not blame their end', () => {
    // Each connection: an event at once, then 1s of nothing, then the proxy breaks it.
    const cut = (at: number) =>
      connection(at, {
        reads: [{ t: at + 10, silenceMs: 10, events: 1 }],
        events: events([String(at)], at + 10),
        end: { t: at + 1010, cause: 'network-error' },
      })
    const o = observation({ connections: [cut(0), cut(1100), cut(2200)] })
    expect(checkKeepAlive(o)).toEqual({
      status: 'warn',
      measured:
        '3 connections broke after 1s of silence (0 pings or comments in all): an idle timeout on the way cuts quiet connections',
      hint: 'send a comment (": ping") more often than every 1s, or raise the idle timeout on the way (nginx: proxy_read_timeout)',
    })
    expect(checkEndOfStream(o).status).toBe('skip')
    // One break is a server restart as much as a timeout: not judged as one.
    const once = observation({ connections: [cut(0), connection(1100)] })
    expect(checkKeepAlive(once).measured).not.toContain('broke')
  })

  it('does not judge a stream without pings that no connection streamed 15s of', () => {
    // sse-starlette pings every 15s: a 5s window cannot tell it from a server that never pings.
    expect(checkKeepAlive(silent(14_000, 0))).toEqual({
      status: 'skip',
      measured:
        'no ping or comment in 14.02s of streaming; longest silence 14s: too short to tell, a ping every 15s need not have come yet',
      hint: 'observe a connection for 15s or more with --window',
    })
    expect(checkKeepAlive(silent(15_000, 0))).toMatchObject({
      status: 'warn',
      measured: 'no ping or comment in 15.02s of streaming; longest silence 15s',
    })
  })
})

describe('ids and resuming', () => {
  const resumedWith = (got: ConnectionSeen) =>
    observation({
      connections: [connection(0, { events: events(['a', 'b', 'c', 'd', 'e']) })],
      resume: { ids: ['a', 'b', 'c', 'd', 'e'], lastEventId: 'c', connection: got },
    })

  it.each([
    [
      'the next id',
      connection(0, { events: events(['d']) }),
      'pass',
      'resumed right after it, at id d',
    ],
    [
      'a ping, then the next id',
      connection(0, { events: [{ t: 1, event: 'ping', id: null, ping: true }, ...events(['d'])] }),
      'pass',
      'at id d',
    ],
    [
      'an earlier id',
      connection(0, { events: events(['b']) }),
      'fail',
      'replayed from id b instead of resuming at id d',
    ],
    ['the same id', connection(0, { events: events(['c']) }), 'fail', 'replayed from id c'],
    [
      'an unknown id',
      connection(0, { events: events(['zz']) }),
      'fail',
      'went on with id zz, not d, which had followed it',
    ],
    ['no id', connection(0, { events: events([null]) }), 'fail', 'went on with id (none)'],
    [
      '204',
      connection(0, { response: response({ status: 204, verdict: 'no-content' }), end: undefined }),
      'fail',
      'got 204, though id d and more followed it',
    ],
    [
      '500',
      connection(0, {
        response: response({
          status: 500,
          statusText: 'Internal Server Error',
          verdict: 'http-error',
        }),
        end: undefined,
      }),
      'fail',
      'got HTTP 500 Internal Server Error',
    ],
    [
      'nothing',
      connection(0, { events: [] }),
      'warn',
      'no event within 1s of reconnecting with Last-Event-ID: c',
    ],
    [
      'a network error',
      connection(0, { error: 'socket hang up', response: undefined }),
      'warn',
      'could not reconnect with Last-Event-ID: c: socket hang up',
    ],
  ] as const)('resuming with %s: %s', (_case, got, status, measured) => {
    const result = checkIds(resumedWith(got))
    expect(result.status).toBe(status)
    expect(result.measured).toContain(measured)
  })

  it('ignores pings and end events, and an empty id counts as none', () => {
    const end = { t: 1, event: 'end', id: null, ping: false }
    const ping = { t: 1, event: 'ping', id: null, ping: true }
    expect(
      checkIds(
        observation({
          connections: [connection(0, { events: [ping, ...events(['1', '']), end] })],
        }),
      ).measured,
    ).toBe(
      '1 of 2 events without an id: a client that drops after one of them resumes from an earlier id',
    )
    expect(
      idsSeen([connection(0, { events: [ping, ...events(['1', '2', '1', '']), end] })], ['end']),
    ).toEqual(['1', '2'])
  })

  it('says that resuming was not tested when Ctrl-C ended the check', () => {
    expect(
      checkIds(
        observation({
          interrupted: true,
          connections: [connection(0, { events: events(['1', '2', '3']) })],
        }),
      ),
    ).toMatchObject({
      status: 'skip',
      measured: '3 events with ids; resuming not tested: the check was interrupted',
    })
  })

  it('does not blame a resume that Ctrl-C cut before its first event', () => {
    const interrupted = (got: ConnectionSeen) => ({
      ...resumedWith(got),
      interrupted: true,
    })
    const skipped = {
      status: 'skip',
      measured:
        '5 events with ids; the check was interrupted before the reconnect with Last-Event-ID: c brought an event',
    }
    expect(checkIds(interrupted(connection(0, { events: [] })))).toMatchObject(skipped)
    expect(
      checkIds(
        interrupted(
          connection(0, { error: 'interrupted before it answered', response: undefined }),
        ),
      ),
    ).toMatchObject(skipped)
    // What came before the Ctrl-C is judged.
    expect(checkIds(interrupted(connection(0, { events: events(['a']) }))).status).toBe('fail')
    expect(
      checkIds(
        interrupted(
          connection(0, {
            response: response({ status: 204, verdict: 'no-content' }),
            end: undefined,
          }),
        ),
      ).status,
    ).toBe('fail')
  })

  it('cannot test resuming with fewer than two ids', () => {
    expect(
      checkIds(observation({ connections: [connection(0, { events: events(['7']) })] })),
    ).toMatchObject({
      status: 'skip',
      measured: 'one id (7) in 1 event: two are needed to test resuming',
    })
  })
})

describe('retry, end of stream, CORS', () => {
  it('retry: the last value the server set', () => {
    expect(
      checkRetry(observation({ connections: [connection(0, { retries: [1000, 5000] })] })).measured,
    ).toBe('retry: 5000 (clients reconnect after 5s)')
  })

  it.each([
    [
      '500',
      connection(2000, {
        end: undefined,
        response: response({
          status: 500,
          statusText: 'Internal Server Error',
          verdict: 'http-error',
        }),
      }),
      'warn',
      'the reconnect got HTTP 500 Internal Server Error: a browser stops with an error',
    ],
    [
      'a refused connection',
      connection(2000, { end: undefined, error: 'ECONNREFUSED', response: undefined }),
      'warn',
      'the reconnect failed: ECONNREFUSED',
    ],
    [
      'a redirect loop (fetch gives up: a network error, which a browser retries)',
      connection(2000, {
        end: undefined,
        response: response({
          status: 302,
          statusText: 'Found',
          headers: { location: '/loop' },
          verdict: 'too-many-redirects',
        }),
      }),
      'warn',
      'the reconnect failed: HTTP 302 Found: too many redirects (more than 20)',
    ],
    [
      '204',
      connection(2000, {
        end: undefined,
        response: response({ status: 204, verdict: 'no-content' }),
      }),
      'pass',
      'the reconnect got 204',
    ],
  ] as const)('end of stream: a break, then %s: %s', (_case, after, status, measured) => {
    const result = checkEndOfStream(
      observation({
        connections: [connection(0, { end: { t: 500, cause: 'network-error' } }), after],
      }),
    )
    expect(result.status).toBe(status)
    expect(result.measured).toBe(
      `the stream broke after 500ms without an "end" event${status === 'pass' ? ', and ' : '; '}${measured}${status === 'pass' ? ': clients stop' : ''}`,
    )
  })

  it('end of stream: a drop that the reconnect resumes is not the end, the end event is', () => {
    const dropped = connection(0, { end: { t: 500, cause: 'network-error' } })
    const resumed = connection(1500, {
      events: [{ t: 100, event: 'end', id: '7', ping: false }],
      end: { t: 1600, cause: 'end-event' },
    })
    expect(checkEndOfStream(observation({ connections: [dropped, resumed] }))).toEqual({
      status: 'pass',
      measured: 'ended with an "end" event after 100ms, on connection 2 after a reconnect',
    })
  })

  it('end of stream: a stream still open at the end of the window, or when Ctrl-C came, is not judged', () => {
    expect(
      checkEndOfStream(
        observation({ connections: [connection(0, { end: { t: 20_000, cause: 'window' } })] }),
      ),
    ).toMatchObject({ status: 'skip', measured: 'the stream stayed open for the whole 20s window' })
    const interrupted = observation({
      interrupted: true,
      observedMs: 2500,
      connections: [connection(0, { end: { t: 2500, cause: 'window' } })],
    })
    expect(checkEndOfStream(interrupted)).toMatchObject({
      status: 'skip',
      measured: 'the stream stayed open for the 2.5s observed before the check was interrupted',
    })
  })

  it('end of stream: a close, then Ctrl-C before the reconnect answered, is not judged', () => {
    const closed = connection(0, { end: { t: 500, cause: 'server-closed' } })
    const unanswered = connection(3500, {
      end: undefined,
      response: undefined,
      error: 'interrupted before it answered',
    })
    for (const connections of [[closed], [closed, unanswered]])
      expect(checkEndOfStream(observation({ interrupted: true, connections }))).toMatchObject({
        status: 'skip',
        measured:
          'the stream closed after 500ms without an "end" event; the check was interrupted before the reconnect',
      })
  })

  const withCors = (headers: Record<string, string>, credentials = false) =>
    checkCors(
      observation({
        origin: 'https://app.example',
        credentials,
        connections: [connection(0, { response: response({ headers: { ...SSE, ...headers } }) })],
      }),
    )

  it.each([
    [
      'another origin',
      { 'access-control-allow-origin': 'https://other.example' },
      false,
      'fail',
      'Access-Control-Allow-Origin: https://other.example, not https://app.example',
    ],
    [
      'cookies without Allow-Credentials',
      { 'access-control-allow-origin': 'https://app.example' },
      true,
      'fail',
      'no Access-Control-Allow-Credentials: true',
    ],
    [
      'cookies with Allow-Credentials',
      {
        'access-control-allow-origin': 'https://app.example',
        'access-control-allow-credentials': 'true',
      },
      true,
      'pass',
      'with credentials',
    ],
  ] as const)('CORS, %s: %s', (_case, headers, credentials, status, measured) => {
    const result = withCors(headers, credentials)
    expect(result.status).toBe(status)
    expect(result.measured).toContain(measured)
  })

  it('names the header to send with the origin checked, not a placeholder', () => {
    expect(withCors({}).hint).toBe(
      'answer with Access-Control-Allow-Origin: https://app.example (and Access-Control-Allow-Credentials: true for withCredentials)',
    )
    expect(withCors({ 'access-control-allow-origin': '*' }, true).hint).toBe(
      'answer with Access-Control-Allow-Origin: https://app.example and Access-Control-Allow-Credentials: true, as withCredentials needs',
    )
  })

  it("needs no CORS headers for the page's own origin, unless a redirect went through another", () => {
    const at = (url: string, final: string) =>
      checkCors(
        observation({
          url,
          origin: 'https://app.example',
          connections: [connection(0, { response: response({ url: final }) })],
        }),
      )
    expect(at('https://app.example/s', 'https://app.example/s')).toEqual({
      status: 'pass',
      measured: "https://app.example is the stream's own origin: CORS does not apply",
    })
    expect(at('https://api.example/s', 'https://app.example/s').status).toBe('fail')
    expect(at('https://app.example/s', 'https://api.example/s').status).toBe('fail')
  })
})

describe('exit code', () => {
  const results = (...statuses: CheckResult['status'][]): CheckResult[] =>
    statuses.map((status) => ({ id: 'retry', status, measured: '' }))
  it.each([
    [['pass', 'skip'], false, 0],
    [['pass', 'warn'], false, 0],
    [['pass', 'warn'], true, 1],
    [['fail'], false, 1],
    [['skip'], true, 0],
  ] as const)('%j, strict %s: %d', (statuses, strict, code) => {
    expect(checkExitCode(results(...statuses), strict)).toBe(code)
  })
})
