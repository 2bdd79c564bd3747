import { diff as myersDiff } from 'fast-myers-diff'
import {
  createGapStats,
  nestedDeeperThan,
  type ProbeRecord,
  parseDuration,
  pointerTokens,
  UsageError,
} from './engine.ts'

/**
 * `sse-probe diff`: two streams compared as sequences of events. Pure: the
 * sides arrive as records (a transcript, a capture, a live probe) and leave as
 * `diff` records and a `diff-summary`.
 */

export interface StreamEvent {
  event: string
  id: string | null
  data: string
  /** When it arrived (ms since the start of its side); null for a raw capture, which has no timing. */
  t: number | null
  attempt: number
}

export interface SideTiming {
  firstEventMs: number | null
  gapMs: { p50: number; p95: number } | null
  maxEventsPerRead: number
  reconnects: number
}

export interface Side {
  /** What the user gave: a file or a URL. */
  label: string
  events: StreamEvent[]
  /** Null when the side has no timing (a raw capture). */
  timing: SideTiming | null
}

export interface DiffOptions {
  /** JSON pointers dropped from JSON data before comparing (`--ignore`). */
  ignore: string[][]
  ignoreIds: boolean
  pings: boolean
  pingEvent: string
  timing: boolean
  tolerance: Tolerance
}

/** `--time-tolerance`: a share of the faster side's time (50%), or a duration (200ms). */
export type Tolerance = { fraction: number } | { ms: number }

export type DiffRecord =
  | {
      type: 'diff'
      kind: 'changed'
      left: number
      right: number
      event: string
      id: string | null
      pointer?: string
      field?: 'id'
      leftValue?: unknown
      rightValue?: unknown
    }
  | { type: 'diff'; kind: 'missing'; left: number; right: null; event: string; id: string | null }
  | { type: 'diff'; kind: 'extra'; left: null; right: number; event: string; id: string | null }
  | {
      type: 'diff'
      kind: 'timing'
      metric: string
      leftValue: number | null
      rightValue: number | null
    }

export interface DiffSummary {
  type: 'diff-summary'
  same: boolean
  differences: number
  events: { left: number; right: number }
  timing: { left: SideTiming | null; right: SideTiming | null }
}

/** The least a timing difference must be, however fast both sides are: scheduling noise is not a regression. */
const MIN_TIME_DIFFERENCE_MS = 50

/** `--ignore /a/b~1c`: the pointer's tokens (none for `""`, the whole data); anything else is a usage error. */
export function parsePointer(text: string): string[] {
  if (text === '') return []
  if (!text.startsWith('/'))
    throw new UsageError(
      `--ignore ${text}: expected a JSON pointer such as /timestamp or /usage/total`,
    )
  if (/~[^01]|~$/.test(text))
    throw new UsageError(`--ignore ${text}: "~" must be written ~0, and "/" inside a name ~1`)
  return pointerTokens(text)
}

/** `--time-tolerance 50%` or `200ms`. */
export function parseTolerance(text: string): Tolerance {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(text.trim())
  if (match) return { fraction: Number(match[1]) / 100 }
  const ms = parseDuration(text)
  if (ms === undefined)
    throw new UsageError(
      `--time-tolerance ${text}: expected a percentage such as 50% or a duration such as 200ms`,
    )
  return { ms }
}

/** The events of a probe's records, and their timing as the transcript shows it. */
export function sideFromRecords(
  label: string,
  records: readonly ProbeRecord[],
  options: Pick<DiffOptions, 'pings' | 'pingEvent'>,
): Side {
  const events: StreamEvent[] = []
  let reconnects = 0
  for (const record of records) {
    if (record.type === 'reconnect') reconnects++
    else if (record.type === 'event') {
      if (options.pings || record.event !== options.pingEvent) events.push(record)
    } else if (record.type === 'comment' && options.pings) {
      events.push({
        event: '(comment)',
        id: null,
        data: record.text,
        t: record.t,
        attempt: record.attempt,
      })
    }
  }
  return { label, events, timing: timingOf(events, reconnects) }
}

