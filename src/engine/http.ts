import { type LookupAddress, type LookupOptions, lookup } from 'node:dns'
import { BlockList, isIP, type Socket } from 'node:net'
import { proxyVariables } from './request.ts'
import {
  Agent,
  buildConnector,
  type Connector,
  type Dispatcher,
  EnvHttpProxyAgent,
  kParser,
  Pool,
  ProxyAgent,
} from './undici-lite.ts'

export interface HttpOptions {
  insecure: boolean
  proxy?: string
  connectTimeoutMs: number
  /** The request's headers: a `Proxy-Authorization` among them goes to the proxy. */
  headers?: readonly (readonly [string, string])[]
}

export interface Http {
  dispatcher: Dispatcher
  /** '2' when the origin's last TLS handshake chose h2, '1.0' when its last connection answered HTTP/1.0, else '1.1'. */
  httpVersion(origin: string): string
  /** Whether a connection to the origin was made (TCP and TLS done); false through --proxy. */
  connected(origin: string): boolean
  /** Ends every connection, those still connecting too: what ending an attempt needs. */
  destroy(): Promise<void>
}

/**
 * The proxy a request to the URL is sent to, and who named it: `--proxy`, else the variable undici
 * reads for its scheme, https falling back to the http one (NO_PROXY aside: a host it names fails
 * under its own name).
 */
