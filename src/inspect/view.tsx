import type { ChalkInstance } from 'chalk'
import { Box, Text, useInput, usePaste } from 'ink'
import { highlightJson } from '../cli/render/text.ts'
import { cut, cutStart, stringWidth } from '../cli/render/width.ts'
import { counted } from '../engine/counted.ts'
import { formatDuration } from '../engine/duration.ts'
import { visible } from '../engine/escape.ts'
import { type Cells, cells, pad } from './format.ts'
import type { KeyInfo } from './keys.ts'
import { gridWindow, type InspectState, layout, type Row, visibleRows } from './state.ts'

/** The whole screen, drawn from a state: header, column names, the visible rows, detail, footer. */
export function InspectScreen({ state, chalk }: { state: InspectState; chalk: ChalkInstance }) {
  const { gridRows, detailRows, chrome } = layout(state)
  const rows = visibleRows(state)
  const window = gridWindow(state)
  // With the pane open, its row only: once the buffer dropped it (or the filter hid it) the
  // grid marked the oldest row left, which the pane does not show.
  const selectedN = state.detail
    ? state.detail.row.n
    : window.selected < 0
      ? undefined
      : state.shown.at(window.selected)?.n
  const widths = columnWidths(state)
  return (
    <Box flexDirection="column" width={state.width}>
      {chrome.includes('url') && <UrlLine state={state} />}
      {chrome.includes('stats') && <StatsLine state={state} />}
      {chrome.includes('columns') && (
        <Text bold wrap="truncate">
          {line(
            { n: '#', time: 'time', gap: 'gap', id: 'id', type: 'type', data: 'data' },
            widths,
            ' ',
          )}
        </Text>
      )}
      {rows.map((row) => (
        <GridRow
          key={row.n}
          row={row}
          selected={row.n === selectedN}
          state={state}
          widths={widths}
        />
      ))}
      {Array.from({ length: gridRows - rows.length }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: blank filler lines have nothing else to key on
        <Text key={`blank-${i}`}> </Text>
      ))}
      {state.detail && <Detail state={state} rows={detailRows} chalk={chalk} />}
      {chrome.includes('footer') && <Footer state={state} />}
    </Box>
  )
}

/** The screen plus its keys: each key goes to `onKey`, each paste to `onPaste`, which own the state. */
export function InspectApp(props: {
  state: InspectState
  chalk: ChalkInstance
  onKey: (input: string, key: KeyInfo) => void
  onPaste: (text: string) => void
}) {
  useInput((input, key) => props.onKey(input, key))
  // Bracketed paste: a paste arrives whole, never read as keys.
  usePaste((text) => props.onPaste(text))
  return <InspectScreen state={props.state} chalk={props.chalk} />
}

/** The state; an end's message (its reason's detail) left out unless `message`. */
function connectionText(state: InspectState, message = true): string {
  const c = state.connection
  switch (c.state) {
    case 'connecting':
      return c.attempt === 1 ? 'connecting' : `reconnecting (attempt ${c.attempt})`
    case 'open':
      return 'open'
    case 'waiting':
      return `reconnecting in ${formatSeconds(Math.max(0, c.at - state.now))}`
    case 'ended':
      return `ended: ${c.reason}${message && c.message ? ` (${visible(c.message)})` : ''}`
  }
}

/** `200 HTTP/1.1`: what the server last answered. */
function responseText(response: NonNullable<InspectState['response']>): string {
  return `${response.status}${response.httpVersion ? ` HTTP/${response.httpVersion}` : ''}`
}

const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

/**
 * On a narrow terminal the state (open, reconnecting in 2.1s, ended: reason) is what is watched:
 * it stays whole; the URL keeps its first columns, then the response gives way, then the URL.
 * An end's message gives way first: a long one (a --connect-timeout's, a --timeout's) left no
 * column of the URL at 80 columns.
 */
const URL_MIN = 16

function UrlLine({ state }: { state: InspectState }) {
  const c = state.connection
  const colour =
    c.state === 'open'
      ? 'green'
      : c.state === 'ended'
        ? c.exitCode === 0
          ? 'green'
          : 'red'
        : 'yellow'
  const least = `● ${connectionText(state, false)}`
  const full = `● ${connectionText(state)}`
  const url = visible(state.url)
  const whole = state.response ? `${responseText(state.response)}  ` : ''
  const left = (response: string) => state.width - URL_MIN - stringWidth(`  ${response}`)
  // At 40 columns the URL's minimum pushed 'reconnecting in 1.0s' and 'ended: server-closed' out.
  const response = left(whole) >= stringWidth(least) ? whole : ''
  const status = left(response) > stringWidth(least) ? cut(full, left(response)) : least
  const room = state.width - stringWidth(`  ${response}${status}`)
  return (
    <Text wrap="truncate">
      <Text bold>{cut(url, room)}</Text>
      {`  ${response}`}
      <Text color={colour}>{status}</Text>
    </Text>
  )
}

/**
 * Events per second over the last second while the stream runs; once it has ended, over the whole
 * run (`avg`): the last second's reading would otherwise stand for good (a burst's 430,000/s).
 */
function rateText(state: InspectState): string {
  if (state.connection.state !== 'ended') return `${Math.round(state.rate)}/s`
  const average = state.now > 0 ? (state.counts.events * 1000) / state.now : 0
  return `${Math.round(average)}/s avg`
}

