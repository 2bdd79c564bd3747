import type { ErrorRecord, ExpectationResult, TriggerRecord } from '../engine/records.ts'
import type { Percentiles } from './histogram.ts'

/**
 * The records of `sse-probe load --json` (../shared/design/load.md): `stats`
 * every --interval, `trigger` and `error` when they happen, `load-summary` last.
 */

/** How the run ended: it says nothing about single connections, whose reasons are counted instead. */
export type LoadEndReason =
  | 'duration'
  /** Every connection ended by itself (end conditions, refusals) before the duration was over. */
  | 'connections-ended'
  | 'too-many-open-files'
  | 'trigger-failed'
  | 'interrupted'

export interface StatsRecord {
  type: 'stats'
  t: number
  open: number
  opened: number
  failed: number
  events: number
  eventsPerSecond: number
  reconnects: number
  errors: Record<string, number>
}

/** A load-level error (the trigger, file descriptors): not one connection's. */
type LoadErrorRecord = Pick<ErrorRecord, 'type' | 't' | 'message'> & { status?: number }

export interface LoadSummaryRecord {
  type: 'load-summary'
  t: number
  reason: LoadEndReason
  exitCode: number
  message?: string
  connections: { target: number; opened: number; peakOpen: number; failed: number }
  connectMs: Percentiles | null
  firstEventMs: Omit<Percentiles, 'p99'> | null
  events: {
    total: number
    perSecond: number
    perConnection: { min: number; p50: number; max: number }
  }
  reconnects: {
    total: number
    delayMs: Pick<Percentiles, 'p50' | 'p95'> | null
    maxPerSecond: number
  }
  fanoutMs: Percentiles | null
  errors: Record<string, number>
  rssMiB: number
  expectations: (ExpectationResult & { actual?: number | null })[]
}

export type LoadRecord = StatsRecord | TriggerRecord | LoadErrorRecord | LoadSummaryRecord
