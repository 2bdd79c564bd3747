import type { ProbeRecord } from '../../engine/records.ts'

/** One record per line; JSON.stringify escapes every control character. */
export function renderJson(record: ProbeRecord): string {
  return `${JSON.stringify(record)}\n`
}
