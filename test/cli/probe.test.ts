import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer as createNetServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { startH2Server } from '../helpers/h2-server.ts'
import { startRawServer } from '../helpers/hostile-servers.ts'
import { sseServer, startServer, writeSlowly } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }

describe('records and reconnection', () => {
  it("reconnects after a close with the server's retry delay and Last-Event-ID", async () => {
    const server = await sseServer(
      'retry: 50\nid: 7\nevent: status\ndata: a\n\n',
      'event: end\ndata: bye\n\n',
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '7'])
    expect(run.records.map((r) => r.type)).toEqual([
      'open',
      'retry',
      'event',
      'close',
      'reconnect',
      'open',
      'event',
      'summary',
    ])
    const reconnect = run.ofType('reconnect')[0]!
    expect(reconnect).toMatchObject({ attempt: 2, delayMs: 50, lastEventId: '7' })
    expect(reconnect.t - run.ofType('close')[0]!.t).toBeGreaterThanOrEqual(45)
    expect(run.summary).toMatchObject({
      reason: 'end-event',
      exitCode: 0,
      reconnects: 1,
      events: 2,
    })
  })

  it("sends the browser's headers, the user's -H, and --last-event-id on the first connection", async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    await runCli([
      server.url,
      '--json',
      '-H',
      'X-Trace: abc',
      '-H',
      'Accept: text/event-stream, */*',
      '--last-event-id',
      '42',
    ])
    const headers = server.requests[0]!.headers
    expect(headers).toMatchObject({
      accept: 'text/event-stream, */*',
      'cache-control': 'no-cache',
      'x-trace': 'abc',
      'last-event-id': '42',
    })
    expect(headers['accept-encoding']).toBeUndefined()
  })

  it('a header given twice sends both values, as curl does, rather than dropping the first', async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    const headers = ['X-A: 1', 'x-a: 2', 'Cookie: a=1', 'Cookie: b=2', 'Accept: */*']
    await runCli([server.url, '--json', ...headers.flatMap((h) => ['-H', h])])
    expect(server.requests[0]!.headers).toMatchObject({
      'x-a': '1, 2',
      cookie: 'a=1; b=2',
      // A default header is replaced, not combined with the user's.
      accept: '*/*',
    })
  })

  it('a body given twice is refused (exit 2) before any request, not sent as the last alone', async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    for (const args of [
      ['-d', '{"a":1}', '-d', 'more'],
      ['--data', '@-', '-d', 'x'],
      ['--trigger', '/t', '--trigger-data', 'a', '--trigger-data', 'b'],
      ['load', '-c', '1', '-d', 'a', '-d', 'b'],
    ]) {
      const run = await runCli([...args, server.url])
      expect(run.exitCode, args.join(' ')).toBe(2)
      expect(run.stderr).toMatch(
        /^error: option '.*' argument '.*' is invalid\. the body is given twice: pass it whole, once \(@file for a long one\)\n$/,
      )
    }
    expect(server.requests).toHaveLength(0)
  })

  it('sends no Last-Event-ID once an empty id: has reset the buffer', async () => {
    const server = await sseServer(
      'retry: 10\nid: 5\ndata: a\n\nid:\ndata: b\n\n',
      'event: end\ndata: x\n\n',
    )
    const run = await runCli([server.url, '--json'])
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, undefined])
    expect(run.ofType('reconnect')[0]!.lastEventId).toBeNull()
    expect(run.ofType('event').map((e) => [e.id, e.lastEventId])).toEqual([
      ['5', '5'],
      ['', ''],
      [null, ''],
    ])
  })

  it('waits as long as a retry: longer than a Node timer asks', async () => {
    const server = await sseServer('retry: 99999999999\ndata: a\n\n')
    const run = await runCli([server.url, '--json', '--duration', '500ms'])
    expect(run.summary.reason).toBe('duration')
    expect(server.requests).toHaveLength(1)
  })

  it('drops a Last-Event-ID given with -H once an empty id: has reset the buffer', async () => {
    const server = await sseServer('retry: 10\nid:\ndata: a\n\n', 'event: end\ndata: x\n\n')
    await runCli([server.url, '--json', '-H', 'Last-Event-ID: 42'])
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual(['42', undefined])
  })

  it('keeps an id from a block without data for the reconnect', async () => {
    const server = await sseServer('retry: 10\ndata: a\n\nid: 99\n\n', 'event: end\ndata: x\n\n')
    await runCli([server.url, '--json'])
    expect(server.requests[1]!.headers['last-event-id']).toBe('99')
  })

  it("writes every record type with the contract's fields", async () => {
    const server = await startServer(async (_req, res, index) => {
      res.writeHead(200, SSE)
      if (index === 0) {
        await writeSlowly(
          res,
          [
            ': ping\n\n',
            'retry: 20\n\n',
            'id: 1\nevent: status\ndata: {"a": 1}\n\n',
            'data: two\n\n',
          ],
          20,
        )
        res.end()
      } else res.end('event: end\ndata: bye\n\n')
    })
    const run = await runCli([server.url, '--json'])
    const [open, comment, retry, first, second, close, reconnect] = run.records
    expect(open).toEqual({
      type: 'open',
      t: expect.any(Number),
      attempt: 1,
      url: `${server.url}/`,
      status: 200,
      httpVersion: '1.1',
      headers: expect.objectContaining({ 'content-type': 'text/event-stream' }),
    })
    expect(comment).toEqual({ type: 'comment', t: expect.any(Number), attempt: 1, text: ' ping' })
    expect(retry).toEqual({ type: 'retry', t: expect.any(Number), attempt: 1, ms: 20 })
    expect(first).toEqual({
      type: 'event',
      t: expect.any(Number),
      attempt: 1,
      event: 'status',
      id: '1',
      lastEventId: '1',
      data: '{"a": 1}',
      dt: null,
    })
    expect(second).toMatchObject({
      type: 'event',
      event: 'message',
      id: null,
      lastEventId: '1',
      data: 'two',
    })
    // dt is the time since the previous event (0 when a loaded machine reads both at once).
    const dt = (second as { dt: number }).dt
    expect(dt).toBeGreaterThanOrEqual(0)
    expect(Math.abs(dt - ((second as { t: number }).t - (first as { t: number }).t))).toBeLessThan(
      0.01,
    )
    expect(close).toEqual({
      type: 'close',
      t: expect.any(Number),
      attempt: 1,
      cause: 'server-closed',
    })
    expect(reconnect).toEqual({
      type: 'reconnect',
      t: expect.any(Number),
      attempt: 2,
      delayMs: 20,
      lastEventId: '1',
    })
    expect(run.summary).toEqual({
      type: 'summary',
      t: expect.any(Number),
      reason: 'end-event',
      exitCode: 0,
      events: 3,
      eventsByType: { status: 1, message: 1, end: 1 },
      pings: 1,
      comments: 1,
      connections: 2,
      reconnects: 1,
      bytes: expect.any(Number),
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      firstEventMs: first!.t,
      gapMs: {
        min: expect.any(Number),
        p50: expect.any(Number),
        p95: expect.any(Number),
        max: expect.any(Number),
      },
      expectations: [],
    })
    for (const record of run.records) expect(String(record.t)).toMatch(/^\d+(\.\d{1,3})?$/)
  })

  it('reports a connection broken in the middle of an event as a network error and discards the partial event', async () => {
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, SSE)
      if (index === 0) {
        res.write('retry: 10\ndata: whole\n\ndata: half')
        setTimeout(() => res.socket?.destroy(), 20)
      } else res.end('event: end\ndata: x\n\n')
    })
    const run = await runCli([server.url, '--json'])
    expect(run.ofType('close')[0]).toMatchObject({
      cause: 'network-error',
      message: expect.any(String),
      discardedBytes: 4,
    })
    expect(run.ofType('event').map((e) => e.data)).toEqual(['whole', 'x'])
  })

  it("says that a last end block without a data line was no event (sse-starlette's ServerSentEvent(event='end'))", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE).end('data: a\r\n\r\nevent: end\r\n\r\n')
    })
    const run = await runCli([server.url, '--json', '--reconnect', 'never'])
    expect(run.ofType('close')).toMatchObject([{ cause: 'server-closed', datalessEnd: 'end' }])
    expect(run.summary).toMatchObject({ reason: 'server-closed', events: 1 })
    const pretty = await runCli([server.url, '--reconnect', 'never'])
    expect(pretty.stderr).toContain(
      'server closed the stream (its last block, event: end, had no data line: not an event, as in browsers; send "data:" with it)',
    )
    // Another type's block without data is none of the probe's business.
    const other = await runCli([
      server.url,
      '--json',
      '--reconnect',
      'never',
      '--end-event',
      'done',
    ])
    expect(other.ofType('close')[0]).not.toHaveProperty('datalessEnd')
  })

  it.each([true, false])(
    'says a chunked body closed mid-stream was closed, not a protocol error (keep-alive %s)',
    async (keepAlive) => {
      const server = await startServer((_req, res, index) => {
        res.shouldKeepAlive = keepAlive
        res.writeHead(200, SSE)
        if (index === 0) {
          res.write('retry: 10\ndata: a\n\n')
          setTimeout(() => res.destroy(), 20)
        } else res.end('event: end\ndata: x\n\n')
      })
      const run = await runCli([server.url, '--json'])
      expect(run.ofType('close')[0]).toMatchObject({
        cause: 'network-error',
        message: 'other side closed',
      })
      expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 1 })
    },
  )

  it('gives the same records whether the stream arrives in one chunk or byte by byte', async () => {
    const body =
      '\uFEFF: hi\r\nretry: 10\r\nid: 7\nevent: status\rdata: é€\n\ndata: x\r\ndata: y\r\n\r\nevent: end\ndata: z\n\n'
    const whole = await sseServer(body)
    const bytes = await startServer(async (_req, res) => {
      res.writeHead(200, SSE)
      await writeSlowly(
        res,
        [...Buffer.from(body)].map((b) => Buffer.of(b)),
        1,
      )
      res.end()
    })
    const strip = (records: unknown[]) =>
      records.map((r) => ({
        ...(r as object),
        t: 0,
        dt: 0,
        headers: 0,
        url: 0,
        bytes: 0,
        firstEventMs: 0,
        gapMs: 0,
        startedAt: 0,
      }))
    const a = await runCli([whole.url, '--json'])
    const b = await runCli([bytes.url, '--json'])
    expect(strip(b.records)).toEqual(strip(a.records))
    expect(a.ofType('event').map((e) => e.data)).toEqual(['é€', 'x\ny', 'z'])
  })
})

