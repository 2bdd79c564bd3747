import { isRegExp, isUint8Array } from 'node:util/types'
import { MAX_DELAY_MS } from './duration.ts'
import { SseProbeUsageError } from './errors.ts'
import type { ExpectationSpec } from './expectations.ts'
import type { ProbeExtension } from './extension.ts'
import type { Http } from './http.ts'
import { userRegex } from './regex.ts'
import { type RequestInput, type RequestOptions, toRequestOptions } from './request.ts'
import {
  byteSizeArg,
  type DataPattern,
  durationArg,
  headerArg,
  invalidOption,
  invalidOptionError,
  lastEventIdArg,
  methodArg,
  positiveDurationArg,
  proxyArg,
  regexArg,
  retryArg,
  urlArg,
} from './validate.ts'

/** The hooks of a ProbeExtension (extension.ts), each a function when given. */
const EXTENSION_HOOKS = ['onRecord', 'afterRead', 'isControlEvent', 'settle', 'finish'] as const

/** When a closed or broken stream is reconnected (cli.md, --reconnect). */
export type ReconnectWhen = 'always' | 'on-error' | 'never'
export const RECONNECT_WHEN: readonly ReconnectWhen[] = ['always', 'on-error', 'never']

export interface ReconnectOptions {
  /** The initial reconnection time, replaced by every valid `retry:` field. */
  retryMs: number
  when: ReconnectWhen
  /** Reconnects in a row without an event before giving up. */
  maxReconnects: number
}

interface StreamOptions {
  maxEventSize: number
  pingEvent: string
}

/** When the probe ends by itself (cli.md, "When the probe ends"). */
interface EndOptions {
  endEvents: string[]
  endData: string[]
  maxEvents?: number
  durationMs?: number
  timeoutMs?: number
  idleTimeoutMs?: number
}

/**
 * A probe's options, in the parts each layer takes: the request (connection.ts), the reconnect
 * policy (reconnect.ts), the stream (stream.ts), the end conditions and the expectations
 * (session.ts, expectations.ts). Display options are the CLI's own (cli/output.ts).
 */
export interface ProbeOptions {
  request: RequestOptions
  reconnect: ReconnectOptions
  stream: StreamOptions
  end: EndOptions
  expect: ExpectationSpec
  /** Records show credentials (URL user:password, Authorization, Cookie, API keys) instead of <redacted>. */
  showSecrets: boolean
  /** A transcript file: every record as a JSON line, credentials always redacted. */
  record?: string
  extensions: ProbeExtension[]
  /** Connections through this dispatcher (createHttp) instead of one per attempt: `load` runs thousands of probes. */
  http?: Http
}

/** The options as validated values (milliseconds, parsed headers): what the CLI's flags become. */
export interface ProbeInput extends RequestInput {
  retryMs?: number
  /** false: never (--no-reconnect). Default: always for GET, on-error for other methods. */
  reconnect?: ReconnectWhen | boolean
  maxReconnects?: number
  maxEventSize?: number
  pingEvent?: string
  /** false: no end event (--no-end-event). */
  endEvents?: string[] | false
  endData?: string[]
  maxEvents?: number
  durationMs?: number
  timeoutMs?: number
  idleTimeoutMs?: number
  expect?: Partial<ExpectationSpec>
  showSecrets?: boolean
  record?: string
  extensions?: ProbeExtension[]
  http?: Http
}

const DEFAULT_RETRY_MS = 3000
const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 ** 2

