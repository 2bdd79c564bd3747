import { constants } from 'node:buffer'
import { spawnSync } from 'node:child_process'
import { constants as http2 } from 'node:http2'
import type { Socket } from 'node:net'
import type { Writable } from 'node:stream'
import { createGzip, deflateSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  createSession,
  MAX_COUNTED_TYPE_LENGTH,
  MAX_EVENT_TYPES,
  OTHER_EVENT_TYPES,
} from '../../src/engine/session.ts'
import { CLI, runCli } from '../helpers/cli.ts'
import { startH2Server } from '../helpers/h2-server.ts'
import {
  drained,
  endlessLineServer,
  rawResponse,
  startRawServer,
} from '../helpers/hostile-servers.ts'
import { sseServer, startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }
// What a terminal would obey: C0 and C1 controls, DEL and the bidi overrides (a chalk colour is \x1b[..m).
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

describe("the terminal is not the server's", () => {
  const type = 'sta\x1b[2Jtus\u202e'
  const id = '7\x07\x08'
  const dataLines = ['one \x1b]0;pwned\x07', 'two \x1b]52;c;ZXZpbA==\x07', 'three \u009b31m \u2066']
  const comment = ' ping\x1b[1A\x1b[2K'
  const json = '{"t":"\u009b\u202e","n":1}'
  const body = `:${comment}\n\nevent: ${type}\nid: ${id}\n${dataLines.map((line) => `data: ${line}\n`).join('')}\ndata: ${json}\n\nevent: end\ndata: \x1b[?1049h\n\n`

  it('pretty: control characters in types, ids, data and comments are shown escaped; multi-line data stays indented', async () => {
    const server = await sseServer(body)
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).not.toMatch(RAW_CONTROL)
    expect(run.stderr).not.toMatch(RAW_CONTROL)
    expect(run.stdout).toContain(': ping\\x1b[1A\\x1b[2K\n')
    expect(run.stdout).toContain('sta\\x1b[2Jtus\\u202e  id 7\\x07\\x08')
    expect(run.stdout).toMatch(
      /\n {11}one \\x1b\]0;pwned\\x07\n {11}two \\x1b\]52;c;ZXZpbA==\\x07\n {11}three \\x9b31m \\u2066\n/,
    )
    expect(run.stdout).toContain('{"t":"\\x9b\\u202e","n":1}')
    expect(run.stdout).toContain('\\x1b[?1049h')
    // The summary lists the event types, escaped too.
    expect(run.stderr).toContain('sta\\x1b[2Jtus\\u202e 1')
  })

  it('pretty with colour: the only escape sequences are the colours', async () => {
    const server = await sseServer(body)
    const run = await runCli([server.url], { env: { FORCE_COLOR: '3' } })
    const withoutColours = (text: string) => text.replace(/\x1b\[[\d;]*m/g, '')
    expect(run.stdout).toMatch(/\x1b\[/)
    expect(withoutColours(run.stdout)).not.toMatch(RAW_CONTROL)
    expect(withoutColours(run.stderr)).not.toMatch(RAW_CONTROL)
  })

  it('json: escapes as JSON does, and the data survives exactly', async () => {
    const server = await sseServer(body)
    const run = await runCli([server.url, '--json'])
    expect(run.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f]/)
    expect(run.ofType('event').map((e) => [e.event, e.id, e.data])).toEqual([
      [type, id, dataLines.join('\n')],
      ['message', null, json],
      ['end', null, '\x1b[?1049h'],
    ])
    expect(run.ofType('comment')[0]!.text).toBe(comment)
  })

  it('raw: the bytes as received, and --help says so', async () => {
    const server = await sseServer(body)
    const run = await runCli([server.url, '--format', 'raw'])
    expect(run.stdoutBytes.equals(Buffer.from(body))).toBe(true)
    expect((await runCli(['--help'])).stdout).toMatch(
      /raw[\s\S]*control characters are not escaped/,
    )
  })

  it('-i: response header values are shown escaped', async () => {
    const header = Buffer.concat([
      Buffer.from('x-evil: a'),
      Buffer.of(0x9b),
      Buffer.from('31m\u202e'),
      Buffer.from('\r\n'),
    ])
    const server = await startRawServer((socket) =>
      socket.end(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n'),
          header,
          Buffer.from('connection: close\r\n\r\nevent: end\ndata: x\n\n'),
        ]),
      ),
    )
    const run = await runCli([server.url, '-i', '--no-color'])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(/x-evil: a\\x9b31m/)
    expect(run.stderr).not.toMatch(RAW_CONTROL)
  })

  it("the start of a refused response's body is shown escaped", async () => {
    const server = await startServer((_req, res) =>
      res.writeHead(500, { 'content-type': 'text/plain' }).end('boom \x1b]0;title\x07\x1b[31m'),
    )
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain('boom \\x1b]0;title\\x07\\x1b[31m')
    expect(run.stderr).not.toMatch(RAW_CONTROL)
  })
})