describe('HTTP/1.0 servers', () => {
  it("reports HTTP/1.0 (Python's http.server, Werkzeug), whose body ends when the connection closes", async () => {
    const server = await startRawServer((socket) => {
      socket.end(
        'HTTP/1.0 200 OK\r\nServer: Werkzeug/2.2.2 Python/3.11.2\r\n' +
          'Content-Type: text/event-stream; charset=utf-8\r\n\r\nid: 1\ndata: one\n\n',
      )
    })
    const run = await runCli([server.url, '--json', '--reconnect', 'never'])
    expect(run.ofType('open')[0]?.httpVersion).toBe('1.0')
    expect(run.ofType('event').map((e) => e.data)).toEqual(['one'])
    expect(run.ofType('close')[0]?.cause).toBe('server-closed')
    expect(run.exitCode).toBe(0)
  })
})

describe('fatal responses', () => {
  it('ends without error on 204, and says why', async () => {
    const server = await startServer((_req, res) => res.writeHead(204).end())
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.summary).toMatchObject({
      reason: 'no-content',
      message: 'HTTP 204 No Content: the server asked the client to stop',
    })
    expect(run.ofType('error')).toEqual([])
    expect(run.stderr).toBe('')
  })

  it('stops on a 204 answering a reconnect', async () => {
    const server = await startServer((_req, res, index) =>
      index === 0
        ? res.writeHead(200, SSE).end('retry: 10\ndata: a\n\n')
        : res.writeHead(204).end(),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.summary).toMatchObject({ reason: 'no-content', events: 1, reconnects: 1 })
  })

  it.each([
    [401, '{"error":"invalid token"}'],
    [500, 'Internal trouble'],
  ])('exits 3 on %d and shows the start of the body', async (status, body) => {
    const server = await startServer((_req, res) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(body),
    )
    const json = await runCli([server.url, '--json'])
    expect(json.exitCode).toBe(3)
    expect(json.ofType('error')[0]).toMatchObject({
      status,
      message: expect.stringMatching(new RegExp(`^HTTP ${status} \\w`)),
      body,
    })
    expect(json.summary).toMatchObject({ reason: 'http-error', exitCode: 3 })
    expect(server.requests).toHaveLength(1)
    const pretty = await runCli([server.url, '--no-color'])
    expect(pretty.exitCode).toBe(3)
    expect(pretty.stderr).toContain(`HTTP ${status}`)
    expect(pretty.stderr).toContain(body)
  })

  it('exits 3 on a 200 that is not text/event-stream, but accepts parameters', async () => {
    const html = await startServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>'),
    )
    const run = await runCli([html.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'not-event-stream',
      message: expect.stringContaining('text/html'),
    })
    const withCharset = await startServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' })
        .end('event: end\ndata: x\n\n'),
    )
    expect((await runCli([withCharset.url, '--json'])).exitCode).toBe(0)
    // As fetch extracts a MIME type: of repeated headers the last valid value counts.
    const repeated = await startServer((_req, res) =>
      res
        .setHeader('content-type', ['text/html', 'text/event-stream', 'nonsense'])
        .writeHead(200)
        .end('event: end\ndata: x\n\n'),
    )
    expect((await runCli([repeated.url, '--json'])).exitCode).toBe(0)
  })

  it('exits 3 at once when the first connection is refused', async () => {
    const closed = await startServer(() => {})
    await closed.close()
    const started = performance.now()
    const run = await runCli([closed.url, '--json', '--retry', '10'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message: expect.stringContaining('ECONNREFUSED'),
    })
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('exits 3 when a first connection gets no answer within --connect-timeout', async () => {
    const sockets: Socket[] = []
    const silent = createNetServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      const run = await runCli([
        `http://127.0.0.1:${port}/`,
        '--json',
        '--connect-timeout',
        '300ms',
      ])
      expect(run.exitCode).toBe(3)
      expect(run.summary).toMatchObject({
        reason: 'connect-failed',
        message: expect.stringContaining('--connect-timeout'),
      })
    } finally {
      for (const s of sockets) s.destroy()
      silent.close()
    }
  })

  it('gives up after --max-reconnects barren reconnects', async () => {
    const server = await sseServer('retry: 5\ndata: a\n\n', 'retry: 5\n\n')
    const run = await runCli([server.url, '--json', '--max-reconnects', '2'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({ reason: 'reconnects-exhausted', reconnects: 2 })
    expect(server.requests).toHaveLength(3)
    // An erroring probe says why it ended, in the summary and on stderr, as the others do.
    const why = '2 reconnects in a row brought no event (--max-reconnects 2)'
    expect(run.summary.message).toBe(why)
    expect(run.stderr).toBe(`error: reconnects-exhausted: ${why}\n`)
  })

  it('stops with a clear error when the last event ID cannot be sent back as a header', async () => {
    const server = await sseServer('retry: 10\nid: a\x01b\ndata: x\n\n')
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message: expect.stringContaining('"a\\u0001b" has control characters'),
    })
    expect(server.requests).toHaveLength(1)
  })

  it('retries network errors while reconnecting', async () => {
    let refuse = true
    const server = await startServer((_req, res, index) => {
      if (index === 0) return res.writeHead(200, SSE).end('retry: 30\ndata: a\n\n')
      if (refuse) {
        refuse = false
        return res.socket?.destroy()
      }
      res.writeHead(200, SSE).end('event: end\ndata: b\n\n')
    })
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 2 })
    expect(run.ofType('error')).toHaveLength(1)
  })

  it('reconnects to where the redirects led, with Last-Event-ID as UTF-8', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/old') return res.writeHead(307, { location: '/new' }).end()
      res
        .writeHead(200, SSE)
        .end(
          req.headers['last-event-id']
            ? 'event: end\ndata: x\n\n'
            : 'retry: 10\nid: é日\ndata: a\n\n',
        )
    })
    const run = await runCli([`${server.url}/old`, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.requests.map((r) => r.url)).toEqual(['/old', '/new', '/new'])
    // Node reads header bytes as Latin-1.
    expect(
      Buffer.from(server.requests[2]!.headers['last-event-id'] as string, 'latin1').toString(
        'utf8',
      ),
    ).toBe('é日')
  })

  it.each([
    ['UTF-8', Buffer.from('/caf\u00E9?q=\u00E9'), '/caf%C3%A9?q=%C3%A9'],
    ['bytes that are not UTF-8', Buffer.from([0x2f, 0xe9]), '/%E9'],
  ])(
    'follows a Location in %s to the URL those bytes spell, as Chromium',
    async (_name, location, path) => {
      const server = await startServer((req, res) => {
        if (req.url === '/old')
          return res.writeHead(302, { location: location.toString('latin1') }).end()
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: end\ndata: x\n\n')
      })
      const run = await runCli([`${server.url}/old`, '--json'])
      expect(server.requests.map((r) => r.url)).toEqual(['/old', path])
      expect(run.ofType('open')[0]!.url).toBe(`${server.url}${path}`)
    },
  )

  it('follows redirects and keeps the final URL in the open record', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/old') return res.writeHead(302, { location: '/new' }).end()
      res.writeHead(200, SSE).end('event: end\ndata: x\n\n')
    })
    const run = await runCli([`${server.url}/old`, '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('open')[0]!.url).toBe(`${server.url}/new`)
  })
})

