import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { listenUntilTestEnds, sseServer, startServer } from '../helpers/server.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'

const SSE = { 'content-type': 'text/event-stream' }
const END = 'event: end\ndata: x\n\n'

/** Reads exactly n bytes from the socket (the SOCKS5 handshake comes in small messages); `rest` takes what is left. */
function reader(socket: Socket): { read: (n: number) => Promise<Buffer>; rest: () => Buffer } {
  let buffered = Buffer.alloc(0)
  let waiting: (() => void) | undefined
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    waiting?.()
  }
  socket.on('data', onData)
  return {
    async read(n) {
      while (buffered.length < n) await new Promise<void>((resolve) => (waiting = resolve))
      const bytes = buffered.subarray(0, n)
      buffered = buffered.subarray(n)
      return bytes
    },
    rest() {
      socket.off('data', onData)
      return buffered
    },
  }
}

/**
 * A SOCKS5 proxy (RFC 1928, with RFC 1929's username and password when `credentials` is given) on
 * 127.0.0.1: `targets` holds the `host:port` each CONNECT asked for, as the client named it.
 */
async function startSocks5(credentials?: string): Promise<{ url: string; targets: string[] }> {
  const targets: string[] = []
  const sockets: Socket[] = []
  const server = createServer(async (client) => {
    sockets.push(client)
    client.on('error', () => {})
    const { read, rest } = reader(client)
    const [, count] = await read(2)
    const methods = [...(await read(count!))]
    const method = credentials ? 2 : 0
    if (!methods.includes(method)) return client.end(Buffer.from([5, 0xff]))
    client.write(Buffer.from([5, method]))
    if (credentials) {
      const [, userLength] = await read(2)
      const user = (await read(userLength!)).toString()
      const [passwordLength] = await read(1)
      const password = (await read(passwordLength!)).toString()
      const ok = `${user}:${password}` === credentials
      client.write(Buffer.from([1, ok ? 0 : 1]))
      if (!ok) return client.end()
    }
    const [, , , type] = await read(4)
    const host =
      type === 1
        ? [...(await read(4))].join('.')
        : type === 3
          ? (await read((await read(1))[0]!)).toString()
          : (await read(16)).toString('hex')
    const port = (await read(2)).readUInt16BE()
    targets.push(`${host}:${port}`)
    const upstream = connect(port, host === 'localhost' ? '127.0.0.1' : host, () => {
      client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
      upstream.write(rest())
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.push(upstream)
    upstream.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])))
  })
  const port = await listenUntilTestEnds(server, () => {
    for (const socket of sockets) socket.destroy()
  })
  return { url: `socks5://127.0.0.1:${port}`, targets }
}

