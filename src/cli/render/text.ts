import type { ChalkInstance } from 'chalk'
import { visible } from '../../engine/escape.ts'
import type { CloseRecord } from '../../engine/records.ts'

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