export function toProbeOptions(input: ProbeInput): ProbeOptions {
  const request = toRequestOptions(input)
  const endEvents = input.endEvents === false ? [] : (input.endEvents ?? ['end'])
  const expectEvents = input.expect?.events ?? []
  namedTypes('endEvent', endEvents)
  namedTypes('expectEvent', expectEvents)
  const reconnect =
    input.reconnect === false
      ? 'never'
      : input.reconnect === true || input.reconnect === undefined
        ? // As fetch-based clients: re-sending a POST after a complete answer costs money.
          request.method === 'GET'
          ? 'always'
          : 'on-error'
        : input.reconnect
  return {
    request,
    reconnect: {
      retryMs: input.retryMs ?? DEFAULT_RETRY_MS,
      when: reconnect,
      maxReconnects: input.maxReconnects ?? Infinity,
    },
    stream: {
      maxEventSize: input.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE,
      pingEvent: input.pingEvent ?? 'ping',
    },
    end: {
      endEvents,
      endData: input.endData ?? [],
      maxEvents: input.maxEvents,
      durationMs: input.durationMs,
      timeoutMs: input.timeoutMs,
      idleTimeoutMs: input.idleTimeoutMs,
    },
    expect: {
      events: expectEvents,
      dataPatterns: input.expect?.dataPatterns ?? [],
      minEvents: input.expect?.minEvents,
      end: input.expect?.end ?? false,
      reconnect: input.expect?.reconnect ?? false,
      maxGapMs: input.expect?.maxGapMs,
    },
    showSecrets: input.showSecrets ?? false,
    ...(input.record !== undefined && { record: input.record }),
    extensions: input.extensions ?? [],
    ...(input.http !== undefined && { http: input.http }),
  }
}

/** Event types to end or expect on: an empty one would match nothing, an event without a type being a message. */
export function namedTypes(flag: Flag, types: readonly string[]) {
  if (types.includes(''))
    throw invalidOption(FLAGS[flag], '', 'an event without a type is a message: name one')
}

/** A duration in the library's options: a string with a unit, or milliseconds. */
export type Duration = string | number

/** Headers as the library takes them (headerLines reads them). */
export type HeaderLines =
  | string
  | readonly string[]
  | Readonly<Record<string, string>>
  | Headers
  | ReadonlyMap<string, string>

/** `probe(url, options)`: every option of `sse-probe <url>` by its long name in camelCase. */
export interface ProbeLibraryOptions extends RequestLibraryOptions {
  /** Milliseconds, as the `retry:` field it mirrors. */
  retry?: Duration
  /** When to reconnect; false = never. Default: always for GET, on-error otherwise. */
  reconnect?: ReconnectWhen | boolean
  maxReconnects?: number
  /** Bytes, or a size such as '64KiB'. */
  maxEventSize?: number | string
  pingEvent?: string
  /** false: do not end on any event type (default 'end'). */
  endEvent?: string | readonly string[] | false
  endData?: string | readonly string[]
  maxEvents?: number
  duration?: Duration
  timeout?: Duration
  idleTimeout?: Duration
  expectEvent?: string | readonly string[]
  expectData?: string | RegExp | readonly (string | RegExp)[]
  expectMinEvents?: number
  expectEnd?: boolean
  expectReconnect?: boolean
  expectMaxGap?: Duration
  showSecrets?: boolean
  /** A transcript file, as `--record` writes it. */
  record?: string
  /** Ends the probe as abort() does. */
  signal?: AbortSignal
  /** Consumers taking part in the probe (see ProbeExtension). */
  extensions?: readonly ProbeExtension[]
  /** @internal One dispatcher for many probes (createHttp), as `load` runs them. */
  http?: Http
}

/**
 * The CLI's spelling of each option: a bad value in the library is reported exactly as the CLI
 * reports it (cli/args.ts defines the flags with these).
 */
const FLAGS = {
  method: '-X, --method <method>',
  header: '-H, --header <"Name: value">',
  data: '-d, --data <text|@file|@->',
  lastEventId: '--last-event-id <id>',
  connectTimeout: '--connect-timeout <duration>',
  insecure: '-k, --insecure',
  proxy: '--proxy <url>',
  retry: '--retry <ms>',
  reconnect: '--reconnect <when>',
  maxReconnects: '--max-reconnects <n>',
  maxEventSize: '--max-event-size <bytes>',
  pingEvent: '--ping-event <type>',
  endEvent: '--end-event <type>',
  endData: '--end-data <text>',
  maxEvents: '-n, --max-events <n>',
  duration: '--duration <duration>',
  timeout: '-t, --timeout <duration>',
  idleTimeout: '--idle-timeout <duration>',
  expectEvent: '--expect-event <type>',
  expectData: '--expect-data <regex>',
  expectMinEvents: '--expect-min-events <n>',
  expectMaxGap: '--expect-max-gap <duration>',
  record: '--record <file>',
  expectEnd: '--expect-end',
  expectReconnect: '--expect-reconnect',
  showSecrets: '--show-secrets',
  expectLlm: '--expect-llm',
  strict: '--strict',
  loop: '--loop',
  window: '--window <duration>',
  origin: '--origin <origin>',
  port: '--port <n>',
  speed: '--speed <x>',
  interval: '--interval <duration>',
} as const

