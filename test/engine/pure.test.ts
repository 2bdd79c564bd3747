import { describe, expect, it } from 'vitest'
import {
  formatDuration,
  formatLimit,
  MAX_DELAY_MS,
  parseDuration,
} from '../../src/engine/duration.ts'
import { visible } from '../../src/engine/escape.ts'
import { exitCodeFor } from '../../src/engine/exit-code.ts'
import { evaluateExpectations } from '../../src/engine/expectations.ts'
import { pointerTokens } from '../../src/engine/json-pointer.ts'
import { type ConnState, initialState, step, type Verdict } from '../../src/engine/reconnect.ts'
import { createSession } from '../../src/engine/session.ts'
import { createGapStats } from '../../src/engine/stats.ts'

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))
  it.each(['', 'abc', '5x', '-1s', '1e3', '5 s s', '1500', '1s30'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  )
  it('formats short and long durations', () => {
    expect([
      formatDuration(0.5),
      formatDuration(850),
      formatDuration(1250),
      formatDuration(125_000),
      formatDuration(9.97),
      formatDuration(999.6),
      formatDuration(59_996),
    ]).toEqual(['0.5ms', '850ms', '1.25s', '2m05s', '10ms', '1s', '1m00s'])
  })
})

describe('formatLimit', () => {
  it.each([
    ['300ms', '300ms'],
    ['1234ms', '1.234s'],
    ['1.1s', '1.1s'],
    ['1m', '1m'],
    ['61500ms', '1m1.5s'],
    ['1h', '1h'],
    ['0.5ms', '0.5ms'],
  ])('%s is named %s, and reads back the same', (text, name) => {
    const ms = parseDuration(text)!
    expect(formatLimit(ms)).toBe(name)
    expect(parseDuration(name)).toBe(ms)
  })
})

describe('JSON pointers', () => {
  it('reads ~1 as / and ~0 as ~, once each, after the decoding given', () => {
    expect(pointerTokens('')).toEqual([])
    expect(pointerTokens('/')).toEqual([''])
    expect(pointerTokens('/a~1b/~01/0')).toEqual(['a/b', '~1', '0'])
    expect(pointerTokens('/c%25d/a%7E1b', decodeURIComponent)).toEqual(['c%d', 'a/b'])
  })
})

