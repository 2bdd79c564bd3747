import { redactText } from './redact.ts'

// C0 and C1 controls, DEL, and the bidi marks and overrides that reorder text on screen; tab and
// line feed apart, for text that keeps its lines (a model's answer).
const UNSAFE_BUT_LINES =
  '\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069'
const UNSAFE = new RegExp(`[\\t\\n${UNSAFE_BUT_LINES}]`, 'g')
const UNSAFE_IN_LINES = new RegExp(`[${UNSAFE_BUT_LINES}]`, 'g')
// The same classes without the g flag: a test per string is cheaper than a replace that finds nothing.
const ANY_UNSAFE = new RegExp(UNSAFE.source)
const ANY_UNSAFE_IN_LINES = new RegExp(UNSAFE_IN_LINES.source)
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/**
 * Makes server-controlled text safe for a terminal: every control character is
 * shown as an escape (\x1b, \u202e) so a stream cannot move the cursor,
 * rewrite earlier lines, retitle the window or reach the clipboard.
 */
export function visible(text: string): string {
  return ANY_UNSAFE.test(text) ? text.replace(UNSAFE, escapeChar) : text
}

/** As visible, but tabs and line breaks stay: the text keeps its layout, escaped as visible escapes it. */
export function visibleLines(text: string): string {
  return ANY_UNSAFE_IN_LINES.test(text) ? text.replace(UNSAFE_IN_LINES, escapeChar) : text
}

const escapeChar = (char: string) => NAMED[char] ?? escapeCode(char.charCodeAt(0))

function escapeCode(code: number): string {
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Text that a regular expression matches literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Whether a UTF-16 unit is the first half of a surrogate pair (false for NaN: no unit there). */
export const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff

/** The first `length` UTF-16 units of a text, one fewer where the last would be half a surrogate pair. */
export function headOf(text: string, length: number): string {
  return text.slice(0, isHighSurrogate(text.charCodeAt(length - 1)) ? length - 1 : length)
}

// Server text quoted in a one-line message (reason phrase, Content-Type, Location, a certificate's
// names) is cut to this: llhttp reads a status line of any length, which no header limit bounds.
export const SHOWN_MAX = 200

/** A text cut to about `length` UTF-16 units (never inside a surrogate pair), with an ellipsis when cut. */
export function clipped(text: string, length: number): string {
  return text.length <= length ? text : `${headOf(text, length)}…`
}

/**
 * What a bug (exit 70) says on stderr: one line, safe for a terminal, of bounded length. A
 * generated assertion message quotes the failed expression's source line, which in the bundle is
 * the whole minified script. Credentials it may quote (a URL, a header) are redacted, whatever
 * --show-secrets says: the line is made to be pasted into a bug report.
 */
export function internalErrorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return `sse-probe: internal error: ${clipped(visible(redactText(message.split('\n')[0]!)), 500)}\n`
}
