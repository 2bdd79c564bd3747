import { beforeAll, describe, expect, it } from 'vitest'
import { loadTextWidth } from '../../src/cli/render/width.ts'
import type { ProbeRecord } from '../../src/engine/records.ts'
import { parseFilter } from '../../src/inspect/filter.ts'
import { keyAction, pasteAction, splitKeys } from '../../src/inspect/keys.ts'
import {
  type Action,
  displayedRecords,
  gridWindow,
  type InspectState,
  initialState,
  MAX_BUFFER_CHARS,
  reduce,
  visibleRows,
} from '../../src/inspect/state.ts'

const start = (options: Partial<Parameters<typeof initialState>[0]> = {}) =>
  initialState({
    url: 'http://127.0.0.1:1/s',
    pingEvent: 'ping',
    capacity: 100,
    retryMs: 3000,
    startedAt: Date.UTC(2026, 0, 1),
    height: 14, // 10 grid rows
    width: 100,
    ...options,
  })

const event = (id: number, extra: Partial<ProbeRecord> = {}): ProbeRecord =>
  ({
    type: 'event',
    t: id * 10,
    attempt: 1,
    event: 'tick',
    id: String(id),
    lastEventId: String(id),
    data: `tick ${id}`,
    dt: id === 1 ? null : 10,
    ...extra,
  }) as ProbeRecord

const events = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => event(from + i))

const feed = (state: InspectState, records: ProbeRecord[], bytes = 0) =>
  reduce(state, { type: 'records', records, bytes, now: records.at(-1)?.t ?? 0 })

const apply = (state: InspectState, ...actions: Action[]) => actions.reduce(reduce, state)

const ids = (state: InspectState) =>
  visibleRows(state).map((row) => (row.record.type === 'event' ? row.record.id : row.record.type))

const selectedId = (state: InspectState) => {
  const row = state.shown.at(gridWindow(state).selected)
  return row?.record.type === 'event' ? row.record.id : row?.record.type
}

describe('inspect state: rows and counts', () => {
  it('counts events, pings, comments, reconnects and bytes', () => {
    const s = feed(
      start(),
      [
        event(1),
        event(2, { event: 'ping' }),
        { type: 'comment', t: 30, attempt: 1, text: 'keep-alive' },
        { type: 'reconnect', t: 40, attempt: 2, delayMs: 10, lastEventId: '2' },
      ],
      321,
    )
    expect(s.counts).toEqual({ events: 2, pings: 2, comments: 1, reconnects: 1, bytes: 321 })
    expect(s.rows.length).toBe(4)
  })

  it('keeps the last --buffer rows and numbers them over the whole probe', () => {
    let s = start({ capacity: 5 })
    for (let i = 1; i <= 20; i += 4) s = feed(s, events(i, i + 3))
    expect(s.counts.events).toBe(20)
    expect([...s.rows].map((row) => row.n)).toEqual([16, 17, 18, 19, 20])
    expect(ids(s)).toEqual(['16', '17', '18', '19', '20'])
  })

  it('keeps at most MAX_BUFFER_CHARS of data, paused or not: megabyte events outgrew the heap', () => {
    // One string, shared: the test itself holds a mebibyte, the buffer counts each row's.
    const mebibyte = 'x'.repeat(2 ** 20)
    const big = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) =>
        // A mebibyte a row with its type and id, which count too.
        event(from + i, { data: mebibyte.slice(`tick${from + i}`.length) }),
      )
    const fit = MAX_BUFFER_CHARS / 2 ** 20
    let s = feed(start({ capacity: 10_000 }), big(1, fit + 10))
    expect(s.counts.events).toBe(fit + 10)
    expect(s.rows.length).toBe(fit)
    expect(s.rows.at(0)?.n).toBe(11)
    expect(s.shown.length).toBe(fit)
    s = feed(apply(s, { type: 'pause' }), big(fit + 11, 3 * fit))
    expect(s.paused?.held.length).toBe(fit)
    // One row larger than the whole budget is still shown.
    s = feed(apply(s, { type: 'pause' }), [event(1, { data: 'y'.repeat(MAX_BUFFER_CHARS + 1) })])
    expect(s.rows.length).toBe(1)
  })

  it('counts event types and ids in MAX_BUFFER_CHARS too', () => {
    const half = 'x'.repeat(2 ** 19)
    const fit = MAX_BUFFER_CHARS / 2 ** 20
    const rows = Array.from({ length: fit + 10 }, (_, i) =>
      event(i + 1, { event: half, id: half, data: '' }),
    )
    const s = feed(start({ capacity: 10_000 }), rows)
    expect(s.rows.length).toBe(fit)
  })

  it('follows the tail while the selection is on the last row', () => {
    let s = feed(start(), events(1, 30))
    expect(selectedId(s)).toBe('30')
    expect(ids(s)).toEqual(events(21, 30).map((e) => (e as { id: string }).id))
    s = apply(s, { type: 'move', by: -1 })
    s = feed(s, events(31, 35))
    expect(selectedId(s)).toBe('29')
    expect(ids(s)[0]).toBe('21') // the window stays where it was
    s = apply(s, { type: 'last' })
    s = feed(s, events(36, 36))
    expect(selectedId(s)).toBe('36')
  })

  it('moves by rows and pages, g and G', () => {
    let s = feed(start(), events(1, 50))
    s = apply(s, { type: 'page', by: -1 })
    expect(selectedId(s)).toBe('41')
    s = apply(s, { type: 'first' })
    expect(selectedId(s)).toBe('1')
    expect(ids(s)[0]).toBe('1')
    s = apply(s, { type: 'move', by: 3 }, { type: 'move', by: -1 })
    expect(selectedId(s)).toBe('3')
    s = feed(s, events(51, 60))
    expect(ids(s)[0]).toBe('1')
    s = apply(s, { type: 'last' })
    expect(s.follow).toBe(true)
  })
})

