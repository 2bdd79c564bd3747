import { STATUS_CODES } from 'node:http'
import type { Dispatcher } from 'undici'
import type { CookieJar } from './cookies.ts'
import { undecodable } from './decompress.ts'
import { type Body, sendRequest } from './dispatch.ts'
import { describeError, failedAtProxy, PROXY_CREDENTIALS_HINT } from './errors.ts'
import { clipped, SHOWN_MAX } from './escape.ts'
import { createHttp, type Http, type HttpOptions, proxyOf } from './http.ts'
import type { Verdict } from './reconnect.ts'
import { redactSent, redactUrl, sentSecrets } from './redact.ts'
import type { StreamRequest } from './request.ts'

export type Attempt =
  | {
      type: 'response'
      verdict: Verdict
      /** The request as redirects left it (URL, method, body, credentials): what a reconnect sends again. */
      request: StreamRequest
      url: string
      /** '2' or '1.1', as the TLS handshake chose. */
      httpVersion: string
      status: number
      statusText: string
      headers: Record<string, string>
      body: Body
      /** Closes the connection (and its dispatcher): call once the body is no longer read. */
      release(): void
      /** Why the response was refused. */
      message?: string
      /** The start of a refused response's body, on one line. */
      excerpt?: string
    }
  | {
      type: 'network-error'
      message: string
      /** The connect timeout came after a connection was made: the response headers never did. */
      connected?: true
      /**
       * An http: server closed without a byte, as a TLS port does: SCHEME_HINT says so where the
       * URL has not answered before (on a reconnect it is a server going down, not a wrong scheme).
       */
      silent?: true
    }

export const MAX_REDIRECTS = 20
const EXCERPT_BYTES = 300
const EXCERPT_WAIT_MS = 1000
// Credentials that fetch drops when a redirect leaves the origin (the jar's cookies follow the
// jar's own domain rules instead), and the model providers' API keys, credentials as much
// (cli.md: credentials are not forwarded to another origin).
const ORIGIN_BOUND_HEADERS = [
  'authorization',
  'cookie',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
]

/**
 * One connection attempt: follows redirects, classifies the response as the
 * EventSource rules do, and never throws (a transport error is an outcome).
 * With a cookie jar, every response's cookies are kept and every request sends the jar's.
 */
