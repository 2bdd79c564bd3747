import { readFileSync } from 'node:fs'
import { MAX_DELAY_MS, parseDuration } from './duration.ts'
import { fileProblem, SseProbeUsageError, SseProbeWholeUsageError } from './errors.ts'
import { visible } from './escape.ts'
import { userRegex } from './regex.ts'
import { hasHeaderControl } from './request.ts'

/**
 * The validators of option values, shared by the CLI (as commander's argument parsers) and the
 * library (on its camelCase options). Each throws a SseProbeUsageError saying what it expected;
 * the caller names the option and the value (options.ts, or commander).
 */

export function durationArg(text: string): number {
  const ms = parseDuration(text)
  const bare = /^\d+(?:\.\d+)?$/.exec(text.trim())?.[0]
  if (bare !== undefined && ms === undefined) throw new BareNumberError(bare)
  if (ms === undefined) {
    throw new SseProbeUsageError('expected a duration such as 250ms, 5s, 2m, 1h or 1m30s')
  }
  if (ms > MAX_DELAY_MS) throw new SseProbeUsageError('expected a duration of at most 24 days')
  return ms
}

/** --retry: milliseconds, as the `retry:` field it mirrors; a unit is allowed. */
export function retryArg(text: string): number {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return durationArg(`${trimmed}ms`)
  // Not "expected a duration": the flag is documented as milliseconds.
  if (parseDuration(trimmed) === undefined)
    throw new SseProbeUsageError(
      'expected milliseconds (0 or more), e.g. 3000, or a duration such as 3s',
    )
  return durationArg(trimmed)
}

export function positiveDurationArg(text: string): number {
  const ms = durationArg(text)
  if (ms <= 0) throw new SseProbeUsageError('expected a duration greater than zero')
  return ms
}

// Commander passes the previous value as a second argument, so the bound is not a parameter.
export function countArg(text: string): number {
  return wholeNumber(text, 0, '(0 or more)')
}

// One message for '0', '-1' and '1.5': naming "0 or more" for a flag that refuses 0 misleads.
export function positiveCountArg(text: string): number {
  return wholeNumber(text, 1, 'of at least 1')
}

function wholeNumber(text: string, least: number, expected: string): number {
  const count = /^\d+$/.test(text.trim()) ? Number(text) : -1
  if (count < least) throw new SseProbeUsageError(`expected a whole number ${expected}`)
  // Past 2^53 a number is no longer the one typed (99999999999999999999 reads as 1e20): an
  // expectation's name would not say what was asked.
  if (!Number.isSafeInteger(count))
    throw new SseProbeUsageError(
      `expected a whole number ${expected}, at most ${Number.MAX_SAFE_INTEGER}`,
    )
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
  if (!match || unit === undefined) {
    throw new SseProbeUsageError('expected a size in bytes such as 65536, 64KiB or 16MiB')
  }
  const bytes = Math.floor(Number(match[1]) * unit)
  if (bytes < 1) throw new SseProbeUsageError('expected a size of at least 1 byte')
  return bytes
}

/**
 * A proxy URL (`--proxy`, the library's `proxy`): an http:// or https:// one as urlArg reads it, or
 * a SOCKS5 proxy as curl names it (`socks5://`, `socks5h://`, `socks://`), made `socks5://` for
 * undici, which sends the proxy the host name as curl's `socks5h://` does.
 */
export function proxyArg(text: string): URL {
  const trimmed = text.trim()
  const socks = /^(?:socks5h?|socks):\/\//i.exec(trimmed)
  if (!socks) {
    if (/^socks4a?:\/\//i.test(trimmed)) {
      throw new SseProbeUsageError('SOCKS4 is not supported: give a socks5:// or http:// proxy')
    }
    return urlArg(text)
  }
  const url = URL.parse(`socks5://${trimmed.slice(socks[0].length)}`)
  if (!url?.hostname) {
    throw new SseProbeUsageError('expected a proxy URL such as socks5://proxy.example:1080')
  }
  return url
}

/**
 * A URL without a scheme means http:// (`localhost:8000/stream`), and `:8000/stream` means
 * localhost, as HTTPie reads them.
 */
