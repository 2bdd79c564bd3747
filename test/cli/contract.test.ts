import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { runMain } from '../helpers/main.ts'
import { sseServer, startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }

describe('durations need a unit', () => {
  it.each([
    // cli.md's wording: the flag and the number, then both readings.
    ['--timeout', '5', 'error: --timeout 5: add a unit, e.g. 5s or 5ms\n'],
    ['--idle-timeout', '2.5', 'error: --idle-timeout 2.5: add a unit, e.g. 2.5s or 2.5ms\n'],
    ['--duration', '0', 'expected a duration greater than zero'],
  ])('%s %s is a usage error suggesting both readings', async (flag, value, message) => {
    const run = await runMain(['http://127.0.0.1:9/', flag, value])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stderr.split('\n')).toHaveLength(2)
  })

  it('1m30s is accepted; --retry stays milliseconds', async () => {
    const server = await sseServer('data: a\n\n', 'event: end\ndata: b\n\n')
    const run = await runMain([server.url, '--json', '--timeout', '1m30s', '--retry', '20'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('reconnect')[0]).toMatchObject({ delayMs: 20 })
  })
})

describe('a URL without a scheme means http://', () => {
  it.each([
    (port: number) => `127.0.0.1:${port}/stream`,
    (port: number) => `localhost:${port}/stream`,
    (port: number) => `:${port}/stream`,
    // One slash short: the scheme is there (as browsers read it), not a host named http.
    (port: number) => `http:/localhost:${port}/stream`,
  ])('%#', async (form) => {
    const server = await sseServer('event: end\ndata: x\n\n')
    const port = Number(new URL(server.url).port)
    const run = await runMain([form(port), '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('open')[0]!.url).toMatch(/^http:\/\/(127\.0\.0\.1|localhost):\d+\/stream$/)
  })
})

describe('--reconnect always|on-error|never', () => {
  const closesCleanly = () => sseServer('retry: 10\ndata: a\n\n', 'event: end\ndata: b\n\n')

  it('a GET reconnects after a clean close by default', async () => {
    const server = await closesCleanly()
    const run = await runMain([server.url, '--json'])
    expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 1, connections: 2 })
  })

  it('a POST does not, by default (on-error): a clean close ends it, exit 0', async () => {
    const server = await closesCleanly()
    const run = await runMain([server.url, '--json', '-d', '{}'])
    expect(run.summary).toMatchObject({ reason: 'server-closed', exitCode: 0, reconnects: 0 })
    expect(server.requests).toHaveLength(1)
  })

  it('on-error still reconnects after a broken connection', async () => {
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, SSE)
      if (index === 0) res.write('retry: 10\ndata: a\n\n', () => res.destroy())
      else res.end('event: end\ndata: b\n\n')
    })
    const run = await runMain([server.url, '--json', '--reconnect', 'on-error'])
    expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 1 })
  })

  it('never (and --no-reconnect) ends on the first close', async () => {
    for (const flags of [['--reconnect', 'never'], ['--no-reconnect']]) {
      const server = await closesCleanly()
      const run = await runMain([server.url, '--json', ...flags])
      expect(run.summary).toMatchObject({ reason: 'server-closed', reconnects: 0 })
    }
  })

  it('a POST with --reconnect always sends the body again', async () => {
    const server = await closesCleanly()
    const run = await runMain([server.url, '--json', '-d', 'x', '--reconnect', 'always'])
    expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 1 })
  })
})

describe('what expectations saw, and how many reconnects connected', () => {
  it('JSON has actual; pretty says (got …) and "reconnects n (m connected)"', async () => {
    const server = await sseServer('retry: 10\ndata: a\n\n', 'event: end\ndata: b\n\n')
    const json = await runMain([server.url, '--json', '--expect-min-events', '50'])
    expect(json.exitCode).toBe(1)
    expect(json.summary.expectations).toEqual([
      { name: '--expect-min-events 50', ok: false, actual: 2 },
    ])
    expect(json.summary.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(Date.now() - Date.parse(json.summary.startedAt)).toBeLessThan(60_000)
    const again = await sseServer('retry: 10\ndata: a\n\n', 'event: end\ndata: b\n\n')
    const pretty = await runMain([
      ...[again.url, '--expect-min-events', '50', '--expect-reconnect'],
      ...['--expect-data', '^[ab]$', '--expect-data', 'c'],
    ])
    expect(pretty.stderr).toContain('✗ --expect-min-events 50 (got 2)')
    // --expect-data counts the events whose data matched (cli.md: actual is the count).
    expect(pretty.stderr).toContain('✓ --expect-data ^[ab]$ (got 2 matching events)')
    expect(pretty.stderr).toContain('✗ --expect-data c (got no match)')
    // A pass says what was seen too.
    expect(pretty.stderr).toContain('✓ --expect-reconnect (got 1)')
    expect(pretty.stderr).toMatch(/reconnects {3}1 {2}\(1 connected\)/)
  })

  it('counts reconnect attempts apart from the connections that opened', async () => {
    const server = await startServer((_req, res, index) => {
      if (index === 1) return res.writeHead(503).end()
      res.writeHead(200, SSE)
      res.end(index === 0 ? 'retry: 10\ndata: a\n\n' : 'event: end\ndata: b\n\n')
    })
    const run = await runMain([server.url, '--json'])
    // The 503 on the reconnect is fatal: one reconnect attempt, one connection.
    expect(run.summary).toMatchObject({ reason: 'http-error', reconnects: 1, connections: 1 })
  })
})

describe('raw transport messages are explained', () => {
  it('https:// to a plain-HTTP port says the server speaks plain HTTP', async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    const run = await runCli([server.url.replace('http:', 'https:'), '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.message).toBe(
      'TLS handshake failed: the server speaks plain HTTP on that port; use http:// instead of https://',
    )
  })
})

describe('a bug is exit 70, one line, never another reason', () => {
  it('an exception inside the probe is an internal error', async () => {
    const server = await sseServer('data: a\n\n')
    const run = await runMain([server.url, '--json'], {
      stdoutWrite: () => {
        throw new TypeError('boom')
      },
    })
    expect(run.exitCode).toBe(70)
    expect(run.stderr).toBe('sse-probe: internal error: boom\n')
  })

  it('an exception thrown outside the probe (an event listener) is one line too, however long its message', async () => {
    const server = await startServer(
      (_req, res) => void res.writeHead(200, SSE).write('data: a\n\n'),
    )
    // What an assertion in undici throws: a first line, then the quoted source (the whole bundle).
    const thrower = `setTimeout(() => { throw new Error('failed\\n' + 'x'.repeat(300000)) }, 300)`
    const run = await runCli([server.url, '--json', '--duration', '5s'], {
      env: { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(thrower)}` },
    })
    expect(run.exitCode).toBe(70)
    expect(run.stderr).toBe('sse-probe: internal error: failed\n')
  })
})
