import type {
  EventRecord,
  ExpectationResult,
  ExtensionContext,
  ProbeExtension,
  ProbeRecord,
  ViolationRecord,
} from './engine.ts'
import type { Problem, ValueCheck } from './schema.ts'
import { createShapedJsonParser } from './shaped-json.ts'

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
  /** An LLM profile's end marker (`message_stop`, …): asked of events that fail a check. */
  isControlEvent?(record: EventRecord): boolean
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
  const { endData, pingEvent } = control
  let index = 0
  // A retry field in the block of an event: the retry record comes just before it, in the same read.
  let retry: { t: number; attempt: number; ms: number } | undefined
  const parseJson = createShapedJsonParser()

  function report(record: EventRecord, i: number, problem: Problem, context: ExtensionContext) {
    const check = checks[i]!
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
    if (control.failFast) {
      const where = problem.pointer || '(data)'
      context.end('expectation-failed', `${check.name}: event ${index} ${where} ${problem.message}`)
    }
  }

  // This runs for every event of streams of millions: no closure, iterator or Set hash per event.
  return {
    onRecord(record: ProbeRecord, context) {
      if (record.type !== 'event') {
        if (record.type === 'retry') retry = record
        return
      }
      index++
      const blockRetry =
        retry !== undefined && retry.t === record.t && retry.attempt === record.attempt
          ? retry.ms
          : undefined
      retry = undefined
      if (record.event === pingEvent || isEndData(record.data, endData)) return
      let data: unknown = UNPARSED
      for (let i = 0; i < checks.length; i++) {
        const check = checks[i]!
        if (check.type !== undefined && check.type !== record.event) continue
        let problem: Problem | undefined
        if (check.target === 'event') problem = check.check(eventObject(record, blockRetry))
        else {
          if (data === UNPARSED) data = parseData(record.data, parseJson)
          problem = data instanceof NotJson ? data.problem : check.check(data)
        }
        if (problem) {
          if (control.isControlEvent?.(record)) return
          report(record, i, problem, context)
        }
      }
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
function eventObject(record: EventRecord, retry: number | undefined) {
  return {
    data: record.data,
    event: record.event,
    ...(record.id !== null && { id: record.id }),
    ...(retry !== undefined && { retry }),
  }
}

const UNPARSED = Symbol('unparsed')

class NotJson {
  readonly problem: Problem
  constructor(problem: Problem) {
    this.problem = problem
  }
}

function parseData(data: string, parseJson: (data: string) => unknown): unknown {
  try {
    return parseJson(data)
  } catch (error) {
    return new NotJson({ pointer: '', message: `data is not JSON: ${(error as Error).message}` })
  }
}

/** Compared only when the lengths match: hashing every large payload for a Set lookup is not free. */
function isEndData(data: string, endData: readonly string[]): boolean {
  for (const text of endData) if (text.length === data.length && text === data) return true
  return false
}
