import { MAX_DELAY_MS, parseDuration } from './duration.ts'
import { redactUrl } from './redact.ts'
import { type DisplayOptions, type RawDisplayFlags, toDisplayOptions } from './render/display.ts'
import { hasHeaderControl } from './request.ts'

/**
 * Thrown for bad flags and arguments: the CLI prints the message and exits 2.
 * Shaped like commander's InvalidArgumentError, so that commander names the flag and value.
 */
export class UsageError extends Error {
  override name = 'UsageError'
  readonly code = 'commander.invalidArgument'
  readonly exitCode = 2
}

export type Format = 'pretty' | 'json' | 'raw'
export const FORMATS: readonly Format[] = ['pretty', 'json', 'raw']

export interface ExpectationSpec {
  events: string[]
  dataPatterns: { source: string; regex: RegExp }[]
  minEvents?: number
  end: boolean
  reconnect: boolean
  maxGapMs?: number
}

/** What every request needs: shared by the probe and `check`. */
export interface RequestOptions {
  url: URL
  method: string
  headers: [string, string][]
  /** `-d` as given: text, `@file` or `@-`; read just before connecting. */
  data?: string
  lastEventId: string
  connectTimeoutMs: number
  insecure: boolean
  proxy?: string
}

export interface ProbeOptions extends RequestOptions {
  retryMs: number
  reconnect: boolean
  maxReconnects: number
  maxEventSize: number
  pingEvent: string
  endEvents: string[]
  endData: string[]
  maxEvents?: number
  durationMs?: number
  timeoutMs?: number
  idleTimeoutMs?: number
  expect: ExpectationSpec
  format: Format
  color?: boolean
  hidePings: boolean
  include: boolean
  display: DisplayOptions
  quiet: boolean
  showSecrets: boolean
  /** --record: the transcript file. */
  record?: string
}

// Validators for commander's argParser: each names what it expected, commander adds the flag and value.

export function durationArg(text: string): number {
  const ms = parseDuration(text)
  if (ms === undefined)
    throw new UsageError('expected a duration such as 250ms, 5s, 2m, 1h or bare milliseconds')
  if (ms > MAX_DELAY_MS) throw new UsageError('expected a duration of at most 24 days')
  return ms
}

export function positiveDurationArg(text: string): number {
  const ms = durationArg(text)
  if (ms <= 0) throw new UsageError('expected a duration greater than zero')
  return ms
}

export function countArg(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError('expected a whole number (0 or more)')
  return Number(text)
}

export function positiveCountArg(text: string): number {
  const count = countArg(text)
  if (count < 1) throw new UsageError('expected a whole number of at least 1')
  return count
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
}

export function byteSizeArg(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined
  if (!match || unit === undefined)
    throw new UsageError('expected a size in bytes such as 65536, 64KiB or 16MiB')
  const bytes = Math.floor(Number(match[1]) * unit)
  if (bytes < 1) throw new UsageError('expected a size of at least 1 byte')
  return bytes
}

export function urlArg(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`expected an http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`expected an http:// or https:// URL, not ${url.protocol}`)
  }
  return url
}

/** A browser origin (scheme, host, port), as a page at that address sends it in `Origin`. */
export function originArg(text: string): string {
  const url = urlArg(text)
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new UsageError(
      'expected an origin such as https://app.example (scheme, host and port only)',
    )
  }
  return url.origin
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// HTTP field values allow tabs but no other control character (CR and LF would inject headers).

export function headerArg(text: string, previous: [string, string][] = []): [string, string][] {
  if (hasHeaderControl(text))
    throw new UsageError('a header must not contain CR, LF or other control characters')
  const colon = text.indexOf(':')
  if (colon < 1) throw new UsageError('expected "Name: value"')
  const name = text.slice(0, colon).trim()
  if (!HEADER_NAME.test(name)) throw new UsageError(`"${name}" is not a valid header name`)
  return [...previous, [name, text.slice(colon + 1).trim()]]
}

/** --last-event-id: sent as a header, so held to the same rules as a header value. */
export function lastEventIdArg(text: string): string {
  if (hasHeaderControl(text))
    throw new UsageError('an id must not contain CR, LF or other control characters')
  return text
}

export function regexArg(text: string, previous: ExpectationSpec['dataPatterns'] = []) {
  try {
    return [...previous, { source: text, regex: new RegExp(text) }]
  } catch (error) {
    throw new UsageError(`not a valid regular expression: ${(error as Error).message}`)
  }
}

// As fetch: these cannot carry an event stream.
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])

export function methodArg(text: string): string {
  if (!HEADER_NAME.test(text)) throw new UsageError('expected an HTTP method such as GET or POST')
  if (FORBIDDEN_METHODS.has(text.toUpperCase()))
    throw new UsageError(`${text.toUpperCase()} cannot open an event stream`)
  return text.toUpperCase()
}

export function portArg(text: string): number {
  const port = countArg(text)
  if (port > 65535)
    throw new UsageError('expected a port number from 0 to 65535 (0: any free port)')
  return port
}

export function speedArg(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim()))
    throw new UsageError(
      'expected a number: 1 plays the recorded timing, 2 twice as fast, 0 as fast as possible',
    )
  return Number(text)
}