export type Flag = keyof typeof FLAGS

/** Runs a validator on a value as the CLI would, naming the option in the error. */
export function checked<T>(flag: Flag, text: string, parse: (text: string) => T): T {
  return checkedAs(FLAGS[flag], text, parse)
}

/** `checked` for an option named by its flag's text (the contracts' flags are not in FLAGS). */
export function checkedAs<T>(flagText: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text)
  } catch (error) {
    if (error instanceof SseProbeUsageError) throw invalidOptionError(flagText, text, error)
    throw error
  }
}

/** A repeatable option's values: none, one, or an array (read only: `as const` lists are taken). */
export const list = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value as T]

export function durationOption(flag: Flag, value: Duration | undefined, positive: boolean) {
  return durationAs(FLAGS[flag], value, positive)
}

/** `durationOption` for an option named by its flag's text. */
export function durationAs(
  flagText: string,
  value: Duration | undefined,
  positive: boolean,
): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || (positive && value === 0) || value > MAX_DELAY_MS) {
      throw invalidOption(
        flagText,
        String(value),
        `expected milliseconds ${positive ? 'greater than zero' : '(0 or more)'}, at most 24 days`,
      )
    }
    return value
  }
  // null or an object (JavaScript): a usage error, not a TypeError from parsing it as text.
  if (typeof value !== 'string') {
    const expected = 'expected a duration such as 5s, or a number of milliseconds'
    throw invalidOption(flagText, String(value), expected)
  }
  return checkedAs(flagText, value, positive ? positiveDurationArg : durationArg)
}

function countOption(flag: Flag, value: number | undefined, least: number) {
  if (value === undefined) return undefined
  if (typeof value !== 'number') {
    const expected =
      typeof value === 'string' ? 'expected a number, not a string' : 'expected a number'
    throw invalidOption(FLAGS[flag], String(value), expected)
  }
  if (!Number.isInteger(value) || value < least) {
    throw invalidOption(FLAGS[flag], String(value), `expected a whole number of at least ${least}`)
  }
  return value
}

function stringOption(flag: Flag, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  throw invalidOption(FLAGS[flag], String(value), 'expected a string')
}

/** A repeatable option: one string or an array of them. */
export function stringList(flag: Flag, value: unknown): string[] {
  return list(value).map((item) => stringOption(flag, item)!)
}

/**
 * Headers as "Name: value" lines: one, an array of them, or an object (a Headers, a Map) of names
 * and values (a value that is not a string, such as an unset token, is refused rather than sent as
 * "undefined").
 */
export function headerLines(flag: string, value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return list(value).map((line) => {
      if (typeof line === 'string') return line
      throw invalidOption(flag, String(line), 'expected a string')
    })
  }
  // A Headers or a Map gives its pairs by entries(); Object.entries would see none. Not by
  // instanceof: undici's own Headers, or a Map made in a test environment's realm (jsdom), is
  // another class, and its headers would silently not be sent.
  const entries = (value as { entries?: unknown }).entries
  const pairs =
    typeof entries === 'function'
      ? [...(value as Map<unknown, unknown>).entries()]
      : Object.entries(value)
  return pairs.map(([name, text]) => {
    if (typeof text === 'string') return `${name}: ${text}`
    // The type says what went wrong when the value, as a secret header's, is <redacted>.
    const type = text === null ? 'null' : typeof text
    throw invalidOption(flag, `${name}: ${text}`, `expected a string value, not ${type}`)
  })
}

/** A flag without a value: true or false, never a truthy 'no'. */
export function booleanOption(flag: Flag, value: unknown): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? false
  throw invalidOption(FLAGS[flag], String(value), 'expected true or false')
}

export function signalOption(value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value
  throw new SseProbeUsageError('option signal: expected an AbortSignal')
}

