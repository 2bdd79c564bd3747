import { clipped } from '../engine/escape.ts'
import type { DiffRecord, DiffSummary, SideTiming } from './diff.ts'
import { counted, formatDuration, visible } from './engine.ts'

export interface DiffStyle {
  bad(text: string): string
  good(text: string): string
  dim(text: string): string
}

// A value longer than this is cut, around where the two sides first differ (--json has it whole).
const MAX_VALUE = 120
const CONTEXT = 20

/** Both sides' values as one line each; long ones cut at the same place, where they first differ. */
export function shownValues(left: unknown, right: unknown): [string, string] {
  const texts = [left, right].map((v) => (v === undefined ? undefined : visible(JSON.stringify(v))))
  const [l, r] = texts
  if (texts.every((t) => t === undefined || t.length <= MAX_VALUE))
    return [l ?? '(absent)', r ?? '(absent)']
  let same = 0
  if (l !== undefined && r !== undefined) while (same < l.length && l[same] === r[same]) same++
  let start = Math.max(0, same - CONTEXT)
  // A surrogate pair is not split.
  if (/[\udc00-\udfff]/.test(l?.[start] ?? r?.[start] ?? '')) start--
  const cut = (t: string | undefined) => {
    if (t === undefined) return '(absent)'
    let end = Math.min(t.length, start + MAX_VALUE)
    if (end < t.length && /[\udc00-\udfff]/.test(t[end]!)) end--
    return `${start > 0 ? '…' : ''}${t.slice(start, end)}${end < t.length ? `… (${t.length} chars)` : ''}`
  }
  return [cut(l), cut(r)]
}
// A server's type and id are its own text: control characters are shown, never run; and a type
// or id of megabytes is cut (--json has them whole), not printed on every line of a difference.
const where = (r: { event: string; id: string | null }) =>
  visible(`${clipped(r.event, MAX_VALUE)}${r.id === null ? '' : ` id ${clipped(r.id, MAX_VALUE)}`}`)

/** Pretty `diff`: the verdict, each difference, then the timing side by side. */
export function renderDiff(
  records: readonly DiffRecord[],
  summary: DiffSummary,
  labels: { left: string; right: string },
  style: DiffStyle,
): string {
  const lines: string[] = []
  const { left, right } = summary.events
  lines.push(
    summary.same
      ? style.good(`✓ same: ${counted(left, 'event')} on each side`)
      : style.bad(
          `✗ different: ${counted(summary.differences, 'difference')} (${counted(left, 'event')} left, ${right} right)`,
        ),
  )
  let previous: DiffRecord | undefined
  for (const record of records) {
    if (record.kind === 'changed') {
      if (previous?.kind !== 'changed' || previous.left !== record.left)
        lines.push(`  ~ #${record.left} ↔ #${record.right} ${where(record)}`)
      const name = record.field ?? visible(record.pointer || '(data)')
      const [l, r] = shownValues(record.leftValue, record.rightValue)
      lines.push(`      ${name}: ${style.bad(l)} → ${style.good(r)}`)
    } else if (record.kind === 'missing')
      lines.push(`  - #${record.left} ${where(record)} ${style.dim('only on the left')}`)
    else if (record.kind === 'extra')
      lines.push(`  + #${record.right} ${where(record)} ${style.dim('only on the right')}`)
    previous = record
  }
  lines.push('', ...renderTiming(summary.timing, labels, records, style))
  return `${lines.join('\n')}\n`
}

function renderTiming(
  timing: DiffSummary['timing'],
  labels: { left: string; right: string },
  records: readonly DiffRecord[],
  style: DiffStyle,
): string[] {
  const flagged = new Set(records.flatMap((r) => (r.kind === 'timing' ? [r.metric] : [])))
  // Rounded as the probe's summary shows times (226ms, 1.37s); --json keeps the exact values.
  const ms = (v: number | null | undefined) => (v == null ? '–' : formatDuration(v))
  const rows: [string, string, (t: SideTiming) => string][] = [
    ['first event', 'firstEventMs', (t) => ms(t.firstEventMs)],
    ['gap p50', 'gapMs.p50', (t) => ms(t.gapMs?.p50)],
    ['gap p95', 'gapMs.p95', (t) => ms(t.gapMs?.p95)],
    ['events per read', 'maxEventsPerRead', (t) => `max ${t.maxEventsPerRead}`],
    ['reconnects', 'reconnects', (t) => String(t.reconnects)],
  ]
  const cell = (t: SideTiming | null, get: (t: SideTiming) => string) => (t ? get(t) : 'no timing')
  const width =
    Math.max(
      16,
      ...rows.map(([, , get]) => cell(timing.left, get).length),
      shorten(labels.left).length,
    ) + 2
  const out = [
    style.dim(
      `  ${'timing'.padEnd(16)}${shorten(labels.left).padEnd(width)}${shorten(labels.right)}`,
    ),
  ]
  for (const [label, metric, get] of rows) {
    const mark = flagged.has(metric) ? style.bad('  ✗') : ''
    out.push(
      `  ${label.padEnd(16)}${cell(timing.left, get).padEnd(width)}${cell(timing.right, get)}${mark}`,
    )
  }
  return out
}

function shorten(label: string): string {
  return label.length > 40 ? `…${label.slice(-39)}` : label
}
