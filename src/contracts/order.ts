import type { ProbeExtension } from './engine.ts'

// An endless stream alternating types must not grow the summary without bound.
const MAX_SEEN = 100

/**
 * `--expect-order t1,t2,…`: the listed types, consecutive repeats collapsed,
 * equal the list. Pure apart from the record it is fed.
 */
export function createOrderCheck(expected: readonly string[]) {
  const listed = new Set(expected)
  const seen: string[] = []
  let length = 0
  let last: string | undefined
  // Whether what was seen so far can still become the list.
  let prefix = true
  return {
    /** Feeds one event type; returns false the moment the order can no longer hold. */
    add(type: string): boolean {
      if (!listed.has(type) || type === last) return prefix
      last = type
      if (prefix && expected[length] !== type) prefix = false
      if (seen.length < MAX_SEEN) seen.push(type)
      length++
      return prefix
    },
    result() {
      return {
        name: `--expect-order ${expected.join(',')}`,
        ok: prefix && length === expected.length,
        actual: length > MAX_SEEN ? [...seen, '…'] : [...seen],
      }
    },
  }
}

export function createOrderExtension(
  expected: readonly string[],
  failFast: boolean,
): ProbeExtension {
  const order = createOrderCheck(expected)
  let failed = false
  return {
    onRecord(record, context) {
      if (record.type !== 'event') return
      // Fed on after a failure too: `actual` shows the whole sequence.
      if (!order.add(record.event) && !failed) {
        failed = true
        if (failFast)
          context.end(
            'expectation-failed',
            `--expect-order ${expected.join(',')}: got ${order.result().actual.join(',')}`,
          )
      }
    },
    finish: () => ({ expectations: [order.result()] }),
  }
}
