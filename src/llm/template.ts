import { escapeRegex } from '../engine/escape.ts'
import {
  DATA_JSON,
  isJsonObject,
  type JsonToken,
  jsonTokens,
  PLAIN_BODY,
  type ValueSpan,
  valueSpan,
  type WithDataJson,
} from '../engine/json-text.ts'
import type { KnownBlocks } from '../engine/stream.ts'
import {
  type DeltaKind,
  IGNORED,
  isNoOpOnceMade,
  type ProfileParser,
  type Signal,
  type Sink,
  type SinkCall,
} from './assembler.ts'

// A JSON string's body: no quote, backslash or raw control character (JSON.parse, and so the
// SDKs, reject a raw one), or an escape (checked when decoded).
const STRING_BODY = '(?:[^"\\\\\\x00-\\x1f]|\\\\.)*'

// A varying value: a string without escapes (PLAIN_BODY: its quotes count as fixed characters, its
// value is what is between them), or a whole number.
const NUMBER_VALUE = '(?:0|[1-9]\\d*)'

// Fields no profile reads whose values change from event to event: OpenAI's random padding
// (Chat chunks, Responses events) and the Responses event counter. A template takes other values
// there from the start; the event still means what the template means. (Other servers' such
// fields are found as the stream goes: see changedValues.)
const VARYING: Record<string, { number: boolean }> = {
  '"obfuscation":': { number: false },
  '"sequence_number":': { number: true },
}
const VARYING_FIELD = new RegExp(
  Object.entries(VARYING)
    .map(([key, { number }]) => `${escapeRegex(key)}${number ? NUMBER_VALUE : `"${PLAIN_BODY}"`}`)
    .join('|'),
  'g',
)

// A template pays for its compilation after this many events. Once this many templates were
// replaced having served fewer, the stream's deltas differ by more than their text (an id per
// chunk, interleaved choices): its events get the full parse, with no more learning.
const TEMPLATE_WORTH = 64
const MAX_SHORT_LIVED = 8
// The most values of the bytes around a delta that a template learns to take any value in.
const MAX_LEARNT = 8
// Keys of what identifies or dates a chunk, whose values some servers change in every one: where
// they change and the parse makes the same calls with other values, a template takes any value.
// Not any key: a profile may keep a value apart from its calls (which Responses item carried text).
// The VARYING fields' too, which change with them.
const UNREAD_KEYS = new Set([
  '"id"',
  '"created"',
  '"system_fingerprint"',
  ...Object.keys(VARYING).map((key) => key.slice(0, -1)),
])
// And a usage object's counts, in a chunk that gives one (see withTemplates): the parse must make
// the same calls with other counts but for the usage object.
const TOKEN_COUNT = /^"[a-z_]+_tokens"$/
// The most characters around a delta that a template is made of. V8 compiles no regular expression
// with a run of more than 32,767 fixed characters ("too large") and overflows its stack compiling
// a few thousand varying fields: such events (rare, and long) get the full parse.
const MAX_AROUND = 16 * 1024

interface Template {
  /** The SSE event type, which some profiles read. */
  type: string
  /** Matches data that is NOT the template with a plain delta (see withTemplates). */
  notPlain: RegExp
  /** The events with such data, for the stream to read at once (no CR or LF in its fixed bytes). */
  blocks: KnownBlocks | undefined
  /** The template with any delta, captured. */
  any: RegExp
  /**
   * The bytes before and after a delta: where its varying values are, and the rest escaped, for
   * the data's JSON text (see flush).
   */
  head: Escaped
  tail: Escaped
  /** Where a delta starts when the head has no varying values (most templates); else -1. */
  start: number
  /** How many characters follow a delta (-1: they vary, it ends at its quote). */
  after: number
  delta: DeltaKind
  choice: number
  key: number | string
  /** Its events also give a usage object (a server that counts tokens as it goes): held back, see withTemplates. */
  usage: boolean
  /** Its events clear the usage (a usage call with no object). */
  clearsUsage: boolean
  served: number
  /** The bytes before and after the delta of the event it was learnt from, to compare the next one's with. */
  around: [head: string, tail: string]
  /** Which of their JSON tokens take any value of their kind (changedValues). */
  learnt: [head: number[], tail: number[]]
}

