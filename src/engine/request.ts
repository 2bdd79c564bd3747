import { SseProbeUsageError } from './errors.ts'
import { redactUrl } from './redact.ts'
import { VERSION } from './version.ts'

/** What every request needs: shared by the probe and `check`. */
export interface RequestOptions {
  url: URL
  method: string
  headers: [string, string][]
  /** The request body, sent again on every (re)connection. */
  body?: Buffer
  lastEventId: string
  connectTimeoutMs: number
  insecure: boolean
  proxy?: string
}

/** One HTTP request as sent: what redirects change and a reconnect sends again. */
export interface StreamRequest {
  url: URL
  method: string
  headers: Record<string, string>
  body?: Buffer
}

export const CONNECT_TIMEOUT_MS = 10_000

/** The request options as given (validated values), before defaults and credentials. */
export interface RequestInput {
  url: URL
  method?: string
  headers?: [string, string][]
  body?: Buffer
  lastEventId?: string
  connectTimeoutMs?: number
  insecure?: boolean
  proxy?: string
}

export function toRequestOptions(input: RequestInput): RequestOptions {
  // A Last-Event-ID given with -H is the starting value of the buffer, which owns that header.
  const headers = input.headers ?? []
  const lastEventIdHeader = headers.findLast(([name]) => name.toLowerCase() === 'last-event-id')
  const credentials = basicAuthorization(input.url)
  const hasAuthorization = headers.some(([name]) => name.toLowerCase() === 'authorization')
  return {
    url: credentials ? withoutCredentials(input.url) : input.url,
    method: input.method ?? (input.body !== undefined ? 'POST' : 'GET'),
    headers: [
      ...(credentials && !hasAuthorization
        ? [['Authorization', credentials] as [string, string]]
        : []),
      ...headers.filter(([name]) => name.toLowerCase() !== 'last-event-id'),
    ],
    ...(input.body !== undefined && { body: input.body }),
    lastEventId: input.lastEventId ?? lastEventIdHeader?.[1] ?? '',
    connectTimeoutMs: input.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    insecure: input.insecure ?? false,
    ...(input.proxy !== undefined && { proxy: input.proxy }),
  }
}

/** The first request of a probe or check: the browser's headers, the user's on top. */
export function firstRequest(options: RequestOptions): StreamRequest {
  return {
    url: options.url,
    method: options.method,
    headers: requestHeaders(options, options.body),
    ...(options.body !== undefined && { body: options.body }),
  }
}

/**
 * The request headers: what a browser's EventSource sends, the user's -H on top.
 * No Accept-Encoding: a compressing server may hold events back to fill its
 * buffers, and the probe shows the stream as the server flushes it.
 */
export function requestHeaders(
  options: Pick<RequestOptions, 'headers'>,
  body: Buffer | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'cache-control': 'no-cache',
    'user-agent': `sse-probe/${VERSION}`,
  }
  return withBody(headers, options.headers, body)
}

/** A body's Content-Type as `-d` sends it, then the user's headers on top. */
export function withBody(
  headers: Record<string, string>,
  userHeaders: [string, string][],
  body: Buffer | undefined,
): Record<string, string> {
  if (body !== undefined)
    headers['content-type'] = looksLikeJson(body) ? 'application/json' : 'text/plain;charset=UTF-8'
  // A user header replaces a default; the same name given twice sends both values, as curl does,
  // combined as fetch's Headers.append does (cookies with the separator of a Cookie header).
  const given = new Set<string>()
  for (const [name, value] of userHeaders) {
    const key = name.toLowerCase()
    const previous = given.has(key) ? headers[key] : undefined
    const separator = key === 'cookie' ? '; ' : ', '
    headers[key] =
      previous === undefined ? headerBytes(value) : previous + separator + headerBytes(value)
    given.add(key)
  }
  return headers
}