describe('reconnection decisions (step)', () => {
  const o = { when: 'always', maxReconnects: Infinity } as const
  const request = { url: new URL('http://x/'), method: 'GET', headers: {} }
  const start = initialState(3000, request)
  const opened: ConnState = { ...start, opened: true }
  const response = (verdict: Verdict) => ({ type: 'response', verdict, request }) as const
  const closed = { type: 'closed', cause: 'server-closed' } as const
  const broke = { type: 'closed', cause: 'network-error' } as const
  const networkError = { type: 'network-error', message: 'ECONNRESET' } as const

  it('reads an ok response, ends on the others without retrying', () => {
    expect(step(start, response('ok'), o)[1]).toEqual({ type: 'read' })
    for (const verdict of ['no-content', 'http-error', 'not-event-stream'] as const) {
      expect(step(opened, response(verdict), o)[1]).toEqual({ type: 'end', reason: verdict })
    }
  })

  it('fails at once when the very first connection cannot be made', () => {
    expect(step(start, networkError, o)[1]).toEqual({
      type: 'end',
      reason: 'connect-failed',
      message: 'ECONNRESET',
    })
  })

  it('waits the current retry time after a close or a later network error', () => {
    const [afterRetry] = step(opened, { type: 'retry', ms: 250 }, o)
    const [next, effect] = step(afterRetry, closed, o)
    expect(effect).toEqual({ type: 'wait', ms: 250 })
    expect(next).toMatchObject({ attempt: 2 })
    expect(step(next, networkError, o)[1]).toEqual({ type: 'wait', ms: 250 })
  })

  it('--reconnect never ends on any close; on-error only on a clean one', () => {
    const never = { ...o, when: 'never' } as const
    const onError = { ...o, when: 'on-error' } as const
    expect(step(opened, closed, never)[1]).toEqual({ type: 'end', reason: 'server-closed' })
    expect(step(opened, broke, never)[1]).toEqual({ type: 'end', reason: 'server-closed' })
    expect(step(opened, closed, onError)[1]).toEqual({ type: 'end', reason: 'server-closed' })
    expect(step(opened, broke, onError)[1]).toEqual({ type: 'wait', ms: 3000 })
  })

  it('gives up after n barren reconnects in a row, and an event resets the count', () => {
    const limited = { ...o, maxReconnects: 2 }
    let s = opened
    ;[s] = step(s, closed, limited)
    ;[s] = step(s, networkError, limited)
    expect(step(s, closed, limited)[1]).toMatchObject({ reason: 'reconnects-exhausted' })
    ;[s] = step(s, { type: 'event' }, limited)
    expect(step(s, closed, limited)[1]).toEqual({ type: 'wait', ms: 3000 })
  })

  it('the first end wins: later inputs change nothing', () => {
    const [ended, effect] = step(opened, { type: 'stop', reason: 'timeout', message: 'late' }, o)
    expect(effect).toEqual({ type: 'end', reason: 'timeout', message: 'late' })
    expect(step(ended, { type: 'event', end: 'end-event' }, o)).toEqual([ended, { type: 'none' }])
    expect(step(ended, { type: 'stop', reason: 'interrupted' }, o)[1]).toEqual({ type: 'none' })
  })

  it('an event that meets an end condition ends the probe', () => {
    expect(step(opened, { type: 'event', end: 'max-events' }, o)[1]).toEqual({
      type: 'end',
      reason: 'max-events',
    })
  })

  it('a connect sends the Last-Event-ID buffer; one a header cannot carry ends the probe', () => {
    const [, effect] = step(opened, { type: 'connect', lastEventId: '7' }, o)
    expect(effect).toMatchObject({
      type: 'connect',
      request: { headers: { 'last-event-id': '7' } },
    })
    expect(step(opened, { type: 'connect', lastEventId: 'a\nb' }, o)[1]).toMatchObject({
      type: 'end',
      reason: 'connect-failed',
      message: expect.stringContaining('control characters'),
    })
  })

  it('a retry: beyond what a timer can wait is kept at that limit', () => {
    expect(step(start, { type: 'retry', ms: 1e14 }, o)[0].retryMs).toBe(MAX_DELAY_MS)
  })
})

describe('gap statistics', () => {
  it('is exact for a few samples', () => {
    const stats = createGapStats()
    for (const ms of [10, 20, 30, 40, 100]) stats.add(ms)
    expect(stats.result()).toEqual({ min: 10, p50: 30, p95: 100, max: 100 })
  })
  it('stays within 1 % on many samples', () => {
    const stats = createGapStats()
    for (let i = 1; i <= 100_000; i++) stats.add(i / 100)
    const result = stats.result()!
    expect(result.min).toBe(0.01)
    expect(result.max).toBe(1000)
    expect(Math.abs(result.p50 - 500) / 500).toBeLessThan(0.011)
    expect(Math.abs(result.p95 - 950) / 950).toBeLessThan(0.011)
  })
  it('has nothing to say without samples', () => expect(createGapStats().result()).toBeNull())
  it('counts gaps of 0 ms as if they were stored, exact and past the exact samples', () => {
    const values = [5, 0, -1, 0, 3, 0, 0, 8, 0, 2]
    const stats = createGapStats()
    for (const ms of values) stats.add(ms)
    stats.addZeros(3)
    const sorted = [...values, 0, 0, 0].sort((a, b) => a - b)
    const at = (p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1]
    expect(stats.result()).toEqual({ min: -1, p50: at(50), p95: at(95), max: 8 })
    const many = createGapStats()
    for (let i = 1; i <= 3000; i++) many.add(i)
    many.addZeros(7000)
    const result = many.result()!
    expect(result.p50).toBe(0)
    expect(Math.abs(result.p95 - 2500) / 2500).toBeLessThan(0.011)
    expect([result.min, result.max]).toEqual([0, 3000])
  })
})

