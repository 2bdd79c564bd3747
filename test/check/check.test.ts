import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import compression from 'compression'
import express from 'express'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { CheckId, CheckStatus } from '../../src/check/checks.ts'
import { MAX_SEEN } from '../../src/check/observation.ts'
import { observe } from '../../src/check/observe.ts'
import { toCheckOptions } from '../../src/check/options.ts'
import { startBufferingProxy } from '../helpers/buffering-proxy.ts'
import { runCheck } from '../helpers/check.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { startH2Server } from '../helpers/h2-server.ts'
import { sseServer, startServer } from '../helpers/server.ts'
import { type EndpointShape, sseEndpoint } from '../helpers/sse-endpoint.ts'
import { runInTerminal, TERMINAL_TESTS } from '../helpers/tty.ts'

const ORIGIN = 'https://app.example'
const ALL_CHECKS: CheckId[] = [
  'content-type',
  'cache-control',
  'compression',
  'buffering',
  'early-headers',
  'keep-alive',
  'http-version',
  'ids',
  'retry',
  'end-of-stream',
  'cors',
]

describe('check: an endpoint that does everything right', () => {
  it('passes all 11 checks over HTTP/2 with CORS, and exits 0 even with --strict', async () => {
    const server = await startH2Server(sseEndpoint({ cors: true }))
    const { run, checks, summary } = await runCheck(server.url, [
      '-k',
      '--origin',
      ORIGIN,
      '--strict',
    ])
    expect(Object.keys(checks)).toEqual(ALL_CHECKS)
    expect(Object.values(checks).filter((c) => c.status !== 'pass')).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(summary).toMatchObject({
      exitCode: 0,
      pass: 11,
      warn: 0,
      fail: 0,
      skip: 0,
      connections: 1,
      events: 7,
    })
    expect(checks['http-version'].measured).toBe('HTTP/2')
    expect(checks.ids.measured).toBe(
      '6 events with ids; a reconnect with Last-Event-ID: 3 resumed right after it, at id 4',
    )
    expect(checks['end-of-stream'].measured).toMatch(/^ended with an "end" event after [\d.]+m?s$/)
    expect(checks.cors.measured).toBe(`Access-Control-Allow-Origin: ${ORIGIN}`)
    expect(checks.compression.measured).toBe(
      'not compressed, also with Accept-Encoding: gzip, deflate, br',
    )
    // The stream, its compressed twin and the resume, each with the page's Origin as a browser sends it.
    const headers = server.requests.map((r) => r.headers)
    expect(headers).toHaveLength(3)
    expect(headers.every((h) => h.origin === ORIGIN)).toBe(true)
    expect(headers.filter((h) => h['accept-encoding'] === 'gzip, deflate, br')).toHaveLength(1)
    expect(headers.map((h) => h['last-event-id']).filter(Boolean)).toEqual(['3'])
  })

  it('prints one line per check, a hint under each that did not pass, and the totals', async () => {
    const server = await startServer(sseEndpoint())
    const run = await runCli(['check', server.url, '--window', '2s', '--no-color'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(
      /^check {2}http:\/\/127\.0\.0\.1:\d+\/ {2}observed [\d.]+m?s, 1 connection, 7 events\n\n/,
    )
    expect(run.stdout).toContain('✓ content-type   200, text/event-stream\n')
    expect(run.stdout).toMatch(
      /\n! http-version {3}HTTP\/1\.1: browsers open at most 6 connections per origin[^\n]*\n {17}→ serve the stream over HTTPS with HTTP\/2/,
    )
    expect(run.stdout).toMatch(/\n- cors {11}not checked without --origin\n {17}→ give --origin/)
    expect(run.stdout).toMatch(/\n\n9 passed, 1 warned, 0 failed, 1 not measured {2}exit 0\n$/)
    expect(run.stdout.match(/^[✓!✗-] /gm)).toHaveLength(11)
    expect(run.stdout).not.toMatch(/\x1b/)
  })

  it('--strict turns a warning into exit 1', async () => {
    const server = await startServer(sseEndpoint())
    const { run, summary } = await runCheck(server.url, ['--strict'])
    expect(summary).toMatchObject({ warn: 1, fail: 0, exitCode: 1 })
    expect(run.exitCode).toBe(1)
  })
})

describe('check: each check catches its problem', () => {
  // [what is wrong, the endpoint, extra flags, the check, its status, what it measured]
  const cases: [string, EndpointShape, string[], CheckId, CheckStatus, RegExp][] = [
    [
      'Content-Type is not text/event-stream',
      { headers: { 'content-type': 'text/html' } },
      [],
      'content-type',
      'fail',
      /^200 with Content-Type text\/html: : connected retry: 2000 id: 1 data: tick 1 /,
    ],
    [
      'a Content-Encoding the probe cannot decode',
      { headers: { 'content-encoding': 'zstd' } },
      [],
      'content-type',
      'fail',
      /^200, text\/event-stream, with Content-Encoding zstd: sse-probe decodes gzip, deflate and br, not zstd$/,
    ],
    [
      'a charset other than UTF-8',
      { headers: { 'content-type': 'text/event-stream; charset=iso-8859-1' } },
      [],
      'content-type',
      'warn',
      /charset=iso-8859-1: SSE is decoded as UTF-8/,
    ],
    [
      'no Cache-Control',
      { headers: { 'cache-control': null } },
      [],
      'cache-control',
      'warn',
      /^no Cache-Control header$/,
    ],
    [
      'a cacheable stream',
      { headers: { 'cache-control': 'public, max-age=60' } },
      [],
      'cache-control',
      'fail',
      /^Cache-Control: public, max-age=60: a cache may keep/,
    ],
    [
      'gzip holding events back',
      { gzip: true, count: 8, intervalMs: 60 },
      [],
      'compression',
      'warn',
      /^gzip-compressed: first event after [\d.]+m?s, [\d.]+m?s later than uncompressed \([\d.]+m?s\)$/,
    ],
    [
      'headers held until the first event',
      { holdHeadersMs: 1100 },
      ['--window', '3s'],
      'early-headers',
      'warn',
      /^headers after [12](\.\d+)?s, held back until the first data; first event after [12](\.\d+)?s$/,
    ],
    [
      'no ping or comment in a window too short to tell',
      { greeting: false, end: 'never' },
      ['--window', '1s'],
      'keep-alive',
      'skip',
      /^no ping or comment in (\d+ms|1(\.\d+)?s) of streaming; longest silence [\d.]+m?s: too short to tell/,
    ],
    [
      'HTTP/1.1',
      {},
      [],
      'http-version',
      'warn',
      /^HTTP\/1\.1: browsers open at most 6 connections per origin, so a user with 6 tabs open stalls$/,
    ],
    [
      'events without ids',
      { ids: 'none' },
      [],
      'ids',
      'warn',
      /^6 of 6 events without an id: clients cannot resume$/,
    ],
    [
      'a resume that replays from the start',
      { ids: 'replay' },
      [],
      'ids',
      'fail',
      /^a reconnect with Last-Event-ID: 3 replayed from the start \(id 1\) instead of resuming at id 4$/,
    ],
    [
      'a resume that skips events',
      { ids: 'skip' },
      [],
      'ids',
      'fail',
      /^a reconnect with Last-Event-ID: 3 skipped to id 6: 2 events lost$/,
    ],
    ['no retry field', { retry: null }, [], 'retry', 'warn', /^no retry: field/],
    [
      'a close without an end event',
      { end: 'close', retry: 100 },
      ['--window', '1s'],
      'end-of-stream',
      'warn',
      /^the stream closed after [\d.]+m?s without an "end" event, and the reconnect got a new stream: a browser reconnects \(and replays\) forever$/,
    ],
    [
      // A hand-written server (Go, PHP, http.server) that forgot the blank line after its last event.
      'an end event the close cuts off',
      { end: 'cut-event', retry: 100 },
      ['--window', '1s'],
      'end-of-stream',
      'warn',
      /^the stream closed after [\d.]+m?s in the middle of its "end" event \(no blank line after it\), which clients discard, and the reconnect got a new stream/,
    ],
    [
      // sse-starlette's ServerSentEvent(event="end"): no data line, so no event for any client.
      'an end event without a data line',
      { end: 'dataless-event', retry: 100 },
      ['--window', '1s'],
      'end-of-stream',
      'warn',
      /^the stream closed after [\d.]+m?s with an "end" block that had no data line, which is no event: clients drop it, and the reconnect got a new stream/,
    ],
    [
      'no CORS headers for the origin',
      {},
      ['--origin', ORIGIN],
      'cors',
      'fail',
      /^no Access-Control-Allow-Origin for Origin: https:\/\/app\.example/,
    ],
    [
      'Access-Control-Allow-Credentials: True, which browsers compare byte for byte',
      { cors: true, headers: { 'access-control-allow-credentials': 'True' } },
      ['--origin', ORIGIN, '-H', 'Cookie: session=1'],
      'cors',
      'fail',
      /^allows https:\/\/app\.example but not credentials \(Access-Control-Allow-Credentials: True, which browsers take only as "true"\)/,
    ],
    [
      'CORS * with cookies',
      { headers: { 'access-control-allow-origin': '*' } },
      ['--origin', ORIGIN, '-H', 'Cookie: session=1'],
      'cors',
      'fail',
      /^Access-Control-Allow-Origin: \* with cookies/,
    ],
  ]

  it.each(cases)('%s', async (_problem, shape, flags, id, status, measured) => {
    const server = await startServer(sseEndpoint(shape))
    const { run, checks } = await runCheck(server.url, flags)
    expect(checks[id]).toEqual({
      type: 'check',
      id,
      status,
      measured: expect.stringMatching(measured),
      hint: expect.any(String),
    })
    // Nothing else fails: each endpoint breaks one practice.
    expect(run.exitCode).toBe(status === 'fail' ? 1 : 0)
  })

  const passing: [string, EndpointShape, string[], CheckId, RegExp][] = [
    [
      'a 204 answering the reconnect',
      { end: 'close-then-204', retry: 100 },
      [],
      'end-of-stream',
      /^the stream closed after [\d.]+m?s without an "end" event, and the reconnect got 204: clients stop$/,
    ],
    [
      'each event written with its keep-alive comment, every 300ms',
      { keepAliveWithEvents: true, intervalMs: 300 },
      ['--window', '3s'],
      'buffering',
      /^7 events in \d+ reads, at most 1 per read$/,
    ],
    [
      'a stream whose only silences are short',
      {},
      [],
      'keep-alive',
      /^longest silence [\d.]+m?s, 1 ping or comment$/,
    ],
    [
      'charset=utf-8',
      { headers: { 'content-type': 'text/event-stream; charset=utf-8' } },
      [],
      'content-type',
      /^200, text\/event-stream; charset=utf-8$/,
    ],
    [
      'CORS * without credentials',
      { headers: { 'access-control-allow-origin': '*' } },
      ['--origin', ORIGIN],
      'cors',
      /^Access-Control-Allow-Origin: \* \(without credentials/,
    ],
    [
      'CORS for the origin with credentials',
      { cors: true, headers: { 'access-control-allow-credentials': 'true' } },
      ['--origin', ORIGIN, '-H', 'Cookie: session=1'],
      'cors',
      /^Access-Control-Allow-Origin: https:\/\/app\.example, with credentials$/,
    ],
  ]

  it("passes CORS for a page of the stream's own origin, which needs no CORS headers", async () => {
    const server = await startServer(sseEndpoint())
    const { checks } = await runCheck(server.url, ['--origin', new URL(server.url).origin])
    expect(checks.cors).toMatchObject({
      status: 'pass',
      measured: `${new URL(server.url).origin} is the stream's own origin: CORS does not apply`,
    })
  })

  it.each(passing)('passes: %s', async (_case, shape, flags, id, measured) => {
    const server = await startServer(sseEndpoint(shape))
    const { checks } = await runCheck(server.url, flags)
    expect(checks[id]).toEqual({
      type: 'check',
      id,
      status: 'pass',
      measured: expect.stringMatching(measured),
      hint: null,
    })
  })

  it('events the server wrote apart that a proxy holds and passes on together: buffering', async () => {
    const server = await startServer(
      sseEndpoint({ count: 12, intervalMs: 100, keepAliveWithEvents: true }),
    )
    const proxy = await startBufferingProxy(server.url, 500)
    const { checks } = await runCheck(proxy.url, ['--window', '3s'])
    expect(checks.buffering).toMatchObject({
      status: 'warn',
      hint: expect.stringContaining('X-Accel-Buffering: no'),
    })
    expect(checks.buffering.measured).toMatch(
      /^\d+ of 13 events arrived together in \d+ bursts \(up to \d in one read after [\d.]+m?s of silence\): held back on the way, e.g. by a proxy/,
    )
  })

  it("sse-starlette's wire format: CRLF, charset, no-store, a ping due only after 15s", async () => {
    const server = await startServer(async (req, res) => {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      const last = Number(req.headers['last-event-id'] ?? 0)
      for (let i = last + 1; !res.destroyed; i++) {
        res.write(`id: ${i}\r\nevent: tick\r\ndata: {"i": ${i}}\r\n\r\n`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })
    const { run, checks } = await runCheck(server.url, ['--window', '1s'])
    const statuses = Object.fromEntries(Object.values(checks).map((c) => [c.id, c.status]))
    expect(statuses).toEqual({
      'content-type': 'pass',
      'cache-control': 'pass',
      compression: 'pass',
      buffering: 'pass',
      'early-headers': 'pass',
      'keep-alive': 'skip',
      'http-version': 'warn',
      ids: 'pass',
      retry: 'warn',
      'end-of-stream': 'skip',
      cors: 'skip',
    })
    expect(run.exitCode).toBe(0)
  })

  it('a stream that fills what the check keeps before the window is over: end-of-stream says so', async () => {
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      while (!res.destroyed) {
        res.write('data: x\n\n'.repeat(100))
        await new Promise((resolve) => setImmediate(resolve))
      }
    })
    const { run, checks } = await runCheck(server.url, ['--window', '20s'])
    expect(checks['end-of-stream']).toMatchObject({
      status: 'skip',
      measured: expect.stringMatching(
        /^the stream stayed open for the [\d.]+m?s observed, when the check had read all it keeps \(10,000 events or reads, 64 MiB of event types and ids\)$/,
      ),
    })
    expect(run.exitCode).toBe(0)
  })

  it('a server that sends a batch and closes with retry: 0 fills what the check keeps once, not per connection', async () => {
    // 6,000 events a connection, ten connections a second: 340 MB in 20s, GBs in a longer window.
    const batch = Array.from({ length: 6000 }, () => 'data: x\n\n').join('')
    const server = await sseServer(`retry: 0\n${batch}`)
    const { run, checks, summary } = await runCheck(server.url, ['--window', '3s'])
    expect(summary).toMatchObject({ connections: 2, events: 10_000 })
    expect(server.requests.length).toBeLessThanOrEqual(3)
    expect(checks['end-of-stream']).toMatchObject({
      status: 'warn',
      measured: expect.stringMatching(/^the stream closed after [\d.]+m?s without an "end" event/),
    })
    expect(run.exitCode).toBe(0)
  })

  it('millions of retry: lines are not all kept; the last one counts', async () => {
    const server = await sseServer(
      `${'retry: 1000\n'.repeat(3 * MAX_SEEN)}retry: 1234\ndata: x\n\nevent: end\ndata: bye\n\n`,
    )
    const observation = await observe(toCheckOptions({ url: new URL(server.url), windowMs: 5000 }))
    const retries = observation.connections.flatMap((c) => c.retries)
    expect(retries.length).toBe(MAX_SEEN)
    expect(retries.at(-1)).toBe(1234)
  })

  it('event types and ids of a megabyte each: the check keeps 64 MiB of them, then stops reading', async () => {
    const mebibyte = 'i'.repeat(2 ** 20)
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      for (let i = 0; i < 200 && !res.destroyed; i++) {
        if (!res.write(`id: ${i}${mebibyte}\nevent: e${i}\ndata: x\n\n`))
          await new Promise((resolve) => res.once('drain', resolve))
      }
      res.end()
    })
    const { run, checks, summary } = await runCheck(server.url, ['--window', '20s'])
    // The 64th brings a little more than 64 MiB.
    expect(summary.events).toBe(64)
    expect(checks['end-of-stream'].measured).toMatch(/when the check had read all it keeps/)
    // The resume sends a megabyte of Last-Event-ID, which node:http refuses: ids fails, quoting
    // the id cut short, not a megabyte of it.
    expect(checks.ids).toMatchObject({
      status: 'fail',
      measured: expect.stringMatching(
        /^a reconnect with Last-Event-ID: 31i{78}… got HTTP 431 Request Header Fields Too Large$/,
      ),
    })
    expect(run.exitCode).toBe(1)
  })

  it('an end event written right after the last status (a generator yielding both) is not a proxy burst', async () => {
    // sse-starlette's bytes for `yield status; yield end`: two sends back to back, one read.
    const status = (i: number) =>
      `id: ${i}\r\nevent: status\r\ndata: {"step": ${i}, "progress": ${i * 33}}\r\n\r\n`
    const server = await startServer(async (req, res) => {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      })
      res.write(': retry set\r\nretry: 1000\r\n\r\n')
      for (let i = Number(req.headers['last-event-id'] ?? 0) + 1; i <= 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 300))
        res.write(status(i))
      }
      res.write('event: end\r\ndata: {"result": "ok"}\r\n\r\n')
      res.end()
    })
    const { checks } = await runCheck(server.url)
    expect(checks.buffering).toMatchObject({
      status: 'pass',
      measured: expect.stringMatching(/^4 events in \d+ reads, at most 2 per read$/),
    })
  })

  it('ids on some events: clients can resume, from an earlier id; on none: they cannot', async () => {
    const some = await sseServer(
      'retry: 1000\n\nid: 1\ndata: a\n\ndata: b\n\nid: 3\ndata: c\n\nevent: end\ndata: bye\n\n',
    )
    expect((await runCheck(some.url)).checks.ids).toMatchObject({
      status: 'warn',
      measured:
        '1 of 3 events without an id: a client that drops after one of them resumes from an earlier id',
    })
  })

  it('a retry field with a unit is named, not reported as missing', async () => {
    const server = await sseServer('retry: 5s\n\nid: 1\ndata: a\n\nevent: end\ndata: bye\n\n')
    const { checks } = await runCheck(server.url)
    expect(checks.retry).toEqual({
      type: 'check',
      id: 'retry',
      status: 'warn',
      measured:
        'retry: 5s is not a number of milliseconds: clients ignore it and pick their own reconnection time',
      hint: 'send the reconnection time in milliseconds, digits only (e.g. "retry: 3000")',
    })
  })

  it('a resume answered with JSON says so, not a bare "got HTTP 200 OK"', async () => {
    const server = await startServer((req, res) => {
      if (req.headers['last-event-id'] !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' })
        return res.end('{"error":"unknown id"}')
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.end('retry: 100\n\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n')
    })
    const { checks } = await runCheck(server.url)
    expect(checks.ids).toMatchObject({
      status: 'fail',
      measured:
        'a reconnect with Last-Event-ID: 1 got HTTP 200 OK with Content-Type application/json',
    })
    expect(checks['end-of-stream'].measured).toMatch(
      /; the reconnect got HTTP 200 OK with Content-Type application\/json: a browser stops with an error$/,
    )
  })

  it('an error status fails content-type and leaves the stream checks unmeasured', async () => {
    const server = await startServer((_req, res) =>
      res.writeHead(500, { 'content-type': 'text/plain' }).end('oops'),
    )
    const { run, checks, summary } = await runCheck(server.url)
    expect(checks['content-type']).toMatchObject({
      status: 'fail',
      measured: 'HTTP 500 Internal Server Error: oops',
      hint: expect.stringMatching(/^the server failed/),
    })
    expect(
      Object.values(checks)
        .filter((c) => c.status === 'skip')
        .map((c) => c.id),
    ).toEqual(ALL_CHECKS.slice(1))
    expect(checks.buffering.measured).toBe(
      'no event stream to observe (HTTP 500 Internal Server Error)',
    )
    expect(summary).toMatchObject({ fail: 1, skip: 10, exitCode: 1 })
    expect(run.exitCode).toBe(1)
  })
})