describe('inspect state: filter', () => {
  const mixed: ProbeRecord[] = [
    { type: 'open', t: 1, attempt: 1, url: 'u', status: 200, httpVersion: '1.1', headers: {} },
    event(1, { event: 'status', data: '{"state":"degraded"}' }),
    event(2, { event: 'tick', data: 'Degraded soon' }),
    event(3, { event: 'status', data: '{"state":"ok"}' }),
    { type: 'comment', t: 40, attempt: 1, text: 'status keep-alive' },
  ]
  const filtered = (text: string) => {
    let s = apply(feed(start(), mixed), { type: 'filter-start' })
    s = reduce(s, { type: 'filter-edit', text })
    return ids(reduce(s, { type: 'filter-apply' }))
  }

  it('text looks in the type and the data, any case; status rows stay', () => {
    expect(filtered('degraded')).toEqual(['open', '1', '2'])
  })
  it('type:name keeps one type', () => expect(filtered('type:status')).toEqual(['open', '1', '3']))
  it('/regex/ looks in the type and the data', () =>
    expect(filtered('/"ok"|^tick$/')).toEqual(['open', '2', '3']))
  it('the comment text is searched too', () =>
    expect(filtered('keep-alive')).toEqual(['open', 'comment']))
  it('a /regex/ that backtracks catastrophically on the data still answers (at once)', () => {
    const slow = [...mixed, event(4, { data: `${'a'.repeat(40)}!` }), event(5, { data: 'aaa' })]
    let s = apply(feed(start(), slow), { type: 'filter-start' })
    s = reduce(s, { type: 'filter-edit', text: '/^(a+)+$/' })
    expect(ids(reduce(s, { type: 'filter-apply' }))).toEqual(['open', '5'])
  })

  it('applies new rows as they arrive, Esc restores the previous filter', () => {
    let s = apply(
      feed(start(), mixed),
      { type: 'filter-start' },
      { type: 'filter-edit', text: 'type:status' },
    )
    s = feed(s, [event(4, { event: 'status' }), event(5)])
    expect(ids(s)).toEqual(['open', '1', '3', '4'])
    expect(displayedRecords(s)).toHaveLength(4)
    s = apply(s, { type: 'filter-cancel' })
    expect(ids(s)).toHaveLength(7)
    expect(s.filter.source).toBe('')
  })

  it('a bad regex is reported; Enter then keeps the filter from before /', () => {
    let s = apply(
      feed(start(), mixed),
      { type: 'filter-start' },
      { type: 'filter-edit', text: 'type:tick' },
    )
    s = apply(s, { type: 'filter-edit', text: '/(/' })
    expect(s.editing?.error).toMatch(/Invalid regular expression/)
    expect(ids(s)).toEqual(['open', '2'])
    s = apply(s, { type: 'filter-apply' })
    // The filter from before `/`, not the last one that parsed while typing.
    expect(s.editing).toBeUndefined()
    expect(s.filter.source).toBe('')
    expect(ids(s)).toEqual(['open', '1', '2', '3', 'comment'])
    expect(s.notice).toMatch(/^filter not changed: Invalid regular expression/)
    // A filter that is then kept is not followed by that message, left in the footer.
    s = apply(
      s,
      { type: 'filter-start' },
      { type: 'filter-edit', text: 'tick' },
      { type: 'filter-apply' },
    )
    expect(s.filter.source).toBe('tick')
    expect(s.notice).toBeUndefined()
  })

  it('parseFilter refuses g and y flags silently (a stateful regex would skip rows)', () => {
    const f = parseFilter('/tick/g')
    if ('error' in f) throw new Error(f.error)
    const row = { n: 1, kind: 'event' as const, record: event(1) as never }
    expect([f.matches(row), f.matches(row)]).toEqual([true, true])
  })
})

