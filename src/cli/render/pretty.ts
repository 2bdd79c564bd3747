import type { ChalkInstance } from 'chalk'
import { renderTrigger, renderViolation } from '../../contracts/render.ts'
import { counted } from '../../engine/counted.ts'
import { formatDuration } from '../../engine/duration.ts'
import { visible } from '../../engine/escape.ts'
import type {
  CommentRecord,
  EventRecord,
  ExpectationResult,
  ProbeRecord,
  SummaryRecord,
} from '../../engine/records.ts'
import { refusalHint } from '../../engine/refusal.ts'
import { cutLongData, type PrettyView, showsComments, showsEvent, toPrettyView } from './display.ts'
import {
  closedHow,
  compactJson,
  discardedNote,
  highlightJson,
  indentJson,
  lastEventIdText,
  wallClock,
} from './text.ts'
import type { TextWidth } from './width.ts'

export interface PrettyOptions {
  /** Colours for stdout (events) and stderr (status lines, summary): either may be a file. */
  chalk: ChalkInstance
  chalkStderr: ChalkInstance
  pingEvent: string
  hidePings: boolean
  include: boolean
  /** Lines a consumer adds to the summary, before the expectations (the LLM block). */
  summaryBlock?: (summary: SummaryRecord) => string[]
  /** How events are shown (--compact, --only, …); as without those flags by default. */
  view?: PrettyView
  /** The wall clock at t = 0, for --timestamps wall. */
  startedAt?: number
  /** The width of stdout when it is a terminal: --compact lines are cut to it, long data is cut. */
  columns?: number
  /** How text is measured in columns: given with `columns` for --compact (loaded only then). */
  width?: TextWidth
}

/** Where a rendered record goes: events and pings to stdout, status lines and the summary to stderr. */
export interface Rendered {
  stream: 'out' | 'err'
  text: string
}