describe('end conditions and exit codes', () => {
  const stream = 'data: 1\n\nevent: status\ndata: 2\n\ndata: [DONE]\n\nevent: end\ndata: 3\n\n'

  it.each([
    [['--end-data', '[DONE]'], 'end-data', 0, 3],
    [[], 'end-event', 0, 4],
    [['-n', '2'], 'max-events', 0, 2],
    [['--no-end-event', '--no-reconnect'], 'server-closed', 0, 4],
    [['--end-event', 'status'], 'end-event', 0, 2],
    // The last of --no-end-event and --end-event wins, as for every other flag.
    [['--no-end-event', '--end-event', 'status'], 'end-event', 0, 2],
    [['--end-event', 'status', '--no-end-event', '--no-reconnect'], 'server-closed', 0, 4],
  ])('%j ends with %s (exit %d) after %d events', async (flags, reason, exitCode, events) => {
    const server = await sseServer(stream)
    const run = await runCli([server.url, '--json', ...flags])
    expect(run.exitCode).toBe(exitCode)
    expect(run.summary).toMatchObject({ reason, exitCode, events })
    expect(run.ofType('event')).toHaveLength(events)
  })

  const silentStream = () =>
    startServer((_req, res) => res.writeHead(200, SSE).write(': hello\n\n'))

  it('--duration ends an open stream with exit 0', async () => {
    const run = await runCli([(await silentStream()).url, '--json', '--duration', '300ms'])
    expect(run.exitCode).toBe(0)
    expect(run.summary.reason).toBe('duration')
    expect(run.summary.t).toBeGreaterThanOrEqual(290)
  })

  it('--duration equal to --timeout is a window that ended, not a timeout', async () => {
    const flags = ['--json', '--duration', '300ms', '--timeout', '300ms']
    const run = await runCli([(await silentStream()).url, ...flags])
    expect(run.summary).toMatchObject({ reason: 'duration', exitCode: 0 })
    expect(run.exitCode).toBe(0)
  })

  it('--timeout fails with exit 4', async () => {
    const run = await runCli([(await silentStream()).url, '--json', '--timeout', '300ms'])
    expect(run.exitCode).toBe(4)
    expect(run.summary.reason).toBe('timeout')
  })

  it('--idle-timeout fails with exit 4 when no byte arrives, and pings keep it alive', async () => {
    const idle = await runCli([(await silentStream()).url, '--json', '--idle-timeout', '300ms'])
    expect(idle.exitCode).toBe(4)
    expect(idle.summary.reason).toBe('idle-timeout')
    const pinging = await startServer((_req, res) => {
      res.writeHead(200, SSE)
      const timer = setInterval(() => res.write(':\n\n'), 50)
      res.on('close', () => clearInterval(timer))
    })
    const alive = await runCli([
      pinging.url,
      '--json',
      '--idle-timeout',
      '300ms',
      '--duration',
      '700ms',
    ])
    expect(alive.summary).toMatchObject({ reason: 'duration', exitCode: 0 })
    expect(alive.summary.pings).toBeGreaterThan(5)
  })

  it('a quiet but healthy stream is not cut by a body timeout', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE).write(': open\n\n')
      setTimeout(() => res.end('event: end\ndata: late\n\n'), 1500)
    })
    const run = await runCli([server.url, '--json'])
    expect(run.summary).toMatchObject({ reason: 'end-event', events: 1, reconnects: 0 })
  })
})