export function proxyOf(
  url: URL,
  proxy: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { url: URL; from: string } | undefined {
  if (proxy) {
    const parsed = URL.parse(proxy)
    return parsed ? { url: parsed, from: '--proxy' } : undefined
  }
  const { http, https } = proxyVariables(env)
  const variable = (url.protocol === 'https:' ? https : undefined) ?? http
  return variable && { url: new URL(variable.url), from: variable.name }
}

/** The proxy variables' URLs, for undici (which would read a `host:port` as a URL with a scheme). */
function proxyUrls(env: NodeJS.ProcessEnv): { httpProxy?: string; httpsProxy?: string } {
  const { http, https } = proxyVariables(env)
  return { ...(http && { httpProxy: http.url }), ...(https && { httpsProxy: https.url }) }
}

/**
 * A dispatcher for one connection attempt (connection.ts destroys it to end the attempt), or one
 * shared by many probes (`load`). Body and header timeouts are off: a quiet stream is healthy,
 * and the probe enforces --idle-timeout and --connect-timeout itself.
 */
export function createHttp(options: HttpOptions): Http {
  // Without -k, Node's default: it honours NODE_TLS_REJECT_UNAUTHORIZED=0 (and warns of it), as
  // every Node client does. The key is left out: an undefined one would verify nothing at all.
  const tls = {
    ...(options.insecure && { rejectUnauthorized: false }),
    timeout: options.connectTimeoutMs,
  }
  // HTTP/2 when the server offers it over TLS, as browsers do.
  const common = { bodyTimeout: 0, headersTimeout: 0, allowH2: true }
  // As curl: plain http:// goes to the proxy in absolute form, https:// through CONNECT
  // (many proxies refuse CONNECT to port 80).
  // `-H 'Proxy-Authorization: …'` is the proxy's, as curl sends it: undici refuses it among a
  // request's headers ("should be sent in ProxyAgent constructor"), and takes it as `token`.
  const proxyAuthorization = options.headers?.findLast(
    ([name]) => name.toLowerCase() === 'proxy-authorization',
  )?.[1]
  // No proxyTls for a SOCKS5 proxy: undici would speak TLS to it, which it does not answer.
  const proxied = (...uris: (string | undefined)[]) => {
    const socks = uris.some((uri) => uri !== undefined && SOCKS.test(uri))
    return {
      ...common,
      requestTls: tls,
      ...(!socks && { proxyTls: tls }),
      proxyTunnel: false,
      clientFactory: tunnelFailsOnce,
      ...(proxyAuthorization !== undefined && { token: proxyAuthorization }),
    }
  }
  if (options.proxy) {
    const dispatcher = withoutProxyAuthorization(
      new ProxyAgent({ ...proxied(options.proxy), uri: options.proxy }),
      proxyAuthorization,
    )
    return {
      dispatcher,
      httpVersion: () => '1.1',
      connected: () => false,
      destroy: () => dispatcher.destroy(),
    }
  }
  // undici does not say which protocol a response came over; the ALPN result of the socket does.
  const alpnByOrigin = new Map<string, string>()
  const connect = buildConnector({ ...tls, allowH2: true, lookup: loopbackLookup })
  // Sockets still in their TCP or TLS handshake. Destroying the dispatcher does not end them:
  // undici waits for the handshake to finish or time out (--connect-timeout, 10s by default), and
  // until then the socket keeps the process alive after the probe has ended (a server that
  // accepts and never answers the TLS hello, an address that drops the SYN).
  const connecting = new Set<Socket>()
  const connector: Connector = (target, callback) => {
    const pending = connect(target, (error, socket) => {
      connecting.delete(pending)
      if (socket) {
        keepTlsAlert(socket as Socket)
        const alpn = (socket as { alpnProtocol?: string | false }).alpnProtocol
        const key = originKey(target.protocol, target.hostname, target.port)
        alpnByOrigin.set(key, alpn === 'h2' ? '2' : '1.1')
        if (alpn !== 'h2') {
          firstResponse(socket as Socket, () => alpnByOrigin.set(key, '1.0'))
          resetIsABreak(socket as Socket)
          resumeAtEnd(socket as Socket)
          bareLineFeeds(socket as Socket)
        }
      }
      callback(error as null, socket as never)
    }) as unknown as Socket
    connecting.add(pending)
  }
  // With proxy variables, the hosts NO_PROXY names are reached directly through the same connector
  // (the proxied ones go through the proxy's own, over HTTP/1.1).
  const proxies = proxyUrls(process.env)
  const direct = () => new Agent({ ...common, connect: connector })
  const dispatcher =
    proxies.httpProxy || proxies.httpsProxy
      ? withoutProxyAuthorization(
          withAddressRanges(
            new EnvHttpProxyAgent({
              ...proxied(proxies.httpProxy, proxies.httpsProxy),
              ...proxies,
              connect: connector,
            }),
            direct,
          ),
          proxyAuthorization,
        )
      : direct()
  return {
    dispatcher,
    httpVersion: (origin) => alpnByOrigin.get(keyOf(origin)) ?? '1.1',
    // Set once a socket to the origin is connected (its TLS handshake done).
    connected: (origin) => alpnByOrigin.has(keyOf(origin)),
    destroy() {
      // The dispatcher first: a handshake failed now is then no error of a live client's.
      const destroyed = dispatcher.destroy()
      for (const socket of connecting) socket.destroy(new Error('connection attempt ended'))
      connecting.clear()
      return destroyed
    },
  }
}

/**
 * The NO_PROXY entries undici does not read, as curl (7.86 and later), Go and Python read them:
 * address ranges (`10.0.0.0/8`, `fd00::/8`, common in corporate settings) and IPv6 addresses
 * without brackets (`::1`, which undici takes for the host `:` and port 1). A URL whose host is an
 * address they cover goes direct; the rest is undici's (names, `*`, ports). Nothing is added when
 * NO_PROXY has no such entry.
 */
function withAddressRanges(proxied: Dispatcher, direct: () => Dispatcher): Dispatcher {
  const ranges = new BlockList()
  let any = false
  for (const entry of (process.env.no_proxy ?? process.env.NO_PROXY ?? '').split(/[,\s]/)) {
    const [address, bits, extra] = entry.replace(/^\[(.*)\]$/, '$1').split('/')
    const family = isIP(address!)
    if (!family || extra !== undefined || (bits === undefined && family === 4)) continue
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    if (!/^\d+$/.test(bits ?? '0') || prefix > (family === 4 ? 32 : 128)) continue
    ranges.addSubnet(address!, prefix, family === 4 ? 'ipv4' : 'ipv6')
    any = true
  }
  if (!any) return proxied
  const agent = direct()
  const covered = (origin: string | URL | undefined): boolean => {
    const host = URL.parse(String(origin))?.hostname.replace(/^\[(.*)\]$/, '$1') ?? ''
    const family = isIP(host)
    return family !== 0 && ranges.check(host, family === 4 ? 'ipv4' : 'ipv6')
  }
  // What the engine calls on a dispatcher: dispatch, close (trigger.ts) and destroy, nothing else.
  return Object.assign(Object.create(proxied) as Dispatcher, {
    dispatch: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) =>
      covered(options.origin)
        ? agent.dispatch(options, handler)
        : proxied.dispatch(options, handler),
    close: () => Promise.all([proxied.close(), agent.close()]).then(() => {}),
    destroy: () => Promise.all([proxied.destroy(), agent.destroy()]).then(() => {}),
  })
}