function StatsLine({ state }: { state: InspectState }) {
  const { counts } = state
  const stats = [
    // Tenths of a second from 1s on; below, the ms themselves, or a refused connection ended at 0ms.
    formatDuration(state.now < 1000 ? state.now : Math.round(state.now / 100) * 100),
    counted(counts.events, 'event'),
    counted(counts.pings, 'ping'),
    counted(counts.reconnects, 'reconnect'),
    formatBytes(counts.bytes),
    rateText(state),
  ]
  if (state.filter.source) stats.push(`filter: ${visible(state.filter.source)}`)
  if (state.hidePings) stats.push('pings hidden')
  // Kept whole on a narrow terminal, where the counts give way: a grid that stands still must say why.
  const paused = state.paused ? ` paused · +${state.paused.events} ` : ''
  return (
    <Text wrap="truncate">
      {cut(stats.join(' · '), state.width - stringWidth(paused))}
      {paused && (
        <Text color="yellow" inverse>
          {paused}
        </Text>
      )}
    </Text>
  )
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
}

/** The width of each column; 0 for a column left out of a narrow terminal. */
type Widths = Record<keyof Cells, number>

/** The data column's least width before columns are left out: it is what the grid is for. */
const MIN_DATA = 12

function columnWidths(state: InspectState): Widths {
  const widths = {
    // The last row kept, not the next number: rows held by a pause widened the column of a grid
    // that must stand still (999 → 1000).
    n: Math.max(3, String(state.rows.at(state.rows.length - 1)?.n ?? 0).length),
    // Since start: 9 columns (9999.999s) for the first 2.8 hours, one more for each digit after.
    time: state.wallTime ? 12 : Math.max(9, `${(state.now / 1000).toFixed(3)}s`.length),
    gap: 8,
    id: 8,
    type: 10,
    data: 0,
  }
  // Two columns for the selection mark, one space after each cell but the data.
  const rest = () =>
    state.width - 2 - Object.values(widths).reduce((sum, width) => sum + (width && width + 1), 0)
  for (const column of ['gap', 'id', 'time'] as const) if (rest() < MIN_DATA) widths[column] = 0
  if (rest() < MIN_DATA) widths.type = 6
  return { ...widths, data: Math.max(MIN_DATA, rest()) }
}

function line(c: Cells, w: Widths, mark: string): string {
  return [
    `${mark} ${c.n.padStart(w.n)}`,
    w.time && c.time.padStart(w.time),
    w.gap && pad(cut(c.gap, w.gap), w.gap),
    w.id && pad(cut(c.id, w.id), w.id),
    pad(cut(c.type, w.type), w.type),
    cut(c.data, w.data),
  ]
    .filter((cell) => cell !== 0)
    .join(' ')
}

const STATUS_COLOURS: Record<string, string> = {
  open: 'green',
  close: 'yellow',
  reconnect: 'blue',
  retry: 'blue',
  error: 'red',
  violation: 'red',
  trigger: 'magenta',
}

function GridRow(props: { row: Row; selected: boolean; state: InspectState; widths: Widths }) {
  const { row, selected } = props
  const text = line(cells(row, props.state), props.widths, selected ? '›' : ' ')
  return (
    <Text
      wrap="truncate"
      inverse={selected}
      dimColor={row.kind === 'ping'}
      color={row.kind === 'status' ? STATUS_COLOURS[row.record.type] : undefined}
    >
      {text}
    </Text>
  )
}

function Detail({
  state,
  rows,
  chalk,
}: {
  state: InspectState
  rows: number
  chalk: ChalkInstance
}) {
  const detail = state.detail!
  const body = detail.lines.slice(detail.scroll, detail.scroll + rows - 1)
  const more = detail.lines.length - detail.scroll - body.length
  const title = `── #${detail.row.n} ${more > 0 ? `(${counted(more, 'more line')}, ↑↓ PgUp PgDn scroll) ` : ''}Esc closes `
  return (
    <Box flexDirection="column">
      <Text dimColor wrap="truncate">
        {title.padEnd(state.width, '─')}
      </Text>
      {body.map((text, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a line's position is its identity here
        <Text key={i} wrap="truncate">
          {/* Ink gives an empty Text no line: the data's blank lines went, and the pane shrank. */}
          {text === ''
            ? ' '
            : detail.json && detail.scroll + i >= detail.bodyFrom
              ? highlightJson(text, chalk)
              : text}
        </Text>
      ))}
      {Array.from({ length: rows - 1 - body.length }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: blank filler lines have nothing else to key on
        <Text key={`blank-${i}`}> </Text>
      ))}
    </Box>
  )
}

const HINTS =
  '↑↓ move  Enter detail  / filter  space pause  h pings  t time  c clear  r reconnect  w write  q quit'

function Footer({ state }: { state: InspectState }) {
  if (state.editing) {
    // The end, where the typing goes on, and the cursor: a filter wider than the terminal was cut
    // at its end, and what was typed next went unseen. The hint then has no room.
    const text = visible(state.editing.text)
    const shown = cutStart(text, state.width - 2)
    return (
      <Text wrap="truncate">
        <Text color="cyan">/</Text>
        {shown}
        <Text inverse> </Text>
        {shown !== text ? null : state.editing.error ? (
          <Text color="red">{`  ${state.editing.error}`}</Text>
        ) : (
          <Text dimColor>{'  Enter keeps it, Esc cancels; type:name, /regex/ or text'}</Text>
        )}
      </Text>
    )
  }
  // Escaped: `w`'s notice names the working directory, whose name may hold a line break or an
  // escape sequence; drawn as it was, the screen took a line more than Ink counts, the URL line
  // went off the top for good.
  if (state.notice) return <Text wrap="truncate">{visible(state.notice)}</Text>
  return (
    <Text dimColor wrap="truncate">
      {HINTS}
    </Text>
  )
}