describe('expectations', () => {
  const stream = 'retry: 10\nevent: status\ndata: {"state":"running"}\n\n'
  const passing = [
    ['--expect-event', 'status'],
    ['--expect-data', '"state":"done"'],
    ['--expect-min-events', '3'],
    ['--expect-end'],
    ['--expect-reconnect'],
    ['--expect-max-gap', '2s'],
  ]

  it('all hold: exit 0 and every result in the summary', async () => {
    const server = await sseServer(
      stream,
      'event: status\ndata: {"state":"done"}\n\nevent: end\ndata: x\n\n',
    )
    const run = await runCli([server.url, '--json', ...passing.flat()])
    expect(run.summary.expectations).toEqual([
      { name: '--expect-event status', ok: true, actual: 2 },
      { name: '--expect-data "state":"done"', ok: true, actual: 1 },
      { name: '--expect-min-events 3', ok: true, actual: 3 },
      { name: '--expect-end', ok: true, actual: 'end-event' },
      { name: '--expect-reconnect', ok: true, actual: 1 },
      { name: '--expect-max-gap 2s', ok: true, actual: expect.any(Number) },
    ])
    expect(run.exitCode).toBe(0)
  })

  it.each([
    [['--expect-event', 'nope']],
    [['--expect-data', '^never$']],
    [['--expect-min-events', '5']],
    [['--expect-end', '--no-end-event', '-n', '1']],
    [['--expect-reconnect', '-n', '1']],
  ])('%j fails: exit 1', async (flags) => {
    const server = await sseServer(stream, 'event: end\ndata: x\n\n')
    const run = await runCli([server.url, '--json', ...flags])
    expect(run.exitCode).toBe(1)
    expect(run.summary.expectations.some((e) => !e.ok)).toBe(true)
  })

  it('--expect-max-gap fails on a long silence', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE).write('data: a\n\n')
      setTimeout(() => res.end('event: end\ndata: b\n\n'), 600)
    })
    const run = await runCli([server.url, '--json', '--expect-max-gap', '300ms'])
    expect(run.exitCode).toBe(1)
    expect(run.summary.expectations).toEqual([
      { name: '--expect-max-gap 300ms', ok: false, actual: expect.any(Number) },
    ])
    expect(run.summary.expectations[0]!.actual).toBeGreaterThan(300)
  })

  it('--expect-max-gap is named by its exact limit, with or without --fail-fast', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE).end('event: end\ndata: b\n\n')
    })
    for (const flags of [[], ['--fail-fast']]) {
      const run = await runCli([server.url, '--json', '--expect-max-gap', '1234ms', ...flags])
      // Not "1.23s": a limit of 1230ms is another limit.
      expect(run.summary.expectations.map((e) => e.name)).toEqual(['--expect-max-gap 1.234s'])
    }
  })

  it('a failed expectation does not hide a non-zero reason', async () => {
    const server = await startServer((_req, res) => res.writeHead(500).end())
    const run = await runCli([server.url, '--json', '--expect-event', 'x'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.expectations).toEqual([{ name: '--expect-event x', ok: false, actual: 0 }])
  })
})

