import { formatDuration } from './duration.ts'
import type { ExpectationSpec } from './options.ts'
import type { EndReason, ExpectationResult } from './records.ts'
import type { SessionStats } from './session.ts'

/** Checks every --expect-* flag against what the session saw and how it ended. */
export function evaluateExpectations(
  spec: ExpectationSpec,
  stats: SessionStats,
  reason: EndReason,
): ExpectationResult[] {
  const results: ExpectationResult[] = []
  for (const type of spec.events) {
    results.push({ name: `--expect-event ${type}`, ok: (stats.eventsByType[type] ?? 0) > 0 })
  }
  spec.dataPatterns.forEach((pattern, i) => {
    results.push({ name: `--expect-data ${pattern.source}`, ok: stats.dataMatched[i] === true })
  })
  if (spec.minEvents !== undefined) {
    results.push({
      name: `--expect-min-events ${spec.minEvents}`,
      ok: stats.events >= spec.minEvents,
    })
  }
  if (spec.end) {
    results.push({ name: '--expect-end', ok: reason === 'end-event' || reason === 'end-data' })
  }
  if (spec.reconnect) {
    results.push({ name: '--expect-reconnect', ok: stats.reconnects > 0 })
  }
  if (spec.maxGapMs !== undefined) {
    results.push({
      name: `--expect-max-gap ${formatDuration(spec.maxGapMs)}`,
      ok: stats.maxSilenceMs <= spec.maxGapMs,
    })
  }
  return results
}
