import { escapeRegex } from '../engine/escape.ts'
import {
  isNoOpOnceMade,
  type ProfileParser,
  type Signal,
  type Sink,
  type SinkCall,
} from './assembler.ts'

// A JSON string's body: no quote, backslash or raw control character (JSON.parse, and so the
// SDKs, reject a raw one), or an escape (checked when decoded).
const STRING_BODY = '(?:[^"\\\\\\x00-\\x1f]|\\\\.)*'
// A body without escapes (most deltas): its text is its characters, with no search for one.
const PLAIN_BODY = '[^"\\\\\\x00-\\x1f]*'

// Fields no profile reads whose values change from event to event: OpenAI's random padding
// (Chat chunks, Responses events) and the Responses event counter. A template takes other values
// there (a string without escapes, a whole number); the event still means what the template means.
// A string's quotes count as fixed characters: its value is what is between them.
const VARYING: Record<string, { value: string; number: boolean }> = {
  '"obfuscation":': { value: '[^"\\\\\\x00-\\x1f]*', number: false },
  '"sequence_number":': { value: '(?:0|[1-9]\\d*)', number: true },
}
const VARYING_FIELD = new RegExp(
  Object.entries(VARYING)
    .map(([key, { value, number }]) => `${escapeRegex(key)}${number ? value : `"${value}"`}`)
    .join('|'),
  'g',
)

// A template pays for its compilation after this many events. Once this many templates were
// replaced having served fewer, the stream's deltas differ by more than their text (an id per
// chunk, interleaved choices): its events get the full parse, with no more learning.
const TEMPLATE_WORTH = 64
const MAX_SHORT_LIVED = 8
// The most characters around a delta that a template is made of. V8 compiles no regular expression
// with a run of more than 32,767 fixed characters ("too large") and overflows its stack compiling
// a few thousand varying fields: such events (rare, and long) get the full parse.
const MAX_AROUND = 16 * 1024

type Delta = 'text' | 'reasoning' | 'toolArguments'

interface Template {
  /** The SSE event type, which some profiles read. */
  type: string
  /** Matches data that is NOT the template with a plain delta (see withTemplates). */
  notPlain: RegExp
  /** The template with any delta, captured. */
  any: RegExp
  /**
   * The bytes before and after a delta: where its varying values are, and the rest escaped, for
   * the data's JSON text (see DataJsonSlot).
   */
  head: Escaped
  tail: Escaped
  /** Where a delta starts when the head has no varying values (most templates); else -1. */
  start: number
  /** How many characters follow a delta (-1: they vary, it ends at its quote). */
  after: number
  delta: Delta
  choice: number
  key: number | string
  served: number
}

/**
 * Where a parser made by withTemplates puts, for each event, the JSON text of its data (the
 * string `JSON.stringify(data)` returns) when a template read it, else undefined: the template
 * knows its bytes, so a writer of JSON lines need not escape them again.
 */