export async function openStream(
  request: StreamRequest,
  options: HttpOptions,
  signal: AbortSignal,
  shared?: Http,
  cookies?: CookieJar,
  /** Each request as sent (a redirect's too), its cookies included: what -v shows. */
  onRequest?: (request: StreamRequest) => void,
): Promise<Attempt> {
  // A dispatcher of its own: destroying it ends the attempt at once wherever it is (connecting,
  // in a proxy's tunnel, waiting for headers, reading), which aborting a request does not (undici 7
  // leaves connects pending and opens spare connections), and it is what `release` frees.
  // A shared one (thousands of probes in `load`) is never destroyed: its request is aborted.
  const http = shared ?? createHttp(options)
  const { dispatcher, httpVersion, connected } = http
  const aborter = shared ? new AbortController() : undefined
  const destroy = aborter ? () => aborter.abort() : () => void http.destroy().catch(() => {})
  const release = () => {
    signal.removeEventListener('abort', destroy)
    if (!shared) destroy()
  }
  signal.addEventListener('abort', destroy, { once: true })
  if (signal.aborted) destroy()
  let timedOut = false
  const connectTimer = setTimeout(() => {
    timedOut = true
    destroy()
  }, options.connectTimeoutMs)
  let { url, method, headers, body } = request
  // Only a stream that is read keeps its connection; everything else is released on the way out.
  let keep = false
  try {
    for (let redirects = 0; ; redirects++) {
      // The cookies a response set before this request (a redirect's) go with it.
      const storing = cookies?.settled()
      if (storing) await storing
      const sent = cookies ? cookies.headersFor(url, headers) : headers
      onRequest?.({ url, method, headers: sent, ...(body && { body }) })
      const response = await sendRequest(
        dispatcher,
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: method as Dispatcher.HttpMethod,
          headers: sent,
          body,
        },
        aborter?.signal,
      )
      // Every response's, as a browser keeps them: a redirect's, an error's, a 204's too.
      const setCookie = response.headers['set-cookie']
      if (cookies && setCookie !== undefined) cookies.store(url, setCookie)
      const responseHeaders = flattenHeaders(response.headers)
      const location = responseHeaders.location
      if (isRedirect(response.statusCode) && location !== undefined && redirects < MAX_REDIRECTS) {
        response.body.destroy()
        const next = URL.parse(locationText(location), url.href)
        if (next?.protocol !== 'http:' && next?.protocol !== 'https:') {
          const target = next ? 'a URL that is not http(s)' : 'an invalid URL'
          return {
            type: 'network-error',
            message: `HTTP ${response.statusCode} redirect to ${target}, not followed: ${clipped(redactUrl(location), SHOWN_MAX)}`,
          }
        }
        if (next.origin !== url.origin) headers = omit(headers, ORIGIN_BOUND_HEADERS)
        // As fetch: 303 always, and 301/302 after a POST, continue as a GET without a body.
        if (
          response.statusCode === 303 ||
          ((response.statusCode === 301 || response.statusCode === 302) && method === 'POST')
        ) {
          if (method !== 'HEAD') method = 'GET'
          body = undefined
          headers = omit(headers, ['content-type', 'content-length'])
        }
        url = next
        continue
      }
      clearTimeout(connectTimer)
      const contentType = responseHeaders['content-type']
      const encoding = responseHeaders['content-encoding']
      // A redirect with a Location is followed: one still there went round more than the limit.
      const classified =
        isRedirect(response.statusCode) && location !== undefined
          ? 'too-many-redirects'
          : classify(response.statusCode, contentType)
      // A body in a coding the probe cannot undo is no event stream it can read either (a browser
      // would parse the compressed bytes as text: garbage at best).
      const unreadable = classified === 'ok' ? undecodable(encoding) : undefined
      const verdict = unreadable === undefined ? classified : 'not-event-stream'
      const attempt = {
        type: 'response' as const,
        verdict,
        request: { url, method, headers, body },
        url: url.href,
        httpVersion: httpVersion(url.origin),
        status: response.statusCode,
        statusText: clipped(response.statusText, SHOWN_MAX),
        headers: responseHeaders,
        body: response.body,
        release,
      }
      keep = verdict === 'ok'
      if (verdict === 'ok') return attempt
      if (verdict === 'no-content')
        return { ...attempt, message: 'HTTP 204 No Content: the server asked the client to stop' }
      const excerpt = await readExcerpt(response.body, sentSecrets(url, Object.entries(sent)))
      // HTTP/2 has no reason phrase: use the standard one.
      const reason = attempt.statusText || STATUS_CODES[response.statusCode]
      const status = `HTTP ${response.statusCode}${reason ? ` ${reason}` : ''}`
      const why =
        verdict === 'too-many-redirects'
          ? `${status}: too many redirects (more than ${MAX_REDIRECTS})${selfRedirect(location)}`
          : unreadable !== undefined
            ? `${status} with ${unreadable}`
            : verdict === 'not-event-stream'
              ? `${status} with Content-Type ${shownContentType(contentType)}, not text/event-stream`
              : isRedirect(response.statusCode)
                ? `${status} without a Location header: a redirect to nowhere`
                : status
      // cli.md: a refused response's record carries its body, an empty one too.
      return { ...attempt, message: why, excerpt }
    }
  } catch (error) {
    const timeout = timedOut || (error as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT'
    if (!timeout) {
      const proxyAuthorization = options.headers?.some(
        ([name]) => name.toLowerCase() === 'proxy-authorization',
      )
      const message = unanswered(error, url, options.proxy, proxyAuthorization)
      if (message === SILENT) return { type: 'network-error', message, silent: true }
      // A TLS error or refusal at the origin a redirect led to would read as the URL's own.
      const elsewhere =
        url.origin !== request.url.origin ? `after a redirect to ${url.origin}: ` : ''
      return { type: 'network-error', message: elsewhere + message }
    }
    const within = `within ${options.connectTimeoutMs}ms (--connect-timeout)`
    // A server that took the request and holds its headers back (nginx's proxy_buffering, PHP's
    // output_buffering: they go out with the first full buffer) is no unreachable host. A shared
    // dispatcher's connection to the origin may be another request's: only our own one tells.
    const made = !shared && connected(url.origin)
    return {
      type: 'network-error',
      message: made
        ? `the server took the connection but sent no response headers ${within}: it or a proxy may be buffering the response`
        : `no response ${within}`,
      ...(made && { connected: true as const }),
    }
  } finally {
    clearTimeout(connectTimer)
    if (!keep) release()
  }
}

const SILENT = 'the server closed the connection without answering'
/** What a silent close on the first contact adds: the likely mistake. */
export const SCHEME_HINT = ' (is it an https:// port?)'

/**
 * A TLS server that gets a plain HTTP request closes the connection without a word (Node, Go):
 * undici's 'other side closed' does not say that the scheme is the likely mistake.
 */