/**
 * The dispatcher, with the `Proxy-Authorization` the user `given` taken out of the headers of the
 * requests given it (the proxy agents send it, and undici refuses it there); a host NO_PROXY names
 * has no use for it. Without one, the dispatcher as it is: no request's headers are copied.
 */
function withoutProxyAuthorization(dispatcher: Dispatcher, given: string | undefined): Dispatcher {
  if (given === undefined) return dispatcher
  const dispatch = dispatcher.dispatch.bind(dispatcher)
  return Object.assign(dispatcher, {
    dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
      // connection.ts and trigger.ts give a plain object.
      const headers = options.headers
      if (!headers || Array.isArray(headers) || Symbol.iterator in headers) {
        return dispatch(options, handler)
      }
      const kept = Object.entries(headers).filter(
        ([name]) => name.toLowerCase() !== 'proxy-authorization',
      )
      return dispatch({ ...options, headers: Object.fromEntries(kept) }, handler)
    },
  })
}

const SOCKS = /^socks5?:/i

/** `localhost`, `localhost.` and `*.localhost`: loopback names (RFC 6761). */
const LOOPBACK_NAME = /(?:^|\.)localhost\.?$/i
const LOOPBACK: LookupAddress[] = [
  { address: '::1', family: 6 },
  { address: '127.0.0.1', family: 4 },
]

/**
 * The system's lookup, but a loopback name is both loopback addresses, as curl and browsers read
 * it: many hosts files map `localhost` to 127.0.0.1 alone, and a dev server listening on ::1
 * only (Vite, Node's own default on some systems) would be refused. Node tries each in turn.
 */
function loopbackLookup(
  hostname: string,
  options: LookupOptions,
  callback: (
    error: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void,
): void {
  if (!LOOPBACK_NAME.test(hostname)) {
    lookup(hostname, options, callback as never)
    return
  }
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family
  const addresses = LOOPBACK.filter((entry) => !family || entry.family === family)
  if (options.all) callback(null, addresses)
  else callback(null, addresses[0]!.address, addresses[0]!.family)
}

/**
 * The client to a proxy. undici 7 takes a proxy that closes the connection of a tunnel's CONNECT
 * for a connection that broke, and so connects again at once, for ever (tens of thousands of
 * connections a second, until --connect-timeout; nodejs/undici#3897, fixed in undici 8): under
 * another code the attempt fails, once, and says why (a reset as well, which read as the server's).
 */
function tunnelFailsOnce(origin: URL, options: object): Dispatcher {
  const pool = new Pool(origin, options)
  const connect = pool.connect.bind(pool) as (
    options: Dispatcher.ConnectOptions,
  ) => Promise<Dispatcher.ConnectData>
  Object.assign(pool, {
    connect: (options: Dispatcher.ConnectOptions) =>
      connect(options).catch((error: NodeJS.ErrnoException) => {
        // A reset too is the proxy's (a policy that drops the host, say), not the server's.
        const how =
          error?.code === 'UND_ERR_SOCKET'
            ? 'closed the connection'
            : error?.code === 'ECONNRESET'
              ? 'reset the connection'
              : undefined
        if (how === undefined) throw error
        throw Object.assign(
          new Error(`the proxy ${how} without answering the tunnel request (CONNECT)`, {
            cause: error,
          }),
          { code: 'SSE_PROBE_PROXY_CLOSED' },
        )
      }),
  })
  return pool
}

/**
 * The start of the socket's first response, the first bytes undici reads from it. Calls back when
 * it is HTTP/1.0 (Python's http.server, Werkzeug), which undici does not say. Drops the
 * `100 Continue` responses before it: HTTP lets a server send them unasked (and Chromium skips
 * them), but undici fails the request on one ('bad response').
 */
function firstResponse(socket: Socket, onHttp10: () => void): void {
  const read = socket.read
  socket.read = function (this: Socket, size?: number) {
    const chunk: Buffer | null = read.call(this, size)
    if (chunk === null) return chunk
    const rest = withoutContinues(chunk)
    // Only a 100 Continue so far: the response itself is still to come.
    if (rest.length === 0) return socket.read(size)
    socket.read = read
    if (rest.toString('latin1', 0, 9) === 'HTTP/1.0 ') onHttp10()
    return rest
  }
}

const CONTINUE = /^HTTP\/1\.[01] 100[ \r\n]/

/** The bytes after the whole `100 Continue` responses they start with (one cut short is left). */
function withoutContinues(chunk: Buffer): Buffer {
  let at = 0
  while (CONTINUE.test(chunk.toString('latin1', at, at + 13))) {
    const end = pastBlankLine(chunk, at)
    if (end === -1) break
    at = end
  }
  return at === 0 ? chunk : chunk.subarray(at)
}

/** Where the first blank line after `from` ends, -1 if none: a bare LF ends a line too (bareLineFeeds). */
function pastBlankLine(chunk: Buffer, from: number): number {
  for (let lf = chunk.indexOf(10, from); lf !== -1; lf = chunk.indexOf(10, lf + 1)) {
    const next = chunk[lf + 1] === 13 ? lf + 2 : lf + 1
    if (chunk[next] === 10) return next + 1
  }
  return -1
}

/**
 * undici ends a body that runs to the connection's close (HTTP/1.0, no length, not chunked) as a
 * complete one when the connection is reset (client-h1.js, for macOS): a server that crashed in
 * the middle of the stream would read as a clean close (`--reconnect on-error` would stop). A reset
 * is a break, as in Chromium (ERR_CONNECTION_RESET) and cli.md: its code is renamed before undici
 * sees it, so that undici fails the body with it.
 */
function resetIsABreak(socket: Socket): void {
  socket.prependListener('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ECONNRESET') error.code = 'ECONNRESET (a break)'
  })
}