/** Events of one network read share their `t`: a run of equal `t` on one connection is one read. */
function timingOf(events: readonly StreamEvent[], reconnects: number): SideTiming {
  const gaps = createGapStats()
  let maxEventsPerRead = 0
  let run = 0
  for (const [i, event] of events.entries()) {
    const previous = events[i - 1]
    if (previous && previous.t === event.t && previous.attempt === event.attempt) run++
    else run = 1
    if (run > maxEventsPerRead) maxEventsPerRead = run
    if (previous && previous.attempt === event.attempt) gaps.add(event.t! - previous.t!)
  }
  const gap = gaps.result()
  return {
    firstEventMs: events[0]?.t ?? null,
    gapMs: gap && { p50: gap.p50, p95: gap.p95 },
    maxEventsPerRead,
    reconnects,
  }
}

// Comparing recurses as deep as the data; real data nests a few levels.
const MAX_COMPARED_DEPTH = 1000

type Normalised = { json: true; value: unknown } | { json: false; value: string }

function normalise(data: string, ignore: readonly string[][]): Normalised {
  // `--ignore ""`, the whole data: only types and ids are compared.
  if (ignore.some((pointer) => pointer.length === 0)) return { json: true, value: null }
  // Only text that can be JSON is worth parsing: most text data fails at its first character.
  if (!/^\s*(?:[[{"\d-]|(?:true|false|null)\s*$)/.test(data)) return { json: false, value: data }
  let value: unknown
  try {
    // A reviver costs on every value: only for data with a number long enough to be inexact, or
    // with an exponent that may take it beyond a double's range.
    value = /\d{16}|e[+-]?\d{3}/i.test(data) ? JSON.parse(data, exactNumbers) : JSON.parse(data)
  } catch {
    return { json: false, value: data }
  }
  // A server's `[[[[…` would overflow the stack: it is compared as text.
  if (nestedDeeperThan(value, MAX_COMPARED_DEPTH)) return { json: false, value: data }
  for (const pointer of ignore) drop(value, pointer)
  return { json: true, value }
}

// Not in TypeScript's ES2023 lib; in V8 (Node 21+): the reviver's source text, and values that
// JSON.stringify writes as that text.
interface JsonWithSource {
  rawJSON(text: string): object
  isRawJSON(value: unknown): boolean
}
const { rawJSON, isRawJSON } = JSON as unknown as JsonWithSource

/**
 * An integer beyond 2^53 (a 64-bit id) is kept exact, as its digits: read as a double,
 * 12345678901234567890 and 12345678901234567891 are the same number. Integers a double holds
 * stay numbers, so 1e20 and 100000000000000000000 are equal. A number beyond a double's range is
 * kept as written: read as one, 1e400 is Infinity (written null, so equal to null) and 1e-400 is 0.
 */
function exactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  const source = context?.source
  if (typeof value !== 'number' || source === undefined) return value
  const mantissa = source.replace(/e.*/i, '')
  if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(mantissa)))
    return rawJSON(source.toLowerCase().replace('e+', 'e'))
  // `…890.0` is the integer `…890` too (JSON compares as 1 and 1.0 are equal).
  const digits = /^(-?\d+)(?:\.0*)?$/.exec(source)?.[1]
  if (Number.isSafeInteger(value) || digits === undefined) return value
  const exact = BigInt(digits)
  return exact === BigInt(value) ? value : rawJSON(exact.toString())
}

/** The value a JSON pointer token names in an object or array, if it has one (never a prototype's). */
function child(node: unknown, token: string): { value: unknown } | undefined {
  if (typeof node !== 'object' || node === null || isRawJSON(node)) return undefined
  // An array's members are its indices: not `length`, not `01`.
  if (Array.isArray(node) && !/^(?:0|[1-9]\d*)$/.test(token)) return undefined
  return Object.hasOwn(node, token)
    ? { value: (node as Record<string, unknown>)[token] }
    : undefined
}

function drop(value: unknown, pointer: readonly string[]) {
  let node = value
  for (const [i, token] of pointer.entries()) {
    const next = child(node, token)
    if (!next) return
    if (i === pointer.length - 1) delete (node as Record<string, unknown>)[token]
    else node = next.value
  }
}

/** JSON text with object keys sorted: equal for values equal as JSON, whatever the key order. */
export function canonical(value: unknown): string {
  if (isRawJSON(value)) return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value)
}

interface Compared {
  event: StreamEvent
  data: Normalised
  /** The id as compared ('' for all with --ignore-ids). */
  id: string
  /** The data as compared. */
  text: string
  key: string
}

function prepare(events: readonly StreamEvent[], options: DiffOptions): Compared[] {
  return events.map((event) => {
    const data = normalise(event.data, options.ignore)
    const text = data.json ? `j${canonical(data.value)}` : `t${data.value}`
    const id = options.ignoreIds ? '' : (event.id ?? '\0')
    return { event, data, id, text, key: `${event.event}\n${id}\n${text}` }
  })
}

/** The fields that differ between two values, by JSON pointer (leaves only). */
function changedFields(
  left: unknown,
  right: unknown,
  pointer = '',
): { pointer: string; left: unknown; right: unknown }[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && !isRawJSON(v)
  if (isObject(left) && isObject(right)) {
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()
    return keys.flatMap((key) =>
      changedFields(
        child(left, key)?.value,
        child(right, key)?.value,
        `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      ),
    )
  }
  if (Array.isArray(left) && Array.isArray(right)) {
    const length = Math.max(left.length, right.length)
    return Array.from({ length }, (_, i) =>
      changedFields(left[i], right[i], `${pointer}/${i}`),
    ).flat()
  }
  if (left === undefined && right === undefined) return []
  if (left !== undefined && right !== undefined && canonical(left) === canonical(right)) return []
  return [{ pointer, left, right }]
}

/**
 * Aligns the two sequences (Myers: an inserted event is one difference, not a
 * cascade), then pairs the events of each changed stretch by type, so that an
 * event whose data changed is one `changed` difference rather than a missing
 * one and an extra one.
 */
export function compareEvents(
  leftEvents: readonly StreamEvent[],
  rightEvents: readonly StreamEvent[],
  options: DiffOptions,
): DiffRecord[] {
  const left = prepare(leftEvents, options)
  const right = prepare(rightEvents, options)
  const records: DiffRecord[] = []
  for (const [sx, ex, sy, ey] of stretches(left, right)) {
    const l = left.slice(sx, ex)
    const r = right.slice(sy, ey)
    let i = 0
    let j = 0
    const flush = (untilLeft: number, untilRight: number) => {
      for (; i < untilLeft; i++)
        records.push({
          type: 'diff',
          kind: 'missing',
          left: sx + i + 1,
          right: null,
          event: l[i]!.event.event,
          id: l[i]!.event.id,
        })
      for (; j < untilRight; j++)
        records.push({
          type: 'diff',
          kind: 'extra',
          left: null,
          right: sy + j + 1,
          event: r[j]!.event.event,
          id: r[j]!.event.id,
        })
    }
    for (const [pi, pj] of pairByType(l, r)) {
      flush(pi, pj)
      // Not spread into push's arguments: an event with 100,000+ changed fields overflows the stack.
      for (const record of changed(l[i]!, r[j]!, sx + i + 1, sy + j + 1, options))
        records.push(record)
      i++
      j++
    }
    flush(l.length, r.length)
  }
  return records
}

/** The differing stretches [sx, ex, sy, ey], with a deletion and an insertion at one place joined. */
function stretches(left: Compared[], right: Compared[]): [number, number, number, number][] {
  // An event with no equal on the other side can only be missing or extra: aligning only the
  // others gives the same alignment, and two streams with nothing in common (20,000 events
  // each) take no time rather than Myers' (N + M) × D steps.
  const inLeft = new Set(left.map((c) => c.key))
  const inRight = new Set(right.map((c) => c.key))
  const li = left.flatMap((c, i) => (inRight.has(c.key) ? [i] : []))
  const ri = right.flatMap((c, j) => (inLeft.has(c.key) ? [j] : []))
  const out: [number, number, number, number][] = []
  // The last pair of equal events, as positions in the whole sequences.
  let x = -1
  let y = -1
  const pair = (i: number, j: number) => {
    if (i > x + 1 || j > y + 1) out.push([x + 1, i, y + 1, j])
    x = i
    y = j
  }
  const lk = li.map((i) => left[i]!.key)
  const rk = ri.map((j) => right[j]!.key)
  const unique = uniqueLcs(lk, rk)
  if (unique) for (const [a, b] of unique) pair(li[a]!, ri[b]!)
  else {
    let a = 0
    let b = 0
    // fast-myers-diff calls the comparison with index -1 when a side is empty; none here.
    if (li.length > 0) {
      for (const [sx, ex, , ey] of myersDiff(lk, rk)) {
        for (; a < sx; a++, b++) pair(li[a]!, ri[b]!)
        a = ex
        b = ey
      }
    }
    for (; a < li.length; a++, b++) pair(li[a]!, ri[b]!)
  }
  pair(left.length, right.length)
  return out
}

/**
 * A longest common subsequence of two sequences of the same keys, each key once on each side
 * (events with ids, or with a timestamp): a longest increasing subsequence of the right-hand
 * positions, in N log N steps. Myers' (N + M) × D steps took 15 s for 20,000 events reordered.
 * Undefined when a key repeats, which Myers aligns.
 */
function uniqueLcs(lk: readonly string[], rk: readonly string[]) {
  const at = new Map<string, number>()
  for (const [j, key] of rk.entries()) {
    if (at.has(key)) return undefined
    at.set(key, j)
  }
  if (new Set(lk).size !== lk.length) return undefined
  const positions = lk.map((key) => at.get(key)!)
  // tails[k]: the index of the smallest last position of an increasing run of length k + 1.
  const tails: number[] = []
  const previous = new Int32Array(positions.length)
  for (const [i, position] of positions.entries()) {
    let low = 0
    let high = tails.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (positions[tails[middle]!]! < position) low = middle + 1
      else high = middle
    }
    previous[i] = low > 0 ? tails[low - 1]! : -1
    tails[low] = i
  }
  const pairs: [number, number][] = []
  for (let i = tails.at(-1) ?? -1; i >= 0; i = previous[i]!) pairs.push([i, positions[i]!])
  return pairs.reverse()
}

// Past this many cells the pairing of one stretch falls back to a greedy walk: memory stays bounded.
const MAX_PAIRING_CELLS = 1_000_000

/**
 * The events of a stretch that correspond, as [left index, right index] pairs
 * in order: events of the same type, preferring those that share their id or
 * their data (a field that changed in every event, a timestamp, must not pair
 * each event with its neighbour's once one is inserted).
 */
function pairByType(l: Compared[], r: Compared[]): [number, number][] {
  const score = (i: number, j: number) => {
    const a = l[i]!
    const b = r[j]!
    if (a.event.event !== b.event.event) return 0
    return 1 + (a.id === b.id ? 1 : 0) + (a.text === b.text ? 1 : 0)
  }
  const pairs: [number, number][] = []
  if (l.length * r.length > MAX_PAIRING_CELLS) {
    for (let i = 0, j = 0; i < l.length && j < r.length; i++, j++)
      if (score(i, j) > 0) pairs.push([i, j])
    return pairs
  }
  // The pairing of the highest total score (a longest common subsequence, weighted).
  const width = r.length + 1
  const table = new Uint32Array((l.length + 1) * width)
  const best = (i: number, j: number) =>
    Math.max(table[(i + 1) * width + j]!, table[i * width + j + 1]!)
  for (let i = l.length - 1; i >= 0; i--) {
    for (let j = r.length - 1; j >= 0; j--) {
      const s = score(i, j)
      table[i * width + j] = Math.max(best(i, j), s && s + table[(i + 1) * width + j + 1]!)
    }
  }
  for (let i = 0, j = 0; i < l.length && j < r.length; ) {
    const s = score(i, j)
    if (s > 0 && table[i * width + j] === s + table[(i + 1) * width + j + 1]!)
      pairs.push([i++, j++])
    else if (table[(i + 1) * width + j]! >= table[i * width + j + 1]!) i++
    else j++
  }
  return pairs
}

function changed(
  l: Compared,
  r: Compared,
  left: number,
  right: number,
  options: DiffOptions,
): DiffRecord[] {
  const base = {
    type: 'diff',
    kind: 'changed',
    left,
    right,
    event: l.event.event,
    id: l.event.id,
  } as const
  const records: DiffRecord[] = []
  if (!options.ignoreIds && l.event.id !== r.event.id)
    records.push({ ...base, field: 'id', leftValue: l.event.id, rightValue: r.event.id })
  if (l.data.json && r.data.json) {
    for (const field of changedFields(l.data.value, r.data.value)) {
      records.push({
        ...base,
        pointer: field.pointer,
        ...(field.left !== undefined && { leftValue: field.left }),
        ...(field.right !== undefined && { rightValue: field.right }),
      })
    }
  } else if (l.data.json !== r.data.json || l.data.value !== r.data.value) {
    records.push({ ...base, pointer: '', leftValue: l.event.data, rightValue: r.event.data })
  }
  return records
}

// Events one network read may carry with nothing batching them: a fast stream read by a busy
// client gets two or three at once now and then; a buffer (a proxy, a gateway) holds more.
const BATCHED_PER_READ = 4

/** `--timing`: the metrics where one side is slower than the other beyond the tolerance, or batched where the other is not. */
export function compareTiming(
  left: SideTiming,
  right: SideTiming,
  tolerance: Tolerance,
): DiffRecord[] {
  const records: DiffRecord[] = []
  const slower = (a: number | null, b: number | null) => {
    // One side never got there (no event, no gap): that differs only if the other did.
    if (a === null || b === null) return a !== b
    const allowed = (x: number) =>
      Math.max('ms' in tolerance ? tolerance.ms : x * tolerance.fraction, MIN_TIME_DIFFERENCE_MS)
    return a > b + allowed(b) || b > a + allowed(a)
  }
  const metric = (name: string, a: number | null, b: number | null) => {
    if (slower(a, b))
      records.push({ type: 'diff', kind: 'timing', metric: name, leftValue: a, rightValue: b })
  }
  metric('firstEventMs', left.firstEventMs, right.firstEventMs)
  metric('gapMs.p50', left.gapMs?.p50 ?? null, right.gapMs?.p50 ?? null)
  const batched = (side: SideTiming) => side.maxEventsPerRead >= BATCHED_PER_READ
  if (batched(left) !== batched(right)) {
    records.push({
      type: 'diff',
      kind: 'timing',
      metric: 'maxEventsPerRead',
      leftValue: left.maxEventsPerRead,
      rightValue: right.maxEventsPerRead,
    })
  }
  return records
}

/** `--timing` needs both sides' timing: a raw capture has none (a usage error). */
export function checkTiming(side: Side, options: Pick<DiffOptions, 'timing'>) {
  if (options.timing && !side.timing)
    throw new UsageError(
      `--timing: ${side.label} is a raw capture, which has no timing (use a --record transcript or a URL)`,
    )
}

export function diffSides(
  left: Side,
  right: Side,
  options: DiffOptions,
): { records: DiffRecord[]; summary: DiffSummary } {
  checkTiming(left, options)
  checkTiming(right, options)
  const records = compareEvents(left.events, right.events, options)
  if (options.timing && left.timing && right.timing)
    records.push(...compareTiming(left.timing, right.timing, options.tolerance))
  return {
    records,
    summary: {
      type: 'diff-summary',
      same: records.length === 0,
      differences: records.length,
      events: { left: left.events.length, right: right.events.length },
      timing: { left: left.timing, right: right.timing },
    },
  }
}
