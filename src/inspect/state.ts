import { MAX_DELAY_MS } from '../engine/duration.ts'
import type { EndReason, ProbeRecord, SummaryRecord } from '../engine/records.ts'
import { Deque } from './deque.ts'
import { type Filter, NO_FILTER, parseFilter } from './filter.ts'
import { detailLines } from './format.ts'

/**
 * Everything the inspect screen shows, changed only by `reduce`: records arriving, keys,
 * the clock and the terminal's size. No I/O and no timers, so that every key and every
 * arrival is tested as a plain call; the components only draw a state.
 */

export type RowRecord = Exclude<ProbeRecord, SummaryRecord>

export interface Row {
  /** 1, 2, 3… over the whole probe: `c` and the buffer's limit drop rows, never renumber. */
  n: number
  record: RowRecord
  /** ping: a ping event or a comment (dimmed, hidden by `h`); status: the connection's life. */
  kind: 'event' | 'ping' | 'status'
}

type Connection =
  | { state: 'connecting'; attempt: number }
  | { state: 'open'; status: number; httpVersion: string }
  /** Waiting to reconnect: the next request goes out at t = `at`. */
  | { state: 'waiting'; at: number }
  | { state: 'ended'; reason: EndReason; exitCode: number; message?: string }

interface Counts {
  events: number
  pings: number
  comments: number
  reconnects: number
  bytes: number
}

export interface InspectState {
  url: string
  pingEvent: string
  /** --buffer: the rows kept. */
  capacity: number
  /** The wall clock at t = 0 (ms since the epoch), for `t`. */
  startedAt: number
  /** ms since t = 0, moved by `tick` and by records; frozen at the end. */
  now: number
  width: number
  height: number
  rows: Deque<Row>
  /** The rows that pass the filter and `h`, in order: what the grid can show. */
  shown: Deque<Row>
  nextN: number
  counts: Counts
  /** Events per second over the last second, from the samples taken by `tick`. */
  rate: number
  samples: { t: number; events: number }[]
  connection: Connection
  /** The last response: the header keeps its status and HTTP version through reconnects. */
  response?: { status: number; httpVersion?: string }
  retryMs: number
  filter: Filter
  /** The `/` prompt while it is open; `error` when the text is not a valid filter. */
  editing?: { text: string; previous: Filter; error?: string }
  /** The selected row's n; `follow` keeps it on the last row as rows arrive. */
  selected?: number
  follow: boolean
  /** n of the top row of the grid, kept so that the grid does not jump while the stream runs. */
  top: number
  /**
   * Display frozen: the rows that arrive meanwhile wait in `held` (the last --buffer of them),
   * so that a fast stream does not push the frozen rows out of the buffer; `events` counts them.
   */
  paused?: { held: Deque<Row>; events: number }
  hidePings: boolean
  wallTime: boolean
  detail?: { row: Row; lines: string[]; bodyFrom: number; json: boolean; scroll: number }
  notice?: string
}

export type Action =
  | { type: 'records'; records: readonly ProbeRecord[]; bytes: number; now: number }
  | { type: 'tick'; now: number }
  | { type: 'resize'; width: number; height: number }
  | { type: 'move'; by: number }
  | { type: 'page'; by: number }
  | { type: 'first' }
  | { type: 'last' }
  | { type: 'open-detail' }
  | { type: 'close-detail' }
  | { type: 'filter-start' }
  | { type: 'filter-edit'; text: string }
  | { type: 'filter-apply' }
  | { type: 'filter-cancel' }
  | { type: 'pause' }
  | { type: 'toggle-pings' }
  | { type: 'toggle-time' }
  | { type: 'clear' }
  | { type: 'notice'; text: string }

export interface InspectOptions {
  url: string
  pingEvent: string
  capacity: number
  retryMs: number
  startedAt: number
  hidePings?: boolean
  width?: number
  height?: number
}

/**
 * The data the rows may hold, whatever --buffer says: 10,000 rows of megabyte events outgrew
 * Node's heap, a crash that leaves the terminal as it was. The oldest rows go first.
 */
export const MAX_BUFFER_CHARS = 64 * 2 ** 20