/** Insertions, deletions and substitutions from one name to another, for "did you mean". */
function edits(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitute = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, substitute)
    }
    previous = row
  }
  return previous[b.length]!
}

/**
 * The options object of a library function. A name it does not take (a typo, a display option
 * such as `format`) is a usage error, as an unknown flag is for the CLI: ignored, it would leave
 * a test asserting less than it says.
 */
export function knownOptions(options: unknown, names: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new SseProbeUsageError('options must be an object')
  }
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || names.includes(name)) continue
    const loose = (text: string) => text.replace(/[-_]/g, '').toLowerCase()
    const meant = names.find((known) => edits(loose(known), loose(name)) <= 2)
    const hint = meant === undefined ? '' : ` (did you mean ${meant}?)`
    throw new SseProbeUsageError(`unknown option '${name}'${hint}`)
  }
}

/** The request options every library function takes (probe, check). */
export interface RequestLibraryOptions {
  method?: string
  /** "Name: value", several of them, or an object. */
  header?: HeaderLines
  /** The request body: text as is (no @file), or bytes. Makes the default method POST. */
  data?: string | Uint8Array
  lastEventId?: string
  connectTimeout?: Duration
  insecure?: boolean
  proxy?: string | URL
}

// The names each library function takes, for knownOptions (a Record: the compiler sees that none
// is missing).
const requestNames: Record<keyof RequestLibraryOptions, true> = {
  method: true,
  header: true,
  data: true,
  lastEventId: true,
  connectTimeout: true,
  insecure: true,
  proxy: true,
}
export const REQUEST_OPTIONS = Object.keys(requestNames)
const probeNames: Record<Exclude<keyof ProbeLibraryOptions, keyof RequestLibraryOptions>, true> = {
  retry: true,
  reconnect: true,
  maxReconnects: true,
  maxEventSize: true,
  pingEvent: true,
  endEvent: true,
  endData: true,
  maxEvents: true,
  duration: true,
  timeout: true,
  idleTimeout: true,
  expectEvent: true,
  expectData: true,
  expectMinEvents: true,
  expectEnd: true,
  expectReconnect: true,
  expectMaxGap: true,
  showSecrets: true,
  record: true,
  signal: true,
  extensions: true,
  http: true,
}
export const PROBE_OPTIONS = [...REQUEST_OPTIONS, ...Object.keys(probeNames)]

/** The request part of the library's options, validated as the CLI validates its flags. */
export function requestFromLibrary(
  url: string | URL,
  options: RequestLibraryOptions,
): RequestInput {
  let parsedUrl: URL
  try {
    if (typeof url !== 'string' && !(url instanceof URL)) {
      throw new SseProbeUsageError('expected a string or a URL')
    }
    parsedUrl = urlArg(String(url))
  } catch (error) {
    throw new SseProbeUsageError(
      `command-argument value '${String(url)}' is invalid for argument 'url'. ${(error as Error).message}`,
    )
  }
  let headers: [string, string][] = []
  for (const line of headerLines(FLAGS.header, options.header))
    headers = checked('header', line, (text) => headerArg(text, headers))
  const data = options.data
  // Not by instanceof: a Buffer or bytes made in a test environment's realm (jsdom) are from
  // another Uint8Array.
  if (data !== undefined && typeof data !== 'string' && !isUint8Array(data)) {
    throw invalidOption(FLAGS.data, String(data), 'expected a string or a Uint8Array')
  }
  const method = stringOption('method', options.method)
  const lastEventId = stringOption('lastEventId', options.lastEventId)
  const proxy = options.proxy
  // Not String(null): that would be a proxy at the host "null", and a connection that fails.
  if (proxy !== undefined && typeof proxy !== 'string' && !(proxy instanceof URL)) {
    throw invalidOption(FLAGS.proxy, String(proxy), 'expected a string or a URL')
  }
  const proxyHref = proxy === undefined ? undefined : checked('proxy', String(proxy), proxyArg).href
  return {
    url: parsedUrl,
    ...(method !== undefined && { method: checked('method', method, methodArg) }),
    headers,
    ...(data !== undefined && { body: Buffer.from(data) }),
    ...(lastEventId !== undefined && {
      lastEventId: checked('lastEventId', lastEventId, lastEventIdArg),
    }),
    connectTimeoutMs: durationOption('connectTimeout', options.connectTimeout, true),
    insecure: booleanOption('insecure', options.insecure),
    ...(proxyHref !== undefined && { proxy: proxyHref }),
  }
}

