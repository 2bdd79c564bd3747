import type { ChalkInstance } from 'chalk'
import { formatDuration } from '../duration.ts'
import type { EventRecord, ProbeRecord, SummaryRecord } from '../records.ts'
import { visible } from './escape.ts'
import { compactJson, highlightJson } from './text.ts'

export interface PrettyOptions {
  /** Colours for stdout (events) and stderr (status lines, summary): either may be a file. */
  chalk: ChalkInstance
  chalkStderr: ChalkInstance
  pingEvent: string
  hidePings: boolean
  include: boolean
}

/** Where a rendered record goes: events and pings to stdout, status lines and the summary to stderr. */
export interface Rendered {
  stream: 'out' | 'err'
  text: string
}

const INDENT = ' '.repeat(11)

export function createPrettyRenderer(
  options: PrettyOptions,
): (record: ProbeRecord) => Rendered | undefined {
  const c = options.chalk
  const e = options.chalkStderr
  const formatTime = (t: number, chalk: ChalkInstance) =>
    chalk.dim(`${(t / 1000).toFixed(3)}s`.padStart(9))
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
  const status = (t: number, text: string): Rendered => ({
    stream: 'err',
    text: `${formatTime(t, e)}  ${text}\n`,
  })

  /** The response headers under a status line, with -i. */
  function included(headers: Record<string, string> | undefined): string {
    if (!options.include || headers === undefined) return ''
    return Object.entries(headers)
      .map(([name, value]) => `\n${INDENT}${e.dim(`${visible(name)}:`)} ${visible(value)}`)
      .join('')
  }

  function renderEvent(record: EventRecord): Rendered | undefined {
    const ping = record.event === options.pingEvent
    if (ping && options.hidePings) return undefined
    const head = [
      time(record.t),
      c.bold.cyan(visible(record.event)),
      record.id === null ? '' : c.yellow(`id ${record.id === '' ? '""' : visible(record.id)}`),
      record.dt === null ? '' : c.dim(`+${formatDuration(record.dt)}`),
    ]
      .filter(Boolean)
      .join('  ')
    const body = renderData(record.data, c)
    const text = `${head}\n${body}\n`
    return { stream: 'out', text: ping ? c.dim(text) : text }
  }

  return (record) => {
    switch (record.type) {
      case 'event':
        return renderEvent(record)
      case 'comment':
        return options.hidePings
          ? undefined
          : { stream: 'out', text: c.dim(`${time(record.t)}  :${visible(record.text)}\n`) }
      case 'open': {
        const verb = record.attempt === 1 ? 'connected' : 'reconnected'
        return status(
          record.t,
          `${e.green('▶')} ${verb}  ${record.status}  HTTP/${record.httpVersion}  ${visible(record.url)}${included(record.headers)}`,
        )
      }
      case 'retry':
        return status(record.t, `${e.blue('↻')} retry: ${record.ms}ms`)
      case 'close': {
        const how =
          record.cause === 'server-closed'
            ? 'server closed the stream'
            : `connection broke: ${visible(record.message ?? '')}`
        const discarded =
          record.discardedBytes === undefined
            ? ''
            : e.yellow(` (incomplete event of ${record.discardedBytes} bytes discarded)`)
        return status(record.t, `${e.yellow('■')} ${how}${discarded}`)
      }
      case 'reconnect': {
        const id =
          record.lastEventId === null
            ? 'no Last-Event-ID'
            : `Last-Event-ID: ${visible(record.lastEventId)}`
        return status(
          record.t,
          `${e.blue('↻')} reconnecting (attempt ${record.attempt}) after ${formatDuration(record.delayMs)}, ${id}`,
        )
      }
      case 'error': {
        const body = record.body === undefined ? '' : `\n${INDENT}${e.dim(visible(record.body))}`
        return status(
          record.t,
          `${e.red('✗')} ${visible(record.message)}${included(record.headers)}${body}`,
        )
      }
      case 'summary':
        return { stream: 'err', text: renderSummary(record, e) }
    }
  }
}

function renderData(data: string, c: ChalkInstance): string {
  if (data === '') return INDENT + c.dim('(empty data)')
  const json = compactJson(data)
  if (json !== undefined)
    return INDENT + (c.level > 0 ? highlightJson(visible(json), c) : visible(json))
  if (data.indexOf('\n') === -1) return INDENT + visible(data)
  return data
    .split('\n')
    .map((line) => INDENT + visible(line))
    .join('\n')
}

function renderSummary(s: SummaryRecord, c: ChalkInstance): string {
  const byType = Object.entries(s.eventsByType)
    .map(([type, count]) => `${visible(type)} ${count}`)
    .join(', ')
  const code = s.exitCode === 0 ? c.green(`exit ${s.exitCode}`) : c.red(`exit ${s.exitCode}`)
  const lines = [
    `${c.bold('── summary')}  ${c.bold(s.reason)}${s.message ? `: ${visible(s.message)}` : ''}  ${code}  after ${formatDuration(s.t)}`,
    `events       ${s.events}${byType ? `  (${byType})` : ''}`,
    `pings        ${s.pings}  (comments ${s.comments})`,
    `reconnects   ${s.reconnects}`,
    `bytes        ${s.bytes}`,
  ]
  if (s.firstEventMs !== null) lines.push(`first event  ${formatDuration(s.firstEventMs)}`)
  if (s.gapMs) {
    const g = s.gapMs
    lines.push(
      `gaps         min ${formatDuration(g.min)} · p50 ${formatDuration(g.p50)} · p95 ${formatDuration(g.p95)} · max ${formatDuration(g.max)}`,
    )
  }
  for (const e of s.expectations)
    lines.push(e.ok ? `${c.green('✓')} ${visible(e.name)}` : `${c.red('✗')} ${visible(e.name)}`)
  return `${lines.join('\n')}\n`
}