/**
 * A profile's parser that reads most deltas without parsing. A model streams its answer as
 * events whose data are the same bytes around a different piece of text, so an event whose full
 * parse made one call that adds a string (its delta) and otherwise only calls that change nothing
 * when made again becomes a template: an anchored regular expression of the bytes around that
 * string. An event of the same type that matches it differs only in that string (and in the
 * VARYING fields), so its parse would make the same call with its own string: the template makes
 * that call alone. Before a template is used, the event is parsed once more with another string
 * in its place, which must change that argument and nothing else: the string found in the bytes
 * is then the one the parse read.
 */
export function withTemplates(parse: ProfileParser): ProfileParser {
  let template: Template | undefined
  let shortLived = 0
  // The last event a template with usage served: a usage call replaces the one before, so only
  // the last of a run counts. It is parsed again for its usage before any other event's calls.
  let heldType = ''
  let held: string | undefined
  const recording: Recording = { calls: [], next: undefined }
  const recorder = recordingSink(recording)

  function deliver(t: Template, sink: Sink, text: string) {
    t.served++
    // Its events say "usage": null, which clears a usage an earlier chunk gave (as the SDK has it).
    if (t.clearsUsage) sink.usage(null)
    if (t.delta === 'text') sink.text(t.choice, text)
    else if (t.delta === 'reasoning') sink.reasoning(t.choice, text)
    else sink.toolArguments(t.choice, t.key, text)
  }

  function hold(t: Template, data: string) {
    heldType = t.type
    held = data
  }

  // The events a template read since the last flush, as data and record by turns (see flush).
  let pending: (string | object | undefined)[] = []
  let pendingTemplate: Template | undefined

  /**
   * Makes the calls of the events a template read, and their records' JSON text. Done for a
   * network read's events at once (or before any other call): taking each event through the line
   * parser, the probe, the extension and the template in turn, the code of them all did not fit
   * in the processor's instruction cache, which missed it three times as often (docs/performance.md).
   */
  function flush(sink: Sink) {
    const n = pending.length
    if (n === 0) return
    const t = pendingTemplate!
    const read = pending
    pending = []
    for (let i = 0; i < n; i += 2) {
      const data = read[i] as string
      const start = t.start >= 0 ? t.start : deltaStart(t.head, data)
      const end = t.after < 0 ? data.indexOf('"', start) : data.length - t.after
      const delta = data.slice(start, end)
      deliver(t, sink, delta)
      const record = read[i + 1] as WithDataJson | undefined
      if (record !== undefined)
        record[DATA_JSON] =
          `${escapedRun(t.head, data, 0, start)}${delta}${escapedRun(t.tail, data, end, data.length)}`
    }
  }

  function settle(sink: Sink) {
    flush(sink)
    if (held === undefined) return
    const data = held
    held = undefined
    parse(heldType, data, usageOnly(sink))
  }

  /** An event the plain test did not take: the template with escapes, else the full parse. */
  function other(type: string, data: string, sink: Sink): Signal {
    settle(sink)
    const t = template
    if (t !== undefined && type === t.type) {
      const text = escapedDelta(t, data)
      if (text !== undefined) {
        deliver(t, sink, text)
        if (t.usage) hold(t, data)
        return undefined
      }
    }
    if (shortLived >= MAX_SHORT_LIVED) return parse(type, data, sink)
    recording.calls = []
    recording.next = sink
    const signal = parse(type, data, recorder)
    const learnt = signal === undefined ? learn(type, data, recording.calls, t) : undefined
    if (learnt !== undefined) {
      if (t !== undefined && t.served < TEMPLATE_WORTH) shortLived++
      template = shortLived < MAX_SHORT_LIVED ? learnt : undefined
    }
    return signal
  }

  function learn(
    type: string,
    data: string,
    calls: SinkCall[],
    previous: Template | undefined,
  ): Template | undefined {
    const found = deltaCall(calls)
    if (found === undefined) return undefined
    const { delta, usage } = found
    const text = delta.args[delta.args.length - 1] as string
    const written = stringAt(data, text)
    if (written === undefined || data.length - written.length > MAX_AROUND) return undefined
    const head = data.slice(0, written.at + 1)
    const tail = data.slice(written.at + written.length - 1)
    const method = delta.method as DeltaKind
    const choice = delta.args[0] as number
    const key = method === 'toolArguments' ? (delta.args[1] as number | string) : 0
    // The same bytes around another string (and other values where the previous template's event
    // had other values): the parse must make the same calls with it.
    const another = `${text}x`
    const expected = calls.map((call) =>
      call === delta ? { ...call, args: [...call.args.slice(0, -1), another] } : call,
    )
    const makesExpectedCalls = (head: string, tail: string) => {
      const probe: Recording = { calls: [], next: undefined }
      const probeData = `${head}${JSON.stringify(another).slice(1, -1)}${tail}`
      return (
        parse(type, probeData, recordingSink(probe)) === undefined &&
        sameCalls(probe.calls, expected)
      )
    }
    const changed =
      previous?.type === type &&
      previous.delta === method &&
      previous.choice === choice &&
      previous.key === key
        ? changedAround(previous, head, tail)
        : undefined
    const learnt =
      changed !== undefined &&
      makesExpectedCalls(otherValues(head, changed[0].spans), otherValues(tail, changed[1].spans))
        ? changed
        : undefined
    if (learnt === undefined && !makesExpectedCalls(head, tail)) return undefined
    const before = withVarying(head, learnt?.[0].spans ?? [])
    const after = withVarying(tail, learnt?.[1].spans ?? [])
    // In the data's JSON text, the quote before its head and the one after its tail.
    before.fixed[0] = `"${before.fixed[0]}`
    after.fixed[after.fixed.length - 1] += '"'
    const plain = `${before.source}${PLAIN_BODY}${after.source}`
    return {
      type,
      notPlain: new RegExp(`^(?!${plain}$)`),
      blocks:
        LINE_END.test(head) || LINE_END.test(tail)
          ? undefined
          : { type, data: plain, last: undefined },
      any: new RegExp(`^${before.source}(${STRING_BODY})${after.source}$`),
      head: before,
      tail: after,
      start: before.parts.length === 1 ? head.length : -1,
      after: after.parts.length === 1 ? tail.length : -1,
      delta: method,
      choice,
      key,
      usage,
      clearsUsage: calls.some((call) => call.method === 'usage' && !isJsonObject(call.args[0])),
      served: 0,
      around: [head, tail],
      learnt: [learnt?.[0].tokens ?? [], learnt?.[1].tokens ?? []],
    }
  }

  // The hot part alone, small enough to be inlined into the engine's optimised code: the test, and
  // the event noted for the flush. The test fails on a match: a regular expression that fails
  // writes no last-match record (two stores of a young string into an old object, each a write
  // barrier, cost more than the lookahead).
  const templated: ProfileParser = (type, data, sink, record) => {
    const t = template
    // Data the stream read as the template's blocks has been tested.
    if (t === undefined || type !== t.type || (t.blocks?.last !== data && t.notPlain.test(data)))
      return other(type, data, sink)
    if (pending.length === 0) pendingTemplate = t
    pending.push(data, record)
    if (t.usage) hold(t, data)
    return undefined
  }
  templated.settle = settle
  templated.flush = flush
  templated.knownBlocks = () => template?.blocks
  return templated
}