describe('check: a compressed stream no browser can read', () => {
  it('warns when the browser-like request gets a coding it did not offer, rather than skipping', async () => {
    const server = await startServer((req, res) => {
      const zstd = req.headers['accept-encoding'] !== undefined
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        ...(zstd && { 'content-encoding': 'zstd' }),
      })
      res.end(zstd ? '(zstd bytes)' : 'data: 1\n\nevent: end\ndata: x\n\n')
    })
    const { checks } = await runCheck(server.url)
    expect(checks.compression).toMatchObject({
      status: 'warn',
      measured:
        'asked with Accept-Encoding: gzip, deflate, br, the stream came with Content-Encoding zstd: sse-probe decodes gzip, deflate and br, not zstd',
    })
  })
})

describe('check: Express behind the compression middleware', () => {
  async function startCompressed(flush: boolean) {
    const app = express()
    app.use(compression())
    app.get('/', (req, res) => {
      res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }).flushHeaders()
      let id = 0
      const timer = setInterval(() => {
        res.write(`id: ${++id}\ndata: tick ${id}\n\n`)
        if (flush) res.flush()
      }, 300)
      req.on('close', () => clearInterval(timer))
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    onTestFinished(() => {
      server.closeAllConnections()
      server.close()
    })
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  }

  it('passes res.flush() after every event, as the compressor holds nothing back', async () => {
    const { checks } = await runCheck(await startCompressed(true))
    expect(checks.compression).toEqual({
      type: 'check',
      id: 'compression',
      status: 'pass',
      measured: expect.stringMatching(
        /^(br|gzip)-compressed, without holding events back: first event after [\d.]+ms, uncompressed [\d.]+ms$/,
      ),
      hint: null,
    })
  })

  it('does not say "even without Accept-Encoding" when -H asked for it', async () => {
    const url = await startCompressed(true)
    const { checks } = await runCheck(url, ['-H', 'Accept-Encoding: gzip'])
    expect(checks.compression).toMatchObject({
      status: 'skip',
      measured: expect.stringMatching(
        /^gzip-compressed, as -H Accept-Encoding: gzip asked: no uncompressed stream to compare \(first event after [\d.]+ms\)$/,
      ),
    })
  })

  it('warns without res.flush(): the compressor holds the events', async () => {
    const { checks } = await runCheck(await startCompressed(false))
    expect(checks.compression).toMatchObject({
      status: 'warn',
      measured: expect.stringMatching(/^(br|gzip)-compressed: no event within the window/),
    })
  })
})

