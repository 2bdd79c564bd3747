import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../src/duration.ts'
import { exitCodeFor } from '../src/exit-code.ts'
import { evaluateExpectations } from '../src/expectations.ts'
import { type ConnState, initialState, step } from '../src/reconnect.ts'
import { redactHeaders } from '../src/redact.ts'
import { visible } from '../src/render/escape.ts'
import { createSession } from '../src/session.ts'
import { createGapStats } from '../src/stats.ts'

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1500', 1500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))
  it.each(['', 'abc', '5x', '-1s', '1e3', '5 s s'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  )
  it('formats short and long durations', () => {
    expect([
      formatDuration(0.5),
      formatDuration(850),
      formatDuration(1250),
      formatDuration(125_000),
    ]).toEqual(['0.5ms', '850ms', '1.25s', '2m05s'])
  })
})

describe('reconnection decisions', () => {
  const o = { reconnect: true, maxReconnects: Infinity }
  const opened: ConnState = { ...initialState(3000), opened: true }

  it('reads an ok response, ends on the others without retrying', () => {
    expect(step(initialState(3000), { type: 'response', verdict: 'ok' }, o)[1]).toEqual({
      type: 'read',
    })
    expect(step(opened, { type: 'response', verdict: 'no-content' }, o)[1]).toEqual({
      type: 'end',
      reason: 'no-content',
    })
    expect(step(opened, { type: 'response', verdict: 'http-error' }, o)[1]).toEqual({
      type: 'end',
      reason: 'http-error',
    })
    expect(step(opened, { type: 'response', verdict: 'not-event-stream' }, o)[1]).toEqual({
      type: 'end',
      reason: 'not-event-stream',
    })
  })

  it('fails at once when the very first connection cannot be made', () => {
    expect(step(initialState(3000), { type: 'network-error' }, o)[1]).toEqual({
      type: 'end',
      reason: 'connect-failed',
    })
  })

  it('waits the current retry time after a close or a later network error', () => {
    const [afterRetry] = step(opened, { type: 'retry', ms: 250 }, o)
    const [next, effect] = step(afterRetry, { type: 'closed' }, o)
    expect(effect).toEqual({ type: 'wait', ms: 250 })
    expect(next.attempt).toBe(2)
    expect(step(next, { type: 'network-error' }, o)[1]).toEqual({ type: 'wait', ms: 250 })
  })

  it('ends normally on a close with --no-reconnect', () => {
    expect(
      step(opened, { type: 'closed' }, { reconnect: false, maxReconnects: Infinity })[1],
    ).toEqual({ type: 'end', reason: 'server-closed' })
  })

  it('gives up after n barren reconnects in a row, and an event resets the count', () => {
    const limited = { reconnect: true, maxReconnects: 2 }
    let s = opened
    ;[s] = step(s, { type: 'closed' }, limited)
    ;[s] = step(s, { type: 'network-error' }, limited)
    expect(step(s, { type: 'closed' }, limited)[1]).toEqual({
      type: 'end',
      reason: 'reconnects-exhausted',
    })
    ;[s] = step(s, { type: 'event' }, limited)
    expect(step(s, { type: 'closed' }, limited)[1]).toEqual({ type: 'wait', ms: 3000 })
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
})

describe('session', () => {
  const options = { pingEvent: 'ping', endEvents: [], endData: [], dataPatterns: [] }

  it('counts events, pings and comments and measures gaps', () => {
    const s = createSession({ ...options, endEvents: ['end'], dataPatterns: [/ok/] })
    s.open(0)
    expect(s.event(100, 'status', 'x')).toBeUndefined()
    expect(s.dt).toBeNull()
    s.comment(150)
    s.event(300, 'ping', 'x')
    expect(s.dt).toBe(200)
    expect(s.event(350, 'status', 'ok')).toBeUndefined()
    expect(s.dt).toBe(50)
    s.event(350, 'status', 'same chunk')
    expect(s.dt).toBe(0)
    const stats = s.stats(350)
    expect(stats).toMatchObject({
      events: 4,
      pings: 2,
      comments: 1,
      eventsByType: { status: 3, ping: 1 },
      firstEventMs: 100,
      maxSilenceMs: 150,
      dataMatched: [true],
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
    bytes: 10,
    firstEventMs: 1,
    gapMs: null,
    maxSilenceMs: 1500,
    dataMatched: [false],
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
      { name: '--expect-event status', ok: true },
      { name: '--expect-event end', ok: false },
      { name: '--expect-data done', ok: false },
      { name: '--expect-min-events 2', ok: true },
      { name: '--expect-end', ok: false },
      { name: '--expect-reconnect', ok: false },
      { name: '--expect-max-gap 1s', ok: false },
    ])
    expect(
      evaluateExpectations(
        { ...spec, events: [] },
        { ...stats, reconnects: 1, maxSilenceMs: 10, dataMatched: [true] },
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

describe('terminal safety and secrets', () => {
  it('shows control characters and bidi overrides as escapes', () => {
    expect(visible('a\x1b[2Jb\x07\b\r\x9b\u202e\t')).toBe('a\\x1b[2Jb\\x07\\x08\\r\\x9b\\u202e\\t')
    expect(visible('plain ünïcode ✓')).toBe('plain ünïcode ✓')
  })
  it('redacts credentials unless asked', () => {
    const headers = { 'set-cookie': 'a=b', Authorization: 'Bearer x', accept: '*/*' }
    expect(redactHeaders(headers, false)).toEqual({
      'set-cookie': '<redacted>',
      Authorization: '<redacted>',
      accept: '*/*',
    })
    expect(redactHeaders(headers, true)).toBe(headers)
  })
})