export interface DataJsonSlot {
  text: string | undefined
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
export function withTemplates(parse: ProfileParser, json?: DataJsonSlot): ProfileParser {
  let template: Template | undefined
  let shortLived = 0
  const recording: Recording = { calls: [], next: undefined }
  const recorder = recordingSink(recording)

  function deliver(t: Template, sink: Sink, text: string) {
    t.served++
    if (t.delta === 'text') sink.text(t.choice, text)
    else if (t.delta === 'reasoning') sink.reasoning(t.choice, text)
    else sink.toolArguments(t.choice, t.key, text)
  }

  /** An event the plain test did not take: the template with escapes, else the full parse. */
  function other(type: string, data: string, sink: Sink): Signal {
    if (json !== undefined) json.text = undefined
    const t = template
    if (t !== undefined && type === t.type) {
      const text = escapedDelta(t, data)
      if (text !== undefined) {
        deliver(t, sink, text)
        return undefined
      }
    }
    if (shortLived >= MAX_SHORT_LIVED) return parse(type, data, sink)
    recording.calls = []
    recording.next = sink
    const signal = parse(type, data, recorder)
    const learnt = signal === undefined ? learn(type, data, recording.calls) : undefined
    if (learnt !== undefined) {
      if (t !== undefined && t.served < TEMPLATE_WORTH) shortLived++
      template = shortLived < MAX_SHORT_LIVED ? learnt : undefined
    }
    return signal
  }

  function learn(type: string, data: string, calls: SinkCall[]): Template | undefined {
    const delta = deltaCall(calls)
    if (delta === undefined) return undefined
    const text = delta.args[delta.args.length - 1] as string
    const literal = JSON.stringify(text)
    if (data.length - literal.length > MAX_AROUND) return undefined
    const at = data.indexOf(literal)
    if (at < 0 || data.includes(literal, at + 1)) return undefined
    const head = data.slice(0, at + 1)
    const tail = data.slice(at + literal.length - 1)
    // The same bytes around another string: the parse must make the same calls with it.
    const another = `${text}x`
    const probe: Recording = { calls: [], next: undefined }
    const probeData = `${head}${JSON.stringify(another).slice(1, -1)}${tail}`
    if (parse(type, probeData, recordingSink(probe)) !== undefined) return undefined
    const expected = calls.map((call) =>
      call === delta ? { ...call, args: [...call.args.slice(0, -1), another] } : call,
    )
    if (!sameCalls(probe.calls, expected)) return undefined
    const before = withVarying(head)
    const after = withVarying(tail)
    // In the data's JSON text, the quote before its head and the one after its tail.
    before.fixed[0] = `"${before.fixed[0]}`
    after.fixed[after.fixed.length - 1] += '"'
    return {
      type,
      notPlain: new RegExp(`^(?!${before.source}${PLAIN_BODY}${after.source}$)`),
      any: new RegExp(`^${before.source}(${STRING_BODY})${after.source}$`),
      head: before,
      tail: after,
      start: before.parts.length === 1 ? head.length : -1,
      after: after.parts.length === 1 ? tail.length : -1,
      delta: delta.method as Delta,
      choice: delta.args[0] as number,
      key: delta.method === 'toolArguments' ? (delta.args[1] as number | string) : 0,
      served: 0,
    }
  }

  // The hot part alone, small enough to be inlined into the engine's optimised code. The test
  // fails on a match: a regular expression that fails writes no last-match record (two stores of
  // a young string into an old object, each a write barrier, cost more than the lookahead).
  return (type, data, sink) => {
    const t = template
    if (t === undefined || type !== t.type || t.notPlain.test(data)) return other(type, data, sink)
    const start = t.start >= 0 ? t.start : deltaStart(t.head.parts, data)
    const end = t.after < 0 ? data.indexOf('"', start) : data.length - t.after
    const delta = data.slice(start, end)
    deliver(t, sink, delta)
    if (json !== undefined)
      json.text = `${escapedRun(t.head, data, 0, start)}${delta}${escapedRun(t.tail, data, end, data.length)}`
    return undefined
  }
}

/** The one call that adds a string, if every other call changes nothing when made again. */
function deltaCall(calls: SinkCall[]): SinkCall | undefined {
  let delta: SinkCall | undefined
  for (const call of calls) {
    if (isNoOpOnceMade(call)) continue
    const isDelta =
      call.method === 'text' || call.method === 'reasoning' || call.method === 'toolArguments'
    if (!isDelta || delta !== undefined) return undefined
    delta = call
  }
  return delta
}

const sameCalls = (a: SinkCall[], b: SinkCall[]) =>
  a.length === b.length &&
  a.every(
    (call, i) =>
      call.method === b[i]!.method &&
      call.args.length === b[i]!.args.length &&
      call.args.every((arg, j) => arg === b[i]!.args[j]),
  )

/**
 * Bytes around a delta, as counts of characters: fixed ones (literal bytes, a varying field's
 * key, a string's opening quote), then for each varying value NUMBER or STRING (the characters
 * between its quotes) and the fixed ones after it.
 */
type RunParts = number[]
const NUMBER = -1
const STRING = -2

/**
 * A run of a template's bytes as it is written in a JSON string: its fixed characters escaped
 * (`fixed[i]` stands for the fixed characters `parts` counts before the i-th varying value), its
 * varying values as they are (a number, or a string whose characters need no escape).
 */
interface Escaped {
  parts: RunParts
  fixed: string[]
}

/** A template's bytes as a regular expression, with any value in the VARYING fields; and as RunParts. */
function withVarying(bytes: string): Escaped & { source: string } {
  let source = ''
  const parts: RunParts = []
  const fixed: string[] = []
  let last = 0
  const fixedUpTo = (end: number) => {
    const run = bytes.slice(last, end)
    source += escapeRegex(run)
    fixed.push(JSON.stringify(run).slice(1, -1))
    parts.push(run.length)
  }
  for (const field of bytes.matchAll(VARYING_FIELD)) {
    const key = field[0].slice(0, field[0].indexOf(':') + 1)
    const { value, number } = VARYING[key]!
    const quote = number ? 0 : 1
    fixedUpTo(field.index + key.length + quote)
    source += value
    parts.push(number ? NUMBER : STRING)
    last = field.index + field[0].length - quote
  }
  fixedUpTo(bytes.length)
  return { source, parts, fixed }
}

/** The JSON string text of the run of data from `at` to `end` that a template's Escaped stands for. */
function escapedRun({ parts, fixed }: Escaped, data: string, at: number, end: number): string {
  if (parts.length === 1) return fixed[0]!
  // One varying value: where it starts and ends is known from the run's ends, with no search.
  if (parts.length === 3)
    return `${fixed[0]}${data.slice(at + parts[0]!, end - parts[2]!)}${fixed[1]}`
  let text = fixed[0]!
  at += parts[0]!
  for (let i = 1, k = 1; i < parts.length; i += 2, k++) {
    const from = at
    at = valueEnd(parts[i]!, data, at)
    text += `${data.slice(from, at)}${fixed[k]}`
    at += parts[i + 1]!
  }
  return text
}

/** Where the delta of data that the template matched starts: after its head's fixed and varying characters. */
function deltaStart(head: RunParts, data: string): number {
  let at = head[0]!
  for (let i = 1; i < head.length; i += 2) at = valueEnd(head[i]!, data, at) + head[i + 1]!
  return at
}

/** Where a varying value of data that starts at `at` ends: after its digits, at a string's closing quote. */
function valueEnd(kind: number, data: string, at: number): number {
  if (kind === STRING) return data.indexOf('"', at)
  let code = data.charCodeAt(at)
  while (code >= 48 && code <= 57) code = data.charCodeAt(++at)
  return at
}

/** The delta of data that the template matches with escapes in its string; else undefined. */
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