describe('slow, silent and broken servers', () => {
  it('parses a stream that arrives one byte every 100 ms, printing each event when it is complete', async () => {
    const first = 'data: hé\n\n'
    const second = 'event: end\ndata: x\n\n'
    const sentAt: number[] = []
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, SSE)
      for (const byte of Buffer.from(first + second)) {
        if (res.destroyed) return
        res.write(Buffer.of(byte))
        sentAt.push(performance.now())
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      res.end()
    })
    let firstEventAt = 0
    const run = await runCli([server.url, '--json'], {
      onSpawn: (child) =>
        child.stdout!.on('data', (chunk: Buffer) => {
          if (!firstEventAt && chunk.toString().includes('"type":"event"'))
            firstEventAt = performance.now()
        }),
    })
    expect(run.ofType('event').map((e) => e.data)).toEqual(['hé', 'x'])
    // The first event is printed after its last byte was sent, long before the second one is complete.
    const firstComplete = sentAt[Buffer.byteLength(first) - 1]!
    expect(firstEventAt).toBeGreaterThanOrEqual(firstComplete)
    expect(firstEventAt).toBeLessThan(sentAt[sentAt.length - 1]!)
  })

  it('decodes invalid UTF-8 with U+FFFD replacements, as browsers do', async () => {
    const bytes = Buffer.concat([
      Buffer.from('data: a'),
      Buffer.of(0xff), // never valid
      Buffer.from('b'),
      Buffer.of(0xc0, 0xaf), // overlong
      Buffer.from('c'),
      Buffer.of(0xed, 0xa0, 0x80), // an encoded surrogate
      Buffer.from('d'),
      Buffer.of(0xe2, 0x82), // truncated before the line end
      Buffer.from('\n\nevent: end\ndata: '),
      Buffer.of(0xf0, 0x9f, 0x98), // truncated, then the stream ends the event
      Buffer.from('\n\n'),
    ])
    const server = await startServer((_req, res) => res.writeHead(200, SSE).end(bytes))
    const run = await runCli([server.url, '--json'])
    expect(run.ofType('event').map((e) => e.data)).toEqual([
      'a\uFFFDb\uFFFD\uFFFDc\uFFFD\uFFFD\uFFFDd\uFFFD',
      '\uFFFD',
    ])
    const pretty = await runCli([server.url, '--no-color'])
    expect(pretty.stdout).toContain('a\uFFFDb')
  })

  it('a close in the middle of an event discards it, says so, and reconnects without its id', async () => {
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, SSE)
      if (index === 0) res.end('retry: 20\nid: 1\ndata: whole\n\nid: 2\ndata: part')
      else res.end('event: end\ndata: again\n\n')
    })
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('whole')
    expect(run.stdout).not.toContain('part')
    expect(run.stderr).toMatch(
      /server closed the stream \(incomplete event of 4 bytes discarded\)\n.*reconnecting \(attempt 2\) after 20ms, Last-Event-ID: 1\n/,
    )
    expect(server.requests[1]!.headers['last-event-id']).toBe('1')
  })

  it('a reset of a body that runs to the close (no length, not chunked) is a break, not a clean close', async () => {
    const server = await startRawServer((socket, index) => {
      if (index > 0) return void socket.end(rawResponse('event: end\ndata: b\n\n'))
      socket.write(
        'HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\n\r\nretry: 20\ndata: a\n\ndata: par',
      )
      setTimeout(() => socket.resetAndDestroy(), 100)
    })
    // on-error: a clean close would end the probe, a break reconnects.
    const run = await runCli([server.url, '--json', '--reconnect', 'on-error'])
    expect(run.ofType('close')[0]).toMatchObject({
      cause: 'network-error',
      message: expect.stringContaining('ECONNRESET'),
    })
    expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 1 })
  })

  it.each([
    [
      'in a write of its own',
      (socket: Socket, response: Buffer) => {
        socket.write('HTTP/1.1 100 Continue\r\n\r\n')
        setTimeout(() => socket.end(response), 50)
      },
    ],
    [
      'twice, with the response',
      (socket: Socket, response: Buffer) =>
        socket.end(
          Buffer.concat([
            Buffer.from('HTTP/1.1 100 Continue\r\nx-a: 1\r\n\r\nHTTP/1.1 100\r\n\r\n'),
            response,
          ]),
        ),
    ],
  ])('a 100 Continue nobody asked for (%s) is skipped, as Chromium does', async (_, answer) => {
    const server = await startRawServer((socket) =>
      answer(
        socket,
        rawResponse('data: a\n\nevent: end\ndata: b\n\n', 'content-type: text/event-stream\r\n'),
      ),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.stderr).toBe('')
    expect(run.ofType('event').map((e) => e.data)).toEqual(['a', 'b'])
    expect(run.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
  })

  it.each([
    ['HTTP/1.1', 'HTTP/1.1 200 OK\ncontent-type: text/event-stream\nconnection: close\n\n'],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\n\r\n'],
    [
      'after a 100 Continue',
      'HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\ncontent-type: text/event-stream\n\n',
    ],
  ])(
    'header lines that end in a bare LF (%s) are read, as Chromium reads them',
    async (_, head) => {
      const server = await startRawServer((socket) =>
        socket.end(`${head}data: a\n\nevent: end\ndata: b\n\n`),
      )
      const run = await runCli([server.url, '--json'])
      expect(run.stderr).toBe('')
      expect(run.ofType('event').map((e) => e.data)).toEqual(['a', 'b'])
      expect(run.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    },
  )

  it('a header folded onto a continuation line is named as such, exit 3', async () => {
    const server = await startRawServer((socket) =>
      socket.end(
        rawResponse('data: a\n\n', 'content-type: text/event-stream\r\nx-a: one\r\n two\r\n'),
      ),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message:
        'the response continues a header on the next line (obsolete line folding), which sse-probe cannot read; browsers do',
    })
  })

  it('a 101 Switching Protocols to a request that asked for no upgrade: one clear line, exit 3', async () => {
    const server = await startRawServer((socket) =>
      socket.end(
        'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
      ),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toBe(
      'error: the server switched protocols (HTTP 101 Switching Protocols) though the request asked for no upgrade\n',
    )
    expect(run.summary).toMatchObject({ reason: 'connect-failed' })
  })

  it('a status below 100 (llhttp reads any three digits) is a refused answer, not an internal error', async () => {
    const server = await startRawServer((socket) =>
      socket.end('HTTP/1.1 099 Odd\r\ncontent-length: 3\r\n\r\nbad'),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toBe('error: HTTP 99 Odd\n')
    expect(run.summary).toMatchObject({ reason: 'http-error', message: 'HTTP 99 Odd' })
    const check = await runCli(['check', server.url, '--json'])
    expect(check.exitCode).toBe(1)
    expect(check.stderr).toBe('')
  })

  it('a reason phrase of megabytes (no header limit covers it) is cut in the error, the summary and check', async () => {
    const server = await startRawServer((socket) =>
      socket.end(`HTTP/1.1 500 ${'O'.repeat(3_000_000)}\r\ncontent-length: 0\r\n\r\n`),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.message).toBe(`HTTP 500 ${'O'.repeat(200)}…`)
    expect(run.ofType('error')[0]!.message).toBe(run.summary.message)
    expect(run.stderr).toBe(`error: ${run.summary.message}\n`)
    const check = await runCli(['check', server.url])
    expect(check.exitCode).toBe(1)
    expect(check.stdout.length + check.stderr.length).toBeLessThan(2000)
  })

  it.each(['http', 'https'])(
    'a reset before any answer (%s: the request, the TLS hello) says who and when, not "read ECONNRESET"',
    async (scheme) => {
      const server = await startRawServer((socket) => socket.resetAndDestroy())
      const run = await runCli([server.url.replace('http:', `${scheme}:`), '--json'])
      expect(run.exitCode).toBe(3)
      expect(run.summary).toMatchObject({
        reason: 'connect-failed',
        message: 'the server reset the connection before answering (ECONNRESET)',
      })
    },
  )

  it('an empty Content-Type is named as such, not quoted as nothing', async () => {
    const server = await startRawServer((socket) =>
      socket.end(rawResponse('data: a\n\n', 'content-type: \r\n')),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.message).toBe('HTTP 200 OK with Content-Type (empty), not text/event-stream')
    const check = await runCli(['check', server.url, '--json'])
    expect(check.records[0]).toMatchObject({
      id: 'content-type',
      measured: '200 with Content-Type (empty): data: a',
    })
  })

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const)(
    'a %s stream with a newline after its compressed data reads as Chromium does: a clean close, the summary',
    async (coding, compress) => {
      const server = await startRawServer((socket) => {
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: ${coding}\r\n\r\n`,
        )
        socket.write(compress('data: a\n\n'))
        // A later read: zlib has ended its output by then.
        setTimeout(() => socket.end('\n'), 100)
      })
      const run = await runCli([server.url, '--json', '--no-reconnect', '--timeout', '10s'])
      expect(run.stderr).toBe('')
      expect(run.exitCode).toBe(0)
      expect(run.ofType('event').map((e) => e.data)).toEqual(['a'])
      expect(run.ofType('close')).toMatchObject([{ cause: 'server-closed' }])
      expect(run.summary).toMatchObject({ reason: 'server-closed' })
    },
  )

  it('answers headers, then silence: --idle-timeout ends it with exit 4', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE)
      res.flushHeaders()
    })
    const run = await runCli([server.url, '--json', '--idle-timeout', '400ms'])
    expect(run.exitCode).toBe(4)
    expect(run.records.map((r) => r.type)).toEqual(['open', 'summary'])
    expect(run.summary).toMatchObject({
      reason: 'idle-timeout',
      bytes: 0,
      message: expect.stringContaining('--idle-timeout'),
    })
  })

  it('accepts but never answers a reconnect: --connect-timeout fails that attempt, and the next one is made', async () => {
    const server = await startRawServer((socket, index) => {
      if (index === 0) socket.end(rawResponse('retry: 20\ndata: a\n\n'))
      else if (index === 2) socket.end(rawResponse('event: end\ndata: b\n\n'))
      // index 1: accepted, request read, never answered
    })
    const run = await runCli([server.url, '--json', '--connect-timeout', '300ms'])
    expect(run.exitCode).toBe(0)
    expect(server.connections).toHaveLength(3)
    expect(run.records.map((r) => r.type)).toEqual([
      'open',
      'retry',
      'event',
      'close',
      'reconnect',
      'error',
      'reconnect',
      'open',
      'event',
      'summary',
    ])
    expect(run.ofType('error')[0]!.message).toContain(
      'sent no response headers within 300ms (--connect-timeout)',
    )
    expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 2 })
  })

  it.each([
    ['a second Content-Length', 'content-length: 9\r\ncontent-length: 9\r\n'],
    ['an invalid header after the Content-Length', 'content-length: 9\r\nbad header: x\r\n'],
  ])('%s is refused as broken HTTP/1.1, not as a body of the wrong length', async (_, headers) => {
    const server = await startRawServer((socket) =>
      socket.end(rawResponse('data: a\n\n', `content-type: text/event-stream\r\n${headers}`)),
    )
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message:
        'Response does not match the HTTP/1.1 protocol (a second Content-Length, or an invalid header after the Content-Length)',
    })
  })

  it('trailers past the header limit are named as trailers, not as the headers that came', async () => {
    const server = await startRawServer((socket) =>
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata: a\n\n\r\n0\r\nx-t: ${'b'.repeat(20_000)}\r\n\r\n`,
      ),
    )
    const run = await runCli([server.url, '--json', '--reconnect', 'never'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('event')).toHaveLength(1)
    expect(run.ofType('close')[0]).toMatchObject({
      cause: 'network-error',
      message:
        'the response trailers (headers after a chunked body) are larger than 16 KiB, more than sse-probe reads',
    })
  })

  it('a redirect without a Location says so, exit 3', async () => {
    const server = await startServer((_req, res) => res.writeHead(301).end())
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(
      /HTTP 301 Moved Permanently without a Location header: a redirect to nowhere/,
    )
  })

  it('a redirect loop on the first connection ends with a clear error, exit 3', async () => {
    const server = await startServer((req, res) =>
      res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end(),
    )
    const run = await runCli([`${server.url}/a`, '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(/HTTP 302 Found: too many redirects \(more than 20\)/)
    expect(run.stderr).toMatch(/summary {2}connect-failed/)
    expect(server.requests).toHaveLength(21)
  })

  it('a redirect with an empty Location says so: fetch follows it to the same URL, until its limit', async () => {
    const server = await startServer((_req, res) => res.writeHead(307, { location: '' }).end())
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(
      /HTTP 307 Temporary Redirect: too many redirects \(more than 20\), each to the same URL: the Location header is empty/,
    )
    expect(server.requests).toHaveLength(21)
  })

  it.each([
    [
      'ftp://example.com/stream',
      /redirect to a URL that is not http\(s\), not followed: ftp:\/\/example\.com\/stream/,
    ],
    ['http://[bad', /redirect to an invalid URL, not followed: http:\/\/\[bad/],
  ])('a redirect to %s is not followed, with a clear error', async (location, message) => {
    const server = await startServer((_req, res) => res.writeHead(302, { location }).end())
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message: expect.stringMatching(message),
    })
  })

  it('an HTTP/2 body longer than its Content-Length breaks the stream, and the message says why', async () => {
    const server = await startH2Server((_req, res) =>
      res.writeHead(200, { ...SSE, 'content-length': '5' }).end('data: a\n\n'),
    )
    const run = await runCli([server.url, '-k', '--json', '--reconnect', 'never'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('close')[0]).toMatchObject({
      cause: 'network-error',
      message:
        'the server broke the HTTP/2 protocol (Protocol error); a body longer or shorter than its Content-Length does this',
    })
  })

  it('an HTTP/2 GOAWAY names its error code, not just its number', async () => {
    const server = await startH2Server((_req, res) => {
      res.writeHead(200, SSE).write('data: a\n\n')
      setTimeout(() => res.stream.session?.goaway(http2.NGHTTP2_ENHANCE_YOUR_CALM), 50)
    })
    const run = await runCli([server.url, '-k', '--json', '--reconnect', 'never'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('event')).toHaveLength(1)
    expect(run.ofType('close')[0]).toMatchObject({
      cause: 'network-error',
      message:
        'the server closed the HTTP/2 connection (GOAWAY with error code NGHTTP2_ENHANCE_YOUR_CALM)',
    })
  })

  it('a retry: too large for a timer waits (it does not reconnect at once)', async () => {
    const server = await sseServer('retry: 99999999999999\ndata: a\n\n')
    const run = await runCli([server.url, '--json', '--timeout', '1s'])
    expect(run.exitCode).toBe(4)
    expect(run.records.map((r) => r.type)).toEqual(['open', 'retry', 'event', 'close', 'summary'])
    expect(run.summary).toMatchObject({ reason: 'timeout', reconnects: 0 })
    expect(server.requests).toHaveLength(1)
    // In JSON mode, stderr says in words why the probe failed, and nothing else.
    expect(run.stderr).toBe('error: timeout: no end after 1000ms (--timeout)\n')
  })

  it('a server that gives every event its own type does not grow the summary', async () => {
    const events = Array.from({ length: 3000 }, (_, i) => `event: t${i}\ndata: x\n\n`).join('')
    const server = await sseServer(`${events}event: t2999\ndata: y\n\n`)
    const run = await runCli([server.url, '--json', '--no-reconnect', '--expect-event', 't2999'])
    const byType = run.summary.eventsByType
    expect(Object.keys(byType)).toHaveLength(102)
    expect(byType['(other types)']).toBe(2899)
    expect(byType.t2999).toBe(2)
    expect(run.summary).toMatchObject({
      events: 3001,
      exitCode: 0,
      expectations: [{ name: '--expect-event t2999', ok: true }],
    })
  })

  it('a server that sends event types of megabytes does not keep them for the summary', async () => {
    // A hundred types of 15 MB each took 3.4 GB and ended in an internal error (exit 70).
    const long = 'e'.repeat(100_000)
    const events = Array.from({ length: 20 }, (_, i) => `event: ${i}${long}\ndata: x\n\n`)
    const server = await sseServer(`${events.join('')}event: end\ndata: bye\n\n`)
    const run = await runCli([server.url, '--no-color', '-q'])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(/events {7}21 {2}\(\(other types\) 20, end 1\)\n/)
    expect(run.stderr.length).toBeLessThan(2000)
  })
})

describe('bounded memory: --max-event-size', () => {
  it('an endless line ends the probe with exit 3 and a message saying what was received', async () => {
    const server = await endlessLineServer()
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(
      /summary {2}event-too-large: received more than 16777216 bytes of a line or event that had not ended \(--max-event-size 16777216\) {2}exit 3/,
    )
    expect(server.sent()).toBeLessThan(100 * 2 ** 20)
  })

  it('raised past what a string holds, a line of 600 MB is too large, not an internal error', async () => {
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, SSE).write('data: ')
      const chunk = Buffer.alloc(2 ** 20, 'x')
      for (let i = 0; i < 600 && !res.destroyed; i++) if (!res.write(chunk)) await drained(res)
      res.end('\n\n')
    })
    const run = await runCli([server.url, '--json', '--max-event-size', '1GiB'])
    expect(run.stderr).not.toMatch(/internal error/)
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'event-too-large',
      message: `received more than ${Math.floor(constants.MAX_STRING_LENGTH / 8)} characters of a line or event that had not ended, the most sse-probe can hold (--max-event-size 1073741824)`,
    })
  })

  it.each([
    ['--json', []],
    ['pretty', ['--no-color']],
  ])(
    'raised, an event of 100 MB of control characters (6 times longer escaped) is too large for %s, not a crash',
    async (_format, flags) => {
      const server = await startServer(async (_req, res) => {
        res.writeHead(200, SSE).write('data: ')
        const chunk = Buffer.alloc(2 ** 20, 1)
        for (let i = 0; i < 100 && !res.destroyed; i++) if (!res.write(chunk)) await drained(res)
        res.end('\n\n')
      })
      const run = await runCli([server.url, '--max-event-size', '200MiB', '-q', ...flags])
      expect(run.stderr).not.toMatch(/internal error|Fatal|stack trace/)
      expect(run.exitCode).toBe(3)
      expect(run.stderr).toMatch(/event-too-large: received more than 67108861 characters/)
    },
  )

  it('counts bytes, not characters: an event of multi-byte characters can be too large', async () => {
    const server = await sseServer(`data: ${'é'.repeat(600)}\n\n`)
    const run = await runCli([server.url, '--json', '--max-event-size', '1000'])
    expect(run.exitCode).toBe(3)
    expect(run.ofType('event')).toHaveLength(0)
    expect(run.summary).toMatchObject({
      reason: 'event-too-large',
      message: 'received an event of 1200 bytes (--max-event-size 1000)',
    })
  })

  it('a compressed endless line (a gzip bomb) is stopped the same way', async () => {
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { ...SSE, 'content-encoding': 'gzip' })
      await gzipInto(res, 'data: ', 'x', 400)
    })
    const run = await runCli([
      server.url,
      '--json',
      '-H',
      'Accept-Encoding: gzip',
      '--max-event-size',
      '4MiB',
    ])
    expect(run.exitCode).toBe(3)
    expect(run.summary.reason).toBe('event-too-large')
  })

  it('a compressed body that runs to the close and ends while decoding is behind ends cleanly (no internal error)', async () => {
    // 200 MB of empty lines in 200 KB: the decoder falls behind, so undici's parser is paused
    // when the close comes (undici 7 threw from the socket's 'end' listener: exit 70).
    const server = await startRawServer(async (socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n',
      )
      await gzipInto(socket, 'data: a\n\n', '\n', 200)
    })
    const run = await runCli([
      server.url,
      '--json',
      '-H',
      'Accept-Encoding: gzip',
      '--reconnect',
      'never',
    ])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.summary).toMatchObject({ reason: 'server-closed', events: 1 })
    expect(run.ofType('close')[0]).toMatchObject({ cause: 'server-closed' })
  })
})