export function urlArg(text: string): URL {
  let url: URL
  const trimmed = text.trim()
  // `./session.ndjson` would otherwise become the host `.`, and a failed DNS lookup of it.
  if (isFilePath(trimmed)) {
    // `/api/stream` may as well be the server's path as a file's.
    throw new SseProbeUsageError(
      trimmed.startsWith('/')
        ? `expected an http:// or https:// URL: a path needs a host, e.g. localhost:8000${trimmed}`
        : NOT_A_FILE_PATH,
    )
  }
  // `'localhost:8000/x'` from cmd.exe, which passes single quotes on: a host `'localhost` otherwise.
  if (/^(['"]).*\1$/.test(trimmed)) {
    throw new SseProbeUsageError(
      'expected an http:// or https:// URL: leave out the quotes around it (cmd.exe passes them on)',
    )
  }
  // `https//host`: the colon left out would make `https` the host, and a failed DNS lookup of it.
  const colonless = /^(https?)\/\/(.*)$/i.exec(trimmed)
  if (colonless) {
    throw new SseProbeUsageError(
      `expected an http:// or https:// URL: did you mean ${colonless[1]}://${colonless[2]}?`,
    )
  }
  // `8000` or `8000/stream`: a port, not the host 0.0.31.64 the URL parser makes of a number.
  const port = /^(\d{1,5})([/?#].*)?$/.exec(trimmed)
  if (port && Number(port[1]) <= 65535) {
    const rest = port[2] ?? ''
    throw new SseProbeUsageError(
      `expected an http:// or https:// URL: a number alone is no host; for a port on this machine, write :${port[1]}${rest} or localhost:${port[1]}${rest}`,
    )
  }
  // `http:/host` too: a slash short, as browsers and the URL parser read it (not a host `http`).
  const full = /^(?:[a-z][a-z\d+.-]*:\/\/|https?:\/)/i.test(trimmed)
    ? trimmed
    : trimmed.startsWith(':')
      ? `http://localhost${trimmed}`
      : trimmed.startsWith('/')
        ? trimmed
        : `http://${trimmed}`
  try {
    url = new URL(full)
  } catch {
    // `localhost:80000`: the URL parser's refusal would otherwise read as a missing scheme.
    const port = /^[a-z]+:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(full)?.[1]
    // `https://` or `http://:8000/`: a URL that names no server, which the refusal alone hides.
    const noHost = /^[a-z]+:\/\/(?:[^/?#]*@)?(?::\d*)?(?:[/?#]|$)/i.test(full)
    // `::1:8000`: an IPv6 address without the brackets that set it apart from the port.
    const host = trimmed.replace(/^[a-z]+:\/\//i, '').split(/[/?#]/)[0]!
    const ipv6 = /^[\da-f:.]+$/i.test(host) && (host.includes('::') || host.split(':').length > 3)
    throw new SseProbeUsageError(
      port !== undefined && Number(port) > 65535
        ? `port ${port} is out of range (0 to 65535)`
        : `expected an http:// or https:// URL${noHost ? ': this one has no host' : ipv6 ? ': an IPv6 address goes in brackets, e.g. [::1]:8000' : ''}`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SseProbeUsageError(`expected an http:// or https:// URL, not ${url.protocol}`)
  }
  return url
}

export const NOT_A_FILE_PATH = 'expected an http:// or https:// URL, not a file path'

/** `./x`, `../x`, `/x`, `~/x` (and Windows' `.\x`): a file, not a URL (`//host/x` is one). */
export function isFilePath(text: string): boolean {
  return /^(?:\.{1,2}[\\/]|~[\\/]|\/(?!\/))/.test(text)
}

/** A browser origin (scheme, host, port), as a page at that address sends it in `Origin`. */
export function originArg(text: string): string {
  // No scheme implied here: a page's origin is http or https, and CORS tells them apart.
  const url = text.includes('://') ? urlArg(text) : undefined
  if (url?.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new SseProbeUsageError(
      'expected an origin such as https://app.example (scheme, host and port only)',
    )
  }
  return url.origin
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

export function headerArg(text: string, previous: [string, string][] = []): [string, string][] {
  // HTTP field values allow tabs but no other control character (CR and LF would inject headers).
  if (hasHeaderControl(text)) {
    throw new SseProbeUsageError('a header must not contain CR, LF or other control characters')
  }
  const colon = text.indexOf(':')
  if (colon < 1) throw new SseProbeUsageError('expected "Name: value"')
  const name = text.slice(0, colon).trim()
  if (!HEADER_NAME.test(name)) throw new SseProbeUsageError(`"${name}" is not a valid header name`)
  const value = text.slice(colon + 1).trim()
  checkFraming(name, value, previous)
  return [...previous, [name, value]]
}

// Headers that frame the message, which the HTTP client (undici) writes itself and refuses from a
// caller: refused here, before any request, rather than as a failed connection.
const CLIENT_HEADERS = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect'])

function checkFraming(name: string, value: string, previous: [string, string][]): void {
  const key = name.toLowerCase()
  if (CLIENT_HEADERS.has(key)) {
    throw new SseProbeUsageError(`sse-probe cannot send ${name}: its HTTP client sets that header`)
  }
  if (key === 'connection' && !value.split(',').every((token) => HEADER_NAME.test(token.trim()))) {
    throw new SseProbeUsageError('Connection takes a list of header names, such as close')
  }
  if (key === 'content-length') {
    if (!/^\d+$/.test(value)) throw new SseProbeUsageError('Content-Length takes a number of bytes')
    if (previous.some(([other]) => other.toLowerCase() === key)) {
      throw new SseProbeUsageError('Content-Length given twice')
    }
  }
}

/** --last-event-id: sent as a header, so held to the same rules as a header value. */
export function lastEventIdArg(text: string): string {
  if (hasHeaderControl(text)) {
    throw new SseProbeUsageError('an id must not contain CR, LF or other control characters')
  }
  return text
}

export interface DataPattern {
  source: string
  regex: RegExp
}

export function regexArg(text: string, previous: DataPattern[] = []): DataPattern[] {
  return [...previous, { source: text, regex: compileRegex(text) }]
}

/** A regular expression from a flag, or a usage error that says what is wrong with it. */
export function compileRegex(text: string): RegExp {
  try {
    return userRegex(text)
  } catch (error) {
    // V8 says `Invalid regular expression: /(/: Unterminated group`: the prefix once is enough.
    const why = (error as Error).message.replace(/^Invalid regular expression: /, '')
    throw new SseProbeUsageError(`not a valid regular expression: ${why}`)
  }
}

// As fetch: these cannot carry an event stream.
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])

export function methodArg(text: string): string {
  if (!HEADER_NAME.test(text)) {
    throw new SseProbeUsageError('expected an HTTP method such as GET or POST')
  }
  if (FORBIDDEN_METHODS.has(text.toUpperCase())) {
    throw new SseProbeUsageError(
      `${text.toUpperCase()} is a method fetch refuses to send (CONNECT, TRACE, TRACK)`,
    )
  }
  return text.toUpperCase()
}

export function portArg(text: string): number {
  const port = countArg(text)
  if (port > 65535) {
    throw new SseProbeUsageError('expected a port number from 0 to 65535 (0: any free port)')
  }
  return port
}

export function speedArg(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new SseProbeUsageError(
      'expected a number: 1 plays the recorded timing, 2 twice as fast, 0 as fast as possible',
    )
  }
  return Number(text)
}

/** `<text|@file>`: the text, or the file's content. `@-` (stdin) is the CLI's to read. */
export function bodyArg(data: string, flag: string): Buffer {
  if (!data.startsWith('@')) return Buffer.from(data)
  try {
    return readFileSync(data.slice(1))
  } catch (error) {
    throw new SseProbeUsageError(
      `option '${flag}' cannot read '${data.slice(1)}': ${fileProblem(error)}`,
    )
  }
}

/** A number where a duration is expected: cli.md's message suggests both readings. */
class BareNumberError extends SseProbeUsageError {
  readonly bare: string
  constructor(bare: string) {
    super(`add a unit, e.g. ${bare}s or ${bare}ms`)
    this.bare = bare
  }
}

/**
 * A value given to an option: the message names both as the CLI's user typed them. `flag`: the
 * flag's text (`-t, --timeout <duration>`).
 */
export function invalidOption(flag: string, value: string, reason: string): SseProbeUsageError {
  // The value escaped as the CLI shows it: the message stays one line whatever was passed.
  return new SseProbeUsageError(
    `option '${flag}' argument '${visible(value)}' is invalid. ${reason}`,
  )
}

/** invalidOption for what a validator threw; a bare number reads as cli.md shows it. */
export function invalidOptionError(
  flag: string,
  value: string,
  error: SseProbeUsageError,
): SseProbeUsageError {
  if (!(error instanceof BareNumberError)) return invalidOption(flag, value, error.message)
  const long = /--[\w-]+/.exec(flag)?.[0] ?? flag
  return new SseProbeWholeUsageError(`${long} ${error.bare}: ${error.message}`)
}
