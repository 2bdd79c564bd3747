import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }
const END = 'event: end\ndata: bye\n\n'
/** A stream that closes at once, so that the probe reconnects after 10 ms. */
const CLOSES = 'retry: 10\ndata: a\n\n'

/**
 * A server that sets `setCookie` on its first answer at /stream and closes, then ends the stream
 * on the reconnect; the Cookie header of each request is in `cookies`.
 */
async function stickyServer(setCookie: string | string[]) {
  const cookies: (string | undefined)[] = []
  const server = await startServer((req, res, index) => {
    cookies.push(req.headers.cookie)
    if (index === 0) res.writeHead(200, { ...SSE, 'set-cookie': setCookie }).end(CLOSES)
    else res.writeHead(200, SSE).end(END)
  })
  return { ...server, url: `${server.url}/stream`, cookies }
}

describe('cookies: a probe keeps them as its browser would', () => {
  it('sends on the reconnect the cookie the first response set (a sticky session)', async () => {
    const server = await stickyServer('lb=node7; Path=/; HttpOnly')
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.cookies).toEqual([undefined, 'lb=node7'])
  })

  it('sends the cookie a redirect set to its target, and to the reconnect of that target', async () => {
    const server = await startServer((req, res, index) => {
      if (req.url === '/start') {
        res.writeHead(302, { location: '/stream', 'set-cookie': 'hop=302' }).end()
      } else if (index === 1) {
        res.writeHead(200, SSE).end(CLOSES)
      } else res.writeHead(200, SSE).end(END)
    })
    const run = await runCli([`${server.url}/start`, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.requests.map((r) => [r.url, r.headers.cookie])).toEqual([
      ['/start', undefined],
      ['/stream', 'hop=302'],
      ['/stream', 'hop=302'],
    ])
  })

  it('keeps every Set-Cookie line, replaces a cookie set again and deletes one with Max-Age=0', async () => {
    const server = await startServer((_req, res, index) => {
      const setCookie = [
        ['a=1', 'b=1', 'c=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT'],
        ['a=2', 'b=; Max-Age=0', 'c=; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
      ][index]
      res.writeHead(200, { ...SSE, ...(setCookie && { 'set-cookie': setCookie }) })
      res.end(index < 2 ? CLOSES : END)
    })
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.requests.map((r) => r.headers.cookie)).toEqual([
      undefined,
      'a=1; b=1; c=1',
      'a=2',
    ])
  })

  it('keeps at most 180, dropping the least recently used down to 150, as Chromium does', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `c${i}`)
    const server = await stickyServer(names.map((name) => `${name}=1`))
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    // Past the 181st: the 31 oldest go (150 left), then 19 more come.
    expect(server.cookies[1]).toBe(
      names
        .slice(31)
        .map((name) => `${name}=1`)
        .join('; '),
    )
  })

  it('ignores a cookie whose name and value pass 4096 bytes, as browsers do (no huge Cookie header)', async () => {
    const fits = `a=${'x'.repeat(4095)}`
    const server = await stickyServer([fits, `b=${'x'.repeat(4096)}`, `${'c'.repeat(4097)}=`])
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.cookies[1]).toBe(fits)
  })

  it('ignores a Set-Cookie with neither name nor value, as browsers do (no empty item in Cookie)', async () => {
    const server = await stickyServer(['a=1', ';', 'b=1'])
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.cookies[1]).toBe('a=1; b=1')
  })

  it("keeps to a cookie's Path: one for another path is not sent", async () => {
    const server = await stickyServer([
      'here=1; Path=/stream',
      'there=1; Path=/other',
      'root=1; Path=/',
    ])
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    // RFC 6265 5.4: the longer path first.
    expect(server.cookies).toEqual([undefined, 'here=1; root=1'])
  })

  it('keeps to Domain and Secure on a host that is not loopback (a proxy serves it)', async () => {
    // As a browser: loopback is a secure context (Chromium sends a Secure cookie to
    // http://127.0.0.1), so the hosts here are named ones, reached through an HTTP proxy.
    const server = await startServer((req, res) => {
      const url = new URL(req.url!)
      if (url.host === 'a.sticky.test') {
        res.writeHead(302, {
          location: 'http://b.sticky.test/stream',
          'set-cookie': ['host=a', 'wide=1; Domain=sticky.test', 'foreign=1; Domain=other.test'],
        })
        res.end()
      } else if (server.requests.length === 2) {
        res.writeHead(200, { ...SSE, 'set-cookie': 'sec=1; Secure' }).end(CLOSES)
      } else res.writeHead(200, SSE).end(END)
    })
    const args = ['http://a.sticky.test/stream', '--proxy', server.url, '--json']
    const run = await runCli([...args, '-H', 'Cookie: mine=1'])
    expect(run.exitCode).toBe(0)
    expect(server.requests.map((r) => [r.url, r.headers.cookie])).toEqual([
      ['http://a.sticky.test/stream', 'mine=1'],
      // The user's Cookie stays with its origin; the jar's go where their Domain says.
      ['http://b.sticky.test/stream', 'wide=1'],
      ['http://b.sticky.test/stream', 'wide=1'],
    ])
  })

  it("sends the user's Cookie header as given, the jar's cookies after it", async () => {
    const server = await stickyServer('lb=node7')
    const run = await runCli([server.url, '--json', '-H', 'Cookie: session=abc; theme=dark'])
    expect(run.exitCode).toBe(0)
    expect(server.cookies).toEqual(['session=abc; theme=dark', 'session=abc; theme=dark; lb=node7'])
  })

  it('shows them in -v redacted, unless --show-secrets, and never in a --record transcript', async () => {
    const server = await stickyServer('lb=node7-secret')
    const file = join(mkdtempSync(join(tmpdir(), 'sse-probe-cookies-')), 'session.ndjson')
    const run = await runCli([server.url, '-v', '-i', '--no-color', '--record', file])
    expect(run.exitCode).toBe(0)
    const requests = run.stderr.split('\n').filter((line) => line.startsWith('> '))
    expect(requests.filter((line) => line === '> cookie: <redacted>')).toHaveLength(1)
    expect(run.stdout + run.stderr + readFileSync(file, 'utf8')).not.toContain('secret')

    const shown = await stickyServer('lb=node7-secret')
    const secrets = await runCli([shown.url, '-v', '--no-color', '--show-secrets'])
    expect(secrets.stderr).toContain('> cookie: lb=node7-secret\n')
  })

  it('gives each connection of `load` a jar of its own, as separate browsers have', async () => {
    let served = 0
    const server = await startServer((req, res) => {
      if (req.headers.cookie === undefined) {
        res.writeHead(200, { ...SSE, 'set-cookie': `lb=node${++served}` }).end(CLOSES)
      } else res.writeHead(200, SSE).end(END)
    })
    const run = await runCli(['load', server.url, '-c', '3', '--duration', '3s', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const cookies = server.requests.flatMap((r) => r.headers.cookie ?? [])
    expect(cookies.sort()).toEqual(['lb=node1', 'lb=node2', 'lb=node3'])
  })

  it("check's reconnects send the cookies the stream set", async () => {
    const server = await startServer((req, res) => {
      // The compressed twin of the first request is another client: its cookie is its own.
      if (req.headers['accept-encoding']) {
        res.writeHead(200, { ...SSE, 'set-cookie': 'lb=twin' }).end(END)
      } else if (req.headers.cookie === undefined) {
        res.writeHead(200, { ...SSE, 'set-cookie': 'lb=node7' }).end(CLOSES)
      } else res.writeHead(200, SSE).end(END)
    })
    const run = await runCli(['check', server.url, '--window', '2s', '--json'])
    expect(run.stderr).toBe('')
    const streamCookies = server.requests
      .filter((r) => !r.headers['accept-encoding'])
      .map((r) => r.headers.cookie)
    expect(streamCookies).toEqual([undefined, 'lb=node7'])
  })
})
