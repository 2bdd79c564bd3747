import { maxHeaderSize, STATUS_CODES } from 'node:http'
import { clipped, SHOWN_MAX } from './escape.ts'

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

// A certificate whose issuer Node does not trust (self-signed, a company's own CA, the TLS
// inspection of a corporate proxy): NODE_EXTRA_CA_CERTS makes Node trust it, as it does curl's.
const UNKNOWN_ISSUER = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
])

interface ErrorLike {
  message?: string
  code?: string
  cause?: unknown
  errors?: unknown[]
}

// undici's words for a response it will not read, which name neither the response nor the problem.
const UNDICI_WORDS: Record<string, string> = {
  // undici's SOCKS5 client, whose words do not say whose authentication.
  'No acceptable authentication method':
    'the SOCKS5 proxy wants credentials: give them in the proxy URL, socks5://user:password@proxy:1080',
  'Authentication failed': 'the SOCKS5 proxy refused the credentials in the proxy URL',
  'bad upgrade':
    'the server switched protocols (HTTP 101 Switching Protocols) though the request asked for no upgrade',
  'bad response':
    'the server sent a response sse-probe cannot read (an interim 100 Continue that came in pieces, or an answer to no request)',
  // llhttp's words for a first response byte that starts no status line: binary frames from a
  // server that speaks HTTP/2 alone (gRPC, h2c), or another protocol on that port.
  'Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)':
    'the server does not answer in HTTP/1.1: an HTTP/2-only server without TLS (gRPC, h2c), or no HTTP server on that port',
  // llhttp's words for a header line that starts with a space or tab: a continuation of the one
  // before (obs-fold), which browsers join to it and llhttp refuses.
  'Response does not match the HTTP/1.1 protocol (Unexpected whitespace after header value)':
    'the response continues a header on the next line (obsolete line folding), which sse-probe cannot read; browsers do',
  // A chunked body closed before its last chunk, on a connection not kept alive: no protocol
  // violation, and the same close as on a kept-alive one.
  'Response does not match the HTTP/1.1 protocol (Invalid EOF state)': 'other side closed',
  // undici puts this in place of llhttp's reason for any header it refuses once a Content-Length
  // has come (a second one included); llhttp reads such a body to its length, so no real mismatch.
  'Response body length does not match content-length header':
    'Response does not match the HTTP/1.1 protocol (a second Content-Length, or an invalid header after the Content-Length)',
}

interface AltnameError extends ErrorLike {
  host?: string
  cert?: { subjectaltname?: string; subject?: { CN?: string } }
}

/**
 * Node's words for a certificate of other names list only those of the kind asked for: "IP:
 * 127.0.0.1 is not in the cert's list: " ends in nothing for a certificate of DNS names. All of
 * its names are said (cut: a CDN's certificate has hundreds).
 */
function altnameWords(e: AltnameError): string | undefined {
  if (e.code !== 'ERR_TLS_CERT_ALTNAME_INVALID' || !e.host) return undefined
  const names = e.cert?.subjectaltname || (e.cert?.subject?.CN && `CN:${e.cert.subject.CN}`)
  if (!names) return undefined
  return `the certificate is for ${clipped(names, SHOWN_MAX)}, not ${e.host}`
}

/** The way past a certificate that is not trusted, for a request that takes -k. */
const INSECURE_HINT = 'use -k/--insecure to accept any certificate'

// Node's words for one address it could not connect to: "connect ECONNREFUSED ::1:8000".
const CONNECT_FAILURE = /^connect (E[A-Z]+) (\S+)$/

/**
 * The parts of an error on one line. Happy eyeballs (localhost is ::1 and 127.0.0.1) fails once
 * per address, for the same reason: said once, with the addresses it tried.
 */
function sameFailure(parts: string[]): string {
  const failures = parts.map((part) => CONNECT_FAILURE.exec(part))
  const [first] = failures
  if (parts.length > 1 && failures.every((failure) => failure && failure[1] === first![1]))
    return `connect ${first![1]} ${failures.map((failure) => failure![2]).join(', ')}`
  return parts.join(': ')
}

/** What a 407 from a proxy is told, unless its URL gave credentials (connection.ts says so then). */
export const PROXY_CREDENTIALS_HINT =
  ' (give its credentials in the proxy URL: http://user:password@proxy:3128)'

