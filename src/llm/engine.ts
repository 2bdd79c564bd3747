// Temporary: the engine's types, until the engine refactor lands (then src/engine/ replaces this file).
import type { EndReason, ProbeRecord } from '../records.ts'

export interface ExpectationResult {
  name: string
  ok: boolean
  actual?: unknown
}

export { roundMs } from '../records.ts'
export { createGapStats } from '../stats.ts'
export type { EndReason, ProbeRecord }

export interface ExtensionContext {
  now(): number
  emit(record: ProbeRecord): void
  end(reason: EndReason | 'stream-error', message?: string): void
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
export { formatDuration } from '../duration.ts'
