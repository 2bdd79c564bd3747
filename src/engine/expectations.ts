import { formatLimit } from './duration.ts'
import type { EndReason, ExpectationResult } from './records.ts'
import type { SessionStats } from './session.ts'
import type { DataPattern } from './validate.ts'

/** The --expect-* flags. */
export interface ExpectationSpec {
  events: string[]
  dataPatterns: DataPattern[]
  minEvents?: number
  end: boolean
  reconnect: boolean
  maxGapMs?: number
}

/** Checks every --expect-* flag against what the session saw and how it ended. */
export function evaluateExpectations(
  spec: ExpectationSpec,
  stats: SessionStats,
  reason: EndReason,
): ExpectationResult[] {
  // `actual` says what was seen: a count, the longest gap in ms, how the probe ended.
  const results: ExpectationResult[] = []
  for (const type of spec.events) {
    const count = stats.eventsByType[type] ?? 0
    results.push({ name: `--expect-event ${type}`, ok: count > 0, actual: count })
  }
  spec.dataPatterns.forEach((pattern, i) => {
    const count = stats.dataMatches[i] ?? 0
    results.push({ name: `--expect-data ${pattern.source}`, ok: count > 0, actual: count })
  })
  if (spec.minEvents !== undefined) {
    const name = `--expect-min-events ${spec.minEvents}`
    results.push({ name, ok: stats.events >= spec.minEvents, actual: stats.events })
  }
  if (spec.end) {
    const ok = reason === 'end-event' || reason === 'end-data'
    results.push({ name: '--expect-end', ok, actual: reason })
  }
  if (spec.reconnect) {
    const actual = stats.reconnects
    results.push({ name: '--expect-reconnect', ok: actual > 0, actual })
  }
  if (spec.maxGapMs !== undefined) {
    const name = `--expect-max-gap ${formatLimit(spec.maxGapMs)}`
    results.push({ name, ok: stats.maxSilenceMs <= spec.maxGapMs, actual: stats.maxSilenceMs })
  }
  return results
}