// A type and an id count too: a server may send megabytes of them (lastEventId is the id of this
// row or of an earlier one, the same string, not a copy).
const rowChars = ({ record: r }: Row) =>
  r.type === 'event'
    ? r.data.length + r.event.length + (r.id?.length ?? 0)
    : r.type === 'comment'
      ? r.text.length
      : 0

/** The rows as received: at most --buffer of them, and MAX_BUFFER_CHARS of data. */
const rowBuffer = () => new Deque<Row>(rowChars)

const overfull = (rows: Deque<Row>, capacity: number) =>
  rows.length > capacity || (rows.weight > MAX_BUFFER_CHARS && rows.length > 1)

export function initialState(o: InspectOptions): InspectState {
  return {
    url: o.url,
    pingEvent: o.pingEvent,
    capacity: o.capacity,
    startedAt: o.startedAt,
    now: 0,
    width: o.width ?? 80,
    height: o.height ?? 24,
    rows: rowBuffer(),
    shown: new Deque(),
    nextN: 1,
    counts: { events: 0, pings: 0, comments: 0, reconnects: 0, bytes: 0 },
    rate: 0,
    samples: [],
    connection: { state: 'connecting', attempt: 1 },
    retryMs: o.retryMs,
    filter: NO_FILTER,
    follow: true,
    top: 1,
    hidePings: o.hidePings ?? false,
    wallTime: false,
  }
}

/**
 * Lines of the screen that are not grid or detail, the first to give way first on a terminal
 * too short for them and a row: Ink loses its place in a frame taller than the terminal, and
 * the screen stayed garbled (header gone, a footer left above the rows) once it grew again.
 */
const CHROME = ['columns', 'stats', 'url', 'footer'] as const
export type ChromeLine = (typeof CHROME)[number]

/** How the screen's height is shared: the detail pane takes the lower part, at least 5 lines. */
export function layout(state: Pick<InspectState, 'height' | 'detail'>): {
  gridRows: number
  detailRows: number
  chrome: readonly ChromeLine[]
} {
  const body = Math.max(1, state.height - CHROME.length)
  const chrome = CHROME.slice(Math.max(0, CHROME.length + body - state.height))
  if (!state.detail) return { gridRows: body, detailRows: 0, chrome }
  const detailRows = Math.max(1, Math.min(body - 1, Math.max(5, Math.floor(body * 0.6))))
  return { gridRows: body - detailRows, detailRows, chrome }
}

const visibleKind = (state: Pick<InspectState, 'hidePings'>, row: Row) =>
  !(state.hidePings && row.kind === 'ping')

/** The grid's window: the selected index and the top index within the displayed rows. */
export function gridWindow(state: InspectState): { count: number; selected: number; top: number } {
  const count = state.shown.length
  const { gridRows } = layout(state)
  if (count === 0) return { count, selected: -1, top: 0 }
  const wanted = state.selected
  const selected =
    state.follow || wanted === undefined
      ? count - 1
      : Math.min(
          count - 1,
          state.shown.lowerBound((row) => row.n < wanted),
        )
  let top = state.follow ? count - gridRows : state.shown.lowerBound((row) => row.n < state.top)
  if (selected < top) top = selected
  if (selected >= top + gridRows) top = selected - gridRows + 1
  top = Math.max(0, Math.min(top, count - gridRows))
  return { count, selected, top }
}

/** The rows the grid shows now, top to bottom. */
export function visibleRows(state: InspectState): Row[] {
  const { top } = gridWindow(state)
  return state.shown.slice(top, top + layout(state).gridRows)
}

/** What `w` writes: every row the grid could scroll to (filter, `h` and pause applied). */
export function displayedRecords(state: InspectState): RowRecord[] {
  return [...state.shown].map((row) => row.record)
}

