/**
 * `JSON.stringify(value)`, also for a value nested too deeply for it. V8 writes JSON recursively
 * and throws a RangeError past a few thousand levels, which `JSON.parse` reads without complaint:
 * a server's `[[[[…` (a usage object, a tool's input, an error) would otherwise end the command
 * with an internal error and no summary. Records and parsed JSON only: no `toJSON`, no replacer.
 */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch (error) {
    if (!(error instanceof RangeError) || !nestedDeeperThan(value, SAFE_DEPTH)) throw error
    return deepJsonText(value)
  }
}

// Far below where JSON.stringify overflows the stack (some 4,000 levels), far above real data.
const SAFE_DEPTH = 1000

/** The same text as JSON.stringify, written by a loop over a stack of what is left to write. */
function deepJsonText(root: unknown): string {
  const out: string[] = []
  // Literal text to write, or a value still to write (boxed), the next one last.
  const todo: (string | { value: unknown })[] = [{ value: root }]
  while (todo.length > 0) {
    const next = todo.pop()!
    if (typeof next === 'string') {
      out.push(next)
      continue
    }
    const { value } = next
    if (Array.isArray(value)) {
      out.push('[')
      todo.push(']')
      for (let i = value.length - 1; i >= 0; i--) {
        todo.push({ value: isWritten(value[i]) ? value[i] : null })
        if (i > 0) todo.push(',')
      }
    } else if (typeof value === 'object' && value !== null) {
      const object = value as Record<string, unknown>
      const keys = Object.keys(object).filter((key) => isWritten(object[key]))
      out.push('{')
      todo.push('}')
      for (let i = keys.length - 1; i >= 0; i--) {
        todo.push({ value: object[keys[i]!] })
        todo.push(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`)
      }
    } else out.push(JSON.stringify(value))
  }
  return out.join('')
}

/** Whether JSON.stringify writes the value (in an object; in an array it writes null instead). */
const isWritten = (value: unknown) =>
  value !== undefined && typeof value !== 'function' && typeof value !== 'symbol'

/** Whether objects and arrays nest more than `depth` levels deep in the value; a loop, not recursion. */
export function nestedDeeperThan(value: unknown, depth: number): boolean {
  const todo: [unknown, number][] = [[value, 0]]
  while (todo.length > 0) {
    const [node, level] = todo.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (level >= depth) return true
    for (const child of Object.values(node)) todo.push([child, level + 1])
  }
  return false
}

/**
 * Calls `visit` once for every object and array under `root` (the same object reached twice is
 * visited once), after its members are queued; what `visit` returns is walked too. A stack, not
 * recursion: a deep document must not overflow the call stack.
 */
export function forEachObject(root: unknown, visit: (node: object) => unknown): void {
  const seen = new WeakSet<object>()
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node !== 'object' || node === null || seen.has(node)) continue
    seen.add(node)
    // One by one: spreading a node of 100,000+ members (a huge enum or properties) into push's
    // arguments overflows the stack.
    for (const value of Object.values(node)) stack.push(value)
    stack.push(visit(node))
  }
}

/** A JSON object (not null, not an array), its values typed as the caller reads them. */
export const isJsonObject = <Value = unknown>(value: unknown): value is Record<string, Value> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * On an event record, where an extension that has read the data's bytes knows it (the LLM
 * profile's templates, when asked): `JSON.stringify(record.data)`, so that a writer of JSON
 * lines need not escape the data again. A symbol: records written or compared never show it.
 */
export const DATA_JSON = Symbol('data as JSON text')
export type WithDataJson = { [DATA_JSON]?: string }

/**
 * A regular expression's source for the body of a JSON string without escapes (between its
 * quotes): no quote, backslash or raw control character. Its text is its characters.
 */
export const PLAIN_BODY = '[^"\\\\\\x00-\\x1f]*'

// A token of JSON text, any space before it.
const JSON_TOKEN =
  /[ \t\n\r]*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}[\]:,]|true|false|null)/y

export interface JsonToken {
  /** Where it starts (plus the offset asked for). */
  at: number
  text: string
}

/** Where a value is in the text: from, to (a string's characters, without its quotes). */
export interface ValueSpan {
  from: number
  to: number
  number: boolean
}

/** Where the value of a string or number token is. */
export function valueSpan({ at, text }: JsonToken): ValueSpan {
  return text[0] === '"'
    ? { from: at + 1, to: at + text.length - 1, number: false }
    : { from: at, to: at + text.length, number: true }
}

/**
 * The tokens of a run of JSON text (space after the last one allowed: Python's json.dumps writes
 * `": "`); undefined where something else is. Not a check of JSON's grammar: of its words alone.
 */
export function jsonTokens(run: string, offset = 0): JsonToken[] | undefined {
  const tokens: JsonToken[] = []
  let end = run.length
  while (end > 0 && isJsonSpace(run.charCodeAt(end - 1))) end--
  JSON_TOKEN.lastIndex = 0
  try {
    while (JSON_TOKEN.lastIndex < end) {
      const match = JSON_TOKEN.exec(run)
      if (match === null) return undefined
      const text = match[1]!
      tokens.push({ at: offset + match.index + match[0].length - text.length, text })
    }
  } catch {
    // A string of millions of characters and escapes: past V8's backtracking stack.
    return undefined
  }
  return tokens
}

// Tab, line feed, carriage return, space. (A regular expression anchored at the end, /\s*$/, is
// tried from every position: a run of n spaces costs n² steps.)
const isJsonSpace = (code: number) => code === 32 || code === 10 || code === 13 || code === 9
