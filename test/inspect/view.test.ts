import { Chalk } from 'chalk'
import { render } from 'ink-testing-library'
import { createElement } from 'react'
import stringWidth from 'string-width'
import { beforeAll, describe, expect, it } from 'vitest'
import { cut, loadTextWidth } from '../../src/cli/render/width.ts'
import type { ProbeRecord } from '../../src/engine/records.ts'
import { cells } from '../../src/inspect/format.ts'
import { type KeyInfo, splitKeys } from '../../src/inspect/keys.ts'
import {
  type Action,
  initialState,
  type Row,
  type RowRecord,
  reduce,
} from '../../src/inspect/state.ts'

beforeAll(loadTextWidth)

import { InspectApp, InspectScreen } from '../../src/inspect/view.tsx'

const chalk = new Chalk({ level: 0 })

function stateWith(records: ProbeRecord[], ...actions: Action[]) {
  const start = initialState({
    url: 'http://127.0.0.1:8000/status/stream',
    pingEvent: 'ping',
    capacity: 10_000,
    retryMs: 3000,
    startedAt: 0,
    width: 100,
    height: 16,
  })
  return [{ type: 'records', records, bytes: 1234, now: 2500 } as Action, ...actions].reduce(
    reduce,
    start,
  )
}

const tick = (n: number, data = `{"n":${n}}`): ProbeRecord => ({
  type: 'event',
  t: n,
  attempt: 1,
  event: 'tick',
  id: String(n),
  lastEventId: String(n),
  data,
  dt: n === 1 ? null : 1,
})

const draw = (state: ReturnType<typeof stateWith>) =>
  render(createElement(InspectScreen, { state, chalk })).lastFrame()!

/** One event's detail pane open, on a screen of 100×40. */
const drawDetail = (data: string) =>
  draw(
    stateWith([tick(1, data)], { type: 'resize', width: 100, height: 40 }, { type: 'open-detail' }),
  )