function unanswered(
  error: unknown,
  url: URL,
  proxyFlag: string | undefined,
  proxyAuthorization = false,
): string {
  const message = describeError(error)
  // "getaddrinfo ENOTFOUND proxy.corp" reads as a wrong URL: name the proxy and who set it.
  const proxy = proxyOf(url, proxyFlag)
  if (proxy && failedAtProxy(error, url, proxy.url)) {
    // Not its origin: a socks5:// URL's is "null".
    return `cannot reach the proxy ${proxy.url.protocol}//${proxy.url.host} (${proxy.from}): ${message}`
  }
  // An http:// URL has no certificate: through an https:// proxy, a TLS error is the proxy's.
  if (proxy?.url.protocol === 'https:' && url.protocol === 'http:' && message.startsWith('TLS ')) {
    return `the proxy ${proxy.url.protocol}//${proxy.url.host} (${proxy.from}): ${message}`
  }
  // A 407 to a proxy URL that had credentials: asking for them again would send the user looking
  // for where to put them.
  if ((proxyAuthorization || proxy?.url.username) && message.endsWith(PROXY_CREDENTIALS_HINT)) {
    const refused = message.slice(0, -PROXY_CREDENTIALS_HINT.length)
    const given = proxyAuthorization ? '-H Proxy-Authorization' : `the proxy URL (${proxy!.from})`
    return `${refused} (the credentials in ${given} were refused)`
  }
  if (message === 'other side closed' && url.protocol === 'http:') {
    // undici says what the socket had read: a part of a response is no TLS server's silence.
    const read = (error as { socket?: { bytesRead?: number } }).socket?.bytesRead
    return read
      ? 'the server closed the connection before its response headers were complete'
      : SILENT
  }
  // Node's words name neither who reset nor when: before any answer (in a TLS handshake too).
  if (message === 'read ECONNRESET')
    return 'the server reset the connection before answering (ECONNRESET)'
  return message
}

function classify(status: number, contentType: string | undefined): Verdict {
  if (status === 204) return 'no-content'
  if (status !== 200) return 'http-error'
  return isEventStreamType(contentType) ? 'ok' : 'not-event-stream'
}

/** A response's Content-Type as a message quotes it: one that is missing or empty says so. */
export function shownContentType(contentType: string | undefined): string {
  if (contentType === undefined) return '(none)'
  return contentType.trim() === '' ? '(empty)' : clipped(contentType, SHOWN_MAX)
}

/** [spec] the MIME type essence must be text/event-stream; parameters such as charset are allowed. */
export function isEventStreamType(contentType: string | undefined): boolean {
  return mimeEssence(contentType ?? '') === 'text/event-stream'
}

const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+"
const ESSENCE = new RegExp(`^${TOKEN}/${TOKEN}$`)

/** [spec] fetch's "extract a MIME type": of several values (repeated headers joined by commas) the last valid one counts. */
function mimeEssence(contentType: string): string | undefined {
  let essence: string | undefined
  // A comma inside a quoted parameter value does not separate values.
  for (const value of contentType.match(/(?:"(?:\\.|[^"\\])*"?|[^,"])+/g) ?? []) {
    const candidate = value.split(';')[0]!.trim().toLowerCase()
    if (ESSENCE.test(candidate) && candidate !== '*/*') essence = candidate
  }
  return essence
}

/**
 * Fetch follows an empty Location to the URL itself (an empty relative reference), round and
 * round until its limit, where Chromium takes the response for no redirect: say why it looped.
 */
function selfRedirect(location: string | undefined): string {
  return location?.trim() === '' ? ', each to the same URL: the Location header is empty' : ''
}

/**
 * A Location's bytes as URL text, as Chromium reads them: undici gives a header value's bytes as
 * Latin-1 characters, which the URL parser would encode as UTF-8 again (`é` sent as UTF-8 became
 * %C3%83%C2%A9); each byte past ASCII is percent-encoded as itself instead.
 */
function locationText(location: string): string {
  return location.replace(/[\x80-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

function omit(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())),
  )
}

/**
 * The start of a refused response's body, on one line, to show with the error. An error page may
 * quote the request back: the `secrets` it was sent (sentSecrets) are <redacted>, not even shown
 * in a transcript nor with --show-secrets (they are the user's own).
 */
export function readExcerpt(body: Body, secrets: readonly string[]): Promise<string> {
  const chunks: Buffer[] = []
  let length = 0
  // Past the excerpt by the longest secret: one cut in two by its end would show its start.
  const wanted = EXCERPT_BYTES + Buffer.byteLength(secrets[0] ?? '')
  return new Promise((resolve) => {
    // A body that breaks or dawdles still leaves what arrived.
    const done = () => {
      clearTimeout(gaveUp)
      body.destroy()
      resolve(excerpt(chunks, secrets, length > wanted))
    }
    const gaveUp = setTimeout(done, EXCERPT_WAIT_MS)
    body.read({
      onData(chunk) {
        chunks.push(chunk)
        length += chunk.length
        if (length >= wanted) done()
      },
      onEnd: () => done(),
    })
  })
}

/** `cut`: reading stopped before the body's end, which redacting may have made shorter than the excerpt. */
function excerpt(chunks: Buffer[], secrets: readonly string[], cut: boolean): string {
  const whole = Buffer.from(redactSent(Buffer.concat(chunks).toString('utf8'), secrets))
  const text = whole.subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\s+/g, ' ').trim()
  return cut || whole.length > EXCERPT_BYTES ? `${text}…` : text
}