/**
 * The one call that adds a string, if every other call changes nothing when made again, or gives
 * a usage object (once: which one only the last event of a run decides); and whether one did.
 */
function deltaCall(calls: SinkCall[]): { delta: SinkCall; usage: boolean } | undefined {
  let delta: SinkCall | undefined
  let usage = false
  for (const call of calls) {
    if (isNoOpOnceMade(call)) continue
    if (call.method === 'usage' && !usage) {
      usage = true
      continue
    }
    const isDelta =
      call.method === 'text' || call.method === 'reasoning' || call.method === 'toolArguments'
    if (!isDelta || delta !== undefined) return undefined
    delta = call
  }
  return delta && { delta, usage }
}

/** The same calls, but for the usage objects they give, which the held-back event's parse gives exactly. */
const sameCalls = (a: SinkCall[], b: SinkCall[]) =>
  a.length === b.length &&
  a.every(
    (call, i) =>
      call.method === b[i]!.method &&
      call.args.length === b[i]!.args.length &&
      call.args.every(
        (arg, j) =>
          arg === b[i]!.args[j] ||
          (call.method === 'usage' && isJsonObject(arg) && isJsonObject(b[i]!.args[j])),
      ),
  )

/** A sink that passes on the usage calls alone. */
const usageOnly = (sink: Sink): Sink => ({ ...IGNORED, usage: (usage) => sink.usage(usage) })

/**
 * Bytes around a delta, as counts of characters: fixed ones (literal bytes, a varying field's
 * key, a string's opening quote), then for each varying value VALUE (a number, or the characters
 * between a string's quotes) and the fixed ones after it.
 */
type RunParts = number[]
const VALUE = -1