/** An SSE server over TLS (self-signed); `seen` gets each request's headers. */
async function httpsSse(seen: IncomingHttpHeaders[] = []): Promise<string> {
  const server = createHttpsServer(selfSignedCertificate(), (req, res) => {
    seen.push(req.headers)
    res.writeHead(200, SSE).end(END)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

describe('SOCKS5 proxies', () => {
  it('HTTPS_PROXY=socks5://, HTTP_PROXY=socks5h:// and --proxy socks5h:// reach the stream through it, without warnings', async () => {
    const socks = await startSocks5()
    const https = await httpsSse()
    const http = await sseServer(END)
    const env = { HTTPS_PROXY: socks.url, https_proxy: socks.url, NO_PROXY: '', no_proxy: '' }
    const viaEnv = await runCli([https, '--json', '-k'], { env, timeoutMs: 8000 })
    expect(viaEnv.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    const socks5h = socks.url.replace('socks5:', 'socks5h:')
    const http_proxy = { HTTP_PROXY: socks5h, http_proxy: socks5h, NO_PROXY: '', no_proxy: '' }
    const url = http.url.replace('127.0.0.1', 'localhost')
    const viaHttpEnv = await runCli([url, '--json'], { env: http_proxy, timeoutMs: 8000 })
    expect(viaHttpEnv.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    const viaFlag = await runCli([url, '--json', '--proxy', socks5h], { timeoutMs: 8000 })
    expect(viaFlag.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    // The host name goes to the proxy, as curl's socks5h:// sends it.
    const port = (u: string) => new URL(u).port
    expect(socks.targets).toEqual([
      `127.0.0.1:${port(https)}`,
      `localhost:${port(http.url)}`,
      `localhost:${port(http.url)}`,
    ])
    // Neither undici's "SOCKS5 proxy support is experimental" nor DEP0123 (an IP as TLS name).
    for (const run of [viaEnv, viaHttpEnv, viaFlag]) expect(run.stderr).toBe('')
  })

  it('sends the credentials of the proxy URL, says when they are missing or refused; a SOCKS5 proxy that cannot be reached is named without them', async () => {
    const socks = await startSocks5('user:s3cret')
    const http = await sseServer(END)
    const proxy = socks.url.replace('//', '//user:s3cret@')
    const run = await runCli([http.url, '--json', '--proxy', proxy], { timeoutMs: 8000 })
    expect(run.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    // Without them, or wrong ones: said in the proxy's terms, not undici's "Authentication failed".
    const none = await runCli([http.url, '--json', '--proxy', socks.url])
    expect(none.exitCode).toBe(3)
    expect(none.summary.message).toBe(
      'the SOCKS5 proxy wants credentials: give them in the proxy URL, socks5://user:password@proxy:1080',
    )
    const wrong = await runCli([http.url, '--json', '--proxy', proxy.replace('s3cret', 'wr0ng')])
    expect(wrong.summary.message).toBe('the SOCKS5 proxy refused the credentials in the proxy URL')
    // A server the proxy cannot reach: its reply, named as the proxy's.
    const gone = await runCli(['http://127.0.0.1:9/', '--json', '--proxy', proxy])
    expect(gone.summary.message).toBe(
      'the SOCKS5 proxy could not connect to the server: connection refused',
    )
    const closed = 'socks5://user:s3cret@127.0.0.1:9'
    const unreachable = await runCli([http.url, '--json'], {
      env: { HTTP_PROXY: closed, http_proxy: closed, NO_PROXY: '', no_proxy: '' },
    })
    expect(unreachable.exitCode).toBe(3)
    expect(unreachable.summary.message).toBe(
      'cannot reach the proxy socks5://127.0.0.1:9 (http_proxy): connect ECONNREFUSED 127.0.0.1:9',
    )
    expect(unreachable.stdout + unreachable.stderr).not.toContain('s3cret')
  })

  it('SOCKS4, which undici cannot speak, is a usage error', async () => {
    const run = await runCli(['http://127.0.0.1:9/', '--proxy', 'socks4://127.0.0.1:1080'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('SOCKS4 is not supported: give a socks5:// or http:// proxy')
    // The same from the environment, the password kept out.
    const env = await runCli(['http://127.0.0.1:9/'], {
      env: { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: 'socks4://u:s3cret@127.0.0.1:1080' },
    })
    expect(env.exitCode).toBe(2)
    expect(env.stderr).toContain(
      "environment variable HTTP_PROXY 'socks4://<redacted>@127.0.0.1:1080': SOCKS4 is not supported",
    )
  })
})

describe('HTTPS proxies', () => {
  it('one at an IP address reaches the stream without a Node warning (DEP0123) on stderr; its certificate refused is named as its own', async () => {
    const target = await sseServer(END)
    const proxy = createHttpsServer(selfSignedCertificate(), (_req, res) =>
      res.writeHead(500).end(),
    )
    const sockets: Socket[] = []
    proxy.on('connect', (req, socket: Socket) => {
      sockets.push(socket)
      const [host, port] = req.url!.split(':')
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.pipe(socket)
        socket.pipe(upstream)
      })
      sockets.push(upstream)
    })
    const port = await listenUntilTestEnds(proxy, () => {
      for (const socket of sockets) socket.destroy()
    })
    const run = await runCli([target.url, '--json', '-k', '--proxy', `https://127.0.0.1:${port}`])
    expect(run.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    expect(run.stderr).toBe('')
    // Without -k, its certificate is refused, and named as the proxy's: an http:// URL has none.
    const refused = await runCli([target.url, '--json', '--proxy', `https://127.0.0.1:${port}`])
    expect(refused.exitCode).toBe(3)
    expect(refused.summary.message).toBe(
      `the proxy https://127.0.0.1:${port} (--proxy): TLS error: self-signed certificate (use -k/--insecure to accept any certificate, or trust its issuer with NODE_EXTRA_CA_CERTS=ca.pem)`,
    )
  })
})

describe('a proxy that wants credentials (407)', () => {
  it('says the credentials of its URL were refused, when it had some, for a tunnel and a request', async () => {
    const wanted = `Basic ${Buffer.from('user:right').toString('base64')}`
    const target = await sseServer(END)
    const proxy = await startServer(async (req, res) => {
      if (req.headers['proxy-authorization'] !== wanted) {
        return res.writeHead(407, { 'proxy-authenticate': 'Basic realm="corp"' }).end()
      }
      const upstream = await fetch(req.url!)
      res.writeHead(upstream.status, SSE).end(await upstream.text())
    })
    proxy.server.on('connect', (_req, socket: Socket) =>
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n'),
    )
    const wrong = proxy.url.replace('//', '//user:wr0ng@')
    const request = await runCli([target.url, '--json', '--proxy', wrong])
    expect(request.exitCode).toBe(3)
    expect(request.summary.message).toBe(
      'the proxy refused the request: HTTP 407 Proxy Authentication Required (the credentials in the proxy URL (--proxy) were refused)',
    )
    const env = { HTTPS_PROXY: wrong, https_proxy: wrong, NO_PROXY: '', no_proxy: '' }
    const tunnel = await runCli(['https://127.0.0.1:9/', '--json'], { env })
    expect(tunnel.exitCode).toBe(3)
    expect(tunnel.summary.message).toBe(
      'the proxy refused the tunnel: HTTP 407 Proxy Authentication Required (the credentials in the proxy URL (https_proxy) were refused)',
    )
    for (const run of [request, tunnel]) expect(run.stdout + run.stderr).not.toContain('wr0ng')
    // Without credentials: where to give them. With the right ones: the stream.
    const none = await runCli([target.url, '--json', '--proxy', proxy.url])
    expect(none.summary.message).toContain(
      '(give its credentials in the proxy URL: http://user:password@proxy:3128)',
    )
    const right = proxy.url.replace('//', '//user:right@')
    const ok = await runCli([target.url, '--json', '--proxy', right])
    expect(ok.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
  })
})

describe('-H Proxy-Authorization', () => {
  it('goes to the proxy, as curl sends it: in the request of an http:// URL, in the CONNECT of an https:// one, not to the server', async () => {
    const token = `Basic ${Buffer.from('user:right').toString('base64')}`
    const atServer: IncomingHttpHeaders[] = []
    const https = await httpsSse(atServer)
    const http = await sseServer(END)
    const seen: string[] = []
    const proxy = await startServer(async (req, res) => {
      seen.push(`${req.method} ${req.headers['proxy-authorization']}`)
      if (req.headers['proxy-authorization'] !== token) return res.writeHead(407).end()
      const upstream = await fetch(req.url!)
      res.writeHead(upstream.status, SSE).end(await upstream.text())
    })
    const tunnels: Socket[] = []
    proxy.server.on('connect', (req, socket: Socket) => {
      seen.push(`CONNECT ${req.headers['proxy-authorization']}`)
      if (req.headers['proxy-authorization'] !== token) {
        return socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n')
      }
      const [host, port] = req.url!.split(':')
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.pipe(socket)
        socket.pipe(upstream)
      })
      tunnels.push(socket, upstream)
    })
    onTestFinished(() => {
      for (const socket of tunnels) socket.destroy()
    })
    const header = `Proxy-Authorization: ${token}`
    const plain = await runCli([http.url, '--json', '--proxy', proxy.url, '-H', header])
    expect(plain.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    const env = { HTTPS_PROXY: proxy.url, https_proxy: proxy.url, NO_PROXY: '', no_proxy: '' }
    const tunnel = await runCli([https, '--json', '-k', '-H', header], { env })
    expect(tunnel.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    expect(seen).toEqual([`GET ${token}`, `CONNECT ${token}`])
    // Not sent on through the tunnel.
    expect(atServer).toHaveLength(1)
    expect(atServer[0]!['proxy-authorization']).toBeUndefined()
    const wrong = await runCli(
      [https, '--json', '-k', '-H', 'Proxy-Authorization: Basic d3Jvbmc='],
      {
        env,
      },
    )
    expect(wrong.exitCode).toBe(3)
    expect(wrong.summary.message).toBe(
      'the proxy refused the tunnel: HTTP 407 Proxy Authentication Required (the credentials in -H Proxy-Authorization were refused)',
    )
  })
})

describe('NO_PROXY', () => {
  it('address ranges (10.0.0.0/8) and IPv6 addresses without brackets (::1) are reached directly, as curl reads them', async () => {
    const target = await sseServer(END)
    const ipv6 = await startHttpOn('::1')
    const proxied: string[] = []
    const proxy = await startServer(async (req, res) => {
      proxied.push(req.url!)
      const upstream = await fetch(req.url!)
      res.writeHead(upstream.status, SSE).end(await upstream.text())
    })
    const run = (url: string, noProxy: string) =>
      runCli([url, '--json'], {
        env: { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: noProxy, no_proxy: noProxy },
      })
    for (const noProxy of ['127.0.0.0/8', '10.0.0.0/8, 127.0.0.1/32', '::1/128,127.0.0.0/8']) {
      expect((await run(`${target.url}/direct`, noProxy)).summary.reason).toBe('end-event')
    }
    for (const noProxy of ['::1', '::1/128', '[::1]']) {
      expect((await run(`${ipv6}/direct`, noProxy)).summary.reason).toBe('end-event')
    }
    // Ranges that do not cover the host leave it to the proxy, and so does a name.
    for (const noProxy of ['10.0.0.0/8', '127.0.0.0/33', 'localhost']) {
      expect((await run(`${target.url}/proxied`, noProxy)).summary.reason).toBe('end-event')
    }
    expect(proxied).toEqual([
      `${target.url}/proxied`,
      `${target.url}/proxied`,
      `${target.url}/proxied`,
    ])
  })
})

/** An SSE server on the given address (`::1`), its URL. */
async function startHttpOn(address: string): Promise<string> {
  const server = createHttpServer((_req, res) => res.writeHead(200, SSE).end(END))
  await new Promise<void>((resolve) => server.listen(0, address, resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://[${address}]:${(server.address() as AddressInfo).port}`
}

describe('load through a proxy', () => {
  it('counts a refusing proxy by its status and an unreachable one by its name, not as HTTP N or the server ECONNREFUSED', async () => {
    const target = await sseServer(END)
    const proxy = await startServer((_req, res) => res.writeHead(407).end())
    const loadThrough = (proxyUrl: string) =>
      runCli(['load', target.url, '-c', '2', '--json', '--proxy', proxyUrl])
    const errors = (run: Awaited<ReturnType<typeof loadThrough>>) =>
      run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; errors?: object })
        .find((record) => record.type === 'load-summary')?.errors
    const refused = await loadThrough(proxy.url.replace('//', '//u:wr0ng@'))
    expect(refused.exitCode).toBe(3)
    expect(errors(refused)).toEqual({
      'the proxy refused the request: HTTP 407 Proxy Authentication Required': 2,
    })
    const unreachable = await loadThrough('http://127.0.0.1:9')
    expect(errors(unreachable)).toEqual({
      'cannot reach the proxy http://127.0.0.1:9 (--proxy): ECONNREFUSED': 2,
    })
    expect(refused.stdout + refused.stderr).not.toContain('wr0ng')
  })
})

describe('a proxy that resets the tunnel request', () => {
  it('is said to, not taken for the server', async () => {
    const sockets: Socket[] = []
    const proxy = createServer((socket) => {
      sockets.push(socket)
      socket.on('error', () => {})
      socket.once('data', () => socket.resetAndDestroy())
    })
    const port = await listenUntilTestEnds(proxy, () => {
      for (const socket of sockets) socket.destroy()
    })
    const run = await runCli([
      'https://127.0.0.1:9/',
      '--json',
      '--proxy',
      `http://127.0.0.1:${port}`,
    ])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message:
        'the proxy reset the connection without answering the tunnel request (CONNECT): read ECONNRESET',
    })
    expect(sockets).toHaveLength(1)
  })
})