describe('session', () => {
  const options = { pingEvent: 'ping', endEvents: [], endData: [], dataPatterns: [] }

  it('counts events, pings and comments and measures gaps', () => {
    const s = createSession({ ...options, endEvents: ['end'], dataPatterns: [/ok/, /x/] })
    s.open(0)
    expect(s.event(100, 'status', 'x')).toBeUndefined()
    expect(s.dt()).toBeNull()
    s.comment(150)
    s.event(300, 'ping', 'x')
    expect(s.dt()).toBe(200)
    expect(s.event(350, 'status', 'ok')).toBeUndefined()
    expect(s.dt()).toBe(50)
    s.event(350, 'status', 'same chunk')
    expect(s.dt()).toBe(0)
    const stats = s.stats(350)
    expect(stats).toMatchObject({
      events: 4,
      pings: 2,
      comments: 1,
      eventsByType: { status: 3, ping: 1 },
      firstEventMs: 100,
      maxSilenceMs: 150,
      // Events (a ping event too) whose data each --expect-data pattern matched.
      dataMatches: [1, 2],
    })
    expect(stats.gapMs).toEqual({ min: 0, p50: 50, p95: 200, max: 200 })
  })

  it('ends on an end type, end data or the event count, in that order', () => {
    const s = createSession({
      ...options,
      endEvents: ['end', 'done'],
      endData: ['[DONE]'],
      maxEvents: 3,
    })
    expect(s.event(1, 'message', '[DONE]')).toBe('end-data')
    expect(s.event(2, 'done', 'x')).toBe('end-event')
    expect(s.event(3, 'message', '[DONE!]')).toBe('max-events')
  })

  it('counts the silence of a connection still open, not the wait before a reconnect', () => {
    const s = createSession(options)
    s.open(0)
    s.event(100, 'a', 'x')
    s.closed(150)
    s.open(5000)
    s.event(5100, 'a', 'x')
    expect(s.stats(5200).maxSilenceMs).toBe(100)
    expect(s.stats(6000).maxSilenceMs).toBe(900)
  })
})

describe('expectations and exit codes', () => {
  const stats = {
    events: 2,
    eventsByType: { status: 2 },
    pings: 0,
    comments: 0,
    reconnects: 0,
    connections: 1,
    bytes: 10,
    firstEventMs: 1,
    gapMs: null,
    maxSilenceMs: 1500,
    dataMatches: [0],
  }
  const spec = {
    events: ['status', 'end'],
    dataPatterns: [{ source: 'done', regex: /done/ }],
    minEvents: 2,
    end: true,
    reconnect: true,
    maxGapMs: 1000,
  }

  it('names each expectation after its flag and checks it', () => {
    expect(evaluateExpectations(spec, stats, 'server-closed')).toEqual([
      { name: '--expect-event status', ok: true, actual: 2 },
      { name: '--expect-event end', ok: false, actual: 0 },
      { name: '--expect-data done', ok: false, actual: 0 },
      { name: '--expect-min-events 2', ok: true, actual: 2 },
      { name: '--expect-end', ok: false, actual: 'server-closed' },
      { name: '--expect-reconnect', ok: false, actual: 0 },
      { name: '--expect-max-gap 1s', ok: false, actual: 1500 },
    ])
    expect(
      evaluateExpectations(
        { ...spec, events: [] },
        { ...stats, reconnects: 1, maxSilenceMs: 10, dataMatches: [3] },
        'end-data',
      ).every((e) => e.ok),
    ).toBe(true)
  })

  it('maps reasons to exit codes; a failed expectation turns only 0 into 1', () => {
    const failed = [{ name: 'x', ok: false }]
    expect(exitCodeFor('end-event', [])).toBe(0)
    expect(exitCodeFor('end-event', failed)).toBe(1)
    expect(exitCodeFor('timeout', failed)).toBe(4)
    expect(exitCodeFor('idle-timeout', [])).toBe(4)
    expect(exitCodeFor('http-error', failed)).toBe(3)
    expect(exitCodeFor('interrupted', [], 'SIGINT')).toBe(130)
    expect(exitCodeFor('interrupted', [], 'SIGTERM')).toBe(143)
  })
})

describe('terminal safety', () => {
  it('shows control characters and bidi overrides as escapes', () => {
    expect(visible('a\x1b[2Jb\x07\b\r\x9b\u202e\t')).toBe('a\\x1b[2Jb\\x07\\x08\\r\\x9b\\u202e\\t')
    expect(visible('plain ünïcode ✓')).toBe('plain ünïcode ✓')
  })
})
