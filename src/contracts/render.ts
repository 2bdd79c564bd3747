import { formatDuration, type TriggerRecord, type ViolationRecord, visible } from './engine.ts'

/** The few colours a contract status line uses (a chalk instance has them). */
export interface LineStyle {
  red(text: string): string
  green(text: string): string
  dim(text: string): string
}

/** One line per violation: which event (index, type, id), where (pointer), what, and which check. */
export function renderViolation(record: ViolationRecord, c: LineStyle): string {
  // The type, id, pointer and message come from the server's data: shown escaped.
  const id = record.id === null ? '' : ` id ${visible(record.id)}`
  const what = `${visible(record.pointer || '(data)')} ${visible(record.message)}`
  return `${c.red('✗')} event #${record.index} ${visible(record.event)}${id}  ${what}  ${c.dim(record.check)}`
}

export function renderTrigger(record: TriggerRecord, c: LineStyle): string {
  const answer =
    record.status === null
      ? c.dim(`no answer after ${formatDuration(record.ms)}`)
      : `${(record.status >= 400 ? c.red : c.green)(String(record.status))} in ${formatDuration(record.ms)}`
  return `${c.green('→')} trigger ${record.method} ${visible(record.url)}  ${answer}`
}