// `script` (util-linux) runs a command in a pseudo-terminal: the only way to see the spinner.
const hasScript = spawnSync('script', ['--version']).status === 0

describe.skipIf(!hasScript)('the spinner on a terminal (needs util-linux script for a pty)', () => {
  async function inTerminal(command: string, url: string, term = 'xterm-256color') {
    const { spawn } = await import('node:child_process')
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TERM: term,
      FORCE_COLOR: undefined,
      NO_COLOR: undefined,
    }
    delete env.CI // ora stays still when it sees CI
    const child = spawn('script', ['-qfec', command.replace('URL', url), '/dev/null'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout
      .setEncoding('utf8')
      .on('data', (chunk: string) => (output += chunk.slice(0, 1_000_000 - output.length)))
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    const exitCode = await new Promise((resolve) => child.on('close', resolve))
    clearTimeout(killer)
    return { output, exitCode }
  }
  const silentAfterHeaders = () =>
    startServer((_req, res) => {
      res.writeHead(200, SSE)
      res.flushHeaders()
    })
  const probe = `${process.execPath} ${CLI} URL --no-color --duration 2500ms`

  it('shows how long a stream has been silent', async () => {
    const server = await silentAfterHeaders()
    const { output, exitCode } = await inTerminal(
      `stty cols 100 rows 30; exec ${probe}`,
      server.url,
    )
    expect(exitCode).toBe(0)
    expect(output).toMatch(/streaming · 0 events · silent for [12](\.\d)?s/)
    // The summary is the last thing left on screen: no spinner frame after it.
    expect(output.slice(output.lastIndexOf('summary'))).not.toContain('silent for')
  })

  it('stays off on a terminal that reports no width', async () => {
    const server = await silentAfterHeaders()
    const { output, exitCode } = await inTerminal(probe.replace('2500ms', '1s'), server.url)
    expect(exitCode).toBe(0)
    expect(output).toMatch(/summary {2}duration/)
    expect(output).not.toContain('streaming ·')
    expect(output.length).toBeLessThan(10_000)
  })

  // Emacs' shell and some CI consoles run on a pty with TERM=dumb: they print escapes as they are.
  it.each([
    ['the probe', `${probe.replace('2500ms', '1s')}`, /summary {2}duration/],
    ['check', `${process.execPath} ${CLI} check URL --window 1s`, /exit 0/],
    ['load', `${process.execPath} ${CLI} load URL -c 1 --duration 1s`, /load ended/],
  ])('%s draws no live line on TERM=dumb: no escape codes', async (_name, command, done) => {
    const server = await silentAfterHeaders()
    const { output, exitCode } = await inTerminal(
      `stty cols 100 rows 30; exec ${command}`,
      server.url,
      'dumb',
    )
    expect(exitCode).toBe(0)
    expect(output).toMatch(done)
    expect(output).not.toContain('\x1b')
  })
})

// `^(a+)+$` on 40 a's and a '!' backtracks for minutes, with the event loop (and every timeout) held.
const CATASTROPHIC = '^(a+)+$'
const BACKTRACKING_DATA = `${'a'.repeat(40)}!`

describe('a pattern that backtracks catastrophically on what the server sends', () => {
  it('--expect-data answers at once, and still matches where it should', async () => {
    const server = await sseServer(`data: ${BACKTRACKING_DATA}\n\nevent: end\ndata: aaa\n\n`)
    const run = await runCli([
      '--json',
      '--end-event',
      'end',
      '--expect-data',
      CATASTROPHIC,
      server.url,
    ])
    expect(run.exitCode).toBe(0)
    const misses = await runCli([
      '--end-event',
      'end',
      '--expect-data',
      `${CATASTROPHIC}|^b`,
      (await sseServer(`data: ${BACKTRACKING_DATA}\n\nevent: end\ndata: aa!\n\n`)).url,
    ])
    expect(misses.exitCode).toBe(1)
    expect(misses.stderr).toContain('--expect-data')
  })
})

describe('pure safeguards', () => {
  it('event types past the limit are counted together, except those an expectation names', () => {
    const session = createSession({
      pingEvent: 'ping',
      expectedEvents: ['late'],
      endEvents: [],
      endData: [],
      dataPatterns: [],
    })
    const event = (type: string) => session.event(0, type, 'x')
    for (let i = 0; i < MAX_EVENT_TYPES + 50; i++) event(`t${i}`)
    event('late')
    event('t0')
    const { eventsByType, events } = session.stats(0)
    expect(Object.keys(eventsByType)).toHaveLength(MAX_EVENT_TYPES + 2)
    expect(eventsByType).toMatchObject({ t0: 2, [OTHER_EVENT_TYPES]: 50, late: 1 })
    expect(Object.values(eventsByType).reduce((a, b) => a + b)).toBe(events)
  })

  it('an event type longer than the limit is counted with the others, unless an expectation names it', () => {
    const long = 'e'.repeat(MAX_COUNTED_TYPE_LENGTH + 1)
    const session = createSession({
      pingEvent: 'ping',
      expectedEvents: [`${long}!`],
      endEvents: [],
      endData: [],
      dataPatterns: [],
    })
    session.event(0, 'e'.repeat(MAX_COUNTED_TYPE_LENGTH), 'x')
    session.event(0, long, 'x')
    session.event(0, long, 'x')
    session.event(0, `${long}!`, 'x')
    expect(session.stats(0).eventsByType).toEqual({
      ['e'.repeat(MAX_COUNTED_TYPE_LENGTH)]: 1,
      [OTHER_EVENT_TYPES]: 2,
      [`${long}!`]: 1,
    })
  })
})

/** `first`, then `mebibytes` MiB of `fill`, gzipped into the stream as fast as it takes them. */
async function gzipInto(out: Writable, first: string, fill: string, mebibytes: number) {
  const gzip = createGzip()
  gzip.pipe(out)
  gzip.write(first)
  const chunk = Buffer.alloc(1024 * 1024, fill)
  for (let i = 0; i < mebibytes && !out.destroyed; i++) {
    if (!gzip.write(chunk)) await drained(gzip)
  }
  gzip.end()
}