/**
 * One line for a transport error. undici's errors nest the reason in `cause` and
 * happy-eyeballs failures in `AggregateError.errors`; the user wants the innermost.
 * `inBody`: the error broke a response body, so its headers came in the protocol agreed.
 */
export function describeError(
  error: unknown,
  certificateHint = INSECURE_HINT,
  inBody = false,
): string {
  const parts: string[] = []
  let tls = false
  let unknownIssuer = false
  let overflow = false
  let http2 = false
  const visit = (value: unknown, depth: number) => {
    if (depth > 5 || value === null || typeof value !== 'object') return
    const e = value as ErrorLike
    if (e.code && TLS_CODES.has(e.code)) tls = true
    if (e.code && UNKNOWN_ISSUER.has(e.code)) unknownIssuer = true
    if (e.code === 'UND_ERR_HEADERS_OVERFLOW') overflow = true
    if (e.code === 'ERR_HTTP2_ERROR') http2 = true
    const message = altnameWords(e) ?? e.message?.trim()
    if (message && !parts.some((part) => part.includes(message))) parts.push(message)
    for (const inner of e.errors ?? []) visit(inner, depth + 1)
    visit(e.cause, depth + 1)
  }
  visit(error, 0)
  // undici's "Headers Overflow Error" names neither whose headers nor the limit (node's, 16 KiB
  // unless --max-http-header-size says otherwise). In a body, they are the trailers after it.
  if (overflow) {
    const limit =
      maxHeaderSize % 1024 === 0 ? `${maxHeaderSize / 1024} KiB` : `${maxHeaderSize} bytes`
    const what = inBody ? 'trailers (headers after a chunked body)' : 'headers'
    return `the response ${what} are larger than ${limit}, more than sse-probe reads`
  }
  const generic = /^(fetch failed|terminated|other side closed)$/
  const specific = parts.filter((part) => !generic.test(part))
  const line = sameFailure(specific.length > 0 ? specific : parts) || String(error)
  const said = UNDICI_WORDS[line]
  if (said !== undefined) return said
  // undici's words for a SOCKS5 proxy's reply to the CONNECT ("Connection refused", "TTL expired").
  const socks = /^SOCKS5 connection failed: (.*)$/.exec(line)
  if (socks) return `the SOCKS5 proxy could not connect to the server: ${socks[1]!.toLowerCase()}`
  const goaway = /^HTTP\/2: "GOAWAY" frame received with code (\d+)$/.exec(line)
  if (goaway) return goawayWords(Number(goaway[1]))
  // OpenSSL's words for a TLS hello answered in plain HTTP.
  if (/wrong version number|packet length too long|ssl3_get_record|http request/i.test(line)) {
    return 'TLS handshake failed: the server speaks plain HTTP on that port; use http:// instead of https://'
  }
  // undici's words for a proxy that answered CONNECT with anything but 200, or a 407 to a request
  // of an http:// URL (sent to the proxy whole, no tunnel).
  const tunnel = /^Proxy response \((\d+)\) !== 200 when HTTP Tunneling$/.exec(line)
  const refused = tunnel ?? /^Proxy Authentication Required \((407)\)$/.exec(line)
  if (refused) {
    const status = Number(refused[1])
    const auth = status === 407 ? PROXY_CREDENTIALS_HINT : ''
    const what = tunnel ? 'tunnel' : 'request'
    return (
      `the proxy refused the ${what}: HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() + auth
    )
  }
  // nghttp2's words ("Protocol error") name neither the protocol nor who broke it. Once the
  // headers came in HTTP/2 the server speaks it: in a body, the likely break is a length.
  if (http2) {
    const likely = inBody
      ? 'a body longer or shorter than its Content-Length does this'
      : 'a server that offers h2 in its TLS handshake and answers in HTTP/1.1 does this'
    return `the server broke the HTTP/2 protocol (${line}); ${likely}`
  }
  const alert = tlsAlert(line)
  if (alert !== undefined) return alert
  if (/socket disconnected before secure TLS connection/i.test(line)) {
    return 'the server closed the connection during the TLS handshake (is it an https:// port?)'
  }
  if (!tls) return line
  const trust =
    unknownIssuer && certificateHint === INSECURE_HINT
      ? ', or trust its issuer with NODE_EXTRA_CA_CERTS=ca.pem'
      : ''
  return `TLS error: ${line} (${certificateHint}${trust})`
}

// HTTP/2's error codes (RFC 9113, section 7), named as Node names a stream's.
const HTTP2_ERRORS = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
]

/** undici's words for a GOAWAY give its code as a bare number ("code 11"), which few know by heart. */
function goawayWords(code: number): string {
  const name = HTTP2_ERRORS[code]
  if (code === 0)
    return 'the server closed the HTTP/2 connection (GOAWAY without error, as a server that shuts down does)'
  return `the server closed the HTTP/2 connection (GOAWAY with error code ${name ? `NGHTTP2_${name}` : code})`
}

// OpenSSL's words, file and line included: "C0…:error:0A000410:SSL routines:ssl3_read_bytes:ssl/tls
// alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 40".
const OPENSSL_ERROR = /^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):/i

// What the server's alert most likely means to a user of sse-probe (which sends no client
// certificate, and speaks TLS 1.2 and 1.3, as Node does).
const ALERT_MEANINGS: Record<string, string> = {
  'certificate required': 'the server requires a client certificate, which sse-probe does not send',
  'handshake failure':
    'no TLS version or cipher in common, or the server requires a client certificate, which sse-probe does not send',
  'protocol version': 'no TLS version in common: sse-probe speaks TLS 1.2 and 1.3',
}

/** One line for an OpenSSL error: the alert the server sent and what it likely means, or the reason. */
function tlsAlert(line: string): string | undefined {
  const reason = OPENSSL_ERROR.exec(line)?.[1]
  if (reason === undefined) return undefined
  const alert = /alert (.+)$/.exec(reason)?.[1]
  if (alert === undefined) return `TLS error: ${reason}`
  const meaning = ALERT_MEANINGS[alert]
  return `TLS handshake failed: the server sent the alert "${alert}"${meaning ? ` (${meaning})` : ''}`
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' }
const portOf = (url: URL) => url.port || DEFAULT_PORTS[url.protocol] || ''

/**
 * Whether a transport error is the proxy's, not the target's: Node's connect and DNS errors name
 * the host or port they tried, and through a proxy that is the proxy's. Where the two share the
 * name or port, nothing tells them apart: false.
 */
export function failedAtProxy(error: unknown, target: URL, proxy: URL): boolean {
  const visit = (value: unknown, depth: number): boolean => {
    if (depth > 5 || value === null || typeof value !== 'object') return false
    const e = value as ErrorLike & { hostname?: string; port?: number; syscall?: string }
    if (e.syscall === 'getaddrinfo' && e.hostname !== undefined) {
      return e.hostname === proxy.hostname && proxy.hostname !== target.hostname
    }
    if (e.syscall === 'connect' && e.port !== undefined) {
      return String(e.port) === portOf(proxy) && portOf(proxy) !== portOf(target)
    }
    return (e.errors ?? []).some((inner) => visit(inner, depth + 1)) || visit(e.cause, depth + 1)
  }
  return visit(error, 0)
}

// A newcomer reads these better than the code, which `ENOENT` alone is.
const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a part of its path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
}

/** Why a file could not be read or written, in words where the code has common ones. */
export function fileProblem(error: unknown): string {
  const { code, message } = error as ErrorLike
  return (code && FILE_PROBLEMS[code]) || code || message || String(error)
}

/**
 * A bad option, flag or argument: the CLI prints the message and exits 2, the library throws it
 * synchronously. Shaped like commander's InvalidArgumentError, so that commander names the flag
 * and the value when one of its argument parsers throws it.
 */
export class SseProbeUsageError extends Error {
  override name = 'SseProbeUsageError'
  readonly code: string = 'commander.invalidArgument'
  readonly exitCode = 2
}

/**
 * A usage error whose message names the flag and the value itself (cli.md's `--timeout 5: add a
 * unit, e.g. 5s or 5ms`): commander passes it on as it is instead of naming them again.
 */
export class SseProbeWholeUsageError extends SseProbeUsageError {
  override readonly code = 'sse-probe.usage'
}
