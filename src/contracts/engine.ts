/**
 * What contracts/ takes from the engine, in one place. Until the engine
 * refactor lands, the extension interface and the new records are defined
 * here with the shapes of COMMON.md and contracts.md.
 */

export { formatDuration, parseDuration } from '../duration.ts'
export { durationArg, headerArg, methodArg, UsageError, urlArg } from '../options.ts'
export { roundMs } from '../records.ts'
export { createGapStats } from '../stats.ts'
export { createEventStream } from '../stream.ts'

import type {
  EndReason as BaseEndReason,
  ExpectationResult as BaseExpectation,
  ProbeRecord as BaseRecord,
} from '../records.ts'

export type { EventRecord, GapStats } from '../records.ts'

export type EndReason = BaseEndReason | 'stream-error' | 'expectation-failed' | 'trigger-failed'

export interface ExpectationResult extends BaseExpectation {
  actual?: unknown
  first?: unknown
}

export interface ViolationRecord {
  type: 'violation'
  t: number
  attempt: number
  /** Dispatched events counted from 1, pings included. */
  index: number
  id: string | null
  event: string
  /** The flag as given, e.g. `--schema status=status.json`. */
  check: string
  pointer: string
  message: string
}

export interface TriggerRecord {
  type: 'trigger'
  t: number
  method: string
  url: string
  status: number
  ms: number
}

export type ProbeRecord = BaseRecord | ViolationRecord | TriggerRecord

export interface ExtensionContext {
  now(): number
  emit(record: ProbeRecord): void
  end(reason: EndReason, message?: string): void
  signal: AbortSignal
  request: { url: URL; method: string }
}

export interface ExtensionResult {
  summary?: Record<string, unknown>
  expectations?: ExpectationResult[]
}

export interface ProbeExtension {
  onRecord?(record: ProbeRecord, context: ExtensionContext): void
  finish?(ending: { reason: EndReason; t: number }): ExtensionResult
}
export { describeError } from '../errors.ts'
export { redactUrl } from '../redact.ts'
export { visible } from '../render/escape.ts'
export { readTranscript } from '../server/replay-plan.ts'