describe('output', () => {
  const stream =
    ': ping\n\nid: 7\nevent: status\ndata: {"progress": 40, "state": "running"}\n\ndata: line one\ndata: line two\n\nevent: end\ndata: bye\n\n'

  it('pretty: events on stdout, status and summary on stderr, no colour codes with --no-color', async () => {
    const server = await sseServer(stream)
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).not.toMatch(/\x1b/)
    expect(run.stderr).not.toMatch(/\x1b/)
    expect(run.stdout).toMatch(/\d\.\d{3}s {2}: ping\n/)
    expect(run.stdout).toMatch(
      /\d\.\d{3}s {2}status {2}id 7\n {11}\{"progress":40,"state":"running"\}\n/,
    )
    expect(run.stdout).toMatch(/message {2}\+[\d.]+ms\n {11}line one\n {11}line two\n/)
    expect(run.stderr).toContain('connected  200  HTTP/1.1')
    expect(run.stderr).toMatch(/summary {2}end-event {2}exit 0/)
    expect(run.stderr).toMatch(/events {7}3 {2}\(status 1, message 1, end 1\)/)
    expect(run.stderr).toMatch(/pings {8}1/)
  })

  it('pretty: colour when forced, none with NO_COLOR, --hide-pings hides but counts', async () => {
    const server = await sseServer(stream)
    const forced = await runCli([server.url], { env: { FORCE_COLOR: '1' } })
    expect(forced.stdout).toMatch(/\x1b\[/)
    const noColor = await runCli([server.url], { env: { NO_COLOR: '1' } })
    expect(noColor.stdout + noColor.stderr).not.toMatch(/\x1b/)
    const hidden = await runCli([server.url, '--hide-pings'])
    expect(hidden.stdout).not.toContain('ping')
    expect(hidden.stderr).toMatch(/pings {8}1/)
  })

  it('pretty: a ping event is dim throughout, its type not bold (bold shows over dim)', async () => {
    const server = await sseServer('event: ping\ndata: {}\n\nevent: end\ndata: x\n\n')
    const run = await runCli([server.url], { env: { FORCE_COLOR: '1' } })
    const pingLine = run.stdout.split('\n').find((line) => line.includes('ping'))!
    expect(pingLine.startsWith('\x1b[2m')).toBe(true)
    expect(pingLine).not.toContain('\x1b[1m')
    const endLine = run.stdout.split('\n').find((line) => line.includes('end'))!
    expect(endLine).toContain('\x1b[1m')
  })

  it('pretty: no spinner when stderr is not a TTY', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE).write(': x\n\n')
      setTimeout(() => res.end('event: end\ndata: y\n\n'), 600)
    })
    const run = await runCli([server.url])
    expect(run.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\x1b\[\?25l/)
  })

  it('-i shows the response headers, credentials redacted', async () => {
    const server = await startServer((_req, res) =>
      res
        .writeHead(200, { ...SSE, 'x-served-by': 'test', 'set-cookie': 'session=secret' })
        .end('event: end\ndata: x\n\n'),
    )
    const run = await runCli([server.url, '-i', '--no-color'])
    expect(run.stderr).toContain('x-served-by: test')
    expect(run.stderr).toContain('set-cookie: <redacted>')
    expect(run.stderr).not.toContain('secret')
  })

  it('-q prints only the summary', async () => {
    const server = await sseServer(stream)
    const run = await runCli([server.url, '-q', '--no-color'])
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^── summary {2}end-event/)
  })

  it('json: -q keeps only errors and the summary; errors also reach stderr in words', async () => {
    const server = await sseServer(stream)
    const quiet = await runCli([server.url, '--json', '-q'])
    expect(quiet.records.map((r) => r.type)).toEqual(['summary'])
    expect(quiet.stderr).toBe('')
    const failing = await startServer((_req, res) =>
      res.writeHead(503, { 'retry-after': '30' }).end('busy'),
    )
    const run = await runCli([failing.url, '--json', '--expect-event', 'x'])
    expect(run.records.map((r) => r.type)).toEqual(['error', 'summary'])
    expect(run.ofType('error')[0]).toMatchObject({
      status: 503,
      body: 'busy',
      headers: expect.objectContaining({ 'retry-after': '30' }),
    })
    expect(run.stderr).toBe(
      'error: HTTP 503 Service Unavailable\nerror: expectation failed: --expect-event x (got 0)\n',
    )
    const pretty = await runCli([failing.url, '-i', '--no-color'])
    expect(pretty.stderr).toMatch(
      /✗ HTTP 503 Service Unavailable\n {11}retry-after: 30\n(.*\n)* {11}busy\n/,
    )
    // cli.md: error records carry the body, an empty one too (and pretty shows no empty line).
    const empty = await startServer((_req, res) => res.writeHead(401).end())
    const refused = await runCli([empty.url, '--json'])
    expect(refused.ofType('error')[0]).toMatchObject({ status: 401, body: '' })
    const shown = await runCli([empty.url, '--no-color'])
    expect(shown.stderr).toMatch(/✗ HTTP 401 Unauthorized\n(?! {11}\n)/)
  })

  it('raw: the body bytes exactly as received', async () => {
    const body = Buffer.concat([
      Buffer.from('\uFEFF: raw\r\ndata: \x1b[31mred\r\n\r\n'),
      Buffer.of(0xff, 0xfe),
      Buffer.from('\nevent: end\ndata: x\n\n'),
    ])
    const server = await startServer((_req, res) => res.writeHead(200, SSE).end(body))
    const run = await runCli([server.url, '--format', 'raw'])
    expect(run.exitCode).toBe(0)
    expect(run.stdoutBytes.equals(body)).toBe(true)
    expect(run.stderr).toContain('summary')
  })

  it('json: every line is one record, written as events arrive', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE).write('data: first\n\n')
      setTimeout(() => res.end('event: end\ndata: x\n\n'), 2000)
    })
    let firstEventAt = 0
    const started = performance.now()
    await runCli([server.url, '--json'], {
      onSpawn: (child) =>
        child.stdout!.on('data', (c: Buffer) => {
          if (!firstEventAt && c.toString().includes('"data":"first"'))
            firstEventAt = performance.now() - started
        }),
    })
    expect(firstEventAt).toBeGreaterThan(0)
    expect(firstEventAt).toBeLessThan(1900)
  })
})