const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('inspect components', () => {
  it('draw the header, the column names and only the rows that fit', () => {
    const records = Array.from({ length: 1000 }, (_, i) => tick(i + 1))
    const frame = draw(stateWith(records))
    const lines = frame.split('\n')
    expect(lines).toHaveLength(16)
    expect(lines[0]).toMatch(/^http:\/\/127\.0\.0\.1:8000\/status\/stream {2}● connecting/)
    expect(lines[1]).toMatch(/^2\.5s · 1000 events · 0 pings · 0 reconnects · 1\.2 KiB/)
    expect(lines[2]).toMatch(/#\s+time gap\s+id\s+type\s+data/)
    // 12 grid rows, ending with the selected last row.
    expect(lines.slice(3, 15).map((line) => /\{"n":(\d+)\}$/.exec(line)?.[1])).toEqual(
      Array.from({ length: 12 }, (_, i) => String(989 + i)),
    )
    expect(lines[14]).toMatch(/^› 1000/)
    expect(lines[15]).toMatch(/q quit/)
  })

  it('count one event, ping and reconnect in the singular', () => {
    const records: ProbeRecord[] = [
      tick(1),
      { type: 'comment', t: 2, attempt: 1, text: ' ping' },
      { type: 'reconnect', t: 3, attempt: 2, delayMs: 3000, lastEventId: '1' },
    ]
    expect(draw(stateWith(records)).split('\n')[1]).toMatch(
      /^2\.5s · 1 event · 1 ping · 1 reconnect · 1\.2 KiB/,
    )
  })

  it('keep the columns aligned past 10,000 s since the start: the time column widens', () => {
    const late = (n: number, t: number): ProbeRecord => ({ ...tick(n), t })
    const records = [late(1, 9_999_000), late(2, 10_000_500), late(3, 123_456_789)]
    const start = initialState({
      url: 'http://127.0.0.1:8000/status/stream',
      pingEvent: 'ping',
      capacity: 100,
      retryMs: 3000,
      startedAt: 0,
      width: 100,
      height: 16,
    })
    const state = reduce(start, { type: 'records', records, bytes: 99, now: 123_457_000 })
    const rows = draw(state)
      .split('\n')
      .filter((line) => /tick/.test(line))
    expect(rows).toHaveLength(3)
    // Each row's type column starts in the same place.
    expect(new Set(rows.map((row) => row.indexOf('tick'))).size).toBe(1)
    expect(rows[2]).toContain('123456.789s')
  })

  it('fit small terminals: the data column stays, the screen is no taller than the terminal', () => {
    const narrow = draw(stateWith([tick(1), tick(2)], { type: 'resize', width: 40, height: 10 }))
    expect(narrow).toMatch(/^› +2 +0\.002s +tick +\{"n":2\}$/m)
    for (const line of narrow.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(40)
    const tiny = draw(stateWith([tick(1)], { type: 'resize', width: 20, height: 5 })).split('\n')
    expect(tiny).toHaveLength(5)
    expect(tiny[0]).toMatch(/^http:/)
  })

  it('are never taller than the terminal: the column names, counts and URL give way, the footer stays', () => {
    const frame = (height: number) =>
      draw(stateWith([tick(1), tick(2)], { type: 'resize', width: 60, height })).split('\n')
    expect(frame(4)).toEqual([
      expect.stringMatching(/^http:.* {2}● connecting$/),
      expect.stringMatching(/^2\.5s · 2 events/),
      expect.stringMatching(/^› +2 .*\{"n":2\}$/),
      expect.stringMatching(/^↑↓ move/),
    ])
    expect(frame(3)).toEqual([
      expect.stringMatching(/^http:/),
      expect.stringMatching(/^› +2 /),
      expect.stringMatching(/^↑↓ move/),
    ])
    expect(frame(2)).toEqual([expect.stringMatching(/^› +2 /), expect.stringMatching(/^↑↓ move/)])
    expect(frame(1)).toEqual([expect.stringMatching(/^› +2 /)])
    const detail = draw(
      stateWith([tick(1)], { type: 'resize', width: 60, height: 3 }, { type: 'open-detail' }),
    )
    expect(detail.split('\n')).toHaveLength(3)
  })

  it('mark no other row while the detail pane shows one the buffer dropped or the filter hides', () => {
    const start = initialState({
      ...{ url: 'http://127.0.0.1:8000/s', pingEvent: 'ping', capacity: 3, retryMs: 3000 },
      ...{ startedAt: 0, width: 60, height: 16 },
    })
    const opened = [
      { type: 'records', records: [tick(1), tick(2), tick(3)], bytes: 0, now: 3 },
      { type: 'move', by: -1 },
      { type: 'open-detail' },
    ] as Action[]
    const marked = (state: ReturnType<typeof reduce>) =>
      draw(state)
        .split('\n')
        .filter((line) => line.startsWith('›'))
    const detailOn2 = opened.reduce(reduce, start)
    expect(marked(detailOn2)).toEqual([expect.stringMatching(/^› +2 /)])
    // Rows 2 and 3 pushed out of the buffer by 4, 5 and 6: the pane still shows #2.
    const trimmed = reduce(detailOn2, {
      ...{ type: 'records', records: [tick(4), tick(5), tick(6)] },
      ...{ bytes: 0, now: 6 },
    })
    expect(draw(trimmed)).toContain('── #2 ')
    expect(marked(trimmed)).toEqual([])
    const hidden = [{ type: 'filter-start' }, { type: 'filter-edit', text: '"n":3' }] as Action[]
    expect(marked(hidden.reduce(reduce, detailOn2))).toEqual([])
    // Closed, the selection is on a row the grid has again.
    expect(marked(reduce(trimmed, { type: 'close-detail' }))).toEqual([
      expect.stringMatching(/^› +4 /),
    ])
  })

  it('keep the state and paused · +N in sight on a narrow terminal: the URL and the counts are cut', () => {
    const url = 'http://127.0.0.1:8000/a/rather/long/path/to/the/stream?with=query'
    let state = reduce(
      stateWith([tick(1)], { type: 'resize', width: 40, height: 10 }, { type: 'pause' }),
      { type: 'records', records: [tick(2), tick(3)], bytes: 0, now: 3000 },
    )
    state = { ...state, url }
    const [first, second] = draw(state).split('\n')
    expect(first).toMatch(/^http:\/\/127\.0\.0\.1:8000\/a\/r… {2}● connecting$/)
    expect(second).toMatch(/^3s · 3 events · 0 pings · … paused · \+2$/)
    for (const line of [first!, second!]) expect(stringWidth(line)).toBeLessThanOrEqual(40)
  })

  it('keep a reconnect countdown and an end reason whole at 40 and 20 columns: the response gives way', () => {
    const open: ProbeRecord = {
      ...{ type: 'open', t: 1, attempt: 1, url: 'http://127.0.0.1:8000/status/stream' },
      ...{ status: 200, httpVersion: '1.1', headers: {} },
    }
    const close: ProbeRecord = { type: 'close', t: 2, attempt: 1, cause: 'server-closed' }
    const summary = { type: 'summary', t: 3, reason: 'server-closed', exitCode: 0 } as ProbeRecord
    const header = (width: number, ...records: ProbeRecord[]) =>
      draw(stateWith([open, tick(1), ...records], { type: 'resize', width, height: 10 })).split(
        '\n',
      )[0]!
    expect(header(40, close)).toMatch(/^http:\/\/127\.0\.0\.… {2}● reconnecting in 0\.5s$/)
    expect(header(40, close, summary)).toMatch(/^http:\/\/127\.0\.0\.… {2}● ended: server-closed$/)
    // Where it fits, the response stays.
    expect(header(40)).toMatch(/^http:\/\/127\.0\.0\.1:… {2}200 HTTP\/1\.1 {2}● open$/)
    expect(header(20)).toMatch(/^http:\/\/127\.… {2}● open$/)
  })

  it('cut a long end message before the URL: the URL keeps its first columns, the reason stays', () => {
    const message =
      'the server took the connection but sent no response headers within 1000ms (--connect-timeout)'
    const summary = { type: 'summary', t: 3, reason: 'connect-failed', exitCode: 3, message }
    const state = stateWith([summary as ProbeRecord], { type: 'resize', width: 80, height: 10 })
    const header = draw(state).split('\n')[0]!
    expect(header).toMatch(
      /^http:\/\/127\.0\.0\.… {2}● ended: connect-failed \(the server took the con.*…$/,
    )
    expect(stringWidth(header)).toBe(80)
  })

  it('measure wide characters in columns: cells stay aligned, the detail pane loses nothing', () => {
    const cjk = '漢字'.repeat(30)
    const state = stateWith([tick(1, cjk), { ...tick(2), id: '日本語日本語' } as ProbeRecord], {
      type: 'resize',
      width: 60,
      height: 30,
    })
    const rows = draw(state).split('\n').slice(3, 5)
    // The type column starts at the same column on both rows, after an id of wide characters.
    const typeColumn = rows.map((row) => stringWidth(row.slice(0, row.indexOf('tick'))))
    expect(typeColumn[1]).toBe(typeColumn[0])
    expect(stringWidth(cut(cjk, 7))).toBe(7)
    expect(cut(cjk, 7)).toBe('漢字漢…')
    const { lines } = reduce(reduce(state, { type: 'first' }), { type: 'open-detail' }).detail!
    const body = lines.slice(lines.indexOf('') + 1)
    expect(body.join('')).toBe(cjk)
    for (const line of body) expect(stringWidth(line)).toBeLessThanOrEqual(60)
  })

  it('escape control characters from the server', () => {
    const frame = draw(stateWith([tick(1, 'evil \x1b[2J\x07 \u202e')]))
    expect(frame).toContain('evil \\x1b[2J\\x07 \\u202e')
    expect(frame).not.toContain('\x1b[2J')
  })

  it('lay out a row from the first KiB of a megabyte event, not from all of it', () => {
    const big = JSON.stringify({ items: Array.from({ length: 50_000 }, (_, i) => i) }, null, 1)
    const row: Row = { n: 1, record: tick(1, big) as RowRecord, kind: 'event' }
    const comment: RowRecord = {
      type: 'comment',
      t: 1,
      attempt: 1,
      text: `\x1b${'c'.repeat(1e6)}`,
    }
    const context = { wallTime: false, startedAt: 0 }
    for (const r of [row, { n: 2, record: comment, kind: 'ping' } satisfies Row]) {
      const { data } = cells(r, context)
      expect(data.length).toBeLessThan(5000)
      expect(data).toMatch(/^(\{\\n "items": \[|\\x1bccc)/)
      expect(data.endsWith('…')).toBe(true)
    }
    // Never half an emoji at the cut.
    const emoji = tick(1, `${'a'.repeat(4095)}😀${'b'.repeat(10)}`) as RowRecord
    expect(cells({ ...row, record: emoji }, context).data).toBe(`${'a'.repeat(4095)}…`)
    // Small JSON is still compacted.
    const small = tick(1, '{ "a" : 1 }') as RowRecord
    expect(cells({ ...row, record: small }, context).data).toBe('{"a":1}')
  })

  it('show paused · +N and the filter in the header', () => {
    let state = stateWith([tick(1)], { type: 'pause' })
    state = reduce(state, { type: 'records', records: [tick(2), tick(3)], bytes: 0, now: 3000 })
    state = reduce(state, { type: 'filter-start' })
    state = reduce(state, { type: 'filter-edit', text: 'tick' })
    const frame = draw(state)
    expect(frame).toMatch(/filter: tick +paused · \+2$/m)
    expect(frame).toContain('/tick')
    expect(frame).not.toContain('{"n":2}')
  })

  it('show the end of a filter wider than the terminal, where the typing goes on, and the cursor', () => {
    const typing = (text: string) =>
      draw(
        stateWith(
          [tick(1)],
          { type: 'resize', width: 30, height: 8 },
          { type: 'filter-start' },
          { type: 'filter-edit', text },
        ),
      )
        .split('\n')
        .at(-1)!
    expect(typing('type:status')).toMatch(/^\/type:status {3}Enter keeps/)
    const long = typing('type:status-and-something-longer')
    // The cursor (an inverse space, trimmed from this uncoloured frame) takes the last column.
    expect(long).toBe('/…status-and-something-longer')
    expect(stringWidth(long)).toBe(29)
    // Wide characters are counted in columns: never half of one, never past the width.
    const wide = typing(`abc${'中文'.repeat(20)}`)
    expect(wide).toMatch(/^\/…(文)?(中文)+$/)
    expect(stringWidth(wide)).toBeLessThanOrEqual(29)
  })

  it('escape a notice: w names the working directory, whose name may hold a line break or ESC', () => {
    const state = reduce(stateWith([tick(1)]), {
      type: 'notice',
      text: 'wrote 1 record to x.ndjson in /tmp/dir\nline2\x1b[31mred',
    })
    const lines = draw(state).split('\n')
    expect(lines).toHaveLength(16)
    expect(lines[0]).toMatch(/^http:\/\/127\.0\.0\.1:8000\/status\/stream /)
    expect(lines.at(-1)).toBe('wrote 1 record to x.ndjson in /tmp/dir\\nline2\\x1b[31mred')
  })

  it('keep a paused grid where it stands when the rows held pass a power of ten (# widens later)', () => {
    const rows = Array.from({ length: 998 }, (_, i) => tick(i + 1))
    const paused = stateWith(rows, { type: 'pause' })
    const grid = (state: ReturnType<typeof stateWith>) => draw(state).split('\n').slice(2, -1)
    const more = [tick(999), tick(1000)]
    const held = reduce(paused, { type: 'records', records: more, bytes: 0, now: 3000 })
    expect(grid(held)).toEqual(grid(paused))
    expect(grid(reduce(held, { type: 'pause' })).at(-1)).toMatch(/^› 1000 /)
  })

  it('show the detail pane with the data indented', () => {
    const frame = drawDetail('{"a":{"b":[1,2]}}')
    expect(frame).toMatch(/── #1 .*Esc closes/)
    expect(frame).toContain('lastEventId "1"')
    expect(frame).toContain('  "a": {')
  })

  it('show the status and HTTP version of the last response in the header, through reconnects', () => {
    const open: ProbeRecord = {
      ...{ type: 'open', t: 1, attempt: 1, url: 'http://127.0.0.1:8000/status/stream' },
      ...{ status: 200, httpVersion: '1.1', headers: {} },
    }
    const close: ProbeRecord = { type: 'close', t: 2, attempt: 1, cause: 'network-error' }
    expect(draw(stateWith([open, tick(1)])).split('\n')[0]).toMatch(
      /stream {2}200 HTTP\/1\.1 {2}● open$/,
    )
    const waiting = draw(stateWith([open, tick(1), close])).split('\n')[0]
    expect(waiting).toMatch(/200 HTTP\/1\.1 {2}● reconnecting in/)
    const refused: ProbeRecord = {
      type: 'error',
      t: 3,
      attempt: 2,
      message: 'HTTP 503',
      status: 503,
    }
    expect(draw(stateWith([open, close, refused])).split('\n')[0]).toMatch(/stream {2}503 {2}● /)
  })

  it("give the run's average rate once the stream has ended, not its last second's", () => {
    const burst = Array.from({ length: 40 }, (_, i) => tick(i + 1))
    const running = reduce(stateWith(burst), { type: 'tick', now: 2540 })
    expect(draw(running).split('\n')[1]).toMatch(/ · \d+\/s$/)
    const summary = { type: 'summary', t: 4000, reason: 'end-event', exitCode: 0 } as ProbeRecord
    const ended = reduce(running, { type: 'records', records: [summary], bytes: 0, now: 4000 })
    // 40 events in 4s.
    expect(draw(ended).split('\n')[1]).toMatch(/ · 10\/s avg$/)
  })

  it('give the elapsed time of a probe that ended within its first 50ms, not 0ms', () => {
    const refused: ProbeRecord = {
      ...{ type: 'error', t: 23, attempt: 1, message: 'connect ECONNREFUSED 127.0.0.1:1' },
    }
    const summary = { type: 'summary', t: 23, reason: 'connect-failed', exitCode: 3 }
    const start = initialState({
      ...{ url: 'http://127.0.0.1:1/', pingEvent: 'ping', capacity: 10, retryMs: 3000 },
      startedAt: 0,
    })
    const state = reduce(start, {
      type: 'records',
      records: [refused, summary as ProbeRecord],
      bytes: 0,
      now: 30,
    })
    expect(draw(state).split('\n')[1]).toMatch(/^23ms · 0 events/)
  })

  it('keep the blank lines of the data in the detail pane, and the screen its height', () => {
    const lines = drawDetail('a\n\nc').split('\n')
    expect(lines).toHaveLength(40)
    const a = lines.indexOf('a')
    expect(lines.slice(a - 1, a + 3)).toEqual(['', 'a', '', 'c'])
    expect(lines[a - 2]).toMatch(/^size/)
  })

  it('scroll the detail pane down to the last line of the data', () => {
    const data = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n')
    const opened = stateWith([tick(1, data)], { type: 'open-detail' })
    const frame = draw(reduce(opened, { type: 'last' }))
    expect(frame).toContain('line 40')
    expect(frame).toMatch(/── #1 Esc closes/)
    expect(draw(reduce(opened, { type: 'move', by: 1 }))).toMatch(/── #1 \(\d+ more lines,/)
  })

  it('hand each key to onKey as Ink reads it', async () => {
    const keys: [string, KeyInfo][] = []
    const app = render(
      createElement(InspectApp, {
        state: stateWith([tick(1)]),
        chalk,
        onKey: (input, key) => keys.push([input, key]),
        onPaste: () => {},
      }),
    )
    await settle()
    for (const data of ['j', '\x1b[A', '\r', '/', '\x1b[6~', ' ']) {
      app.stdin.write(data)
      await settle()
    }
    expect(keys.map(([input]) => input)).toEqual(['j', '', '\r', '/', '', ' '])
    expect(keys[1]![1].upArrow).toBe(true)
    expect(keys[2]![1].return).toBe(true)
    expect(keys[4]![1].pageDown).toBe(true)
    app.unmount()
  })
  it('hand a bracketed paste to onPaste whole, none of it to onKey', async () => {
    const keys: string[] = []
    const pastes: string[] = []
    const app = render(
      createElement(InspectApp, {
        state: stateWith([tick(1)]),
        chalk,
        onKey: (input) => keys.push(input),
        onPaste: (text) => pastes.push(text),
      }),
    )
    await settle()
    app.stdin.write('\x1b[200~status\rqc\x1b[201~')
    await settle()
    expect({ keys, pastes }).toEqual({ keys: [], pastes: ['status\rqc'] })
    app.unmount()
  })

  it('read Esc and the key after it in one chunk (Alt+key to Ink) as two keys', async () => {
    const keys: string[] = []
    const app = render(
      createElement(InspectApp, {
        state: stateWith([tick(1)]),
        chalk,
        onKey: (input, key) => {
          for (const [char, info] of splitKeys(input, key))
            keys.push(info.escape ? 'Esc' : info.return ? 'Enter' : info.upArrow ? 'Up' : char)
        },
        onPaste: () => {},
      }),
    )
    await settle()
    for (const data of ['\x1bj', '\x1b\r', '\x1b\x1b', '\x1b[1;3A']) {
      app.stdin.write(data)
      await settle()
    }
    expect(keys).toEqual(['Esc', 'j', 'Esc', 'Enter', 'Esc', 'Esc', 'Up'])
    app.unmount()
  })
})