export function formatArg(text: string): Format {
  if (!(FORMATS as readonly string[]).includes(text))
    throw new UsageError(`expected one of ${FORMATS.join(', ')}`)
  return text as Format
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** The request flags as commander parsed them (addRequestOptions in args.ts). */
export interface RawRequestFlags {
  method?: string
  header?: [string, string][]
  data?: string
  lastEventId?: string
  connectTimeout: number
  insecure?: boolean
  proxy?: string
}

/** The flags as commander parsed them (see args.ts). */
export interface RawProbeFlags extends RawRequestFlags, RawDisplayFlags {
  retry: number
  reconnect: boolean
  maxReconnects?: number
  maxEventSize: number
  pingEvent: string
  endEvent?: string[] | false
  endData?: string[]
  maxEvents?: number
  duration?: number
  timeout?: number
  idleTimeout?: number
  expectEvent?: string[]
  expectData?: ExpectationSpec['dataPatterns']
  expectMinEvents?: number
  expectEnd?: boolean
  expectReconnect?: boolean
  expectMaxGap?: number
  format: Format
  json?: boolean
  color?: boolean
  hidePings?: boolean
  include?: boolean
  quiet?: boolean
  showSecrets?: boolean
  record?: string
}

/** `sse-probe demo`: the probe's stream, expectation and output flags, and the endpoint's own. */
export type DemoFlags = Omit<RawProbeFlags, 'connectTimeout'> & {
  serveOnly?: boolean
  port: number
}

export interface ServeFlags {
  port: number
  speed: number
  loop?: boolean
  interval?: number
}

export const CONNECT_TIMEOUT_MS = 10_000

export function toRequestOptions(url: URL, flags: RawRequestFlags): RequestOptions {
  // A Last-Event-ID given with -H is the starting value of the buffer, which owns that header.
  const headers = flags.header ?? []
  const lastEventIdHeader = headers.findLast(([name]) => name.toLowerCase() === 'last-event-id')
  const credentials = basicAuthorization(url)
  const hasAuthorization = headers.some(([name]) => name.toLowerCase() === 'authorization')
  return {
    url: credentials ? withoutCredentials(url) : url,
    method: flags.method ?? (flags.data !== undefined ? 'POST' : 'GET'),
    headers: [
      ...(credentials && !hasAuthorization
        ? [['Authorization', credentials] as [string, string]]
        : []),
      ...headers.filter(([name]) => name.toLowerCase() !== 'last-event-id'),
    ],
    data: flags.data,
    lastEventId: flags.lastEventId ?? lastEventIdHeader?.[1] ?? '',
    connectTimeoutMs: flags.connectTimeout,
    insecure: flags.insecure ?? false,
    proxy: flags.proxy,
  }
}

export function toProbeOptions(url: URL, flags: RawProbeFlags): ProbeOptions {
  if (flags.json && flags.format !== 'pretty' && flags.format !== 'json') {
    throw new UsageError(`--json conflicts with --format ${flags.format}`)
  }
  return {
    ...toRequestOptions(url, flags),
    retryMs: flags.retry,
    reconnect: flags.reconnect,
    maxReconnects: flags.maxReconnects ?? Infinity,
    maxEventSize: flags.maxEventSize,
    pingEvent: flags.pingEvent,
    endEvents: flags.endEvent === false ? [] : (flags.endEvent ?? ['end']),
    endData: flags.endData ?? [],
    maxEvents: flags.maxEvents,
    durationMs: flags.duration,
    timeoutMs: flags.timeout,
    idleTimeoutMs: flags.idleTimeout,
    expect: {
      events: flags.expectEvent ?? [],
      dataPatterns: flags.expectData ?? [],
      minEvents: flags.expectMinEvents,
      end: flags.expectEnd ?? false,
      reconnect: flags.expectReconnect ?? false,
      maxGapMs: flags.expectMaxGap,
    },
    format: flags.json ? 'json' : flags.format,
    color: flags.color,
    hidePings: flags.hidePings ?? false,
    include: flags.include ?? false,
    display: toDisplayOptions(flags),
    quiet: flags.quiet ?? false,
    showSecrets: flags.showSecrets ?? false,
    record: flags.record,
  }
}

/**
 * `https://user:password@host/` sends Basic credentials, as curl does. The URL
 * itself is used without them, so that they never reach a record or the screen.
 */
function basicAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined
  return `Basic ${Buffer.from(`${percentDecoded(url.username)}:${percentDecoded(url.password)}`).toString('base64')}`
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

const PROXY_SCHEMES = ['http:', 'https:', 'socks:', 'socks5:']

/** The proxy variables undici reads (lower case first): a malformed one is a usage error, not a crash. */
export function checkProxyVariables(env: NodeJS.ProcessEnv): void {
  for (const [lower, upper] of [
    ['http_proxy', 'HTTP_PROXY'],
    ['https_proxy', 'HTTPS_PROXY'],
  ] as const) {
    const name = env[lower] !== undefined ? lower : upper
    const value = env[name]
    if (!value) continue
    let scheme: string | undefined
    try {
      scheme = new URL(value).protocol
    } catch {
      // reported below
    }
    if (!scheme || !PROXY_SCHEMES.includes(scheme)) {
      throw new UsageError(
        `environment variable ${name} '${redactUrl(value)}' is not a proxy URL such as http://proxy.example:3128`,
      )
    }
  }
}