describe('request', () => {
  it('-d @file sends a POST with the file as body, on every connection', async () => {
    const bodies: string[] = []
    const server = await startServer(async (req, res, index) => {
      let body = ''
      for await (const chunk of req) body += chunk
      bodies.push(`${req.method} ${req.headers['content-type']} ${body}`)
      res.writeHead(200, SSE).end(index === 0 ? 'retry: 10\ndata: a\n\n' : 'data: [DONE]\n\n')
    })
    const file = join(mkdtempSync(join(tmpdir(), 'sse-probe-')), 'body.json')
    writeFileSync(file, '{"prompt":"hi"}')
    const run = await runCli([
      server.url,
      '--json',
      '-d',
      `@${file}`,
      '--end-data',
      '[DONE]',
      '-H',
      'Authorization: Bearer t0k3n',
      '--reconnect',
      'always',
    ])
    expect(run.summary.reason).toBe('end-data')
    expect(bodies).toEqual([
      'POST application/json {"prompt":"hi"}',
      'POST application/json {"prompt":"hi"}',
    ])
    expect(server.requests[0]!.headers.authorization).toBe('Bearer t0k3n')
  })

  it('-d @- reads stdin; -X overrides the method', async () => {
    let seen = ''
    const server = await startServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      seen = `${req.method} ${body}`
      res.writeHead(200, SSE).end('event: end\ndata: x\n\n')
    })
    await runCli([server.url, '--json', '-X', 'put', '-d', '@-'], { stdin: 'from stdin' })
    expect(seen).toBe('PUT from stdin')
  })

  it('goes through --proxy and through HTTP_PROXY', async () => {
    const target = await sseServer('event: end\ndata: via proxy\n\n')
    const proxied: string[] = []
    const proxy = await startServer(async (req, res) => {
      proxied.push(req.url!)
      const upstream = await fetch(req.url!, { headers: { accept: req.headers.accept ?? '' } })
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers))
      res.end(Buffer.from(await upstream.arrayBuffer()))
    })
    const flag = await runCli([`${target.url}/flag`, '--json', '--proxy', proxy.url])
    expect(flag.ofType('event')[0]!.data).toBe('via proxy')
    const env = await runCli([`${target.url}/env`, '--json'], { env: { HTTP_PROXY: proxy.url } })
    expect(env.ofType('event')[0]!.data).toBe('via proxy')
    // Without a scheme, as corporate shells often set it: http://, as curl reads it.
    const bare = proxy.url.replace('http://', '')
    const schemeless = await runCli([`${target.url}/bare`, '--json'], {
      env: { HTTP_PROXY: bare, http_proxy: bare },
    })
    expect(schemeless.ofType('event')[0]!.data).toBe('via proxy')
    expect(proxied).toEqual([`${target.url}/flag`, `${target.url}/env`, `${target.url}/bare`])
  })

  it('a proxy that cannot be reached is named, with the flag or variable that set it', async () => {
    const target = await sseServer('event: end\ndata: x\n\n')
    // Nothing listens on the proxy's port. Node's words alone read as a wrong URL.
    const flag = await runCli([target.url, '--json', '--proxy', 'http://127.0.0.1:9'])
    expect(flag.exitCode).toBe(3)
    expect(flag.summary.message).toBe(
      'cannot reach the proxy http://127.0.0.1:9 (--proxy): connect ECONNREFUSED 127.0.0.1:9',
    )
    const env = await runCli([target.url, '--json'], {
      env: { HTTP_PROXY: 'http://user:secret@127.0.0.1:9' },
    })
    expect(env.exitCode).toBe(3)
    expect(env.summary.message).toBe(
      'cannot reach the proxy http://127.0.0.1:9 (HTTP_PROXY): connect ECONNREFUSED 127.0.0.1:9',
    )
    expect(env.stdout + env.stderr).not.toContain('secret')
    // Without a scheme: http://, named as such.
    const bare = await runCli([target.url, '--json'], { env: { HTTP_PROXY: '127.0.0.1:9' } })
    expect(bare.summary.message).toBe(
      'cannot reach the proxy http://127.0.0.1:9 (HTTP_PROXY): connect ECONNREFUSED 127.0.0.1:9',
    )
  })

  it('a host NO_PROXY names is reached directly, as without proxy variables (HTTP/2, HTTP/1.0)', async () => {
    const h2 = await startH2Server((_req, res) =>
      res.writeHead(200, SSE).end('event: end\ndata: x\n\n'),
    )
    const http10 = await startRawServer((socket) => {
      socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: one\n\n')
    })
    // Nothing listens on the proxy's port: a request sent there would fail.
    const proxy = 'http://127.0.0.1:9'
    const env = { HTTPS_PROXY: proxy, https_proxy: proxy, HTTP_PROXY: proxy, http_proxy: proxy }
    Object.assign(env, { NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' })
    const direct = await runCli([h2.url, '--json', '-k'], { env })
    expect(direct.ofType('open')[0]?.httpVersion).toBe('2')
    const old = await runCli([http10.url, '--json', '--reconnect', 'never'], { env })
    expect(old.ofType('open')[0]?.httpVersion).toBe('1.0')
  })
})