/**
 * A run of a template's bytes as it is written in a JSON string: its fixed characters escaped
 * (`fixed[i]` stands for the fixed characters `parts` counts before the i-th varying value), its
 * varying values as they are (a number, or a string whose characters need no escape).
 */
interface Escaped {
  parts: RunParts
  fixed: string[]
  /**
   * The character after each varying value, where it ends: a string's closing quote, what follows
   * a number (never a digit). A search for it costs less than reading the digits one by one.
   */
  ends: string[]
}

/** A template's bytes as a regular expression, with any value in the VARYING fields and the spans; and as RunParts. */
function withVarying(bytes: string, learnt: LearntSpan[]): Escaped & { source: string } {
  const spans = [...learnt]
  for (const field of bytes.matchAll(VARYING_FIELD)) {
    const key = field[0].slice(0, field[0].indexOf(':') + 1)
    const { number } = VARYING[key]!
    const quote = number ? 0 : 1
    const from = field.index + key.length + quote
    if (!learnt.some((span) => span.from === from))
      spans.push({ from, to: field.index + field[0].length - quote, number, truthy: false })
  }
  spans.sort((a, b) => a.from - b.from)
  let source = ''
  const parts: RunParts = []
  const fixed: string[] = []
  const ends: string[] = []
  let last = 0
  const fixedUpTo = (end: number) => {
    const run = bytes.slice(last, end)
    source += escapeRegex(run)
    fixed.push(JSON.stringify(run).slice(1, -1))
    parts.push(run.length)
  }
  for (const { from, to, number, truthy } of spans) {
    fixedUpTo(from)
    source += number ? (truthy ? TRUTHY_NUMBER : NUMBER_VALUE) : truthy ? TRUTHY_BODY : PLAIN_BODY
    parts.push(VALUE)
    // JSON text goes on after a value: the head up to the delta's quote, the tail to its `}`.
    ends.push(bytes[to]!)
    last = to
  }
  fixedUpTo(bytes.length)
  return { source, parts, fixed, ends }
}

const LINE_END = /[\r\n]/

const PLAIN_STRING = new RegExp(`^"${PLAIN_BODY}"$`)
const WHOLE_NUMBER = new RegExp(`^${NUMBER_VALUE}$`)

const kindOf = (token: string) =>
  PLAIN_STRING.test(token) ? 'string' : WHOLE_NUMBER.test(token) ? 'number' : undefined

/**
 * A value a template takes any of. `truthy`: a chunk's `id`, whose being empty (or 0) the Chat
 * parse reads as the SDK does (a chunk without one gives no usage): any value but those.
 */
type LearntSpan = ValueSpan & { truthy: boolean }
const TRUTHY_NUMBER = '[1-9]\\d*'
const TRUTHY_BODY = `${PLAIN_BODY.slice(0, -1)}+`

interface Changed {
  /** Which of the run's tokens. */
  tokens: number[]
  spans: LearntSpan[]
}

/** Where the bytes before and after a delta differ in values alone from the previous template's event's (changedValues); undefined if nowhere. */
function changedAround(
  previous: Template,
  head: string,
  tail: string,
): [Changed, Changed] | undefined {
  // The head ends with the delta's opening quote, the tail starts with its closing one.
  const before = changedValues(
    previous.around[0].slice(0, -1),
    head.slice(0, -1),
    0,
    previous.learnt[0],
  )
  const after = changedValues(previous.around[1].slice(1), tail.slice(1), 1, previous.learnt[1])
  if (before === undefined || after === undefined || before.spans.length + after.spans.length === 0)
    return undefined
  return [before, after]
}

/**
 * Where a run of the bytes around a delta (from `offset` in the head or tail) differs from the
 * same run of the previous template's event in values alone, those the previous template took
 * any of included: each the value of one of UNREAD_KEYS, a string without escapes or a whole
 * number in both. Undefined when they differ otherwise (other fields, other kinds, too many).
 * Whether the parse reads them is for the caller to check.
 */
function changedValues(
  before: string,
  now: string,
  offset: number,
  also: number[],
): Changed | undefined {
  const was = jsonTokens(before, offset)
  const is = jsonTokens(now, offset)
  if (was === undefined || is === undefined || was.length !== is.length) return undefined
  const tokens: number[] = []
  for (let i = 0; i < is.length; i++) {
    if (is[i]!.text === was[i]!.text && !also.includes(i)) continue
    const kind = kindOf(is[i]!.text)
    const key = keyOf(is, i)
    const unread = UNREAD_KEYS.has(key) || TOKEN_COUNT.test(key)
    if (!unread || kind === undefined || kind !== kindOf(was[i]!.text)) return undefined
    tokens.push(i)
  }
  if (tokens.length > MAX_LEARNT) return undefined
  return {
    tokens,
    spans: tokens.map((i) => ({ ...valueSpan(is[i]!), truthy: keyOf(is, i) === '"id"' })),
  }
}

