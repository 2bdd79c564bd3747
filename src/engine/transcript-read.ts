import { SseProbeUsageError } from './errors.ts'
import type { ProbeRecord } from './records.ts'

// What --record (transcript.ts) writes, read back for serve and diff: no I/O, the caller reads.

/** A problem with one line; the caller adds the file name and line number. */
export class LineProblem extends Error {}

/**
 * The records of a transcript, checked line by line (serve replays them, diff
 * compares them); `visit` sees each in turn and may refuse it with a LineProblem.
 */
export function readTranscript(
  text: string,
  file: string,
  visit?: (record: ProbeRecord, line: number) => void,
): ProbeRecord[] {
  const lines = text.replace(/^\uFEFF/, '').split('\n')
  const records: ProbeRecord[] = []
  let summaryLine: number | undefined
  for (const [index, raw] of lines.entries()) {
    const lineNumber = index + 1
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line.trim() === '') continue
    try {
      if (summaryLine !== undefined)
        throw new LineProblem(
          `a record after the summary on line ${summaryLine}: one recording per file`,
        )
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        const last = index === lines.length - 1
        throw new LineProblem(
          last
            ? 'truncated: the file ends in the middle of a record'
            : `not a JSON record (${(error as Error).message})`,
        )
      }
      const record = checkRecord(value)
      visit?.(record, lineNumber)
      records.push(record)
      if (record.type === 'summary') summaryLine = lineNumber
    } catch (error) {
      if (error instanceof LineProblem)
        throw new SseProbeUsageError(`${file}:${lineNumber}: ${error.message}`)
      throw error
    }
  }
  if (records.length === 0)
    throw new SseProbeUsageError(`${file}:1: the file is empty: no records to replay`)
  // What `--json -q` writes: the summary of a stream whose records are not in the file, events or
  // (a stream of pings alone) the connections that carried them.
  const summary = records.at(-1)
  if (summary?.type === 'summary' && !records.some((r) => r.type === 'open')) {
    const { events, connections } = summary as unknown as Record<string, unknown>
    const missing = counts(events)
      ? `its ${events} events are`
      : counts(connections)
        ? `its ${connections} connection${connections === 1 ? ' is' : 's are'}`
        : undefined
    if (missing !== undefined)
      throw new SseProbeUsageError(
        `${file}:${summaryLine}: only the summary of a stream (${missing} not in the file): written with -q? --record (or --json without -q) writes every record`,
      )
  }
  return records
}

const counts = (n: unknown) => typeof n === 'number' && n > 0

type Check = [test: (value: unknown) => boolean, expected: string]

const oneLine: Check = [
  (v) => typeof v === 'string' && !/[\r\n]/.test(v),
  'a string without line breaks',
]
const oneLineOrNull: Check = [
  (v) => v === null || oneLine[0](v),
  'a string without line breaks, or null',
]
const text: Check = [(v) => typeof v === 'string', 'a string']
const optionalText: Check = [(v) => v === undefined || typeof v === 'string', 'a string']
const count: Check = [(v) => Number.isInteger(v) && (v as number) >= 0, 'a whole number']
const optionalStatus: Check = [
  (v) => v === undefined || (Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 599),
  'an HTTP status',
]
const closeCause: Check = [
  (v) => v === 'server-closed' || v === 'network-error',
  '"server-closed" or "network-error"',
]

/** The fields the replay reads, per record type; the rest of a record is not needed and not checked. */
const FIELDS: Record<ProbeRecord['type'], Record<string, Check>> = {
  open: {},
  event: { event: oneLine, id: oneLineOrNull, lastEventId: oneLine, data: text },
  comment: { text: oneLine },
  retry: { ms: count },
  close: { cause: closeCause },
  reconnect: { lastEventId: oneLineOrNull },
  error: { message: text, status: optionalStatus, body: optionalText },
  summary: { reason: text },
  // What extensions add (contracts.md): kept in a transcript, nothing to replay.
  violation: {},
  trigger: {},
}

function checkRecord(value: unknown): ProbeRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new LineProblem('not a record: expected a JSON object')
  const record = value as Record<string, unknown>
  const type = record.type
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) {
    // JSON.stringify(undefined) is no JSON: a line without a type (another tool's log) says so.
    const what =
      type === undefined ? 'no record type' : `unknown record type ${JSON.stringify(type)}`
    throw new LineProblem(`${what} (expected one of ${Object.keys(FIELDS).join(', ')})`)
  }
  // JSON.parse reads 1e400 as Infinity.
  if (typeof record.t !== 'number' || !(record.t >= 0) || record.t === Infinity)
    throw new LineProblem(`${type} record: "t" must be a number of milliseconds`)
  for (const [field, [test, expected]] of Object.entries(FIELDS[type as ProbeRecord['type']])) {
    if (!test(record[field]))
      throw new LineProblem(
        `${type} record: "${field}" ${field in record ? 'must be' : 'is missing: expected'} ${expected}`,
      )
  }
  return record as unknown as ProbeRecord
}
