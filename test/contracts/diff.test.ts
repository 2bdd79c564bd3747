import { describe, expect, it } from 'vitest'
import {
  canonical,
  compareEvents,
  compareTiming,
  type DiffOptions,
  diffSides,
  parsePointer,
  parseTolerance,
  type StreamEvent,
  sideFromRecords,
} from '../../src/contracts/diff.ts'
import { shownValues } from '../../src/contracts/diff-render.ts'
import type { ProbeRecord } from '../../src/contracts/engine.ts'

const options: DiffOptions = {
  ignore: [],
  ignoreIds: false,
  pings: false,
  pingEvent: 'ping',
  timing: false,
  tolerance: { fraction: 0.5 },
}
const ev = (id: string, data: unknown, event = 'status', t = 0): StreamEvent => ({
  event,
  id,
  data: typeof data === 'string' ? data : JSON.stringify(data),
  t,
  attempt: 1,
})
const seq = (n: number) =>
  Array.from({ length: n }, (_, i) => ev(String(i + 1), { n: i + 1, at: `t${i}` }))

describe('compareEvents', () => {
  it('an inserted event is one difference, not a cascade', () => {
    const left = seq(6)
    const right = [...left.slice(0, 3), ev('x', { n: 99 }), ...left.slice(3)]
    expect(compareEvents(left, right, options)).toEqual([
      { type: 'diff', kind: 'extra', left: null, right: 4, event: 'status', id: 'x' },
    ])
    expect(compareEvents(right, left, options)).toEqual([
      { type: 'diff', kind: 'missing', left: 4, right: null, event: 'status', id: 'x' },
    ])
  })

  // Every event differed (a timestamp), so the whole stream was one changed stretch, and events
  // of a type were paired in turn: each one after the insertion with its neighbour.
  it('an inserted event is one difference also when every event has a changed field', () => {
    const left = seq(6)
    const stamped = left.map((e, i) => ({ ...e, data: JSON.stringify({ n: i + 1, at: 'now' }) }))
    const right = [...stamped.slice(0, 3), ev('x', { n: 99 }), ...stamped.slice(3)]
    const records = compareEvents(left, right, options)
    expect(records.filter((r) => r.kind !== 'changed')).toEqual([
      { type: 'diff', kind: 'extra', left: null, right: 4, event: 'status', id: 'x' },
    ])
    // Each other event is paired with the one of the same id: only its timestamp changed.
    expect(records.filter((r) => r.kind === 'changed')).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) =>
        expect.objectContaining({
          left: n,
          right: n > 3 ? n + 1 : n,
          id: String(n),
          pointer: '/at',
        }),
      ),
    )
  })

  it('an empty side: every event of the other is missing or extra; both empty are the same', () => {
    const two = seq(2)
    expect(compareEvents([], two, options)).toMatchObject([
      { kind: 'extra', left: null, right: 1, id: '1' },
      { kind: 'extra', left: null, right: 2, id: '2' },
    ])
    expect(compareEvents(two, [], options)).toMatchObject([
      { kind: 'missing', left: 1, right: null },
      { kind: 'missing', left: 2, right: null },
    ])
    expect(compareEvents([], [], options)).toEqual([])
  })

  it('a changed field is one record per pointer, JSON compared as JSON', () => {
    const left = [ev('1', '{"a":1,"b":{"c":2,"d":[1,2]}}'), ev('2', 'x')]
    const right = [ev('1', '{"b":{"d":[1,3],"c":2},"a":1,"e":true}'), ev('2', 'x')]
    expect(compareEvents(left, right, options)).toEqual([
      {
        type: 'diff',
        kind: 'changed',
        left: 1,
        right: 1,
        event: 'status',
        id: '1',
        pointer: '/b/d/1',
        leftValue: 2,
        rightValue: 3,
      },
      {
        type: 'diff',
        kind: 'changed',
        left: 1,
        right: 1,
        event: 'status',
        id: '1',
        pointer: '/e',
        rightValue: true,
      },
    ])
    expect(compareEvents([ev('1', '{"a":1,"b":2}')], [ev('1', '{"b":2,"a":1}')], options)).toEqual(
      [],
    )
  })

  it('--ignore drops a field and what is below it; --ignore-ids ignores ids', () => {
    const left = [ev('1', { n: 1, at: 'a', usage: { total: 3 } })]
    const right = [ev('9', { n: 1, at: 'b', usage: { total: 4 } })]
    const ignore = [parsePointer('/at'), parsePointer('/usage')]
    expect(compareEvents(left, right, { ...options, ignore, ignoreIds: true })).toEqual([])
    expect(compareEvents(left, right, { ...options, ignore })).toEqual([
      {
        type: 'diff',
        kind: 'changed',
        left: 1,
        right: 1,
        event: 'status',
        id: '1',
        field: 'id',
        leftValue: '1',
        rightValue: '9',
      },
    ])
  })

  it('text data and a changed type', () => {
    expect(compareEvents([ev('1', 'hello')], [ev('1', 'world')], options)).toEqual([
      {
        type: 'diff',
        kind: 'changed',
        left: 1,
        right: 1,
        event: 'status',
        id: '1',
        pointer: '',
        leftValue: 'hello',
        rightValue: 'world',
      },
    ])
    expect(
      compareEvents([ev('1', 'a', 'x')], [ev('1', 'a', 'y')], options).map((r) => r.kind),
    ).toEqual(['missing', 'extra'])
  })

  it('data that is JSON on both sides is compared as JSON, a bare number or string included', () => {
    expect(compareEvents([ev('1', '1')], [ev('1', ' 1.0 ')], options)).toEqual([])
    expect(compareEvents([ev('1', '"\\u00e9"')], [ev('1', '"é"')], options)).toEqual([])
    expect(compareEvents([ev('1', '5')], [ev('1', '6')], options)).toMatchObject([
      { pointer: '', leftValue: 5, rightValue: 6 },
    ])
    // Text that ends in a quote is not the JSON string it looks like once a quote is added.
    expect(compareEvents([ev('1', 'hi"')], [ev('1', '"hi"')], options)).toMatchObject([
      { pointer: '', leftValue: 'hi"', rightValue: '"hi"' },
    ])
  })

  // Read as doubles, two 64-bit ids that differ in their last digits were the same number.
  it('integers beyond 2^53 are compared exactly, and reported with all their digits', () => {
    const big = (n: string) => ev('1', `{"user":${n},"n":1}`)
    const [record] = compareEvents(
      [big('12345678901234567890')],
      [big('12345678901234567891')],
      options,
    )
    expect(JSON.stringify(record)).toBe(
      '{"type":"diff","kind":"changed","left":1,"right":1,"event":"status","id":"1","pointer":"/user","leftValue":12345678901234567890,"rightValue":12345678901234567891}',
    )
    // Equal ones are equal, also written otherwise where a double holds them exactly.
    expect(
      compareEvents([big('12345678901234567890')], [big('12345678901234567890')], options),
    ).toEqual([])
    expect(compareEvents([big('100000000000000000000')], [big('1e20')], options)).toEqual([])
    // As 1 and 1.0 are.
    expect(
      compareEvents([big('12345678901234567890')], [big('12345678901234567890.0')], options),
    ).toEqual([])
    expect(
      compareEvents([big('-9007199254740993')], [big('-9007199254740992')], options),
    ).toHaveLength(1)
    // --ignore reaches them, and cannot reach inside them.
    expect(
      compareEvents([big('12345678901234567890')], [big('12345678901234567891')], {
        ...options,
        ignore: [['user']],
      }),
    ).toEqual([])
    expect(
      compareEvents([big('12345678901234567890')], [big('12345678901234567891')], {
        ...options,
        ignore: [['user', 'rawJSON']],
      }),
    ).toHaveLength(1)
  })

  // Read as doubles, 1e400 was Infinity, which JSON writes null: `1e400` and `null` were the same.
  it('numbers beyond the range of a double are compared as written, not as Infinity or 0', () => {
    const n = (text: string) => ev('1', `{"n":${text}}`)
    const [record, ...rest] = compareEvents([n('1e400')], [n('null')], options)
    expect(rest).toEqual([])
    expect(JSON.stringify(record)).toContain('"pointer":"/n","leftValue":1e400,"rightValue":null')
    expect(compareEvents([n('1e400')], [n('-1e400')], options)).toHaveLength(1)
    expect(compareEvents([n('1e-400')], [n('0')], options)).toHaveLength(1)
    expect(compareEvents([ev('1', '1E+400')], [ev('1', '1e400')], options)).toEqual([])
    expect(compareEvents([n('0.0e-400')], [n('0')], options)).toEqual([])
  })

  it('a key named like a property of every object is a field like any other', () => {
    for (const key of ['__proto__', 'constructor', 'toString']) {
      expect(compareEvents([ev('1', `{"${key}":5}`)], [ev('1', '{}')], options)).toEqual([
        expect.objectContaining({ pointer: `/${key}`, leftValue: 5 }),
      ])
      const [record] = compareEvents([ev('1', '{}')], [ev('1', `{"${key}":{"a":1}}`)], options)
      expect(record).not.toHaveProperty('leftValue')
      expect(record).toMatchObject({ pointer: `/${key}`, rightValue: { a: 1 } })
    }
  })

  it('--ignore: array indices, names that are not indices, and the root', () => {
    const left = [ev('1', { a: [1, { t: 1 }], b: 1 })]
    const right = [ev('1', { a: [1, { t: 2 }], b: 2 })]
    const ignore = (...pointers: string[]) => ({ ...options, ignore: pointers.map(parsePointer) })
    expect(compareEvents(left, right, ignore('/a/1/t', '/b'))).toEqual([])
    // An array's `length` is no member of it: nothing to drop (it threw a TypeError).
    expect(compareEvents([ev('1', [1, 2])], [ev('1', [1, 3])], ignore('/length'))).toMatchObject([
      { pointer: '/1', leftValue: 2, rightValue: 3 },
    ])
    expect(compareEvents([ev('1', [1, 2])], [ev('1', [1, 3])], ignore('/01'))).toHaveLength(1)
    // The root pointer drops all the data, JSON or not: types and ids are still compared.
    expect(parsePointer('')).toEqual([])
    expect(compareEvents(left, [ev('1', 'text')], ignore(''))).toEqual([])
    expect(compareEvents(left, [ev('2', 'text')], ignore(''))).toMatchObject([{ field: 'id' }])
  })

  it('two long streams with no event in common: every event missing or extra, at once', () => {
    const n = 30_000
    const left = Array.from({ length: n }, (_, i) => ev(`L${i}`, { n: i }, 'a'))
    const right = Array.from({ length: n }, (_, i) => ev(`R${i}`, { n: i }, 'b'))
    // Myers' alignment of these took (N + M) × D steps: 20 s here, past the test's timeout.
    const records = compareEvents(left, right, options)
    expect(records).toHaveLength(2 * n)
    expect(records[0]).toMatchObject({ kind: 'missing', left: 1 })
    expect(records.at(-1)).toMatchObject({ kind: 'extra', right: n })
    // The events they share are still aligned: one inserted and one deleted, no cascade.
    const shared = seq(50)
    const mixed = [ev('x', 'only left'), ...shared.slice(0, 25), ...shared.slice(26)]
    const other = [...shared.slice(0, 40), ev('y', 'only right'), ...shared.slice(40)]
    expect(compareEvents(mixed, other, options)).toMatchObject([
      { kind: 'missing', left: 1, id: 'x' },
      { kind: 'extra', right: 26, id: '26' },
      { kind: 'extra', right: 41, id: 'y' },
    ])
  })

  it('a long stream reordered: aligned in N log N steps, as few differences as Myers gives', () => {
    // Myers' (N + M) × D steps for these: 35 s here. A stream's events have ids: each is there once.
    const n = 30_000
    const left = Array.from({ length: n }, (_, i) => ev(`${i}`, { n: i }, `t${i}`))
    // 7919 is prime: every 7919th event, round and round, a permutation with no long run in order.
    const shuffled = left.map((_, i) => left[(i * 7919) % n]!)
    const records = compareEvents(left, shuffled, options)
    expect(records.length).toBeLessThan(2 * n)
    expect(records.filter((r) => r.kind === 'missing')).toHaveLength(records.length / 2)
    // One event moved: one missing and one extra, the others aligned.
    const events = seq(10)
    const moved = [...events.slice(0, 2), ...events.slice(3, 8), events[2]!, ...events.slice(8)]
    expect(compareEvents(events, moved, options)).toMatchObject([
      { kind: 'missing', left: 3, id: '3' },
      { kind: 'extra', right: 8, id: '3' },
    ])
  })

  it('pointers and tolerances are checked', () => {
    expect(parsePointer('/a~1b/c~0d')).toEqual(['a/b', 'c~d'])
    expect(() => parsePointer('timestamp')).toThrow(/JSON pointer/)
    expect(parseTolerance('25%')).toEqual({ fraction: 0.25 })
    expect(parseTolerance('200ms')).toEqual({ ms: 200 })
    expect(() => parseTolerance('fast')).toThrow(/percentage .* or a duration/)
    expect(canonical({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}')
  })
})