/** The key of the value that is the i-th token, if it is one's. */
const keyOf = (tokens: JsonToken[], i: number) =>
  tokens[i - 1]?.text === ':' ? (tokens[i - 2]?.text ?? '') : ''

/** The run of bytes with another value in each span: a number with a digit before it, a string with one more character. */
function otherValues(bytes: string, spans: ValueSpan[]): string {
  let text = ''
  let last = 0
  for (const { from, to, number } of spans) {
    const value = bytes.slice(from, to)
    text += `${bytes.slice(last, from)}${number ? `1${value}` : `${value}x`}`
    last = to
  }
  return text + bytes.slice(last)
}

/** The JSON string text of the run of data from `at` to `end` that a template's Escaped stands for. */
function escapedRun(
  { parts, fixed, ends }: Escaped,
  data: string,
  at: number,
  end: number,
): string {
  if (parts.length === 1) return fixed[0]!
  // One varying value: where it starts and ends is known from the run's ends, with no search.
  if (parts.length === 3)
    return `${fixed[0]}${data.slice(at + parts[0]!, end - parts[2]!)}${fixed[1]}`
  let text = fixed[0]!
  at += parts[0]!
  for (let i = 1, k = 1; i < parts.length; i += 2, k++) {
    const from = at
    at = data.indexOf(ends[k - 1]!, at)
    text += `${data.slice(from, at)}${fixed[k]}`
    at += parts[i + 1]!
  }
  return text
}

/** Where the delta of data that the template matched starts: after its head's fixed and varying characters. */
function deltaStart({ parts, ends }: Escaped, data: string): number {
  let at = parts[0]!
  for (let i = 1; i < parts.length; i += 2) at = data.indexOf(ends[i >> 1]!, at) + parts[i + 1]!
  return at
}

/**
 * Where data writes the string `text` (from its opening quote, and how long), if once: as
 * JSON.stringify writes it, else with escapes of its own (Python's json.dumps writes é as \u00e9).
 * Whether the parse read it there is for the caller to check.
 */
function stringAt(data: string, text: string): { at: number; length: number } | undefined {
  const literal = JSON.stringify(text)
  const at = data.indexOf(literal)
  if (at >= 0) return data.includes(literal, at + 1) ? undefined : { at, length: literal.length }
  const strings = jsonTokens(data)?.filter(
    (token) => token.text.includes('\\') && stringBody(token.text.slice(1, -1)) === text,
  )
  if (strings?.length !== 1) return undefined
  return { at: strings[0]!.at, length: strings[0]!.text.length }
}

/**
 * The delta of data that the template matches with escapes in its string; else undefined. (No JSON
 * text for --json: escaping the escapes cost more than JSON.stringify of the data in the writer.)
 */
function escapedDelta(t: Template, data: string): string | undefined {
  let body: string | undefined
  try {
    body = t.any.exec(data)?.[1]
  } catch {
    // V8 backtracks through the string a character or escape at a time and throws past ~8M of
    // them (a delta of megabytes, escapes in it): the full parse reads it.
    return undefined
  }
  return body === undefined ? undefined : stringBody(body)
}

/** The string whose body (between its quotes) a JSON string literal has; undefined if invalid. */
function stringBody(body: string): string | undefined {
  if (!body.includes('\\')) return body
  try {
    return JSON.parse(`"${body}"`)
  } catch {
    return undefined
  }
}

interface Recording {
  calls: SinkCall[]
  next: Sink | undefined
}

/** A sink that notes each call in the recording (and passes it on to its next sink). */
function recordingSink(recording: Recording): Sink {
  const note =
    (method: keyof Sink) =>
    (...args: unknown[]) => {
      recording.calls.push({ method, args })
      ;(recording.next?.[method] as ((...a: unknown[]) => void) | undefined)?.(...args)
    }
  return {
    model: note('model'),
    choice: note('choice'),
    text: note('text'),
    reasoning: note('reasoning'),
    refusal: note('refusal'),
    toolStart: note('toolStart'),
    toolArguments: note('toolArguments'),
    toolDone: note('toolDone'),
    finish: note('finish'),
    usage: note('usage'),
  }
}
