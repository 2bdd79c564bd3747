import type { ChalkInstance } from 'chalk'
import stringWidth from 'string-width'

/** Data that is a JSON object or array, re-serialised on one line; undefined for anything else. */
export function compactJson(data: string): string | undefined {
  const first = data.charCodeAt(0)
  // '{' or '[' (leading white space is rare in SSE data and not worth a trim per event)
  if (first !== 123 && first !== 91) return undefined
  try {
    return JSON.stringify(JSON.parse(data))
  } catch {
    return undefined
  }
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

/** Text of one column per UTF-16 unit: most data, measured and cut without segmenting it. */
export const NARROW = /^[\x20-\x7e]*$/
// Made on first use: every probe loads this module, few print text that needs segmenting.
let graphemes: Intl.Segmenter | undefined

/** The characters as the terminal draws them, wide (CJK, emoji) or joined (ZWJ, accents). */
export function* characters(text: string): Generator<{ text: string; width: number }> {
  graphemes ??= new Intl.Segmenter()
  for (const { segment } of graphemes.segment(text))
    yield { text: segment, width: stringWidth(segment) }
}

/** Cuts text to `width` columns, marking the cut with `…`; wide characters take two. */
export function cut(text: string, width: number): string {
  if (width <= 0) return ''
  if (NARROW.test(text))
    return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
  let used = 0
  let end = 0
  let fits = 0 // the end of the part that leaves a column for `…`
  for (const character of characters(text)) {
    if (used + character.width > width) return `${text.slice(0, fits)}…`
    used += character.width
    end += character.text.length
    if (used < width) fits = end
  }
  return text
}