/**
 * The library's options, validated as the CLI validates its flags: a bad one throws
 * SseProbeUsageError with the CLI's message.
 */
export function fromLibraryOptions(
  url: string | URL,
  options: ProbeLibraryOptions = {},
): ProbeOptions {
  const request = requestFromLibrary(url, options)
  let dataPatterns: DataPattern[] = []
  for (const pattern of list(options.expectData)) {
    // A copy of its own: a /g or /y pattern tests from its lastIndex, which another probe sharing
    // the pattern (or the caller's own earlier test) moves, and a match would be missed.
    // Not by instanceof, as `data`: a pattern from another realm is a RegExp too.
    if (isRegExp(pattern)) {
      dataPatterns.push({ source: pattern.source, regex: userRegex(pattern) })
    } else {
      const text = stringOption('expectData', pattern)!
      dataPatterns = checked('expectData', text, (value) => regexArg(value, dataPatterns))
    }
  }
  const extensions = options.extensions ?? []
  if (!Array.isArray(extensions) || extensions.some((e) => e === null || typeof e !== 'object')) {
    throw new SseProbeUsageError('option extensions: expected an array of ProbeExtension objects')
  }
  for (const [index, extension] of extensions.entries()) {
    const hooks = extension as unknown as Record<string, unknown>
    const hook = EXTENSION_HOOKS.find(
      (name) => hooks[name] != null && typeof hooks[name] !== 'function',
    )
    if (hook)
      throw new SseProbeUsageError(
        `option extensions: extensions[${index}].${hook} is not a function`,
      )
  }
  const reconnect = options.reconnect
  if (
    reconnect !== undefined &&
    typeof reconnect !== 'boolean' &&
    !RECONNECT_WHEN.includes(reconnect)
  ) {
    const expected = `expected one of ${RECONNECT_WHEN.join(', ')}`
    throw invalidOption(FLAGS.reconnect, String(reconnect), expected)
  }
  const maxEventSize = options.maxEventSize
  const endEvent = options.endEvent
  return toProbeOptions({
    ...request,
    retryMs:
      typeof options.retry === 'string'
        ? checked('retry', options.retry, retryArg)
        : durationOption('retry', options.retry, false),
    reconnect,
    maxReconnects: countOption('maxReconnects', options.maxReconnects, 0),
    maxEventSize:
      typeof maxEventSize === 'string'
        ? checked('maxEventSize', maxEventSize, byteSizeArg)
        : countOption('maxEventSize', maxEventSize, 1),
    pingEvent: stringOption('pingEvent', options.pingEvent),
    endEvents:
      endEvent === false
        ? false
        : endEvent === undefined
          ? undefined
          : stringList('endEvent', endEvent),
    endData: stringList('endData', options.endData),
    maxEvents: countOption('maxEvents', options.maxEvents, 1),
    durationMs: durationOption('duration', options.duration, true),
    timeoutMs: durationOption('timeout', options.timeout, true),
    idleTimeoutMs: durationOption('idleTimeout', options.idleTimeout, true),
    expect: {
      events: stringList('expectEvent', options.expectEvent),
      dataPatterns,
      // At least 0 events always holds: a check that cannot fail is a mistake (as --expect-max-gap 0).
      minEvents: countOption('expectMinEvents', options.expectMinEvents, 1),
      end: booleanOption('expectEnd', options.expectEnd),
      reconnect: booleanOption('expectReconnect', options.expectReconnect),
      maxGapMs: durationOption('expectMaxGap', options.expectMaxGap, true),
    },
    showSecrets: booleanOption('showSecrets', options.showSecrets),
    ...(options.record !== undefined && { record: stringOption('record', options.record)! }),
    // A copy: the library adds its own (llm) without touching the caller's array.
    extensions: [...extensions],
    ...(options.http !== undefined && { http: options.http }),
  })
}
