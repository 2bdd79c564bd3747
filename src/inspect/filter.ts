import { userRegex } from '../engine/regex.ts'
import type { Row } from './state.ts'

/** What `/` typed, compiled once: the grid tests every new row against it. */
export interface Filter {
  source: string
  matches(row: Row): boolean
}

export const NO_FILTER: Filter = { source: '', matches: () => true }

/**
 * `type:status` keeps the events of one type; `/regex/flags` and plain text (any case) look in
 * the type and the data (a comment's text). Status rows (open, close, reconnect, retry, error)
 * always pass: they are the context a filtered stream is read in.
 */
export function parseFilter(source: string): Filter | { error: string } {
  const text = source.trim()
  if (text === '') return NO_FILTER
  if (text.startsWith('type:')) {
    const type = text.slice(5).trim()
    return {
      source: text,
      matches: (row) =>
        row.record.type === 'event' ? row.record.event === type : row.kind === 'status',
    }
  }
  const regex = /^\/(.+)\/([a-z]*)$/.exec(text)
  let test: (value: string) => boolean
  if (regex) {
    let pattern: RegExp
    try {
      // No g or y: a global regex remembers where it stopped and skips matches on the next row.
      pattern = userRegex(regex[1]!, regex[2]!.replace(/[gy]/g, ''))
    } catch (error) {
      return { error: (error as Error).message }
    }
    test = (value) => pattern.test(value)
  } else {
    const lower = text.toLowerCase()
    test = (value) => value.toLowerCase().includes(lower)
  }
  return {
    source: text,
    matches(row) {
      const r = row.record
      if (r.type === 'event') return test(r.event) || test(r.data)
      if (r.type === 'comment') return test(r.text)
      return true
    },
  }
}