export function createPrettyRenderer(
  options: PrettyOptions,
): (record: ProbeRecord) => Rendered | undefined {
  const c = options.chalk
  const e = options.chalkStderr
  const display = options.view ?? toPrettyView({})
  const startedAt = options.startedAt ?? Date.now()
  // Lines under a block's head start where its type or status does: after `   0.123s  ` or
  // `HH:MM:SS.mmm  `.
  const indent = ' '.repeat(display.timestamps === 'wall' ? 14 : 11)
  const formatTime = (t: number, chalk: ChalkInstance) =>
    chalk.dim(
      display.timestamps === 'wall'
        ? wallClock(startedAt + t)
        : `${(t / 1000).toFixed(3)}s`.padStart(9),
    )
  const cutsLong = options.columns !== undefined && !display.full
  // --full never cuts: --compact lines too stay whole (the terminal wraps them).
  const fit = display.full ? undefined : options.width
  // Events of one network chunk share their time: format it once.
  let lastT = -1
  let lastTime = ''
  const time = (t: number) => {
    if (t !== lastT) {
      lastT = t
      lastTime = formatTime(t, c)
    }
    return lastTime
  }
  // A server may repeat its retry with every event (@fastify/sse's examples do): only a change shows.
  let shownRetryMs: number | undefined
  const status = (t: number, text: string): Rendered => ({
    stream: 'err',
    text: `${formatTime(t, e)}  ${text}\n`,
  })

  /** The response headers under a status line, with -i. */
  function included(headers: Record<string, string> | undefined): string {
    if (!options.include || headers === undefined) return ''
    return Object.entries(headers)
      .map(([name, value]) => `\n${indent}${e.dim(`${visible(name)}:`)} ${visible(value)}`)
      .join('')
  }

  function renderEvent(record: EventRecord): Rendered | undefined {
    const ping = record.event === options.pingEvent
    if (ping && options.hidePings) return undefined
    if (!showsEvent(display, record.event, record.data)) return undefined
    if (display.dataOnly) return { stream: 'out', text: dataOnly(record.data) }
    const id = record.id === null ? '' : `id ${record.id === '' ? '""' : visible(record.id)}`
    const dt = record.dt === null ? '' : `+${formatDuration(record.dt)}`
    // A ping's type is not bold: bold (SGR 1) over dim shows it at full strength in most terminals.
    const type = ping ? c.cyan(visible(record.event)) : c.bold.cyan(visible(record.event))
    const styled = [type, id && c.yellow(id), dt && c.dim(dt)]
    const head = [time(record.t), ...styled].filter(Boolean).join('  ')
    let text: string
    if (display.compact) {
      // Columns, not characters: the type or id may be wide (CJK, emoji) or escaped (\\x1b).
      const width = fit && options.columns! - fit.stringWidth(head) - 4
      text = `${head}  ${compactData(record.data, width)}\n`
    } else {
      text = `${head}\n${renderData(record.data)}\n`
    }
    return { stream: 'out', text: ping ? c.dim(text) : text }
  }

  /** --compact: the data on one line (JSON compacted, line breaks shown as \\n), cut to the width. */
  function compactData(data: string, width: number | undefined): string {
    // Highlighted only when the data is JSON: `[INFO] took 200ms` starts as an array would.
    const json = compactJson(data)
    let line = visible(json ?? data)
    if (width !== undefined) line = fit!.cut(line, Math.max(width, 10))
    return json !== undefined && c.level > 0 ? highlightJson(line, c) : line
  }

  /** --data-only: the data as sent, escaped only when it goes to a terminal. */
  function dataOnly(data: string): string {
    return `${options.columns === undefined ? data : data.split('\n').map(visible).join('\n')}\n`
  }

  /** A comment's line, cut on a terminal as long data is: a server's padding may be megabytes. */
  function renderComment(record: CommentRecord): string {
    const head = `${time(record.t)}  :`
    if (display.compact && fit) {
      const width = options.columns! - fit.stringWidth(head) - 2
      return `${head}${fit.cut(visible(record.text), Math.max(width, 10))}\n`
    }
    const long = cutsLong ? cutLongData(record.text) : undefined
    if (!long) return `${head}${visible(record.text)}\n`
    return `${head}${visible(long.shown)}\n${indent}${long.note}\n`
  }

  function renderData(data: string): string {
    if (data === '') return indent + c.dim('(empty data)')
    const json = compactJson(data)
    const text = json === undefined ? data : display.prettyJson ? indentJson(json) : json
    const long = cutsLong ? cutLongData(text) : undefined
    const lines = (long ? long.shown : text).split('\n').map((line) => {
      const safe = visible(line)
      return indent + (json !== undefined && c.level > 0 ? highlightJson(safe, c) : safe)
    })
    if (long) lines.push(indent + c.dim(long.note))
    return lines.join('\n')
  }

  return (record) => {
    switch (record.type) {
      case 'event':
        return renderEvent(record)
      case 'comment':
        return options.hidePings || !showsComments(display)
          ? undefined
          : { stream: 'out', text: c.dim(renderComment(record)) }
      case 'open': {
        const verb = record.attempt === 1 ? 'connected' : 'reconnected'
        return status(
          record.t,
          `${e.green('▶')} ${verb}  ${record.status}  HTTP/${record.httpVersion}  ${visible(record.url)}${included(record.headers)}`,
        )
      }
      case 'retry':
        if (record.ms === shownRetryMs) return undefined
        shownRetryMs = record.ms
        return status(record.t, `${e.blue('↻')} retry: ${record.ms}ms`)
      case 'close': {
        const discarded = discardedNote(record)
        return status(
          record.t,
          `${e.yellow('■')} ${closedHow(record)}${discarded && e.yellow(discarded)}`,
        )
      }
      case 'reconnect':
        return status(
          record.t,
          `${e.blue('↻')} reconnecting (attempt ${record.attempt}) after ${formatDuration(record.delayMs)}, ${lastEventIdText(record.lastEventId)}`,
        )
      case 'error': {
        const body = !record.body ? '' : `\n${indent}${e.dim(visible(record.body))}`
        const hint = refusalHint(record)
        const next = hint === undefined ? '' : `\n${indent}${e.yellow('→')} ${visible(hint)}`
        return status(
          record.t,
          `${e.red('✗')} ${visible(record.message)}${included(record.headers)}${body}${next}`,
        )
      }
      case 'violation':
        return status(record.t, renderViolation(record, e))
      case 'trigger':
        return status(record.t, renderTrigger(record, e))
      case 'summary':
        return { stream: 'err', text: renderSummary(record, e, options.summaryBlock?.(record)) }
    }
  }
}

