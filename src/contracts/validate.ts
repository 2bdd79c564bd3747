import type {
  EventRecord,
  ExpectationResult,
  ProbeExtension,
  ProbeRecord,
  ViolationRecord,
} from './engine.ts'
import type { Problem, ValueCheck } from './schema.ts'

/** One `--schema` or `--openapi` flag, compiled. */
export interface EventCheck {
  /** The flag as given: the violation's `check` and the expectation's name. */
  name: string
  /** `--schema <type>=…`: only events of this type; none: every event. */
  type?: string
  /** What is validated: the parsed data (`--schema`) or the event object (`--openapi`). */
  target: 'data' | 'event'
  check: ValueCheck
}

export interface ControlEvents {
  /** Ping events are not payload. */
  pingEvent: string
  /** The data that ends the probe (`--end-data`, an LLM profile's `[DONE]`) is a signal, not payload. */
  endData: readonly string[]
  failFast: boolean
}

/**
 * Validates every event as it arrives: one `violation` record per event and
 * check that fails, and one expectation per check with the number of
 * violating events and the first violation.
 */
export function createValidationExtension(
  checks: readonly EventCheck[],
  control: ControlEvents,
): ProbeExtension {
  const results = checks.map(() => ({ count: 0, first: undefined as ViolationRecord | undefined }))
  const endData = new Set(control.endData)
  let index = 0
  // A retry field in the block of an event: the retry record comes just before it, in the same read.
  let retry: { t: number; attempt: number; ms: number } | undefined

  function validate(
    record: EventRecord,
    each: (check: EventCheck, i: number, problem: Problem) => void,
  ) {
    let parsed: { value: unknown } | { error: string } | undefined
    const data = () => {
      if (parsed) return parsed
      try {
        parsed = { value: JSON.parse(record.data) }
      } catch (error) {
        parsed = { error: `data is not JSON: ${(error as Error).message}` }
      }
      return parsed
    }
    for (const [i, check] of checks.entries()) {
      if (check.type !== undefined && check.type !== record.event) continue
      let problem: Problem | undefined
      if (check.target === 'event') {
        problem = check.check(
          eventObject(
            record,
            retry?.t === record.t && retry.attempt === record.attempt ? retry.ms : undefined,
          ),
        )
      } else {
        const value = data()
        problem =
          'error' in value ? { pointer: '', message: value.error } : check.check(value.value)
      }
      if (problem) each(check, i, problem)
    }
  }

  return {
    onRecord(record: ProbeRecord, context) {
      if (record.type === 'retry') retry = record
      if (record.type !== 'event') return
      index++
      if (record.event === control.pingEvent || endData.has(record.data)) return
      validate(record, (check, i, problem) => {
        const violation: ViolationRecord = {
          type: 'violation',
          t: record.t,
          attempt: record.attempt,
          index,
          id: record.id,
          event: record.event,
          check: check.name,
          ...problem,
        }
        const result = results[i]!
        result.count++
        result.first ??= violation
        context.emit(violation)
        if (control.failFast)
          context.end(
            'expectation-failed',
            `${check.name}: event ${index} ${problem.pointer || '(data)'} ${problem.message}`,
          )
      })
      retry = undefined
    },
    finish() {
      const expectations: ExpectationResult[] = checks.map((check, i) => {
        const { count, first } = results[i]!
        return { name: check.name, ok: count === 0, actual: count, ...(first && { first }) }
      })
      return { expectations }
    },
  }
}

/** [OAS 3.2] An SSE event as `itemSchema` describes it: `event` defaults to message, `id` and `retry` only when present. */
export function eventObject(record: EventRecord, retry: number | undefined) {
  return {
    data: record.data,
    event: record.event,
    ...(record.id !== null && { id: record.id }),
    ...(retry !== undefined && { retry }),
  }
}
