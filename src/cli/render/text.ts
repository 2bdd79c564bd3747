import type { ChalkInstance } from 'chalk'
import { counted } from '../../engine/counted.ts'
import { visible } from '../../engine/escape.ts'
import type { CloseRecord } from '../../engine/records.ts'

/**
 * Data that is a JSON object or array, on one line: the white space between its tokens dropped,
 * the tokens as sent (re-serialising would round 9007199254740993, turn 1E400 into null and drop a
 * repeated key); undefined for anything else.
 */
export function compactJson(data: string): string | undefined {
  const first = data.charCodeAt(0)
  // '{' or '[' (leading white space is rare in SSE data and not worth a trim per event)
  if (first !== 123 && first !== 91) return undefined
  try {
    JSON.parse(data)
  } catch {
    return undefined
  }
  return data.replace(JSON_SPACE, '$1')
}

// A string (kept whole: its spaces are data) or the white space between tokens.
const JSON_SPACE = /("[^"\\]*(?:\\.[^"\\]*)*")|[\t\n\r ]+/g
// The tokens of compact JSON: a string, a bracket or separator, or a number or literal.
const COMPACT_TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\],:]|[^"{}[\],:]+/g

/** Compact JSON (from compactJson) indented by two spaces, as JSON.stringify(…, null, 2) lays it out. */
export function indentJson(compact: string): string {
  const tokens = compact.match(COMPACT_TOKEN) ?? []
  let depth = 0
  let out = ''
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token === '{' || token === '[') {
      const next = tokens[i + 1]
      // An empty object or array stays on its line: {} and [].
      if (next === '}' || next === ']') {
        out += token + next
        i++
      } else out += `${token}\n${'  '.repeat(++depth)}`
    } else if (token === '}' || token === ']') out += `\n${'  '.repeat(--depth)}${token}`
    else if (token === ',') out += `,\n${'  '.repeat(depth)}`
    else if (token === ':') out += ': '
    else out += token
  }
  return out
}

const JSON_TOKEN =
  /("(?:[^"\\]|\\.)*")(:?)|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g

/** Colours the keys, strings, numbers and literals of (compact or indented) JSON text. */
export function highlightJson(json: string, c: ChalkInstance): string {
  return json.replace(
    JSON_TOKEN,
    (
      _,
      string: string | undefined,
      colon: string,
      number: string | undefined,
      literal: string | undefined,
    ) => {
      if (string !== undefined) return colon ? `${c.cyan(string)}:` : c.green(string)
      if (number !== undefined) return c.yellow(number)
      return c.magenta(literal!)
    },
  )
}

/** Local time of day as DevTools' Time column shows it: HH:MM:SS.mmm. */
export function wallClock(epochMs: number): string {
  const date = new Date(epochMs)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`
}

// The wording of the status lines, which pretty and inspect show alike.

/** How a connection ended. */
export function closedHow(record: CloseRecord): string {
  return record.cause === 'server-closed'
    ? 'server closed the stream'
    : `connection broke: ${visible(record.message ?? '')}`
}

/** The partial event a close threw away, or a last end block that was none ('' when neither). */
export function discardedNote(record: CloseRecord): string {
  if (record.datalessEnd !== undefined)
    return ` (its last block, event: ${visible(record.datalessEnd)}, had no data line: not an event, as in browsers; send "data:" with it)`
  return record.discardedBytes === undefined
    ? ''
    : ` (incomplete event of ${counted(record.discardedBytes, 'byte')} discarded)`
}

/** What a reconnection sent as Last-Event-ID. */
export function lastEventIdText(id: string | null): string {
  return id === null ? 'no Last-Event-ID' : `Last-Event-ID: ${visible(id)}`
}