describe('timing', () => {
  const records = (times: number[], extra: ProbeRecord[] = []): ProbeRecord[] => [
    ...times.map(
      (t, i): ProbeRecord => ({
        type: 'event',
        t,
        attempt: 1,
        event: 'status',
        id: String(i),
        lastEventId: String(i),
        data: '{}',
        dt: null,
      }),
    ),
    {
      type: 'event',
      t: 5,
      attempt: 1,
      event: 'ping',
      id: null,
      lastEventId: '',
      data: '',
      dt: null,
    },
    ...extra,
  ]

  it('reads first event, gaps, reads and reconnects from a transcript', () => {
    const side = sideFromRecords(
      'a',
      records(
        [10, 30, 50, 50, 50],
        [{ type: 'reconnect', t: 60, attempt: 2, delayMs: 0, lastEventId: null }],
      ),
      options,
    )
    expect(side.events).toHaveLength(5)
    expect(side.timing).toEqual({
      firstEventMs: 10,
      gapMs: { p50: 0, p95: 20 },
      maxEventsPerRead: 3,
      reconnects: 1,
    })
  })

  it('flags a slower side beyond the tolerance (and 50 ms), and batching', () => {
    const direct = {
      firstEventMs: 10,
      gapMs: { p50: 100, p95: 110 },
      maxEventsPerRead: 1,
      reconnects: 0,
    }
    expect(compareTiming(direct, { ...direct, firstEventMs: 55 }, { fraction: 0.5 })).toEqual([])
    expect(
      compareTiming(
        direct,
        { ...direct, gapMs: { p50: 140, p95: 150 }, maxEventsPerRead: 4 },
        { fraction: 0.5 },
      ),
    ).toEqual([
      { type: 'diff', kind: 'timing', metric: 'maxEventsPerRead', leftValue: 1, rightValue: 4 },
    ])
    // Two or three events in one read: a busy client, not a buffer.
    expect(compareTiming(direct, { ...direct, maxEventsPerRead: 3 }, { fraction: 0.5 })).toEqual([])
    expect(
      compareTiming(direct, { ...direct, gapMs: { p50: 400, p95: 400 } }, { fraction: 0.5 }),
    ).toEqual([
      { type: 'diff', kind: 'timing', metric: 'gapMs.p50', leftValue: 100, rightValue: 400 },
    ])
    // A duration: the same allowance whatever the times, and never under 50 ms.
    const slowerBy = (ms: number) => ({ ...direct, gapMs: { p50: 100 + ms, p95: 200 } })
    expect(compareTiming(direct, slowerBy(150), { ms: 200 })).toEqual([])
    expect(compareTiming(direct, slowerBy(250), { ms: 200 })).toMatchObject([
      { metric: 'gapMs.p50', rightValue: 350 },
    ])
    expect(compareTiming(direct, slowerBy(40), { ms: 10 })).toEqual([])
    expect(compareTiming(direct, slowerBy(60), { ms: 10 })).toHaveLength(1)
  })

  it('summarises; --timing refuses a side without timing', () => {
    const a = sideFromRecords('a', records([10, 20]), options)
    const { summary } = diffSides(a, a, { ...options, timing: true })
    expect(summary).toMatchObject({
      type: 'diff-summary',
      same: true,
      differences: 0,
      events: { left: 2, right: 2 },
    })
    expect(() =>
      diffSides(a, { ...a, label: 'b.sse', timing: null }, { ...options, timing: true }),
    ).toThrow(/b.sse is a raw capture/)
  })
})

describe('pretty values', () => {
  it('a long value is cut where the two sides first differ, control characters escaped', () => {
    const long = 'x'.repeat(5000)
    const [left, right] = shownValues(`${long}1\u001b[2J`, `${long}2`)
    expect(left).toBe(`…${'x'.repeat(20)}1\\u001b[2J"`)
    expect(right).toBe(`…${'x'.repeat(20)}2"`)
    const [head, absent] = shownValues({ a: long }, undefined)
    expect(head).toMatch(/^\{"a":"x+… \(5008 chars\)$/)
    expect(head.length).toBeLessThan(200)
    expect(absent).toBe('(absent)')
    expect(shownValues(1, 'a\nb')).toEqual(['1', '"a\\nb"'])
  })
})
