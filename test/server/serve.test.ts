import { type ChildProcess, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { ProbeRecord } from '../../src/engine/records.ts'
import { startDemoEndpoint } from '../../src/server/demo-endpoint.ts'
import {
  chromiumInstalled,
  launchChromium,
  runInBrowser,
  startDifferentialServer,
} from '../helpers/browser.ts'
import { type CliRun, runCli, startCli } from '../helpers/cli.ts'
import { startServer } from '../helpers/server.ts'

const dir = mkdtempSync(join(tmpdir(), 'sse-probe-serve-'))
function file(name: string, content: string | object[]): string {
  const path = join(dir, name)
  writeFileSync(
    path,
    typeof content === 'string' ? content : content.map((r) => `${JSON.stringify(r)}\n`).join(''),
  )
  return path
}
const eventsOf = (run: CliRun) => run.ofType('event').map((e) => [e.event, e.id, e.data])

describe('sse-probe serve: a recorded session, probed again', () => {
  // The tolerance the README states for a replay at --speed 1.
  const TOLERANCE_MS = 300

  it('replays events, pings, retry, the drop and the resume as recorded (the round trip)', async () => {
    // A live stream: the demo's endpoint, faster.
    const live = await startDemoEndpoint({ port: 0, intervalMs: 150, retryMs: 200 })
    const transcript = join(dir, 'live.ndjson')
    const recorded = await runCli([live.url, '--json', '--record', transcript])
    await live.close()
    expect(recorded.summary).toMatchObject({ reason: 'end-event', reconnects: 1 })
    expect(readFileSync(transcript, 'utf8')).toBe(recorded.stdout)

    const server = await startCli(['serve', transcript])
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const replayed = await runCli([server.url, '--json'])
    expect(eventsOf(replayed)).toEqual(eventsOf(recorded))
    const shape = (run: CliRun) =>
      run.records.filter((r) => r.type !== 'event').map((r) => ({ type: r.type, ...pick(r) }))
    expect(shape(replayed)).toEqual(shape(recorded))
    const recordedTimes = recorded.ofType('event').map((e) => e.t)
    replayed.ofType('event').forEach((e, i) => {
      expect(Math.abs(e.t - recordedTimes[i]!)).toBeLessThan(TOLERANCE_MS)
    })
    const { exitCode, stderr } = await server.stop()
    expect(exitCode).toBe(0)
    expect(stderr).toMatch(
      /^serving .*live\.ndjson: 7 events in 2 connections, speed 1; Ctrl-C stops it\n/,
    )
    expect(stderr.match(/▶ GET \//g)).toHaveLength(2)
    expect(stderr).toContain('Last-Event-ID: 3  → connection 2 of the recording')
  })

  it('replays how long the server took to answer each request (headers held until it had something)', async () => {
    // As an LLM API, or any server that sends its headers with its first write: 600ms per request.
    const live = await startServer(async (_req, res, index) => {
      await sleep(600)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(index === 0 ? 'retry: 100\nid: 1\ndata: a\n\n' : 'event: end\nid: 2\ndata: b\n\n')
    })
    const transcript = join(dir, 'slow-headers.ndjson')
    const recorded = await runCli([live.url, '--json', '--record', transcript])
    expect(recorded.summary).toMatchObject({ reason: 'end-event', connections: 2 })

    const server = await startCli(['serve', transcript])
    const replayed = await runCli([server.url, '--json'])
    const times = (run: CliRun) => run.records.filter((r) => r.type !== 'summary').map((r) => r.t)
    const recordedTimes = times(recorded)
    expect(times(replayed)).toHaveLength(recordedTimes.length)
    times(replayed).forEach((t, i) => {
      expect(Math.abs(t - recordedTimes[i]!)).toBeLessThan(TOLERANCE_MS)
    })
    await server.stop()
  })

  it('keeps to the recorded timeline over many reconnects: their overhead does not add up', async () => {
    // 60 connections of one event each, 20ms apart: a close, a reconnect 17ms (retry) later.
    const records: object[] = [{ type: 'retry', t: 1, attempt: 1, ms: 17 }]
    for (let k = 0; k < 60; k++) {
      const t = k * 20
      const attempt = k + 1
      if (k > 0) records.push({ type: 'reconnect', t, attempt, delayMs: 17, lastEventId: `${k}` })
      records.push({ ...OPEN, t: t + 1, attempt })
      records.push({
        ...ev(t + 2, `${attempt}`, `${attempt}`, k === 59 ? 'end' : 'message'),
        attempt,
      })
      records.push({ type: 'close', t: t + 3, attempt, cause: 'server-closed' })
    }
    records.splice(2, 0, records.shift()!) // the retry after the first open
    const server = await startCli(['serve', file('many-reconnects.ndjson', records)])
    const run = await runCli([server.url, '--json'])
    const events = run.ofType('event')
    expect(events).toHaveLength(60)
    // Each reconnect's overhead (a few ms) added up to hundreds of ms by the last event. Within
    // the stated tolerance (half of it failed now and then on a busy machine: 179 ms).
    expect(events.at(-1)!.t - (59 * 20 + 2)).toBeLessThan(TOLERANCE_MS)
  })

  it('answers Last-Event-ID by resuming after that id', async () => {
    const server = await startCli(['serve', file('resume.ndjson', RECORDING)])
    const run = await runCli([server.url, '--json', '--last-event-id', '1'])
    expect(eventsOf(run)).toEqual([
      ['message', '2', 'b'],
      ['end', '3', 'c'],
    ])
    expect(run.ofType('reconnect')).toEqual([])
  })

  it('gives the recorded next connection to a client whose id has spaces around it (HTTP trims them)', async () => {
    const server = await startCli([
      'serve',
      file('spaced-id.ndjson', [
        OPEN,
        ev(1, '1 ', 'a'),
        { type: 'retry', t: 2, attempt: 1, ms: 10 },
        { type: 'close', t: 3, attempt: 1, cause: 'server-closed' },
        { type: 'reconnect', t: 20, attempt: 2, delayMs: 10, lastEventId: '1 ' },
        { ...OPEN, t: 21 },
        ev(22, '2', 'b', 'end'),
      ]),
    ])
    const run = await runCli([server.url, '--json', '--timeout', '5s'])
    expect(eventsOf(run)).toEqual([
      ['message', '1 ', 'a'],
      ['end', '2', 'b'],
    ])
    const { stderr } = await server.stop()
    expect(stderr).toContain('Last-Event-ID: 1  → connection 2 of the recording')
  })

  it('--speed scales the recorded timing: 0 is as fast as possible', async () => {
    const slow = file('slow.ndjson', [
      OPEN,
      ev(0, '1', 'a'),
      ev(1500, '2', 'b'),
      ev(3000, '3', 'c', 'end'),
    ])
    const fast = await startCli(['serve', slow, '--speed', '0'])
    const run = await runCli([fast.url, '--json'])
    expect(eventsOf(run).map((e) => e[2])).toEqual(['a', 'b', 'c'])
    expect(run.summary.t).toBeLessThan(1500)
    const doubled = await startCli([
      'serve',
      file('gap.ndjson', [OPEN, ev(0, '1', 'a'), ev(600, '2', 'b', 'end')]),
      '--speed',
      '2',
    ])
    const gap = (await runCli([doubled.url, '--json'])).ofType('event')[1]!.dt!
    expect(gap).toBeGreaterThan(200)
    expect(gap).toBeLessThan(500)
  })

  it('serves a plain event-stream file with --interval between events, --loop to repeat it', async () => {
    const sse = file('plain.sse', 'id: 1\ndata: a\n\n: ping\n\nid: 2\ndata: b\n')
    const server = await startCli(['serve', sse, '--interval', '200ms', '--loop'])
    const run = await runCli([server.url, '--json', '-n', '5'])
    expect(eventsOf(run)).toEqual([
      ['message', '1', 'a'],
      ['message', '2', 'b'],
      ['message', '1', 'a'],
      ['message', '2', 'b'],
      ['message', '1', 'a'],
    ])
    for (const e of run.ofType('event').slice(1)) expect(e.dt).toBeGreaterThan(150)
    expect(run.ofType('comment').length).toBeGreaterThanOrEqual(2)
    expect(server.stderr()).toMatch(/serving .*plain\.sse: 2 events, every 200ms, looping/)
  })

  it('without --loop the connection stays open after the last record', async () => {
    const server = await startCli(['serve', file('once.sse', 'data: a\n\n'), '--interval', '0'])
    const run = await runCli([server.url, '--json', '--duration', '500ms'])
    expect(run.summary).toMatchObject({ reason: 'duration', events: 1, reconnects: 0 })
  })

  it('waits a recorded gap longer than a Node timer can (24.8 days) instead of skipping it', async () => {
    const server = await startCli([
      'serve',
      file('month.ndjson', [OPEN, ev(5, '1', 'a'), ev(3e9, '2', 'b')]),
    ])
    const run = await runCli([server.url, '--json', '--duration', '1s'])
    expect(eventsOf(run)).toEqual([['message', '1', 'a']])
    expect((await server.stop()).stderr).not.toContain('TimeoutOverflowWarning')
  })

  it.runIf(process.platform === 'linux')(
    'reads a named pipe as it is written; Ctrl-C stops it while nothing writes, exit 0',
    async () => {
      const pipe = join(dir, 'pipe')
      execFileSync('mkfifo', [pipe])
      // The command is still starting, reading a file whose writer may never come: the signal
      // stops the reading, and serve ends as Ctrl-C ends it.
      const once = (child: ChildProcess) => setTimeout(() => child.kill('SIGINT'), 1000)
      const waiting = await runCli(['serve', pipe], { onSpawn: once, timeoutMs: 5000 })
      // (Killed by the Ctrl-C when Node had not started yet; SIGKILL when it hung.)
      expect([0, 'SIGINT']).toContain(waiting.exitCode ?? waiting.signal)
      const server = startCli(['serve', pipe, '--speed', '0'])
      await writeFile(pipe, RECORDING_TEXT)
      const run = await runCli([(await server).url, '--json'])
      expect(eventsOf(run)).toEqual([
        ['message', '1', 'a'],
        ['message', '2', 'b'],
        ['end', '3', 'c'],
      ])
    },
  )

  it('replays failed reconnects: no response, then a stream again', async () => {
    const server = await startCli(['serve', file('failing.ndjson', FAILED_RECONNECT)])
    const run = await runCli([server.url, '--json'])
    expect(run.records.map((r) => r.type)).toEqual([
      'open',
      'event',
      'retry',
      'close',
      'reconnect',
      'error',
      'reconnect',
      'open',
      'event',
      'summary',
    ])
    expect(run.ofType('close')).toMatchObject([{ cause: 'server-closed' }])
    expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 2 })
    expect(server.stderr()).toContain('refused as recorded (no response)')
  })

  // The replay's responses were keep-alive: Chromium sent the reconnect on the idle connection
  // the recorded close left, and retried the dropped request on a new one at once, unseen.
  it.skipIf(!chromiumInstalled())(
    "fails a recorded failed reconnect again for Chromium's EventSource too",
    async () => {
      const server = await startCli(['serve', file('failing-browser.ndjson', FAILED_RECONNECT)])
      const page = await startDifferentialServer([])
      const browser = await launchChromium()
      try {
        await browser.page.goto(`${page.url}/`)
        const seen = await runInBrowser(browser.page, server.url, { name: 'replay', replies: [] })
        expect(seen.log).toEqual([
          { kind: 'open' },
          { kind: 'event', type: 'message', data: 'a', lastEventId: '1' },
          { kind: 'error', closed: false },
          { kind: 'error', closed: false },
          { kind: 'open' },
          { kind: 'event', type: 'end', data: 'b', lastEventId: '2' },
        ])
      } finally {
        await browser.close()
        await page.close()
      }
      expect(server.stderr().match(/▶ GET \//g)).toHaveLength(3)
    },
  )

  it("'-' reads the transcript from stdin (a pipe), named stdin in messages", async () => {
    const server = await startCli(['serve', '-', '--speed', '0'], { stdin: RECORDING_TEXT })
    const run = await runCli([server.url, '--json'])
    expect(eventsOf(run)).toEqual([
      ['message', '1', 'a'],
      ['message', '2', 'b'],
      ['end', '3', 'c'],
    ])
    expect(server.stderr()).toContain('serving stdin: 3 events')
    const cut = await runCli(['serve', '-'], { stdin: RECORDING_TEXT.slice(0, -20) })
    expect([cut.exitCode, cut.stderr]).toEqual([
      2,
      'error: stdin:5: truncated: the file ends in the middle of a record\n',
    ])
  })

  it('resumes after an id that is not ASCII, sent as UTF-8', async () => {
    const server = await startCli([
      'serve',
      file('unicode-id.ndjson', [OPEN, ev(1, 'é😀', 'a'), ev(2, '2', 'b', 'end')]),
    ])
    const run = await runCli([server.url, '--json', '--last-event-id', 'é😀'])
    expect(eventsOf(run)).toEqual([['end', '2', 'b']])
    expect(server.stderr()).toContain('Last-Event-ID: é😀  → resuming after id é😀')
  })

  it("answers a browser's CORS preflight (a fetch with a JSON body or Authorization) without replaying to it", async () => {
    const server = await startCli(['serve', '--speed', '0', file('preflight.ndjson', RECORDING)])
    const preflight = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST')
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,content-type')
    expect(await preflight.text()).toBe('')
    const run = await runCli([server.url, '--json', '-d', '{}'])
    expect(eventsOf(run).map((e) => e[2])).toEqual(['a', 'b', 'c'])
    const { stderr } = await server.stop()
    expect(stderr).not.toContain('OPTIONS')
    expect(stderr.match(/▶ POST \//g)).toHaveLength(1)
  })

  // Which recorded connection a reconnect gets was one slot for all clients: the first to
  // reconnect took it, and the others were served the recording from the start again (no ids) or
  // skipped its failed reconnect (with ids).
  it('clients served side by side each replay the recording: its reconnects, failed ones included', async () => {
    // Slow enough (the first close after 900ms, reconnects after 500ms or 1s) that the clients,
    // started together, all connect before the first close and all close before the first
    // reconnect: without ids, a fresh client and a reconnecting one are the same request.
    const slower = (records: object[]) =>
      records.map((r) => {
        const { t, ms, delayMs } = r as { t: number; ms?: number; delayMs?: number }
        return {
          ...r,
          t: t * 300,
          ...(ms !== undefined && { ms: ms * 50 }),
          ...(delayMs !== undefined && { delayMs: delayMs * 50 }),
        }
      })
    const noIds = await startCli([
      'serve',
      file('parallel-noids.ndjson', slower(RECONNECT_WITHOUT_IDS)),
    ])
    const failing = await startCli([
      'serve',
      file('parallel-failing.ndjson', slower(FAILED_RECONNECT)),
    ])
    const clients = (url: string) =>
      Promise.all([1, 2, 3].map(() => runCli([url, '--json', '--timeout', '5s'])))
    for (const run of await clients(noIds.url)) {
      expect(eventsOf(run).map((e) => e[2])).toEqual(['a1', 'b1'])
      expect(run.summary).toMatchObject({ reason: 'end-event', reconnects: 1 })
    }
    for (const run of await clients(failing.url)) {
      expect(run.records.map((r) => r.type)).toEqual([
        ...FAILED_RECONNECT.map((r) => r.type),
        'summary',
      ])
      expect(eventsOf(run).map((e) => e[2])).toEqual(['a', 'b'])
    }
  })

  it('a fresh client starts from the beginning again, also after a recording without ids', async () => {
    const server = await startCli([
      'serve',
      '--speed',
      '0',
      file('noids.ndjson', RECONNECT_WITHOUT_IDS),
    ])
    for (let run = 0; run < 2; run++) {
      expect((await runCli([server.url, '--json'])).ofType('event').map((e) => e.data)).toEqual([
        'a1',
        'b1',
      ])
    }
  })
})

describe('sse-probe serve: bad input', () => {
  it.each([
    [
      'a missing file',
      () => join(dir, 'missing.ndjson'),
      /^error: cannot read '.*missing\.ndjson': no such file\n$/,
    ],
    [
      'an empty file',
      () => file('empty.ndjson', ''),
      /^error: .*empty\.ndjson:1: the file is empty: nothing to replay\n$/,
    ],
    [
      'a truncated transcript',
      () => file('cut.ndjson', RECORDING_TEXT.slice(0, -20)),
      /^error: .*cut\.ndjson:5: truncated: the file ends in the middle of a record\n$/,
    ],
    [
      'a malformed line',
      () => file('bad.ndjson', RECORDING_TEXT.replace('"data":"b"', '"data":b')),
      /^error: .*bad\.ndjson:3: not a JSON record \(.*\)\n$/,
    ],
    [
      'a record that makes no sense',
      () => file('odd.ndjson', [OPEN, { type: 'event', t: 1 }]),
      /^error: .*odd\.ndjson:2: event record: "event" is missing/,
    ],
    [
      'a time past any clock (JSON reads 1e400 as Infinity)',
      () => file('inf.ndjson', RECORDING_TEXT.replace('"t":10,', '"t":1e400,')),
      /^error: .*inf\.ndjson:3: event record: "t" must be a number of milliseconds\n$/,
    ],
    [
      'an event-stream file without events',
      () => file('none.sse', ': nothing\n\n'),
      /^error: .*none\.sse: no event to replay/,
    ],
  ])('%s: exit 2 with the file and line', async (_what, path, message) => {
    const run = await runCli(['serve', path()])
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(message)
  })

  it('bad flags: exit 2', async () => {
    const transcript = file('flags.ndjson', RECORDING)
    for (const flags of [
      ['--speed', 'fast'],
      ['--speed', '-1'],
      ['--port', 'http'],
      ['--interval', '1s'],
    ]) {
      const run = await runCli(['serve', transcript, ...flags])
      expect(run.exitCode, flags.join(' ')).toBe(2)
    }
    expect((await runCli(['serve', transcript, '--interval', '1s'])).stderr).toContain(
      '--interval is for plain event-stream files',
    )
  })

  it('a port in use: exit 2 with the port', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const run = await runCli(['serve', file('port.ndjson', RECORDING), '--port', String(port)])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toBe(
        `error: port ${port} on 127.0.0.1 is already in use: choose another --port, or 0 for any free port\n`,
      )
    } finally {
      taken.close()
    }
  })
})

const OPEN = {
  type: 'open',
  t: 0,
  attempt: 1,
  url: 'http://x/',
  status: 200,
  httpVersion: '1.1',
  headers: {},
}
function ev(t: number, id: string | null, data: string, event = 'message') {
  return { type: 'event', t, attempt: 1, event, id, lastEventId: id ?? '', data, dt: null }
}

/** A close and a reconnect, in a stream without ids. */
const RECONNECT_WITHOUT_IDS = [
  OPEN,
  ev(1, null, 'a1'),
  { type: 'retry', t: 2, attempt: 1, ms: 10 },
  { type: 'close', t: 3, attempt: 1, cause: 'server-closed' },
  { type: 'reconnect', t: 20, attempt: 2, delayMs: 10, lastEventId: null },
  { ...OPEN, t: 21 },
  ev(22, null, 'b1', 'end'),
]

/** A drop, a reconnect that gets no response, and one that gets the stream again. */
const FAILED_RECONNECT = [
  OPEN,
  ev(1, '1', 'a'),
  { type: 'retry', t: 2, attempt: 1, ms: 20 },
  { type: 'close', t: 3, attempt: 1, cause: 'server-closed' },
  { type: 'reconnect', t: 30, attempt: 2, delayMs: 20, lastEventId: '1' },
  { type: 'error', t: 31, attempt: 2, message: 'other side closed' },
  { type: 'reconnect', t: 60, attempt: 3, delayMs: 20, lastEventId: '1' },
  { ...OPEN, t: 61 },
  ev(62, '2', 'b', 'end'),
]
const RECORDING = [
  OPEN,
  ev(5, '1', 'a'),
  ev(10, '2', 'b'),
  ev(15, '3', 'c', 'end'),
  { type: 'summary', t: 16, reason: 'end-event', exitCode: 0 },
]
const RECORDING_TEXT = RECORDING.map((r) => `${JSON.stringify(r)}\n`).join('')

/** What must match between a session and its replay, apart from times, URLs and byte counts. */
function pick(record: ProbeRecord): object {
  switch (record.type) {
    case 'open':
      return { attempt: record.attempt, status: record.status }
    case 'close':
      return { attempt: record.attempt, cause: record.cause }
    case 'reconnect':
      return { attempt: record.attempt, delayMs: record.delayMs, lastEventId: record.lastEventId }
    case 'summary':
      return {
        reason: record.reason,
        events: record.events,
        eventsByType: record.eventsByType,
        pings: record.pings,
        reconnects: record.reconnects,
      }
    case 'comment':
      return { attempt: record.attempt, text: record.text }
    case 'retry':
      return { attempt: record.attempt, ms: record.ms }
    default:
      return record
  }
}