/** The headers of one attempt: Last-Event-ID when the buffer is not empty, none when it is. */
export function withLastEventId(
  headers: Record<string, string>,
  lastEventId: string,
): Record<string, string> {
  // Copied without `delete`, which would turn the object into a dictionary twice the size (held per connection).
  const withId: Record<string, string> = {}
  for (const name in headers) if (name !== 'last-event-id') withId[name] = headers[name]!
  // [spec] Last-Event-ID is the last event ID string, encoded as UTF-8.
  if (lastEventId !== '') withId['last-event-id'] = headerBytes(lastEventId)
  return withId
}

/** Control characters other than tab, which no HTTP header value may carry (undici refuses them). */
export function hasHeaderControl(text: string): boolean {
  return /[\x00-\x08\x0a-\x1f\x7f]/.test(text)
}

/** Header values are bytes: text goes out as UTF-8 (as curl sends -H), which undici takes as a latin1 string. */
function headerBytes(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text).toString('latin1') : text
}

function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('utf8', 0, 64).trimStart()[0]
  return first === '{' || first === '['
}

/**
 * `https://user:password@host/` sends Basic credentials, as curl does. The URL
 * itself is used without them, so that they never reach a record or the screen.
 */
function basicAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined
  const pair = `${percentDecoded(url.username)}:${percentDecoded(url.password)}`
  return `Basic ${Buffer.from(pair).toString('base64')}`
}

function withoutCredentials(url: URL): URL {
  const bare = new URL(url)
  bare.username = ''
  bare.password = ''
  return bare
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

const PROXY_SCHEMES = ['http:', 'https:', 'socks:', 'socks5:', 'socks5h:']

/** A proxy variable: the URL it names, and its name (HTTPS_PROXY, https_proxy…). */
export interface ProxyVariable {
  url: string
  name: string
}

/**
 * The proxy variables as undici reads them (the lower-case name wins when set, even empty), as
 * URLs: a `host:port` without a scheme (`HTTPS_PROXY=proxy.corp:3128`, common in corporate
 * shells) is http://, as curl reads it; anything else that is not a proxy URL is a usage error,
 * not a crash.
 */
export function proxyVariables(env: NodeJS.ProcessEnv): {
  http?: ProxyVariable
  https?: ProxyVariable
} {
  const variables: { http?: ProxyVariable; https?: ProxyVariable } = {}
  for (const [key, lower, upper] of [
    ['http', 'http_proxy', 'HTTP_PROXY'],
    ['https', 'https_proxy', 'HTTPS_PROXY'],
  ] as const) {
    const name = env[lower] !== undefined ? lower : upper
    const value = env[name]?.trim()
    if (!value) continue
    const url = HOST_AND_PORT.test(value) ? `http://${value}` : value
    let scheme: string | undefined
    try {
      scheme = new URL(url).protocol
    } catch {
      // reported below
    }
    if (scheme === 'socks4:' || scheme === 'socks4a:') {
      throw new SseProbeUsageError(
        `environment variable ${name} '${redactUrl(value)}': SOCKS4 is not supported: give a socks5:// or http:// proxy`,
      )
    }
    if (!scheme || !PROXY_SCHEMES.includes(scheme)) {
      throw new SseProbeUsageError(
        `environment variable ${name} '${redactUrl(value)}' is not a proxy URL such as http://proxy.example:3128`,
      )
    }
    // undici knows no socks5h: its socks5 sends the proxy the host name, as curl's socks5h does.
    variables[key] = { url: url.replace(/^(?:socks5h|socks):/i, 'socks5:'), name }
  }
  return variables
}

// `proxy.corp:3128`, `user:pw@10.0.0.1:3128`, `[::1]:3128`: the URL parser would read a scheme.
const HOST_AND_PORT = /^(?:[^:/?#@\s]+(?::[^/?#@\s]*)?@)?(?:[^:/?#@\s[\]]+|\[[\da-f:.]+\]):\d+\/?$/i

/** Checks the proxy variables before anything is sent (see proxyVariables). */
export function checkProxyVariables(env: NodeJS.ProcessEnv): void {
  proxyVariables(env)
}
