import {
  closedHow,
  compactJson,
  discardedNote,
  indentJson,
  lastEventIdText,
  wallClock,
} from '../cli/render/text.ts'
import { characters, NARROW, stringWidth } from '../cli/render/width.ts'
import { formatDuration } from '../engine/duration.ts'
import { headOf, visible } from '../engine/escape.ts'
import type { InspectState, Row, RowRecord } from './state.ts'

/** The text of one grid row, cell by cell, server text already escaped. */
export interface Cells {
  n: string
  time: string
  gap: string
  id: string
  type: string
  data: string
}

type TimeContext = Pick<InspectState, 'wallTime' | 'startedAt'>

function formatTime(t: number, context: TimeContext): string {
  return context.wallTime ? wallClock(context.startedAt + t) : `${(t / 1000).toFixed(3)}s`
}

export function cells(row: Row, context: TimeContext): Cells {
  const r = row.record
  const base = { n: String(row.n), time: formatTime(r.t, context), gap: '', id: '' }
  switch (r.type) {
    case 'event':
      return {
        ...base,
        gap: r.dt === null ? '' : `+${formatDuration(r.dt)}`,
        id: r.id === null ? '' : r.id === '' ? '""' : visible(r.id),
        type: visible(r.event),
        data: oneLine(r.data),
      }
    case 'comment':
      return { ...base, type: ':', data: clipped(r.text) ?? visible(r.text) }
    default:
      return { ...base, type: r.type, data: statusText(r) }
  }
}

/**
 * A grid row is one line, never wider than the terminal: text beyond this is left out before it is
 * parsed or escaped, or every frame parsed each megabyte event on the screen whole (seconds a key).
 */
const ONE_LINE_MAX = 4096

const clipped = (text: string) =>
  text.length > ONE_LINE_MAX ? `${visible(headOf(text, ONE_LINE_MAX))}…` : undefined

/** Data on one line: JSON compacted, anything else with its line breaks shown as \n. */
function oneLine(data: string): string {
  return clipped(data) ?? visible(compactJson(data) ?? data)
}

function statusText(r: Exclude<RowRecord, { type: 'event' | 'comment' }>): string {
  switch (r.type) {
    case 'open':
      return `${r.attempt === 1 ? 'connected' : 'reconnected'}  ${r.status}  HTTP/${r.httpVersion}`
    case 'close':
      return closedHow(r) + discardedNote(r)
    case 'reconnect':
      return `attempt ${r.attempt} after ${formatDuration(r.delayMs)}, ${lastEventIdText(r.lastEventId)}`
    case 'retry':
      return `retry: ${r.ms}ms`
    case 'error':
      return visible(r.message)
    case 'violation':
      return `${visible(r.check)} ${visible(r.pointer)}: ${visible(r.message)}`
    case 'trigger': {
      const { type: _type, t: _t, ...rest } = r
      return visible(JSON.stringify(rest))
    }
  }
}

/** Pads text with spaces to `width` columns. */
export function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)))
}

/**
 * The detail pane's lines for one row: its fields, then the data whole (JSON indented),
 * wrapped to the width so that nothing is cut.
 */
export function detailLines(
  row: Row,
  state: TimeContext & { width: number },
): { lines: string[]; bodyFrom: number; json: boolean } {
  const r = row.record
  const fields: [string, string][] = [
    ['#', String(row.n)],
    ['time', formatTime(r.t, state)],
    ['attempt', 'attempt' in r ? String(r.attempt) : ''],
  ]
  let body: string[] = []
  let json = false
  if (r.type === 'event') {
    fields.unshift(['type', visible(r.event)])
    fields.push(
      ['id', r.id === null ? '(none)' : visible(JSON.stringify(r.id))],
      ['lastEventId', visible(JSON.stringify(r.lastEventId))],
      ['gap', r.dt === null ? '(first event)' : formatDuration(r.dt)],
      ['size', `${Buffer.byteLength(r.data)} bytes`],
    )
    const compact = compactJson(r.data)
    json = compact !== undefined
    body = (compact === undefined ? r.data || '(empty data)' : indentJson(compact))
      .split('\n')
      .map(visible)
  } else if (r.type === 'comment') {
    fields.unshift(['type', 'comment'])
    body = [visible(r.text)]
  } else {
    fields.unshift(['type', r.type])
    body = [statusText(r)]
    if (r.type === 'open' || r.type === 'error')
      for (const [name, value] of Object.entries(r.headers ?? {}))
        body.push(`${visible(name)}: ${visible(value)}`)
    if (r.type === 'error' && r.body) body.push(visible(r.body))
  }
  const head = [...fields.map(([name, value]) => `${name.padEnd(12)}${value}`), ''].flatMap(
    (line) => wrap(line, state.width),
  )
  return {
    lines: [...head, ...body.flatMap((line) => wrap(line, state.width))],
    bodyFrom: head.length,
    json,
  }
}

/**
 * Text in which each UTF-16 unit is a character of its own (no surrogates, combining marks,
 * joiners or variation selectors): Latin, Greek, Cyrillic, CJK, kana, Hangul syllables, full-width
 * forms. Wrapped by each unit's width, not by segmenting it: a 2M-character Chinese event took 2 s
 * to open in the detail pane (and again at each resize).
 */
const SINGLE_UNITS =
  /^[\x20-\x7e\u00a0-\u02ff\u0370-\u0482\u048a-\u052f\u3000-\u3029\u3030-\u3096\u309b-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uff01-\uff9d\uffa0-\uffef]*$/

/** The columns of each UTF-16 unit seen so far (255: not measured yet). */
const unitWidths = new Uint8Array(0x10000).fill(255)

function unitWidth(code: number): number {
  let width = unitWidths[code]!
  if (width === 255) width = unitWidths[code] = stringWidth(String.fromCharCode(code))
  return width
}

/** Splits a line into lines of `width` columns, never inside a character. */
function wrap(line: string, width: number): string[] {
  if (width <= 0 || line.length <= width / 2) return [line]
  if (NARROW.test(line)) {
    if (line.length <= width) return [line]
    const parts: string[] = []
    for (let i = 0; i < line.length; i += width) parts.push(line.slice(i, i + width))
    return parts
  }
  if (SINGLE_UNITS.test(line)) {
    const parts: string[] = []
    let start = 0
    let used = 0
    for (let i = 0; i < line.length; i++) {
      const columns = unitWidth(line.charCodeAt(i))
      if (used + columns > width && i > start) {
        parts.push(line.slice(start, i))
        start = i
        used = 0
      }
      used += columns
    }
    parts.push(line.slice(start))
    return parts
  }
  const parts: string[] = []
  let part = ''
  let used = 0
  for (const character of characters(line)) {
    if (used + character.width > width && part !== '') {
      parts.push(part)
      part = ''
      used = 0
    }
    part += character.text
    used += character.width
  }
  parts.push(part)
  return parts
}
