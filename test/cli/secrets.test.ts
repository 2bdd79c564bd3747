import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createSecureServer } from 'node:http2'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { startServer } from '../helpers/server.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'

const SSE = { 'content-type': 'text/event-stream' }
const END = 'event: end\ndata: x\n\n'

describe('credentials are never shown unless --show-secrets', () => {
  const secretResponse = () =>
    startServer((_req, res) =>
      res
        .writeHead(200, {
          ...SSE,
          'x-served-by': 'test',
          'set-cookie': ['a=secret-1', 'b=secret-2'],
          authorization: 'Bearer secret-3',
          'proxy-authorization': 'Basic secret-4',
          cookie: 'secret-5',
        })
        .end(END),
    )

  it('-i and the open record redact Authorization, Proxy-Authorization, Cookie and Set-Cookie', async () => {
    const server = await secretResponse()
    const pretty = await runCli([server.url, '-i', '--no-color'])
    expect(pretty.stderr).toContain('x-served-by: test')
    for (const name of ['set-cookie', 'authorization', 'proxy-authorization', 'cookie'])
      expect(pretty.stderr).toContain(`${name}: <redacted>`)
    expect(pretty.stdout + pretty.stderr).not.toContain('secret-')
    const json = await runCli([server.url, '--json'])
    expect(json.ofType('open')[0]!.headers).toMatchObject({
      'set-cookie': '<redacted>',
      authorization: '<redacted>',
      'proxy-authorization': '<redacted>',
      cookie: '<redacted>',
    })
    expect(json.stdout).not.toContain('secret-')
  })

  it("-v redacts the model providers' API key headers as it redacts Authorization", async () => {
    const server = await startServer((_req, res) => res.writeHead(200, SSE).end(END))
    const keys = ['x-api-key: sk-ant-secret-6', 'api-key: secret-7', 'x-goog-api-key: secret-8']
    const run = await runCli([server.url, '-v', '--no-color', ...keys.flatMap((h) => ['-H', h])])
    for (const name of ['x-api-key', 'api-key', 'x-goog-api-key'])
      expect(run.stderr).toContain(`> ${name}: <redacted>`)
    expect(run.stdout + run.stderr).not.toContain('secret-')
    // Sent as given all the same.
    expect(server.requests[0]!.headers).toMatchObject({ 'x-api-key': 'sk-ant-secret-6' })
  })

  it('-v says how large the body sent is', async () => {
    const server = await startServer((_req, res) => res.writeHead(200, SSE).end(END))
    const one = await runCli([server.url, '-v', '-d', '1'])
    expect(one.stderr).toContain('\n> (a body of 1 byte)\n')
    const two = await runCli([server.url, '-v', '-d', 'é'])
    expect(two.stderr).toContain('\n> (a body of 2 bytes)\n')
  })

  it('--help names every header --show-secrets shows', async () => {
    const help = (await runCli(['--help'])).stdout.replace(/\s+/g, ' ')
    const secrets = ['Proxy-Authorization', 'Set-Cookie', 'X-Api-Key', 'Api-Key', 'X-Goog-Api-Key']
    for (const name of secrets)
      expect(help).toMatch(new RegExp(`--show-secrets .*[ (]${name}[ ,)]`))
  })

  it('--show-secrets shows them', async () => {
    const server = await secretResponse()
    const run = await runCli([server.url, '-i', '--no-color', '--show-secrets'])
    expect(run.stderr).toContain('set-cookie: a=secret-1, b=secret-2')
    expect(run.stderr).toContain('authorization: Bearer secret-3')
  })

  it('credentials in the URL are sent as Basic auth and never shown', async () => {
    const server = await startServer((_req, res) => res.writeHead(200, SSE).end(END))
    const url = server.url.replace('http://', 'http://us%40er:s3cret@')
    const run = await runCli([url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(server.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('us@er:s3cret').toString('base64')}`,
    )
    expect(run.ofType('open')[0]!.url).toBe(`${server.url}/`)
    expect(run.stdout).not.toContain('s3cret')
    // An explicit -H Authorization wins over the URL's.
    await runCli([url, '--json', '-H', 'Authorization: Bearer explicit'])
    expect(server.requests[1]!.headers.authorization).toBe('Bearer explicit')
  })

  it("an API key in the query string (Gemini's ?key=) is sent and never shown", async () => {
    const server = await startServer((_req, res) => res.writeHead(200, SSE).end(END))
    const url = `${server.url}/v1beta/m:streamGenerateContent?alt=sse&key=AIza-s3cret`
    const json = await runCli([url, '--json'])
    expect(server.requests[0]!.url).toBe('/v1beta/m:streamGenerateContent?alt=sse&key=AIza-s3cret')
    expect(json.ofType('open')[0]!.url).toMatch(/\?alt=sse&key=<redacted>$/)
    const pretty = await runCli([url, '-v', '--no-color'])
    expect(pretty.stderr).toContain('key=<redacted>')
    const check = await runCli(['check', url, '--no-color'])
    const closed = await startServer(() => {})
    await closed.close()
    const refused = await runCli([`${closed.url}/?key=AIza-s3cret`, '--no-color'])
    expect(refused.exitCode).toBe(3)
    for (const run of [json, pretty, check, refused])
      expect(run.stdout + run.stderr).not.toContain('s3cret')
  })

  it('credentials in a redirect target are not shown', async () => {
    const target = await startServer((_req, res) => res.writeHead(200, SSE).end(END))
    const server = await startServer((_req, res) =>
      res.writeHead(302, { location: target.url.replace('http://', 'http://u:s3cret@') }).end(),
    )
    const json = await runCli([server.url, '--json'])
    expect(json.ofType('open')[0]!.url).toBe(
      `${target.url.replace('http://', 'http://<redacted>@')}/`,
    )
    expect(json.stdout).not.toContain('s3cret')
    const pretty = await runCli([server.url, '--no-color'])
    expect(pretty.stderr).not.toContain('s3cret')
  })

  it("a refused redirect's Location is shown and recorded without its credentials", async () => {
    // Too many redirects: the last is refused, its headers shown.
    const server = await startServer((_req, res) =>
      res.writeHead(302, { location: '/?a=1&api_key=s3cret-1' }).end(),
    )
    const far = await startServer((_req, res) =>
      res.writeHead(302, { location: 'ftp://u:s3cret-2@example.com/' }).end(),
    )
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-'))
    onTestFinished(() => rmSync(dir, { recursive: true }))
    const record = join(dir, 'session.ndjson')
    const json = await runCli([server.url, '--json', '--record', record])
    expect(json.exitCode).toBe(3)
    expect(json.ofType('error')[0]!.headers!.location).toBe('/?a=1&api_key=<redacted>')
    const pretty = await runCli([server.url, '-i', '--no-color'])
    expect(pretty.stderr).toContain('location: /?a=1&api_key=<redacted>')
    const ftp = await runCli([far.url, '--json'])
    expect(ftp.stdout).toContain('ftp://<redacted>@example.com/')
    for (const text of [json.stdout, pretty.stderr, ftp.stdout, readFileSync(record, 'utf8')])
      expect(text).not.toContain('s3cret')
  })

  it('an error body that quotes the request back shows its credentials <redacted>', async () => {
    // An echo endpoint: what it was sent, the secrets at the end of a body longer than the excerpt.
    const server = await startServer((req, res) => {
      if (req.url === '/stream') return void res.writeHead(200, SSE).write(': open\n\n')
      const padding = 'x'.repeat(280)
      const echo = `${padding} ${req.url} ${JSON.stringify(req.headers)}`
      res.writeHead(req.url!.startsWith('/publish') ? 403 : 401, { 'content-type': 'text/plain' })
      res.end(echo)
    })
    const secrets = [
      '-H',
      'Authorization: Bearer s3cret-token-1',
      '-H',
      'Cookie: sid=s3cret-cookie-2; lb=node7',
    ]
    const url = `${server.url.replace('http://', 'http://u:s3cret-pass-3@')}/?key=s3cret-key-4`
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-'))
    onTestFinished(() => rmSync(dir, { recursive: true }))
    const record = join(dir, 'session.ndjson')
    const json = await runCli([url, '--json', '--record', record, '--show-secrets', ...secrets])
    expect(json.ofType('error')[0]!.body).toMatch(/^x+ \/\?key=<redacted> /)
    const pretty = await runCli([url, '-i', '--no-color', '-H', 'X-Api-Key: s3cret-5'])
    const check = await runCli(['check', url, '--json', ...secrets])
    const trigger = await runCli([
      `${server.url}/stream`,
      '--json',
      '--trigger',
      `POST ${server.url}/publish?api_key=s3cret-6`,
      '--trigger-header',
      'X-Goog-Api-Key: s3cret-7',
    ])
    expect(trigger.ofType('error').at(-1)!.body).toMatch(/^x+ \/publish\?api_key=<r/)
    for (const run of [pretty, check, trigger])
      expect(run.stdout + run.stderr).not.toContain('s3cret')
    expect(readFileSync(record, 'utf8')).not.toContain('s3cret')
    expect(json.ofType('error')[0]!.body).not.toContain('s3cret')
  })

  it('an error body cut after the credentials it quotes still ends in …', async () => {
    // Quoted twice, the token makes the read (the excerpt plus the longest secret) end before
    // the body does, and its redacted start is shorter than the excerpt.
    const token = 's3cret'.repeat(40)
    const server = await startServer((req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' })
      res.write(
        `${'x'.repeat(40)} ${req.headers.authorization} ${req.headers.authorization} ${'y'.repeat(20)}`,
      )
      setTimeout(() => res.end('z'.repeat(1000)), 100)
    })
    const run = await runCli([server.url, '--json', '-H', `Authorization: Bearer ${token}`])
    expect(run.ofType('error')[0]!.body).toBe(
      `${'x'.repeat(40)} <redacted> <redacted> ${'y'.repeat(20)}…`,
    )
  })

  it('connection errors do not show the credentials of the URL or the proxy', async () => {
    const closed = await startServer(() => {})
    await closed.close()
    const direct = await runCli([closed.url.replace('http://', 'http://u:s3cret@'), '--no-color'])
    expect(direct.exitCode).toBe(3)
    const proxied = await runCli([
      'http://example.invalid/',
      '--no-color',
      '--proxy',
      closed.url.replace('http://', 'http://u:s3cret@'),
    ])
    expect(proxied.exitCode).toBe(3)
    expect(direct.stderr + proxied.stderr).toMatch(/ECONNREFUSED/)
    expect(direct.stderr + proxied.stderr).not.toContain('s3cret')
  })

  it.each([
    [['ftp://user:s3cret@example.com/']],
    [['http://x/', '-H', 'Authorization: Bearer s3cret\r']],
    [['http://x/', '-H', 'Cookie: sid=s3cret\x01']],
    [['http://x/', '--proxy', 'socks4://u:s3cret@proxy:1080']],
    // The colon forgotten, or the header's name.
    [['http://x/', '-H', 'Authorization Bearer s3cret']],
    [['http://x/', '-H', 'x-api-key=s3cret']],
    [['http://x/', '-H', 'Bearer s3cret']],
    // A URL without a scheme (http://), the probe's, a proxy's or a trigger's.
    [['u:s3cret@example.com:99999/']],
    [['http://x/', '--proxy', 'u:s3cret@proxy host']],
    [['load', 'http://x/', '-c', '1', '--trigger', 'POST u:s3cret@example.com:99999/']],
  ])('a usage error quoting %j redacts it', async (args) => {
    const run = await runCli(args)
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('<redacted>')
    expect(run.stderr).not.toContain('s3cret')
  })

  it('a malformed proxy variable is a usage error that redacts its credentials', async () => {
    const run = await runCli(['http://x/'], {
      env: { HTTPS_PROXY: 'http://u:s3cret@[bad', https_proxy: undefined },
    })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(
      /^error: environment variable HTTPS_PROXY 'http:\/\/<redacted>@\[bad' is not a proxy URL/,
    )
  })

  it('--show-secrets shows what a usage error quotes', async () => {
    const run = await runCli([
      'http://x/',
      '--show-secrets',
      '-H',
      'Authorization: Bearer s3cret\r',
    ])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain("'Authorization: Bearer s3cret\\r'")
  })
})

describe('redirects to another origin', () => {
  it('do not forward Authorization, Cookie (as fetch) and API keys, but other headers; the same origin keeps them', async () => {
    const other = await startServer((_req, res) => res.writeHead(200, SSE).end(END))
    const server = await startServer((req, res) => {
      if (req.url === '/same') return res.writeHead(307, { location: '/away' }).end()
      if (req.url === '/away') return res.writeHead(302, { location: `${other.url}/stream` }).end()
    })
    const run = await runCli([
      `${server.url}/same`,
      '--json',
      '-H',
      'Authorization: Bearer t0k3n',
      '-H',
      'Cookie: sid=1',
      '-H',
      'X-Trace: t',
      '-H',
      'X-Api-Key: k1',
      '-H',
      'api-key: k2',
      '-H',
      'X-GOOG-API-KEY: k3',
    ])
    expect(run.exitCode).toBe(0)
    expect(server.requests.map((r) => [r.url, r.headers.authorization, r.headers.cookie])).toEqual([
      ['/same', 'Bearer t0k3n', 'sid=1'],
      ['/away', 'Bearer t0k3n', 'sid=1'],
    ])
    const { headers } = other.requests[0]!
    expect(headers['x-trace']).toBe('t')
    expect(headers.authorization).toBeUndefined()
    expect(headers.cookie).toBeUndefined()
    expect([headers['x-api-key'], headers['api-key'], headers['x-goog-api-key']]).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    expect(server.requests[1]!.headers['x-goog-api-key']).toBe('k3')
  })
})

describe('TLS', () => {
  function listen(
    server: HttpsServer | TlsServer | ReturnType<typeof createSecureServer>,
  ): Promise<string> {
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`),
      ),
    )
  }
  const https = (expired: boolean) =>
    listen(
      createHttpsServer(selfSignedCertificate({ expired }), (_req, res) =>
        res.writeHead(200, SSE).end(END),
      ),
    )

  it.each([
    [false, 'self-signed certificate', ', or trust its issuer with NODE_EXTRA_CA_CERTS=ca.pem'],
    [true, 'certificate has expired', ''],
  ])(
    'a certificate that cannot be verified (expired: %s) gives a clear message suggesting -k (and NODE_EXTRA_CA_CERTS for an issuer Node does not know); -k then works',
    async (expired, why, trust) => {
      const url = await https(expired)
      const refused = await runCli([url, '--no-color'])
      expect(refused.exitCode).toBe(3)
      expect(refused.stderr).toContain(
        `TLS error: ${why} (use -k/--insecure to accept any certificate${trust})`,
      )
      if (!expired) {
        // What the message says works: Node trusts the certificate, without -k.
        const dir = mkdtempSync(join(tmpdir(), 'sse-probe-ca-'))
        onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
        writeFileSync(join(dir, 'ca.pem'), selfSignedCertificate().cert)
        const env = { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }
        const trusted = await runCli([url, '--json'], { env })
        expect(trusted.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
      }
      expect(refused.stderr).toMatch(/summary {2}connect-failed/)
      const insecure = await runCli([url, '--json', '-k'])
      expect(insecure.exitCode).toBe(0)
      expect(insecure.ofType('event')[0]!.data).toBe('x')
    },
  )

  it('a certificate refused where a redirect led names that origin, not the URL given', async () => {
    const url = await https(false)
    const redirecting = await startServer((_req, res) =>
      res.writeHead(302, { location: `${url}stream?key=s3cret` }).end(),
    )
    const run = await runCli([redirecting.url.replace('//', '//u:s3cret@'), '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.message).toMatch(
      /^after a redirect to https:\/\/127\.0\.0\.1:\d+: TLS error: self-signed certificate \(/,
    )
    expect(run.stdout + run.stderr).not.toContain('s3cret')
  })

  it.each([
    ['127.0.0.1', 'an IP address, which Node lists as none'],
    ['localhost', 'a name'],
  ])(
    'a trusted certificate for another host, asked for %s (%s), names the names it has',
    async (host) => {
      const pair = selfSignedCertificate({ host: 'example.com' })
      const url = await listen(
        createHttpsServer(pair, (_req, res) => res.writeHead(200, SSE).end(END)),
      )
      const dir = mkdtempSync(join(tmpdir(), 'sse-probe-ca-'))
      writeFileSync(join(dir, 'ca.pem'), pair.cert)
      const run = await runCli([url.replace('127.0.0.1', host), '--json'], {
        env: { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') },
      })
      expect(run.exitCode).toBe(3)
      expect(run.summary).toMatchObject({
        reason: 'connect-failed',
        message: `TLS error: the certificate is for DNS:example.com, not ${host} (use -k/--insecure to accept any certificate)`,
      })
    },
  )

  it('plain http:// to a TLS port says the scheme is the likely mistake', async () => {
    const url = await https(false)
    const run = await runCli([url.replace('https:', 'http:'), '--json'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.message).toBe(
      'the server closed the connection without answering (is it an https:// port?)',
    )
  })

  it('a reconnect that the server closes without answering is a server going down, not a TLS port', async () => {
    let requests = 0
    const server = await startServer((req, res) => {
      requests++
      if (requests === 1) res.writeHead(200, SSE).end('retry: 10\ndata: a\n\n')
      else if (requests === 2) req.socket.destroy()
      else res.writeHead(204).end()
    })
    const run = await runCli([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('error').map((r) => [r.attempt, r.message])).toEqual([
      [2, 'the server closed the connection without answering'],
    ])
  })

  it('a server that closes in the middle of its headers is not taken for a TLS port', async () => {
    const server = createNetServer((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/ev')),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const run = await runCli([`http://127.0.0.1:${port}/`, '--json'])
    server.close()
    expect(run.exitCode).toBe(3)
    expect(run.summary.message).toBe(
      'the server closed the connection before its response headers were complete',
    )
  })

  it.each([
    [403, 'the proxy refused the tunnel: HTTP 403 Forbidden'],
    [407, 'the proxy refused the tunnel: HTTP 407 Proxy Authentication Required (give its'],
  ])('a proxy refusing CONNECT (%i) says so', async (status, message) => {
    const proxy = await startServer((_req, res) => res.writeHead(status).end())
    const connects: string[] = []
    proxy.server.on('connect', (req, socket) => {
      connects.push(req.url!)
      socket.end(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\n\r\n`)
    })
    const run = await runCli(['https://127.0.0.1:9/', '--json', '--proxy', proxy.url])
    expect(connects).toEqual(['127.0.0.1:9'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.reason).toBe('connect-failed')
    expect(run.summary.message).toContain(message)
  })

  it('a proxy answering 407 to an http:// URL (no tunnel) says to give its credentials', async () => {
    const proxy = await startServer((_req, res) =>
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="p"' }).end(),
    )
    const run = await runCli(['http://127.0.0.1:9/', '--json', '--proxy', proxy.url])
    expect(proxy.requests.map((req) => req.url)).toEqual(['http://127.0.0.1:9/'])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message:
        'the proxy refused the request: HTTP 407 Proxy Authentication Required (give its credentials in the proxy URL: http://user:password@proxy:3128)',
    })
  })

  it('a proxy that closes the connection of a CONNECT fails the attempt once, not in a tight loop', async () => {
    const proxy = await startServer((_req, res) => res.writeHead(500).end())
    const connects: string[] = []
    proxy.server.on('connect', (req, socket) => {
      connects.push(req.url!)
      socket.destroy()
    })
    const run = await runCli(['https://127.0.0.1:9/', '--json', '--proxy', proxy.url])
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'connect-failed',
      message: 'the proxy closed the connection without answering the tunnel request (CONNECT)',
    })
    expect(connects).toEqual(['127.0.0.1:9'])
  })

  it.each([
    [
      'TLS 1.3',
      'TLSv1.3',
      'the alert "certificate required" (the server requires a client certificate, which sse-probe does not send)',
    ],
    ['TLS 1.2', 'TLSv1.2', 'the alert "handshake failure" (no TLS version or cipher in common, or'],
  ] as const)(
    'a server that requires a client certificate (%s) says so, not "other side closed" or OpenSSL\'s words',
    async (_, maxVersion, alert) => {
      const url = await listen(
        createHttpsServer(
          { ...selfSignedCertificate(), requestCert: true, rejectUnauthorized: true, maxVersion },
          (_req, res) => res.writeHead(200, SSE).end(END),
        ),
      )
      const run = await runCli([url, '--json', '-k'])
      expect(run.exitCode).toBe(3)
      expect(run.summary.reason).toBe('connect-failed')
      expect(run.summary.message).toContain(`TLS handshake failed: the server sent ${alert}`)
    },
  )

  it('a server that chooses h2 in its TLS handshake, then answers in HTTP/1.1, is said to break HTTP/2', async () => {
    const server = createTlsServer(
      { ...selfSignedCertificate(), ALPNProtocols: ['h2'] },
      (socket) =>
        socket.once('data', () =>
          socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n${END}`),
        ),
    )
    const run = await runCli([await listen(server), '--json', '-k'])
    expect(run.exitCode).toBe(3)
    expect(run.summary.message).toBe(
      'the server broke the HTTP/2 protocol (Protocol error); a server that offers h2 in its TLS handshake and answers in HTTP/1.1 does this',
    )
  })

  it('-k works over HTTP/2 too', async () => {
    const url = await listen(
      createSecureServer(selfSignedCertificate(), (_req, res) => res.writeHead(200, SSE).end(END)),
    )
    const refused = await runCli([url, '--json'])
    expect(refused.summary.message).toContain('-k')
    const run = await runCli([url, '--json', '-k'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('open')[0]!.httpVersion).toBe('2')
  })
})
