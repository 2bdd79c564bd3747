import type { ChalkInstance } from 'chalk'
import { visible } from '../../engine/escape.ts'
import type { CloseRecord } from '../../engine/records.ts'

/** Data that is a JSON object or array, re-serialised on one line; undefined for anything else. */
export function compactJson(data: string): string | undefined {
  const first = data.charCodeAt(0)
  // '{' or '[' (leading white space is rare in SSE data and not worth a trim per event)
  if (first !== 123 && first !== 91) return undefined
  try {
    return JSON.stringify(parseJsonExact(data))
  } catch {
    return undefined
  }
}

declare global {
  interface JSON {
    /** Node 21+: a value that JSON.stringify writes as this text. */
    rawJSON(text: string): unknown
  }
}

/**
 * A number that a double does not print back as written: 16 digits or more (with the point),
 * an exponent, a fraction ending in 0, -0, under 1e-6. A conservative test of the text, so that
 * the common event skips the slower parse that keeps numbers as written.
 */
const INEXACT_NUMBER = /[\d.]{16}|\d[eE]|\.\d*0(?!\d)|\.0{6}|-0(?![.\d])/

/**
 * JSON text parsed with its numbers kept as written: shown through a double, an id of
 * 1234567890123456789 read 1234567890123456800 and 1e400 read null, not what the server sent.
 */
export function parseJsonExact(text: string): unknown {
  if (!INEXACT_NUMBER.test(text)) return JSON.parse(text)
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined && String(value) !== context.source
      ? JSON.rawJSON(context.source)
      : value,
  )
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

/** The partial event a close threw away, if any ('' when none). */
export function discardedNote(record: CloseRecord): string {
  return record.discardedBytes === undefined
    ? ''
    : ` (incomplete event of ${record.discardedBytes} byte${record.discardedBytes === 1 ? '' : 's'} discarded)`
}

/** What a reconnection sent as Last-Event-ID. */
export function lastEventIdText(id: string | null): string {
  return id === null ? 'no Last-Event-ID' : `Last-Event-ID: ${visible(id)}`
}