export function reduce(state: InspectState, action: Action): InspectState {
  switch (action.type) {
    case 'records':
      return addRecords(state, action.records, action.bytes, action.now)
    case 'tick':
      return tick(state, action.now)
    case 'resize':
      return withDetail({ ...state, width: action.width, height: action.height })
    case 'move':
    case 'page': {
      if (state.detail) {
        const step = action.type === 'page' ? action.by * pageOf(state) : action.by
        return scrollDetail(state, state.detail.scroll + step)
      }
      const step = action.type === 'page' ? action.by * pageOf(state) : action.by
      return select(state, (w) => w.selected + step)
    }
    case 'first':
      return state.detail ? scrollDetail(state, 0) : select(state, () => 0)
    case 'last':
      return state.detail ? scrollDetail(state, Infinity) : select(state, (w) => w.count - 1)
    case 'open-detail': {
      // Already open on the selected row (the keys scroll the pane): it stays where it was scrolled
      // to, and a 2M-character event is not laid out again at each Enter (30 ms a press).
      if (state.detail) return state
      const { selected, top } = gridWindow(state)
      const row = selected < 0 ? undefined : state.shown.at(selected)
      if (!row) return state
      // The selection stays on the row the pane shows, however many rows arrive meanwhile.
      return withDetail({
        ...state,
        selected: row.n,
        follow: false,
        top: state.shown.at(top)!.n,
        detail: { row, lines: [], bodyFrom: 0, json: false, scroll: 0 },
        notice: undefined,
      })
    }
    case 'close-detail':
      // Back on the last row, the grid follows the tail again.
      return select({ ...state, detail: undefined }, (w) => w.selected)
    case 'filter-start':
      // The footer's last message (filter not changed: …) would come back under the new filter.
      return {
        ...state,
        editing: { text: state.filter.source, previous: state.filter },
        notice: undefined,
      }
    case 'filter-edit': {
      if (!state.editing) return state
      const parsed = parseFilter(action.text)
      if ('error' in parsed)
        return { ...state, editing: { ...state.editing, text: action.text, error: parsed.error } }
      // Applied as it is typed: the grid answers each key.
      return refilter({ ...state, editing: { ...state.editing, text: action.text } }, parsed)
    }
    case 'filter-apply': {
      const error = state.editing?.error
      if (!error) return { ...state, editing: undefined }
      // Not the last valid prefix that the grid answered with while typing: nothing changes.
      return {
        ...refilter({ ...state, editing: undefined }, state.editing!.previous),
        notice: `filter not changed: ${error}`,
      }
    }
    case 'filter-cancel':
      return state.editing
        ? refilter({ ...state, editing: undefined }, state.editing.previous)
        : state
    case 'pause':
      if (!state.paused) return { ...state, paused: { held: rowBuffer(), events: 0 } }
      for (const row of state.paused.held) keep(state, row, state.filter)
      return { ...state, paused: undefined }
    case 'toggle-pings':
      return refilter({ ...state, hidePings: !state.hidePings }, state.filter)
    case 'toggle-time':
      return withDetail({ ...state, wallTime: !state.wallTime })
    case 'clear':
      return {
        ...state,
        rows: rowBuffer(),
        shown: new Deque(),
        selected: undefined,
        follow: true,
        detail: undefined,
        notice: undefined,
        ...(state.paused && { paused: { ...state.paused, held: rowBuffer() } }),
      }
    case 'notice':
      return { ...state, notice: action.text }
  }
}

function pageOf(state: InspectState): number {
  const { gridRows, detailRows } = layout(state)
  return Math.max(1, (state.detail ? detailRows : gridRows) - 1)
}

/** Moves the selection to `to(window)`, clamped; on the last row the grid follows again. */
function select(
  state: InspectState,
  to: (w: { count: number; selected: number }) => number,
): InspectState {
  const w = gridWindow(state)
  if (w.count === 0) return state
  const index = Math.max(0, Math.min(w.count - 1, to(w)))
  const moved: InspectState = {
    ...state,
    selected: state.shown.at(index)!.n,
    follow: index === w.count - 1,
    top: state.shown.at(w.top)!.n,
    notice: undefined,
  }
  // The window is worked out again with the new selection, then kept as the new top.
  const after = gridWindow(moved)
  return { ...moved, top: state.shown.at(after.top)!.n }
}

function scrollDetail(state: InspectState, to: number): InspectState {
  const detail = state.detail!
  // The pane's first line is its title: the lines get the others.
  const max = Math.max(0, detail.lines.length - (layout(state).detailRows - 1))
  return { ...state, detail: { ...detail, scroll: Math.max(0, Math.min(max, to)) } }
}