describe('inspect state: pause, pings, time, clear, detail', () => {
  it('pause freezes the grid and counts what arrives: paused · +N', () => {
    let s = feed(start(), events(1, 5))
    s = apply(s, { type: 'pause' })
    s = feed(s, events(6, 9))
    expect(ids(s)).toEqual(['1', '2', '3', '4', '5'])
    expect(s.paused?.events).toBe(4)
    expect(s.counts.events).toBe(9)
    s = apply(s, { type: 'pause' })
    expect(ids(s).at(-1)).toBe('9')
    expect(selectedId(s)).toBe('9')
  })

  it('a paused grid keeps its rows while more than --buffer arrive; resuming shows the tail', () => {
    let s = apply(feed(start({ capacity: 5 }), events(1, 5)), { type: 'pause' })
    s = feed(s, events(6, 20))
    expect(ids(s)).toEqual(['1', '2', '3', '4', '5'])
    expect(displayedRecords(s)).toHaveLength(5)
    expect(s.paused?.events).toBe(15)
    s = apply(s, { type: 'pause' })
    expect(ids(s)).toEqual(['16', '17', '18', '19', '20'])
    expect(s.rows.length).toBe(5)
  })

  it('c while paused drops the held rows too', () => {
    let s = apply(feed(start(), events(1, 3)), { type: 'pause' })
    s = apply(feed(s, events(4, 5)), { type: 'clear' }, { type: 'pause' })
    expect(ids(s)).toEqual([])
    s = feed(s, events(6, 6))
    expect(ids(s)).toEqual(['6'])
  })

  it('h hides pings and comments, and shows them again', () => {
    let s = feed(start(), [
      event(1),
      event(2, { event: 'ping' }),
      { type: 'comment', t: 1, attempt: 1, text: '' },
    ])
    s = apply(s, { type: 'toggle-pings' })
    expect(ids(s)).toEqual(['1'])
    s = feed(s, [event(3, { event: 'ping' })])
    expect(ids(s)).toEqual(['1'])
    s = apply(s, { type: 'toggle-pings' })
    expect(ids(s)).toEqual(['1', '2', 'comment', '3'])
  })

  it('c clears the grid, the counts stay', () => {
    let s = apply(feed(start(), events(1, 5)), { type: 'clear' })
    expect(ids(s)).toEqual([])
    expect(s.counts.events).toBe(5)
    s = feed(s, events(6, 6))
    expect(visibleRows(s).map((row) => row.n)).toEqual([6])
  })

  it('the detail pane holds the selection on its row while the stream runs on', () => {
    let s = apply(feed(start(), events(1, 5)), { type: 'open-detail' })
    s = feed(s, events(6, 8))
    expect(selectedId(s)).toBe('5')
    expect(s.detail?.row.n).toBe(5)
    s = apply(s, { type: 'close-detail' })
    expect(selectedId(s)).toBe('5')
    s = apply(s, { type: 'last' }, { type: 'open-detail' }, { type: 'close-detail' })
    s = feed(s, events(9, 9))
    expect(selectedId(s)).toBe('9')
  })

  it('Enter shows the selected row whole, JSON indented; the pane scrolls and Esc closes', () => {
    const data = JSON.stringify({ items: Array.from({ length: 30 }, (_, i) => i) })
    let s = feed(start(), [event(1, { data, event: 'list' }), event(2)])
    s = apply(s, { type: 'move', by: -1 }, { type: 'open-detail' })
    expect(s.detail?.lines.slice(0, 2)).toEqual(['type        list', '#           1'])
    expect(s.detail?.lines).toContain('    29')
    expect(s.detail?.json).toBe(true)
    s = apply(s, { type: 'move', by: 5 })
    expect(s.detail?.scroll).toBe(5)
    s = apply(s, { type: 'last' })
    const last = s.detail!.scroll
    expect(last).toBeGreaterThan(5)
    s = apply(s, { type: 'move', by: 1 })
    expect(s.detail?.scroll).toBe(last)
    // Enter again (a key held, pressed twice): the pane stays where it was scrolled to.
    expect(apply(s, { type: 'open-detail' })).toBe(s)
    s = apply(s, { type: 'close-detail' })
    expect(s.detail).toBeUndefined()
  })

  it('t switches the time to the wall clock', () => {
    const s = apply(feed(start(), events(1, 1)), { type: 'toggle-time' })
    expect(s.wallTime).toBe(true)
  })
})