/**
 * A TLS 1.3 server checks the client's certificate after the handshake, and its alert ("certificate
 * required") comes as the socket's first error; undici then reports its own "other side closed"
 * for the close that follows. The alert becomes that error's cause, which describeError reads.
 */
function keepTlsAlert(socket: Socket): void {
  let alert: Error | undefined
  socket.prependListener('error', (error: NodeJS.ErrnoException) => {
    if (alert === undefined) {
      if (error.code?.startsWith('ERR_SSL_')) alert = error
    } else if (error !== alert) error.cause ??= alert
  })
}

/** What of undici's HTTP/1 parser (client-h1.js) resumeAtEnd and bareLineFeeds touch. */
interface H1Parser {
  paused: boolean
  ptr: number
  llhttp: {
    llhttp_resume(ptr: number): void
    llhttp_set_lenient_optional_cr_before_lf(ptr: number, on: number): void
  }
}

const parserOf = (socket: Socket) => (socket as unknown as Record<symbol, H1Parser | null>)[kParser]

/**
 * Lines that end in a bare LF (`printf 'HTTP/1.1 200 OK\n…'`, a hand-made server) are read as
 * Chromium reads them, and as RFC 9112 (2.2) lets a recipient: llhttp refuses them unless told.
 * Set before undici's first read, once its parser exists (connectH1 makes it after this connector);
 * an llhttp without the switch (another undici) reads as before.
 */
function bareLineFeeds(socket: Socket): void {
  socket.prependOnceListener('readable', () => {
    const parser = parserOf(socket)
    parser?.llhttp.llhttp_set_lenient_optional_cr_before_lf?.(parser.ptr, 1)
  })
}

/**
 * undici 7 throws from the socket's 'end' listener (an AssertionError nothing can catch: exit 70)
 * when the server closes the connection while the parser is paused, its body held back under
 * backpressure (nodejs/undici#5360, fixed in undici 8): a compressed body that decodes slower
 * than it arrives, then ends. Paused with the socket at its end, the parser has handed every byte
 * on (any rest would still be in the socket, which would not have ended): it is unpaused, as
 * undici 8 does, for undici to finish the response; the reader, paused still, takes that end in
 * its turn (dispatch.ts).
 */
function resumeAtEnd(socket: Socket): void {
  socket.prependListener('end', () => {
    const parser = parserOf(socket)
    if (!parser?.paused) return
    parser.llhttp.llhttp_resume(parser.ptr)
    parser.paused = false
  })
}

function originKey(protocol: string, hostname: string, port: string): string {
  return `${protocol}//${hostname}:${port || (protocol === 'https:' ? '443' : '80')}`
}

function keyOf(origin: string): string {
  const url = new URL(origin)
  return originKey(url.protocol, url.hostname, url.port)
}