describe('TLS verification', () => {
  it('refuses a self-signed certificate unless -k or NODE_TLS_REJECT_UNAUTHORIZED=0 (as every Node client, with its warning)', async () => {
    const h2 = await startH2Server((_req, res) =>
      res.writeHead(200, SSE).end('event: end\ndata: x\n\n'),
    )
    const refused = await runCli([h2.url, '--json', '--reconnect', 'never'])
    expect(refused.exitCode).toBe(3)
    expect(refused.summary.reason).toBe('connect-failed')
    const env = await runCli([h2.url, '--json'], { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } })
    expect(env.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    expect(env.stderr).toContain('NODE_TLS_REJECT_UNAUTHORIZED')
    const insecure = await runCli([h2.url, '--json', '-k'])
    expect(insecure.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
  })
})

describe('usage errors and signals', () => {
  it.each([
    [['ftp://x']],
    [['not a url']],
    [['http://x', '--timeout', 'soon']],
    [['http://x', '-n', '-1']],
    [['http://x', '--format', 'xml']],
    [['http://x', '-H', 'NoColon']],
    [['http://x', '--expect-data', '(']],
    [['http://x', '--bogus']],
    [['http://x', '-X', 'CONNECT']],
  ])('%j exits 2 with a one-line message', async (args) => {
    const run = await runCli(args)
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/^error: /)
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  it('-d @missing exits 2 before any request', async () => {
    const server = await sseServer('data: x\n\n')
    const run = await runCli([server.url, '-d', '@/nonexistent/file.json'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('/nonexistent/file.json')
    expect(server.requests).toHaveLength(0)
  })

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s closes the connection, prints the summary and exits %d', async (signal, code) => {
    let closed = false
    const server = await startServer((req, res) => {
      res.writeHead(200, SSE).write('data: a\n\n')
      req.socket.on('close', () => (closed = true))
    })
    const run = await runCli([server.url, '--json'], {
      onSpawn: (child) =>
        child.stdout!.once('data', () => setTimeout(() => child.kill(signal), 100)),
    })
    expect(run.exitCode).toBe(code)
    expect(run.summary).toMatchObject({ reason: 'interrupted', exitCode: code, events: 1 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed).toBe(true)
  })

  it('--version and --help exit 0', async () => {
    expect((await runCli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    const help = await runCli(['--help'])
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toContain('--expect-max-gap')
  })
})

describe('connection setup', () => {
  it('Ctrl-C while the server has not answered ends at once, with the summary', async () => {
    let child: ChildProcess | undefined
    let interruptedAt = 0
    // Sent once the request has arrived: the probe is running then, whatever the machine's load.
    const silent = await startRawServer(() => {
      interruptedAt = performance.now()
      child?.kill('SIGINT')
    })
    const run = await runCli([silent.url, '--json'], { onSpawn: (spawned) => (child = spawned) })
    expect(run.exitCode).toBe(130)
    expect(run.summary.reason).toBe('interrupted')
    expect(performance.now() - interruptedAt).toBeLessThan(5000)
  })

  it('--connect-timeout is kept to the millisecond scale, not rounded to seconds', async () => {
    const silent = await startRawServer(() => {})
    const run = await runCli([silent.url, '--json', '--connect-timeout', '150ms'])
    expect(run.summary).toMatchObject({ reason: 'connect-failed' })
    expect(run.summary.message).toContain('within 150ms (--connect-timeout)')
    expect(run.ofType('error')[0]!.t).toBeLessThan(900)
  })

  it('--connect-timeout: a server that took the request and holds its headers back (a buffering nginx or PHP) is not said to be unreachable', async () => {
    // nginx's proxy_buffering and PHP's output_buffering send the headers with the first full buffer.
    const holding = await startRawServer(() => {})
    const held = await runCli([holding.url, '--json', '--connect-timeout', '150ms'])
    expect(held.summary).toMatchObject({
      reason: 'connect-failed',
      message:
        'the server took the connection but sent no response headers within 150ms (--connect-timeout): it or a proxy may be buffering the response',
    })
    // No TLS handshake (the connection is not made): no response at all.
    const handshake = await startRawServer(() => {})
    const url = handshake.url.replace('http:', 'https:')
    const unmade = await runCli([url, '--json', '--connect-timeout', '150ms'])
    expect(unmade.summary).toMatchObject({
      reason: 'connect-failed',
      message: 'no response within 150ms (--connect-timeout)',
    })
  })

  it('--connect-timeout covers the tunnel of an https:// URL through a proxy that never answers', async () => {
    const proxy = await startRawServer(() => {})
    const run = await runCli(
      ['https://127.0.0.1:9/', '--json', '--connect-timeout', '300ms', '--proxy', proxy.url],
      { timeoutMs: 10_000 },
    )
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message: expect.stringContaining('--connect-timeout'),
    })
  })

  it('--idle-timeout also counts the silence while reconnecting to a server that went away', async () => {
    const server = await sseServer('retry: 50\nid: 1\ndata: a\n\n')
    server.server.on('request', () => void server.close())
    const run = await runCli([server.url, '--json', '--idle-timeout', '600ms'])
    expect(run.exitCode).toBe(4)
    expect(run.summary).toMatchObject({ reason: 'idle-timeout', events: 1 })
    expect(run.summary.reconnects).toBeGreaterThan(1)
  })
})
