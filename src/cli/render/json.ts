import { isHighSurrogate } from '../../engine/escape.ts'
import { DATA_JSON, jsonText, type WithDataJson } from '../../engine/json-text.ts'
import type { ProbeRecord } from '../../engine/records.ts'

/** One record per line; JSON.stringify escapes every control character. */
export function renderJson(record: ProbeRecord): string {
  return `${jsonText(record)}\n`
}

/**
 * renderJson for a stream of records, faster on events: their lines are written by hand around
 * the JSON text of the data (an extension's, DATA_JSON, else JSON.stringify's), with the part
 * between the time and the data kept from the last event, the same for each delta of an answer
 * (JSON.stringify of a whole event record took ~15 % of `--json`'s instructions).
 */
export function createJsonRenderer(): (record: ProbeRecord) => string {
  const between = {
    attempt: 0,
    event: '',
    id: null as string | null,
    lastEventId: '',
    head: '',
    text: '',
  }
  return (record) => {
    if (record.type !== 'event') return renderJson(record)
    const { attempt, event, id, lastEventId } = record
    const b = between
    if (
      attempt !== b.attempt ||
      event !== b.event ||
      id !== b.id ||
      lastEventId !== b.lastEventId
    ) {
      // Where a server gives ids, each event has its own, which is then the last event id too.
      const idJson = id === null ? 'null' : JSON.stringify(id)
      const lastJson = lastEventId === id ? idJson : JSON.stringify(lastEventId)
      if (attempt !== b.attempt || event !== b.event)
        b.head = `,"attempt":${attempt},"event":${JSON.stringify(event)},"id":`
      b.text = `${b.head}${idJson},"lastEventId":${lastJson},"data":`
      b.attempt = attempt
      b.event = event
      b.id = id
      b.lastEventId = lastEventId
    }
    const data = (record as WithDataJson)[DATA_JSON] ?? JSON.stringify(record.data)
    return `{"type":"event","t":${record.t}${b.text}${data},"dt":${record.dt}}\n`
  }
}

// Characters of a long string per piece: its JSON (up to 6 characters each) stays below V8's
// large-object size (128 KB).
const PIECE = 16_384
// Taken for a string value in the JSON text, where it stands for a long string: no record says
// it, and were one to, the count of its occurrences tells (see renderJsonPieces).
const LONG_STRING = '\u0000sse-probe: long string\u0000'
const LONG_STRING_JSON = JSON.stringify(LONG_STRING)

/**
 * A record's line as pieces of less than 128 KB each, written one by one. A JSON text larger
 * than that (an LLM summary's stitched text: 900 KB for 100k tokens) is built by V8 in
 * large-object memory at ~10 ns a character and then converted into one buffer as large: each
 * is memory the process has not touched, and where a first touch is slow (~12 µs a page in a
 * virtual machine) the two cost ~25 ms. The pieces join into exactly renderJson's line.
 */
export function renderJsonPieces(record: ProbeRecord): string[] {
  const long: string[] = []
  let json: string
  try {
    json = JSON.stringify(record, (_key, value: unknown) => {
      if (typeof value !== 'string' || value.length <= PIECE) return value
      long.push(value)
      return LONG_STRING
    })
  } catch {
    // Nested too deeply for JSON.stringify (a server's usage object, say): renderJson copes.
    return [renderJson(record)]
  }
  const around = json.split(LONG_STRING_JSON)
  if (long.length === 0 || around.length !== long.length + 1) return [renderJson(record)]
  const pieces: string[] = []
  let between = around[0]!
  long.forEach((value, i) => {
    pieces.push(`${between}"`)
    for (let start = 0; start < value.length; ) {
      let end = Math.min(start + PIECE, value.length)
      // A surrogate pair cut in two would be escaped as two lone surrogates.
      if (end < value.length && isHighSurrogate(value.charCodeAt(end - 1))) end--
      const piece = value.slice(start, end)
      pieces.push(WRITTEN_AS_IS.test(piece) ? piece : JSON.stringify(piece).slice(1, -1))
      start = end
    }
    between = `"${around[i + 1]!}`
  })
  pieces.push(`${between}\n`)
  return pieces
}

// A string JSON.stringify would write as it is (no surrogate at all: lone ones are escaped). Most
// text is, and the test (anchored: 3× faster than a search) reads it faster than JSON.stringify.
const WRITTEN_AS_IS = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/