describe('inspect state: retry rows', () => {
  it('a retry field is a row when it changes the reconnection time, not when repeated', () => {
    const retry = (t: number, ms: number): ProbeRecord => ({ type: 'retry', t, attempt: 1, ms })
    const s = feed(start(), [
      retry(1, 3000),
      event(1),
      retry(11, 500),
      event(2),
      retry(21, 500),
      event(3),
      retry(31, 2000),
    ])
    expect(ids(s)).toEqual(['1', 'retry', '2', '3', 'retry'])
    expect(s.retryMs).toBe(2000)
  })

  it('a retry beyond a timer (2^31 ms) counts down as the engine waits it, 24 days, not 1e23 ms', () => {
    const s = feed(start(), [
      { type: 'retry', t: 1, attempt: 1, ms: 1e23 },
      { type: 'close', t: 100, attempt: 1, cause: 'server-closed' },
    ])
    expect(s.connection).toEqual({ state: 'waiting', at: 100 + 2 ** 31 - 1 })
  })
})

describe('inspect state: connection header', () => {
  it('connecting, open, reconnecting in the retry time, ended', () => {
    let s = start()
    expect(s.connection).toEqual({ state: 'connecting', attempt: 1 })
    s = feed(s, [
      { type: 'open', t: 5, attempt: 1, url: 'u', status: 200, httpVersion: '1.1', headers: {} },
      { type: 'retry', t: 6, attempt: 1, ms: 2100 },
    ])
    expect(s.connection).toMatchObject({ state: 'open', status: 200 })
    s = feed(s, [{ type: 'close', t: 100, attempt: 1, cause: 'server-closed' }])
    expect(s.connection).toEqual({ state: 'waiting', at: 2200 })
    s = feed(s, [{ type: 'reconnect', t: 2200, attempt: 2, delayMs: 2100, lastEventId: '1' }])
    expect(s.connection).toEqual({ state: 'connecting', attempt: 2 })
    s = feed(s, [
      {
        type: 'summary',
        t: 2300,
        startedAt: '2026-01-01T00:00:00.000Z',
        connections: 1,
        reason: 'end-event',
        exitCode: 0,
        expectations: [],
        events: 0,
        eventsByType: {},
        pings: 0,
        comments: 0,
        reconnects: 1,
        bytes: 0,
        firstEventMs: null,
        gapMs: null,
      },
    ])
    expect(s.connection).toEqual({ state: 'ended', reason: 'end-event', exitCode: 0 })
    expect(s.rows.length).toBe(4)
  })

  it('events per second over the last second', () => {
    let s = apply(start(), { type: 'tick', now: 0 })
    s = feed(s, events(1, 500))
    s = apply(s, { type: 'tick', now: 500 })
    expect(s.rate).toBe(1000)
  })
})