describe('check: a POST stream (an LLM API)', () => {
  it('is not sent again after a clean close, which ends it as fetch-based clients end it', async () => {
    const server = await startServer((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.end('retry: 100\ndata: {"choices":[]}\n\ndata: [DONE]\n\n')
    })
    const { checks } = await runCheck(server.url, ['-d', '{"stream":true}'])
    expect(checks['end-of-stream']).toMatchObject({
      status: 'pass',
      measured: expect.stringMatching(/closed after .*: a POST stream is read with fetch/),
    })
    // The stream and its compressed twin: no reconnect within the 2 s window despite retry: 100.
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST'])
  })
})

describe('check: connection and usage errors', () => {
  it('exits 3 when it cannot connect, with a summary record saying why', async () => {
    const closed = await startServer(() => {})
    await closed.close()
    const { run, checks, summary } = await runCheck(closed.url)
    expect(run.exitCode).toBe(3)
    expect(checks).toEqual({})
    expect(summary).toMatchObject({
      exitCode: 3,
      message: expect.stringContaining('ECONNREFUSED'),
      connections: 0,
    })
    expect(run.stderr).toMatch(
      /^error: could not connect to http:\/\/127\.0\.0\.1:\d+\/: .*ECONNREFUSED/,
    )
  })

  it('a connection whose response headers never come is judged, not "could not connect"', async () => {
    // What a buffering proxy in front of a live stream does: the headers wait for its buffer.
    const held = await startServer(() => {})
    const { run, checks, summary } = await runCheck(held.url, ['--connect-timeout', '500ms'])
    expect(run.stderr).not.toContain('could not connect')
    expect(checks['early-headers']).toEqual({
      type: 'check',
      id: 'early-headers',
      status: 'fail',
      measured:
        'the server took the connection but sent no response headers within 500ms (--connect-timeout): it or a proxy may be buffering the response (or the server sends its headers only with its first event)',
      hint: expect.stringContaining('proxy_buffering off'),
    })
    expect(Object.values(checks).filter((c) => c.status !== 'skip')).toHaveLength(1)
    expect(checks.cors.measured).toBe('no response to observe: its headers never came')
    expect(summary).toMatchObject({ exitCode: 1, fail: 1, skip: 10 })
    expect(summary).not.toHaveProperty('message')
    expect(run.exitCode).toBe(1)
  })

  it('never shows the password of a URL, and a bad proxy variable is a usage error', async () => {
    const closed = await startServer(() => {})
    await closed.close()
    const url = closed.url.replace('//', '//alice:s3cret@')
    const { run, summary } = await runCheck(url)
    expect(run.exitCode).toBe(3)
    expect(run.stdout + run.stderr).not.toContain('s3cret')
    expect(summary).toMatchObject({ url: expect.stringContaining('<redacted>@') })
    const proxied = await runCli(['check', closed.url], { env: { HTTP_PROXY: 'garbage' } })
    expect(proxied.exitCode).toBe(2)
    expect(proxied.stderr).toMatch(/^error: .*HTTP_PROXY/)
  })

  // Ctrl-C once the check is under way (its handler is in place before its first request).
  const interruptOnceRequested = (server: { requests: unknown[] }) => ({
    onSpawn(child: ChildProcess) {
      const seen = server.requests.length
      const waiting = setInterval(() => {
        if (server.requests.length === seen) return
        clearInterval(waiting)
        setTimeout(() => child.kill('SIGINT'), 500)
      }, 20)
    },
  })

  it('Ctrl-C ends the window early: the report covers what was seen and says exit 130', async () => {
    const server = await startServer(sseEndpoint({ end: 'never', count: 1000, intervalMs: 100 }))
    const started = performance.now()
    const interrupt = interruptOnceRequested(server)
    const run = await runCli(['check', server.url, '--json', '--window', '20s'], interrupt)
    expect(run.exitCode).toBe(130)
    expect(run.records.at(-1)).toMatchObject({ type: 'summary', exitCode: 130 })
    expect(performance.now() - started).toBeLessThan(10_000)
    const pretty = await runCli(['check', server.url, '--window', '20s'], interrupt)
    expect(pretty.exitCode).toBe(130)
    expect(pretty.stdout).toMatch(/^check {2}\S+ {2}interrupted after [\d.]+m?s, 1 connection/)
    expect(pretty.stdout).toMatch(
      /\n- ids {12}\d+ events with ids; resuming not tested: the check was interrupted\n/,
    )
    expect(pretty.stdout).toMatch(/ {2}exit 130\n$/)
  })

  it('Ctrl-C before the server answers reports an interruption, not a failure to connect', async () => {
    const server = await startServer(() => {})
    const { run, checks, summary } = await runCheck(
      server.url,
      ['--window', '20s'],
      interruptOnceRequested(server),
    )
    expect(run.exitCode).toBe(130)
    expect(run.stderr).not.toContain('could not connect')
    expect(summary).toMatchObject({ exitCode: 130, skip: 11, observedMs: expect.any(Number) })
    expect(summary).not.toHaveProperty('message')
    expect(summary.observedMs).toBeGreaterThan(400)
    expect(checks['early-headers']).toMatchObject({
      status: 'skip',
      measured: expect.stringMatching(
        /^the check was interrupted after [\d.]+m?s, before the server answered$/,
      ),
    })
    const pretty = await runCli(['check', server.url], interruptOnceRequested(server))
    expect(pretty.exitCode).toBe(130)
    expect(pretty.stdout).toMatch(/^check {2}\S+ {2}interrupted after [\d.]+m?s, 0 connections/)
    expect(pretty.stdout).toMatch(/ {2}exit 130\n$/)
  })

  it('Ctrl-C while a reconnect is due does not make it, nor blame the server for it', async () => {
    const server = await startServer(sseEndpoint({ end: 'close', count: 2, retry: 10_000 }))
    const { run, checks, summary } = await runCheck(
      server.url,
      ['--window', '20s'],
      interruptOnceRequested(server),
    )
    expect(run.exitCode).toBe(130)
    expect(summary).toMatchObject({ connections: 1, exitCode: 130 })
    expect(checks['end-of-stream']).toMatchObject({
      status: 'skip',
      measured: expect.stringMatching(
        /^the stream closed after \d+ms without an "end" event; the check was interrupted before the reconnect$/,
      ),
    })
  })

  it('Ctrl-C while the resume waits for its first event does not blame the server for it', async () => {
    const stream = sseEndpoint({ end: 'event', count: 4 })
    // The resume is answered, and its events come later than the Ctrl-C.
    const server = await startServer((req, res) => {
      if (req.headers['last-event-id'] === undefined) return stream(req, res)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.flushHeaders()
    })
    const { run, checks } = await runCheck(server.url, ['--window', '20s'], {
      onSpawn(child) {
        const waiting = setInterval(() => {
          if (!server.requests.some((r) => r.headers['last-event-id'] !== undefined)) return
          clearInterval(waiting)
          setTimeout(() => child.kill('SIGINT'), 300)
        }, 20)
      },
    })
    expect(run.exitCode).toBe(130)
    expect(checks.ids).toMatchObject({
      status: 'skip',
      measured:
        '4 events with ids; the check was interrupted before the reconnect with Last-Event-ID: 2 brought an event',
    })
    expect(checks['end-of-stream'].status).toBe('pass')
  })

  it('reconnects to where the redirects led, as a browser does, not to the URL given', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/start') return res.writeHead(302, { location: '/stream' }).end()
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.end('retry: 10\nid: 1\ndata: a\n\n')
    })
    await runCheck(`${server.url}/start`, ['--window', '300ms'])
    // The main stream's requests: /start once, then /stream for every reconnect.
    const paths = server.requests
      .filter((req) => req.headers['accept-encoding'] === undefined)
      .map((req) => req.url)
    expect(paths.length).toBeGreaterThanOrEqual(3)
    expect(paths).toEqual(['/start', ...paths.slice(1).map(() => '/stream')])
  })

  it('a redirect loop is named as one, not blamed on the Content-Type', async () => {
    const server = await startServer((req, res) =>
      res.writeHead(301, { location: `/loop${req.url}` }).end(),
    )
    const { run, checks } = await runCheck(server.url)
    expect(run.exitCode).toBe(1)
    expect(checks['content-type']).toEqual({
      type: 'check',
      id: 'content-type',
      status: 'fail',
      measured: expect.stringMatching(
        /^HTTP 301 Moved Permanently: too many redirects \(more than 20\), the last to (\/loop){21}\/$/,
      ),
      hint: expect.stringMatching(/^the redirects go round in a loop/),
    })
  })

  it('a redirect loop on the reconnects is named as one: a failed reconnect, which a browser retries', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/' && req.headers['last-event-id'] === undefined) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        res.end('retry: 50\nid: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n')
      } else res.writeHead(302, { location: '/loop' }).end()
    })
    const { checks } = await runCheck(server.url, ['--window', '1s'])
    expect(checks['end-of-stream']).toMatchObject({
      status: 'warn',
      measured: expect.stringMatching(
        /; the reconnect failed: HTTP 302 Found: too many redirects \(more than 20\)$/,
      ),
    })
    expect(checks.ids).toMatchObject({
      status: 'fail',
      measured:
        'a reconnect with Last-Event-ID: 2 got HTTP 302 Found: too many redirects (more than 20)',
    })
  })

  it('a 401 shows the error body and a hint about credentials, and the unmeasured checks in one line', async () => {
    const server = await startServer((_req, res) =>
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"error":{"message":"Invalid API key"}}\n'),
    )
    const run = await runCli(['check', server.url])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(
      '✗ content-type   HTTP 401 Unauthorized: {"error":{"message":"Invalid API key"}}\n',
    )
    expect(run.stdout).toMatch(
      /\n {17}→ the endpoint wants credentials: pass them with -H, e\.g\. -H "Authorization: Bearer …"/,
    )
    expect(run.stdout).toContain(
      '\n- 10 checks      no event stream to observe (HTTP 401 Unauthorized)\n',
    )
    expect(run.stdout.match(/→/g)).toHaveLength(2)
    expect(run.stdout).not.toContain('text/event-stream')
  })

  it('JSON or a page served with 200 shows what came back, not only its Content-Type', async () => {
    const server = await startServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>Log in</title>\n'),
    )
    const run = await runCli(['check', server.url])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(
      '✗ content-type   200 with Content-Type text/html: <!doctype html><title>Log in</title>\n',
    )
  })

  it('keeps what it needs of a stream faster than it can matter, and ends on time', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const block = 'id: 1\ndata: x\n\n'.repeat(1000)
      const pump = () => {
        while (!res.destroyed && res.write(block));
        if (!res.destroyed) res.once('drain', pump)
      }
      pump()
    })
    const started = performance.now()
    const { run, summary } = await runCheck(server.url, ['--window', '3s'])
    expect(run.exitCode).not.toBe(3)
    expect(summary.events).toBeGreaterThanOrEqual(10_000)
    expect(performance.now() - started).toBeLessThan(15_000)
  })

  it.each([
    [['--origin', 'https://app.example/page']],
    [['--origin', 'app.example']],
    [['--window', '0']],
    [['--window', 'soon']],
    [['--format', 'raw']],
  ])('%j exits 2 with a one-line message', async (flags) => {
    const run = await runCli(['check', 'http://127.0.0.1:9/', ...flags])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/^error: /)
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('check: the demo endpoint, a stream that drops once and resumes', () => {
  it('judges the end by the end event that follows the resume, not by the drop', async () => {
    const demo = await startCli(['demo', '--serve-only'])
    const { run, checks } = await runCheck(demo.url, ['--window', '8s'])
    expect(checks['end-of-stream']).toMatchObject({
      status: 'pass',
      measured: expect.stringMatching(
        /^ended with an "end" event after .*, on connection 2 after a reconnect$/,
      ),
    })
    expect(checks.ids.status).toBe('pass')
    expect(run.exitCode).toBe(0)
  })
})

describe('check: a server that restarts mid-stream', () => {
  it('counts the connections that opened, not the reconnects refused while it was down', async () => {
    // Ids 1 and 2, then the process "exits": the socket breaks and the port refuses connections
    // for 400ms (several reconnects at retry: 50), then it listens again and resumes.
    let restarting = false
    const server = await startServer((req, res) => {
      const last = Number(req.headers['last-event-id'] ?? 0)
      const restart = last === 0 && !req.headers['accept-encoding'] && !restarting
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write('retry: 50\n\n')
      for (let id = last + 1; id <= (restart ? 2 : 3); id++) res.write(`id: ${id}\ndata: ${id}\n\n`)
      if (!restart) return void res.end('event: end\ndata: done\n\n')
      restarting = true
      // After the compressed twin, sent alongside, has been answered.
      setTimeout(() => {
        const { port } = server.server.address() as AddressInfo
        server.server.close()
        res.destroy()
        setTimeout(() => server.server.listen(port, '127.0.0.1'), 400)
      }, 50)
    })
    const { run, checks, summary } = await runCheck(server.url, ['--window', '3s'])
    expect(checks['end-of-stream']).toMatchObject({
      status: 'pass',
      measured: expect.stringMatching(/ after \d reconnects$/),
    })
    // The stream and its reconnect after the restart: the refused reconnects opened nothing.
    expect(summary).toMatchObject({ connections: 2, events: 4, fail: 0, exitCode: 0 })
    expect(run.exitCode).toBe(0)
  })
})

describe.runIf(TERMINAL_TESTS)('check in a terminal', () => {
  it('shows the time left, does not echo typed keys, and on Ctrl-C reports from a clean line', async () => {
    const server = await startServer(sseEndpoint({ end: 'never', count: 1000, intervalMs: 100 }))
    const terminal = await runInTerminal(['check', server.url, '--window', '20s'])
    await terminal.waitFor(
      /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] checking http:\/\/127\.0\.0\.1:\d+\/? · 1\ds left · Ctrl-C reports now$/m,
    )
    terminal.keys('hello')
    await new Promise((resolve) => setTimeout(resolve, 300))
    terminal.keys('C-c')
    expect(await terminal.exitCode()).toBe(130)
    const screen = terminal.screen()
    expect(screen[0]).toMatch(/^check {2}http:\/\/127\.0\.0\.1:\d+\/? {2}interrupted after/)
    expect(screen.join('\n')).not.toMatch(/hello|\^C|left ·/)
    expect(screen.at(-2)).toMatch(/ {2}exit 130$/)
  })
})
