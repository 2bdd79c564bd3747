import type { Writable } from 'node:stream'
import type { ChalkInstance } from 'chalk'
import { counted } from '../engine/counted.ts'
import { formatDuration } from '../engine/duration.ts'
import { visible } from '../engine/escape.ts'
import type { Collector } from './collector.ts'
import type { Percentiles } from './histogram.ts'
import type { LoadSummaryRecord } from './records.ts'

const REDRAW_MS = 250

/**
 * One status line on a terminal, redrawn at most 4 times a second: open/target,
 * events per second, reconnects, errors. Cleared before anything else is written.
 */
export function startStatusLine(
  stream: Writable & { columns?: number },
  collector: Collector,
  target: number,
) {
  const startedAt = performance.now()
  // Events per second over the last second (4 redraws), not since the last redraw: a server
  // that broadcasts twice a second would otherwise make the rate jump between 0 and twice it.
  const window: { at: number; events: number }[] = [{ at: startedAt, events: 0 }]
  const draw = () => {
    const at = performance.now()
    const { open, events, reconnects } = collector.counts()
    const oldest = window[0]!
    const perSecond = ((events - oldest.events) / (at - oldest.at)) * 1000
    window.push({ at, events })
    if (window.length > 1000 / REDRAW_MS) window.shift()
    const errors = collector.errorCount()
    const elapsed = Math.floor((at - startedAt) / 1000) * 1000
    const line = `${open}/${target} open · ${Math.round(perSecond)} events/s · ${counted(reconnects, 'reconnect')} · ${counted(errors, 'error')} · ${elapsed === 0 ? '0s' : formatDuration(elapsed)}`
    // Cut to the terminal's width, one column spare: \x1b[2K erases one row, so a line that wrapped
    // would leave a row behind at every redraw. Each of its characters takes one column.
    const width = Math.max(1, (stream.columns || 80) - 1)
    stream.write(`\r\x1b[2K${line.length <= width ? line : `${line.slice(0, width - 1)}…`}`)
  }
  const timer = setInterval(draw, REDRAW_MS)
  timer.unref()
  return {
    clear() {
      clearInterval(timer)
      stream.write('\r\x1b[2K')
    },
  }
}

const ms = (value: number) => formatDuration(value)
const percentiles = (p: Partial<Percentiles> | null, chalk: ChalkInstance) =>
  p === null
    ? chalk.dim('none')
    : Object.entries(p)
        .map(([name, value]) => `${chalk.dim(name)} ${ms(value)}`)
        .join('  ')

/** The summary table, for people; `--json` writes the record itself. */
export function renderLoadSummary(summary: LoadSummaryRecord, chalk: ChalkInstance): string {
  const { connections: c, events: e, reconnects: r } = summary
  const errors = Object.entries(summary.errors)
  const rows: [string, string][] = [
    [
      'connections',
      `${c.opened}/${c.target} opened · peak ${c.peakOpen} open at once · ${c.failed} failed`,
    ],
    ['connect', percentiles(summary.connectMs, chalk)],
    ['first event', percentiles(summary.firstEventMs, chalk)],
    [
      'events',
      `${e.total} · ${e.perSecond}/s · per connection ${chalk.dim('min')} ${e.perConnection.min}  ${chalk.dim('p50')} ${e.perConnection.p50}  ${chalk.dim('max')} ${e.perConnection.max}`,
    ],
    [
      'reconnects',
      `${r.total}${r.delayMs ? ` · delay ${percentiles(r.delayMs, chalk)}` : ''} · worst second ${r.maxPerSecond}`,
    ],
    ['fan-out', percentiles(summary.fanoutMs, chalk)],
    [
      'errors',
      errors.length === 0
        ? chalk.dim('none')
        : errors.map(([kind, count]) => `${visible(kind)} ×${count}`).join(' · '),
    ],
    ['memory', `${summary.rssMiB} MiB RSS`],
  ]
  const lines = rows.map(([name, value]) => `  ${name.padEnd(12)} ${value}`)
  for (const expectation of summary.expectations) {
    const actual =
      expectation.actual === undefined ? '' : chalk.dim(` (${shownActual(expectation, c.target)})`)
    lines.push(
      `  ${expectation.ok ? chalk.green('✓') : chalk.red('✗')} ${visible(expectation.name)}${actual}`,
    )
  }
  const ending = `${summary.reason}${summary.message !== undefined ? `: ${visible(summary.message)}` : ''}`
  const status = summary.exitCode === 0 ? chalk.green(ending) : chalk.red(ending)
  return `\n${chalk.bold('load')} ended after ${ms(summary.t)}: ${status} · exit ${summary.exitCode}\n${lines.join('\n')}\n`
}

/** The whole run's expectations; the probe's others are checked on each connection. */
const RUN_EXPECTATIONS = /^--expect-(connected|max-errors|fanout-p95) /

/** What was seen: the run's count or p95, or on how many connections a probe expectation failed. */
export function shownActual(e: LoadSummaryRecord['expectations'][number], target: number): string {
  const { actual } = e
  if (actual === null) return 'not measured'
  if (!RUN_EXPECTATIONS.test(e.name)) return `failed on ${actual} of ${target} connections`
  return e.name.startsWith('--expect-fanout-p95') ? `p95 ${ms(actual!)}` : String(actual)
}