describe('inspect paste', () => {
  it('types a paste into the / prompt on one line; elsewhere a paste does nothing', () => {
    const editing = apply(start(), { type: 'filter-start' }, { type: 'filter-edit', text: 'a' })
    expect(pasteAction(editing, 'type:\r\nstatus\tq\x1b[31m')).toEqual({
      type: 'filter-edit',
      text: 'atype: status q[31m',
    })
    expect(pasteAction(editing, '\x07')).toBeUndefined()
    // Not read as keys: q would quit, c clear the grid, r reconnect.
    expect(pasteAction(start(), 'qcr\r')).toBeUndefined()
  })
})

describe('inspect keys', () => {
  // Backspace measures characters as the terminal draws them, as the screen does.
  beforeAll(loadTextWidth)

  const s = start()
  it.each([
    ['j', {}, { type: 'move', by: 1 }],
    ['k', {}, { type: 'move', by: -1 }],
    ['', { downArrow: true }, { type: 'move', by: 1 }],
    ['', { pageUp: true }, { type: 'page', by: -1 }],
    ['g', {}, { type: 'first' }],
    ['G', {}, { type: 'last' }],
    ['', { return: true }, { type: 'open-detail' }],
    ['/', {}, { type: 'filter-start' }],
    [' ', {}, { type: 'pause' }],
    ['h', {}, { type: 'toggle-pings' }],
    ['t', {}, { type: 'toggle-time' }],
    ['c', {}, { type: 'clear' }],
    ['r', {}, { type: 'reconnect' }],
    ['w', {}, { type: 'write' }],
    ['q', {}, { type: 'quit' }],
    ['c', { ctrl: true }, { type: 'quit' }],
  ])('%j %j', (input, key, action) => expect(keyAction(s, input, key)).toEqual(action))

  it('several characters at once are several keys, a carriage return is Enter', () => {
    expect(splitKeys('ab\r', {})).toEqual([
      ['a', {}],
      ['b', {}],
      ['', { return: true }],
    ])
    expect(splitKeys('j', { ctrl: false })).toEqual([['j', { ctrl: false }]])
  })

  it('while the filter prompt is open, keys are text', () => {
    const editing = apply(s, { type: 'filter-start' }, { type: 'filter-edit', text: 'ab' })
    expect(keyAction(editing, 'q', {})).toEqual({ type: 'filter-edit', text: 'abq' })
    expect(keyAction(editing, '', { backspace: true })).toEqual({ type: 'filter-edit', text: 'a' })
    expect(keyAction(editing, '', { return: true })).toEqual({ type: 'filter-apply' })
    expect(keyAction(editing, '', { escape: true })).toEqual({ type: 'filter-cancel' })
  })

  it.each([
    ['an emoji, not half of it (a lone surrogate)', '😀'],
    ['an emoji with its skin tone', '👍🏽'],
    ['an emoji with its variation selector', '❤️'],
    ['a flag', '🇫🇷'],
    ['a family (ZWJ)', '👨‍👩‍👧'],
  ])('Backspace takes back %s whole', (_name, emoji) => {
    const editing = apply(s, { type: 'filter-start' }, { type: 'filter-edit', text: `a${emoji}` })
    expect(keyAction(editing, '', { backspace: true })).toEqual({ type: 'filter-edit', text: 'a' })
  })
})