/** `(got …)`: what an expectation saw, as its flag reads it; '' when it says nothing. */
export const shownGot = (e: ExpectationResult): string =>
  e.actual === undefined ? '' : `(got ${shownActual(e)})`

/** What an expectation saw, as its flag reads it: a count, a gap, a reason, matching events. */
function shownActual(e: ExpectationResult): string {
  const { actual } = e
  if (typeof actual === 'number' && e.name.startsWith('--expect-max-gap')) {
    return `a ${formatDuration(actual)} gap`
  }
  if (typeof actual === 'number' && e.name.startsWith('--expect-within')) {
    return formatDuration(actual)
  }
  if (typeof actual === 'number' && e.name.startsWith('--expect-data')) {
    return actual === 0 ? 'no match' : counted(actual, 'matching event')
  }
  // A contract's count is of the events that broke it.
  if (typeof actual === 'number' && /^--(schema|openapi) /.test(e.name)) {
    return actual === 0 ? 'no violation' : counted(actual, 'violating event')
  }
  // --expect-order: the types seen (none of them: an empty list); --expect-within: no event after
  // the trigger.
  if (Array.isArray(actual)) return actual.length === 0 ? 'none' : visible(actual.join(','))
  if (actual === null) return 'none'
  if (typeof actual === 'string' || typeof actual === 'number') return visible(String(actual))
  return visible(JSON.stringify(actual))
}

export function renderSummary(s: SummaryRecord, c: ChalkInstance, block: string[] = []): string {
  const byType = Object.entries(s.eventsByType)
    .map(([type, count]) => `${visible(type)} ${count}`)
    .join(', ')
  const code = s.exitCode === 0 ? c.green(`exit ${s.exitCode}`) : c.red(`exit ${s.exitCode}`)
  const lines = [
    `${c.bold('── summary')}  ${c.bold(s.reason)}${s.message ? `: ${visible(s.message)}` : ''}  ${code}  after ${formatDuration(s.t)}`,
    `events       ${s.events}${byType ? `  (${byType})` : ''}`,
    `pings        ${s.pings}  (comments ${s.comments})`,
    // Attempts, and how many of them got a stream (every connection after the first).
    `reconnects   ${s.reconnects}${s.reconnects > 0 ? `  (${Math.max(0, s.connections - 1)} connected)` : ''}`,
    `bytes        ${s.bytes}`,
  ]
  if (s.firstEventMs !== null) lines.push(`first event  ${formatDuration(s.firstEventMs)}`)
  if (s.gapMs) {
    const g = s.gapMs
    lines.push(
      `gaps         min ${formatDuration(g.min)} · p50 ${formatDuration(g.p50)} · p95 ${formatDuration(g.p95)} · max ${formatDuration(g.max)}`,
    )
  }
  if (s.triggerToEventMs !== undefined) {
    // The trigger goes out once the first connection opens: with none, it never did.
    const seen =
      s.triggerToEventMs !== null
        ? `${formatDuration(s.triggerToEventMs)} to the first event`
        : s.connections === 0
          ? 'not sent: the stream never opened'
          : s.reason === 'trigger-failed'
            ? 'failed (above)'
            : 'no event after it'
    lines.push(`trigger      ${seen}`)
  }
  lines.push(...block)
  for (const e of s.expectations) {
    const mark = e.ok ? c.green('✓') : c.red('✗')
    // What was seen, held or not (cli.md): a pass shows its margin too.
    const got = e.actual === undefined ? '' : ` ${c.dim(shownGot(e))}`
    lines.push(`${mark} ${visible(e.name)}${got}`)
  }
  return `${lines.join('\n')}\n`
}