/** The detail pane's lines depend on the width and the time mode: laid out again when they change. */
function withDetail(state: InspectState): InspectState {
  if (!state.detail) return state
  const laidOut = detailLines(state.detail.row, state)
  return scrollDetail({ ...state, detail: { ...state.detail, ...laidOut } }, state.detail.scroll)
}

function refilter(state: InspectState, filter: Filter): InspectState {
  const shown = new Deque<Row>()
  for (const row of state.rows) if (visibleKind(state, row) && filter.matches(row)) shown.push(row)
  return { ...state, filter, shown }
}

function rowKind(record: RowRecord, pingEvent: string): Row['kind'] {
  if (record.type === 'comment') return 'ping'
  if (record.type === 'event') return record.event === pingEvent ? 'ping' : 'event'
  return 'status'
}

/** A new row into the buffer (and the grid when it passes), the oldest dropped beyond --buffer. */
function keep(state: InspectState, row: Row, filter: Filter): void {
  state.rows.push(row)
  if (visibleKind(state, row) && filter.matches(row)) state.shown.push(row)
  while (overfull(state.rows, state.capacity)) {
    const dropped = state.rows.shift()!
    if (state.shown.at(0) === dropped) state.shown.shift()
  }
}

function addRecords(
  state: InspectState,
  records: readonly ProbeRecord[],
  bytes: number,
  now: number,
): InspectState {
  const counts = { ...state.counts, bytes: state.counts.bytes + bytes }
  let { nextN, connection, response, retryMs, paused } = state
  const { filter } = state
  for (const record of records) {
    switch (record.type) {
      case 'summary':
        connection = {
          state: 'ended',
          reason: record.reason,
          exitCode: record.exitCode,
          ...(record.message !== undefined && { message: record.message }),
        }
        continue
      case 'event':
        counts.events++
        if (record.event === state.pingEvent) counts.pings++
        if (paused) paused = { ...paused, events: paused.events + 1 }
        break
      case 'comment':
        counts.comments++
        counts.pings++
        break
      case 'open':
        connection = { state: 'open', status: record.status, httpVersion: record.httpVersion }
        response = { status: record.status, httpVersion: record.httpVersion }
        break
      case 'retry':
        // inspect.md: retry changes are rows (@fastify/sse repeats the field with every event).
        if (record.ms === retryMs) continue
        retryMs = record.ms
        break
      case 'close':
      case 'error':
        // A refused response (HTTP 503): its status, with no HTTP version to tell.
        if (record.type === 'error' && record.status !== undefined)
          response = { status: record.status }
        // Either the engine waits `retry` and tries again, or a summary says it ended. A server's
        // retry beyond a timer's reach is waited as MAX_DELAY_MS (24 days), as the engine waits it.
        connection = { state: 'waiting', at: record.t + Math.min(retryMs, MAX_DELAY_MS) }
        break
      case 'reconnect':
        counts.reconnects++
        connection = { state: 'connecting', attempt: record.attempt }
        break
    }
    const row: Row = { n: nextN++, record, kind: rowKind(record, state.pingEvent) }
    if (!paused) keep(state, row, filter)
    else {
      paused.held.push(row)
      while (overfull(paused.held, state.capacity)) paused.held.shift()
    }
  }
  const last = records.at(-1)
  const t = connection.state === 'ended' && last?.type === 'summary' ? last.t : now
  return {
    ...state,
    counts,
    nextN,
    connection,
    ...(response && { response }),
    retryMs,
    paused,
    now: Math.max(state.now, t),
  }
}

const RATE_WINDOW_MS = 1000

function tick(state: InspectState, now: number): InspectState {
  if (state.connection.state === 'ended') return state
  const samples = [...state.samples, { t: now, events: state.counts.events }].filter(
    (sample) => now - sample.t <= RATE_WINDOW_MS,
  )
  const oldest = samples[0]!
  const span = now - oldest.t
  const rate = span > 0 ? ((state.counts.events - oldest.events) * 1000) / span : state.rate
  return { ...state, now, samples, rate }
}
