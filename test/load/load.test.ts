import { spawn } from 'node:child_process'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import fc from 'fast-check'
import * as int32 from 'hdr-histogram-js/dist/Int32Histogram.js'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadMaxEventSize } from '../../src/cli/commands/load.ts'
import { roundMs } from '../../src/engine/records.ts'
import { triggerArg } from '../../src/engine/trigger.ts'
import { createCollector, errorKind, numberAt, numberReader } from '../../src/load/collector.ts'
import { createLatencyHistogram } from '../../src/load/histogram.ts'
import { connectedArg, jsonPointerArg } from '../../src/load/options.ts'
import type { LoadRecord, LoadSummaryRecord } from '../../src/load/records.ts'
import { startStatusLine } from '../../src/load/render.ts'
import { CLI, type CliRun, parseOutput, runCli } from '../helpers/cli.ts'
import { startRawServer } from '../helpers/hostile-servers.ts'
import { chatError, chatTokens } from '../helpers/llm-streams.ts'
import { startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }

/** `sse-probe load <args>` with `ulimit -n 64`. */
async function runShell(args: string) {
  const child = spawn('bash', [
    '-c',
    `ulimit -n 64; exec "${process.execPath}" "${CLI}" load ${args}`,
  ])
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return parseOutput(stdout, stderr, { exitCode, signal: null, stdoutBytes: Buffer.from(stdout) })
}

function loadRecords(run: CliRun): LoadRecord[] {
  return run.records as unknown as LoadRecord[]
}

function loadSummary(run: CliRun): LoadSummaryRecord {
  const summary = loadRecords(run).find((r) => r.type === 'load-summary')
  if (!summary) throw new Error(`no load-summary in:\n${run.stdout}\n${run.stderr}`)
  return summary as LoadSummaryRecord
}

/** Streams that stay open; every stream gets `retry: 50` and three events with ids at once. */
async function holdingServer(refuse: (index: number) => boolean = () => false) {
  const open = new Set<ServerResponse>()
  const server = await startServer((_req, res, index) => {
    if (refuse(index)) {
      res.writeHead(503, { 'content-type': 'text/plain' })
      res.end('busy')
      return
    }
    res.writeHead(200, SSE)
    res.write('retry: 50\nid: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n')
    open.add(res)
    res.on('close', () => open.delete(res))
  })
  return { ...server, open }
}

describe('sse-probe load', () => {
  it('opens and counts a few hundred connections exactly', async () => {
    const server = await holdingServer()
    const run = await runCli(
      ['load', server.url, '-c', '300', '--duration', '1s', '--json', '--interval', '250ms'],
      { timeoutMs: 30_000 },
    )
    const summary = loadSummary(run)
    expect(run.exitCode).toBe(0)
    expect(summary).toMatchObject({
      reason: 'duration',
      exitCode: 0,
      connections: { target: 300, opened: 300, peakOpen: 300, failed: 0 },
      events: { total: 900, perConnection: { min: 3, p50: 3, max: 3 } },
      reconnects: { total: 0, delayMs: null, maxPerSecond: 0 },
      fanoutMs: null,
      errors: {},
      expectations: [],
    })
    expect(server.requests).toHaveLength(300)
    expect(summary.connectMs!.p50).toBeGreaterThan(0)
    expect(summary.connectMs!.max).toBeGreaterThanOrEqual(summary.connectMs!.p99)
    expect(summary.firstEventMs!.p50).toBeGreaterThanOrEqual(summary.connectMs!.p50)
    expect(summary.rssMiB).toBeGreaterThan(10)
    const stats = loadRecords(run).filter((r) => r.type === 'stats')
    expect(stats.length).toBeGreaterThanOrEqual(2)
    expect(stats.at(-1)).toMatchObject({ open: 300, opened: 300, failed: 0, events: 900 })
  })

  it('shares a default --max-event-size of 1 GiB out over the connections; one given is kept', async () => {
    // A thousand connections each holding a 16 MiB line ran the heap out of memory (a crash).
    expect(loadMaxEventSize(1)).toBe(16 * 1024 ** 2)
    expect(loadMaxEventSize(300)).toBe(3_579_139)
    expect(loadMaxEventSize(100_000)).toBe(64 * 1024)
    const line = `data: ${'x'.repeat(4_000_000)}\n\n`
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, SSE)
      res.write(index === 0 ? line : 'data: a\n\n')
    })
    const load = (...flags: string[]) =>
      runCli(['load', server.url, '-c', '300', '--duration', '1s', '--json', ...flags], {
        timeoutMs: 30_000,
      })
    const shared = loadSummary(await load())
    expect(shared).toMatchObject({ events: { total: 299 }, errors: { 'event too large': 1 } })
    const given = loadSummary(await load('--max-event-size', '16MiB'))
    expect(given).toMatchObject({ events: { total: 300 }, errors: {} })
  })

  it('counts the reconnects of a server restart and resumes with Last-Event-ID', async () => {
    const lastEventIds: (string | undefined)[] = []
    let generation = 1
    const handler = (req: import('node:http').IncomingMessage, res: ServerResponse) => {
      lastEventIds.push(req.headers['last-event-id'] as string | undefined)
      res.writeHead(200, SSE)
      res.write(`retry: 100\nid: g${generation}\ndata: hello\n\n`)
    }
    const first = createServer(handler)
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve))
    const { port } = first.address() as AddressInfo
    let second: import('node:http').Server | undefined
    onTestFinished(() => {
      first.closeAllConnections()
      first.close()
      second?.closeAllConnections()
      second?.close()
    })
    const running = runCli(
      ['load', `http://127.0.0.1:${port}/`, '-c', '20', '--duration', '1500ms', '--json'],
      { timeoutMs: 30_000 },
    )
    await waitFor(() => lastEventIds.length === 20)
    // The restart: every stream drops, the port refuses for a while, then a new server answers.
    first.closeAllConnections()
    first.close()
    await new Promise((resolve) => setTimeout(resolve, 250))
    generation = 2
    second = createServer(handler)
    await new Promise<void>((resolve) => second!.listen(port, '127.0.0.1', resolve))
    const run = await running
    expect(run.exitCode).toBe(0)
    const summary = loadSummary(run)
    expect(summary.connections).toEqual({ target: 20, opened: 20, peakOpen: 20, failed: 0 })
    // Each connection reconnected at least once, all within the same second or two.
    expect(summary.reconnects.total).toBeGreaterThanOrEqual(20)
    expect(summary.reconnects.delayMs).toEqual({ p50: 100, p95: 100 })
    expect(summary.reconnects.maxPerSecond).toBeGreaterThanOrEqual(10)
    // Every stream broke ('other side closed'); attempts while the port was closed were refused.
    const errors = Object.values(summary.errors).reduce((sum, count) => sum + count, 0)
    expect(errors).toBeGreaterThanOrEqual(20)
    expect(
      Object.keys(summary.errors).every((kind) =>
        ['other side closed', 'ECONNREFUSED', 'ECONNRESET'].includes(kind),
      ),
    ).toBe(true)
    // Every request to the new server resumed after the old server's last id.
    const resumed = lastEventIds.slice(20)
    expect(resumed.filter((id) => id === 'g1').length).toBe(20)
    expect(resumed.every((id) => id === 'g1' || id === 'g2')).toBe(true)
    expect(summary.events.perConnection.min).toBeGreaterThanOrEqual(2)
  })

  it('counts a reconnect storm across the end of a second in one worst second', async () => {
    // Half the streams close 700 ms after the first request, half 600 ms later: both halves fall
    // within one second, but on either side of the run's second 1.
    let firstAt = 0
    const server = await startServer((_req, res, index) => {
      firstAt ||= Date.now()
      res.writeHead(200, SSE)
      res.write('retry: 0\ndata: a\n\n')
      if (index >= 40) return
      const closeAt = firstAt + (index % 2 === 0 ? 700 : 1300)
      setTimeout(() => res.destroy(), closeAt - Date.now())
    })
    const run = await runCli(['load', server.url, '-c', '40', '--duration', '2s', '--json'], {
      timeoutMs: 30_000,
    })
    const summary = loadSummary(run)
    expect(summary.reconnects.total).toBe(40)
    expect(summary.reconnects.maxPerSecond).toBe(40)
  })

  it('counts refused connections by kind and fails --expect-connected', async () => {
    const server = await holdingServer((index) => index % 4 === 3)
    const args = [
      ...['load', server.url, '-c', '40', '--duration', '500ms'],
      ...['--expect-connected', '100%', '--expect-max-errors', '10', '--expect-min-events', '3'],
    ]
    const run = await runCli([...args, '--json'], { timeoutMs: 30_000 })
    expect(run.exitCode).toBe(1)
    const summary = loadSummary(run)
    expect(summary.connections).toEqual({ target: 40, opened: 30, peakOpen: 30, failed: 10 })
    expect(summary.errors).toEqual({ 'HTTP 503': 10 })
    expect(summary.expectations).toEqual([
      { name: '--expect-connected 100%', ok: false, actual: 30 },
      { name: '--expect-max-errors 10', ok: true, actual: 10 },
      { name: '--expect-min-events 3', ok: false, actual: 10 },
    ])
    // With what was seen, as the table says it: a CI log that keeps stderr alone says why.
    expect(run.stderr).toContain('error: expectation failed: --expect-connected 100% (30)\n')
    expect(run.stderr).toContain(
      'error: expectation failed: --expect-min-events 3 (failed on 10 of 40 connections)\n',
    )
    const pretty = await runCli(args, { timeoutMs: 30_000 })
    expect(pretty.stdout).toContain('✗ --expect-connected 100% (30)')
    expect(pretty.stdout).toContain('✗ --expect-min-events 3 (failed on 10 of 40 connections)')
  })

  it('does not ask whether a port that answered other connections is an https:// one', async () => {
    // A server shedding load: every fourth connection is closed before any answer.
    const server = await startServer((req, res, index) => {
      if (index % 4 === 3) return req.socket.destroy()
      res.writeHead(200, SSE)
      res.write(': hi\n\n')
    })
    const run = await runCli(['load', server.url, '-c', '40', '--duration', '300ms', '--json'], {
      timeoutMs: 30_000,
    })
    expect(run.exitCode).toBe(0)
    expect(loadSummary(run).errors).toEqual({
      'the server closed the connection without answering': 10,
    })
  })

  it('passes --expect-connected 7% with exactly 7 of 100 connections open', async () => {
    const server = await holdingServer((index) => index >= 7)
    const run = await runCli(
      [
        'load',
        server.url,
        '-c',
        '100',
        '--duration',
        '300ms',
        '--expect-connected',
        '7%',
        '--json',
      ],
      { timeoutMs: 30_000 },
    )
    expect(loadSummary(run).expectations).toEqual([
      { name: '--expect-connected 7%', ok: true, actual: 7 },
    ])
    expect(run.exitCode).toBe(0)
  })

  it('counts connections that end on --idle-timeout or a 204 as errors, by kind', async () => {
    // Every other request gets 204; the others one event, then silence.
    const server = await startServer((_req, res, index) => {
      if (index % 2 === 1) {
        res.writeHead(204)
        res.end()
        return
      }
      res.writeHead(200, SSE)
      res.write('data: a\n\n')
    })
    const args = ['load', server.url, '-c', '6', '--idle-timeout', '300ms']
    const run = await runCli([...args, '--duration', '1m', '--json', '--expect-max-errors', '0'])
    expect(run.exitCode).toBe(1)
    expect(loadSummary(run)).toMatchObject({
      reason: 'connections-ended',
      connections: { target: 6, opened: 3, failed: 3 },
      errors: { 'HTTP 204': 3, 'idle timeout': 3 },
      expectations: [{ name: '--expect-max-errors 0', ok: false, actual: 6 }],
    })
  })

  it("ends each connection at its LLM stream's end marker, counts streamed errors, checks --expect-llm on each", async () => {
    // A GET stream that stays open after [DONE], as a gateway's may: only the profile ends it.
    // Every third request gets an error streamed mid-answer instead.
    const answer = chatTokens(5, 5).frames.join('')
    const failing = chatError.frames.join('')
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, SSE)
      res.write(index % 3 === 2 ? failing : answer)
    })
    const args = ['load', server.url, '-c', '9', '--duration', '1m', '--json', '--expect-llm']
    const run = await runCli(args, { timeoutMs: 30_000 })
    expect(run.exitCode).toBe(1)
    expect(loadSummary(run)).toMatchObject({
      reason: 'connections-ended',
      connections: { target: 9, opened: 9, failed: 0 },
      reconnects: { total: 0 },
      errors: { 'stream error': 3 },
      expectations: [{ name: '--expect-llm', ok: false, actual: 3 }],
    })
    expect(server.requests).toHaveLength(9)
    expect(run.stderr).toContain(
      'error: expectation failed: --expect-llm (failed on 3 of 9 connections)\n',
    )
    // --llm off: nothing ends them but the run's --duration.
    const off = await runCli([
      'load',
      server.url,
      '-c',
      '3',
      '--duration',
      '300ms',
      '--json',
      '--llm',
      'off',
    ])
    expect(off.exitCode).toBe(0)
    expect(loadSummary(off)).toMatchObject({ reason: 'duration', errors: {} })
  })

  it('exits 3 when no connection could be made, and shows the summary table', async () => {
    const server = await holdingServer(() => true)
    const run = await runCli(['load', server.url, '-c', '5', '--duration', '5s', '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stdout).toContain('connections  0/5 opened')
    expect(run.stdout).toContain('HTTP 503 ×5')
    expect(run.stdout).toContain('connections-ended')
    // Also when the table goes to a file: stderr says why.
    expect(run.stderr).toBe('error: no connection could be made (HTTP 503 ×5)\n')
  })

  it('measures fan-out from --trigger on every connection', async () => {
    const streams = new Set<ServerResponse>()
    let openWhenTriggered = -1
    let authorization: string | undefined
    let published = ''
    const server = await startServer((req, res) => {
      if (req.url === '/publish') {
        openWhenTriggered = streams.size
        authorization = req.headers.authorization
        req.setEncoding('utf8').on('data', (chunk: string) => (published += chunk))
        for (const stream of streams) stream.write('event: news\ndata: published\n\n')
        res.writeHead(202)
        res.end()
        return
      }
      res.writeHead(200, SSE)
      res.write(': hello\n\n')
      streams.add(res)
      res.on('close', () => streams.delete(res))
    })
    const run = await runCli(
      [
        'load',
        `${server.url}/stream`,
        '-c',
        '100',
        '--ramp',
        '200ms',
        '--duration',
        '700ms',
        '--json',
        '--trigger',
        `POST ${server.url.replace('://', '://ops:s3cret@')}/publish`,
        '--trigger-data',
        '{"msg":"hi"}',
        '--expect-fanout-p95',
        '10s',
      ],
      { timeoutMs: 30_000 },
    )
    expect(run.exitCode).toBe(0)
    expect(openWhenTriggered).toBe(100)
    const summary = loadSummary(run)
    expect(summary.events.perConnection).toEqual({ min: 1, p50: 1, max: 1 })
    expect(summary.fanoutMs!.p50).toBeGreaterThan(0)
    expect(summary.fanoutMs!.max).toBeGreaterThanOrEqual(summary.fanoutMs!.p95)
    expect(summary.expectations).toEqual([
      { name: '--expect-fanout-p95 10s', ok: true, actual: summary.fanoutMs!.p95 },
    ])
    expect(loadRecords(run).find((r) => r.type === 'trigger')).toMatchObject({
      method: 'POST',
      url: `${server.url.replace('://', '://<redacted>@')}/publish`,
      status: 202,
    })
    // URL credentials are sent as Basic authorization, and never printed.
    expect(authorization).toBe(`Basic ${Buffer.from('ops:s3cret').toString('base64')}`)
    expect(run.stdout).not.toContain('s3cret')
    expect(published).toBe('{"msg":"hi"}')
  })

  it('does not take an event that came with the headers, before the trigger was sent, for its fan-out', async () => {
    const streams = new Set<ServerResponse>()
    let publishedAt = 0
    const server = await startServer((req, res) => {
      if (req.url === '/publish') {
        res.end()
        setTimeout(() => {
          publishedAt = Date.now()
          for (const stream of streams) stream.write('event: news\ndata: published\n\n')
        }, 200)
        return
      }
      // A welcome with the headers, in one write: read with them, before the trigger is sent.
      res.writeHead(200, SSE)
      res.write('data: welcome\n\n')
      streams.add(res)
      res.on('close', () => streams.delete(res))
    })
    const run = await runCli(
      [
        ...['load', server.url, '-c', '1', '--duration', '700ms', '--json'],
        ...['--trigger', `POST ${server.url}/publish`],
      ],
      { timeoutMs: 30_000 },
    )
    expect(publishedAt).toBeGreaterThan(0)
    const summary = loadSummary(run)
    expect(summary.events.total).toBe(2)
    // Fan-out is the news, 200 ms after the trigger, not the welcome.
    expect(summary.fanoutMs!.p50).toBeGreaterThanOrEqual(200)
  })

  it('ends with exit 3 when the trigger is refused', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/publish') {
        res.writeHead(500)
        res.end()
        return
      }
      res.writeHead(200, SSE)
      res.write(': hello\n\n')
    })
    const run = await runCli([
      'load',
      server.url,
      '-c',
      '3',
      '--json',
      '--trigger',
      `POST ${server.url}/publish`,
    ])
    expect(run.exitCode).toBe(3)
    expect(loadSummary(run)).toMatchObject({
      reason: 'trigger-failed',
      message: 'the trigger was answered with HTTP 500',
    })
    expect(run.stderr).toBe('error: the trigger was answered with HTTP 500\n')
  })

  it('awaits the trigger answer when the events it caused ended every connection first', async () => {
    // The publish endpoint broadcasts an end event, then answers: every connection has ended
    // before the answer, which is still reported (a 500 ends the run with exit 3), or, when none
    // comes, a trigger record says so.
    const streams = new Set<ServerResponse>()
    let status = 0
    let answerMs = 100
    const server = await startServer((req, res) => {
      if (req.url === '/publish') {
        for (const stream of streams) stream.write('event: end\ndata: bye\n\n')
        setTimeout(() => {
          res.writeHead(status)
          res.end()
        }, answerMs)
        return
      }
      res.writeHead(200, SSE)
      res.write(': hello\n\n')
      streams.add(res)
      res.on('close', () => streams.delete(res))
    })
    const args = [
      'load',
      server.url,
      '-c',
      '5',
      '--json',
      '--trigger',
      `POST ${server.url}/publish`,
    ]
    const answered = await failsThenAnswered(args, (answer) => {
      status = answer
    })
    expect(loadSummary(answered).reason).toBe('connections-ended')
    // Awaited 5 s at most, and no longer than --duration would have held the connections.
    answerMs = 60_000
    const unanswered = await runCli([...args, '--duration', '1500ms'])
    expect(unanswered.exitCode).toBe(0)
    const trigger = loadRecords(unanswered).find((r) => r.type === 'trigger')
    expect(trigger).toMatchObject({ status: null })
    expect((trigger as { ms: number }).ms).toBeGreaterThanOrEqual(1000)
    expect((trigger as { ms: number }).ms).toBeLessThan(3000)
    expect(loadSummary(unanswered).reason).toBe('connections-ended')
  })

  it('sends the trigger when every stream ended in the read that opened it, and awaits its answer', async () => {
    // Headers, a status event and the end event in one write: each connection has ended by the
    // time its opening read is parsed, which is when the trigger is due.
    let status = 0
    let triggers = 0
    const server = await startServer((req, res) => {
      if (req.url === '/publish') {
        triggers++
        res.writeHead(status)
        res.end()
        return
      }
      res.writeHead(200, SSE)
      res.end('event: status\ndata: queued\n\nevent: end\ndata: bye\n\n')
    })
    const args = [
      'load',
      server.url,
      '-c',
      '3',
      '--json',
      '--trigger',
      `POST ${server.url}/publish`,
    ]
    const answered = await failsThenAnswered(args, (answer) => {
      status = answer
    })
    expect(loadSummary(answered)).toMatchObject({
      reason: 'connections-ended',
      events: { total: 6 },
    })
    expect(triggers).toBe(2)
  })

  it('sends a --trigger URL alone with GET, or POST with --trigger-data, as the probe does', async () => {
    const triggers: string[] = []
    const server = await startServer((req, res) => {
      if (req.url === '/publish') {
        triggers.push(req.method!)
        res.writeHead(204)
        res.end()
        return
      }
      res.writeHead(200, SSE)
      res.write(': hello\n\n')
    })
    for (const data of [[], ['--trigger-data', 'hi']]) {
      const args = ['load', server.url, '-c', '1', '--duration', '100ms', '--json']
      const run = await runCli([...args, '--trigger', `${server.url}/publish`, ...data])
      expect(run.exitCode, run.stderr).toBe(0)
    }
    expect(triggers).toEqual(['GET', 'POST'])
  })

  it("refuses a --trigger without a URL, or its data from stdin, in the probe's words", async () => {
    const server = await holdingServer()
    const expected = {
      POST: `option '--trigger '<METHOD> <url>'' argument 'POST' is invalid. expected a method and a URL, e.g. "POST http://127.0.0.1:8000/jobs", or a URL alone (GET)`,
      // -d @- may read stdin too, and it can be read once.
      '@-': `option '--trigger-data <text|@file>' argument '@-' is invalid. stdin (@-) is for -d: give the body as text or @file`,
      '@missing.json': `option '--trigger-data <text|@file>' cannot read 'missing.json': no such file`,
    }
    for (const [value, message] of Object.entries(expected)) {
      const flags =
        value === 'POST' ? ['--trigger', value] : ['--trigger', server.url, '--trigger-data', value]
      const load = await runCli(['load', server.url, '-c', '1', ...flags])
      const probe = await runCli([server.url, ...flags])
      expect(load.exitCode, value).toBe(2)
      expect(load.stderr, value).toBe(`error: ${message}\n`)
      expect(probe.stderr, value).toBe(load.stderr)
    }
    expect(server.requests).toHaveLength(0)
  })

  it('says on stderr, with --json, why no connection could be made', async () => {
    const server = await holdingServer(() => true)
    const run = await runCli(['load', server.url, '-c', '4', '--json'])
    expect(run.exitCode).toBe(3)
    expect(loadSummary(run).reason).toBe('connections-ended')
    expect(run.stderr).toBe('error: no connection could be made (HTTP 503 ×4)\n')
  })

  it('names a Content-Encoding it cannot decode as such, not as a wrong Content-Type', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { ...SSE, 'content-encoding': 'zstd' })
      res.end('(zstd bytes)')
    })
    const run = await runCli(['load', server.url, '-c', '2', '--json'])
    expect(run.exitCode).toBe(3)
    const kind = 'Content-Encoding zstd: sse-probe decodes gzip, deflate and br, not zstd'
    expect(loadSummary(run).errors).toEqual({ [kind]: 2 })
    expect(run.stderr).toBe(`error: no connection could be made (${kind} ×2)\n`)
  })

  it('measures fan-out from a send time in the data (--latency-field)', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE)
      const send = () => res.write(`data: {"meta":{"sent/at":${Date.now()}}}\n\n`)
      const timer = setInterval(send, 100)
      res.on('close', () => clearInterval(timer))
    })
    const run = await runCli([
      'load',
      server.url,
      '-c',
      '10',
      '--duration',
      '600ms',
      '--json',
      '--latency-field',
      '/meta/sent~1at',
    ])
    expect(run.exitCode).toBe(0)
    const { fanoutMs } = loadSummary(run)
    expect(fanoutMs).not.toBeNull()
    expect(fanoutMs!.max).toBeLessThan(5000)
  })

  it('prints a k6 script for the same test without connecting', async () => {
    const server = await holdingServer()
    const run = await runCli([
      'load',
      `${server.url}/stream?room=1`,
      '-c',
      '500',
      '--ramp',
      '10s',
      '--duration',
      '1m',
      '-H',
      'Authorization: Bearer t',
      '--export',
      'k6',
      '--latency-field',
      '/sentAt',
      '--expect-fanout-p95',
      '200ms',
    ])
    expect(run.exitCode).toBe(0)
    expect(server.requests).toHaveLength(0)
    const script = run.stdout
    expect(script).toContain("import sse from 'k6/x/sse'")
    expect(script).toContain(`const STREAM_URL = "${server.url}/stream?room=1"`)
    expect(script).toContain('"authorization": "Bearer t"')
    expect(script).toContain('"accept": "text/event-stream"')
    expect(script).toMatch(
      /stages: \[\s*\{\s*"duration": "10s",\s*"target": 500\s*\},\s*\{\s*"duration": "60s",\s*"target": 500/,
    )
    expect(script).toContain('"p(95)<=200"')
    expect(script).toContain('sse.open(STREAM_URL, PARAMS')
    expect(script).not.toContain('user-agent')
  })

  it('says once how to raise the file descriptor limit (EMFILE), then exits 3', async () => {
    const server = await holdingServer()
    const { exitCode, stdout, stderr } = await runShell(
      `${server.url} -c 200 --duration 5s --no-color`,
    )
    expect(exitCode).toBe(3)
    expect(stderr).toContain('ulimit -n is 64')
    expect(stderr).toMatch(/Raise the limit .*ulimit -n \d+/)
    expect(stderr.match(/too many open files/g)).toHaveLength(1)
    expect(stdout).toContain('too-many-open-files')
    const opened = Number(/connections {2}(\d+)\/200 opened/.exec(stdout)![1])
    expect(opened).toBeGreaterThan(0)
    expect(opened).toBeLessThan(64)
  })

  it('says how to raise the limit when the connections fit and the trigger finds no descriptor', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/publish') return void res.end()
      res.writeHead(200, SSE)
      res.write(': hello\n\n')
    })
    // How many connections take every descriptor left: the trigger, sent once they are open,
    // then needs one more.
    const probe = await runShell(`${server.url} -c 200 --json`)
    const fit = loadSummary(probe).connections.opened
    const run = await runShell(
      `${server.url} -c ${fit} --duration 5s --json --trigger 'POST ${server.url}/publish'`,
    )
    expect(run.exitCode).toBe(3)
    expect(loadSummary(run).reason).toBe('too-many-open-files')
    expect(run.stderr).toContain('ulimit -n is 64')
    expect(run.stderr).not.toContain('Local (undefined')
  })

  it('prints the summary and exits 130 on SIGINT, not counting unanswered connections as failed', async () => {
    const held = new Set<ServerResponse>()
    let unanswered = 0
    // Every other request is never answered: those connections are still connecting at Ctrl-C.
    const server = await startServer((_req, res, index) => {
      if (index % 2 === 1) {
        unanswered++
        return
      }
      res.writeHead(200, SSE)
      res.write('data: a\n\n')
      held.add(res)
    })
    const run = await runCli(['load', server.url, '-c', '6', '--duration', '1m', '--json'], {
      onSpawn: (child) => {
        void waitFor(() => held.size === 3 && unanswered === 3).then(() => child.kill('SIGINT'))
      },
    })
    expect(run.exitCode).toBe(130)
    expect(loadSummary(run)).toMatchObject({
      reason: 'interrupted',
      exitCode: 130,
      connections: { target: 6, opened: 3, failed: 0 },
      errors: {},
    })
  })

  it('SIGINT while TLS handshakes hang: the summary and 130 at once, not after --connect-timeout', async () => {
    // Accepts, reads the TLS hello, never answers it.
    const server = await startRawServer(() => {})
    const url = server.url.replace('http:', 'https:')
    const started = performance.now()
    const run = await runCli(['load', url, '-c', '2', '--connect-timeout', '30s', '--json'], {
      onSpawn: (child) => {
        void waitFor(() => server.connections.length === 2).then(() => child.kill('SIGINT'))
      },
    })
    expect(run.exitCode).toBe(130)
    expect(loadSummary(run)).toMatchObject({ reason: 'interrupted', exitCode: 130 })
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('refuses bad flags with exit 2', async () => {
    const server = await holdingServer()
    for (const args of [
      ['load', server.url],
      ['load', server.url, '-c', '0'],
      ['load', server.url, '-c', '2000000'],
      ['load', server.url, '-c', '2', '--latency-field', 'sentAt'],
      ['load', server.url, '-c', '2', '--expect-connected', '120%'],
      ['load', server.url, '-c', '2', '--expect-connected', '3'],
      ['load', server.url, '-c', '2', '--export', 'jmeter'],
      ['load', server.url, '-c', '2', '--expect-fanout-p95', '1s'],
    ]) {
      const run = await runCli(args)
      expect(run.exitCode, args.join(' ')).toBe(2)
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
    }
    expect(server.requests).toHaveLength(0)
  })
})

describe('load, pure parts', () => {
  it('names errors by kind', () => {
    expect(errorKind('HTTP 503 Service Unavailable', 503)).toBe('HTTP 503')
    expect(errorKind('HTTP 200 with Content-Type text/html, not text/event-stream', 200)).toBe(
      'not text/event-stream',
    )
    // The right type in a coding the probe cannot decode: not a wrong type.
    expect(
      errorKind(
        'HTTP 200 OK with Content-Encoding zstd: sse-probe decodes gzip, deflate and br, not zstd',
        200,
      ),
    ).toBe('Content-Encoding zstd: sse-probe decodes gzip, deflate and br, not zstd')
    expect(
      errorKind(
        'HTTP 200 OK with a Content-Encoding of 6 codings: sse-probe undoes at most 5',
        200,
      ),
    ).toBe('a Content-Encoding of 6 codings: sse-probe undoes at most 5')
    // A proxy's refusal keeps its status; an unreachable proxy is named with the code.
    expect(
      errorKind(
        'the proxy refused the tunnel: HTTP 407 Proxy Authentication Required (give its credentials in the proxy URL: http://user:password@proxy:3128)',
      ),
    ).toBe('the proxy refused the tunnel: HTTP 407 Proxy Authentication Required')
    expect(
      errorKind(
        'the proxy reset the connection without answering the tunnel request (CONNECT): read ECONNRESET',
      ),
    ).toBe('the proxy reset the connection without answering the tunnel request (CONNECT)')
    expect(
      errorKind(
        'cannot reach the proxy http://127.0.0.1:9 (HTTPS_PROXY): connect ECONNREFUSED 127.0.0.1:9',
      ),
    ).toBe('cannot reach the proxy http://127.0.0.1:9 (HTTPS_PROXY): ECONNREFUSED')
    // At the origin a redirect led to: said so, and the kind there as anywhere.
    expect(
      errorKind(
        'after a redirect to https://h: the proxy refused the tunnel: HTTP 407 Proxy Authentication Required (give its credentials in the proxy URL: http://user:password@proxy:3128)',
      ),
    ).toBe(
      'after a redirect to https://h: the proxy refused the tunnel: HTTP 407 Proxy Authentication Required',
    )
    expect(
      errorKind('after a redirect to https://h:8443: connect ECONNREFUSED 10.0.0.2:8443'),
    ).toBe('after a redirect to https://h:8443: ECONNREFUSED')
    expect(errorKind('read ECONNRESET')).toBe('ECONNRESET')
    expect(errorKind('connect ECONNREFUSED 127.0.0.1:4000')).toBe('ECONNREFUSED')
    expect(errorKind('no response within 10000ms (--connect-timeout)')).toBe('connect timeout')
    expect(errorKind('other side closed after 1234 bytes')).toBe('other side closed after N bytes')
    // Digits in a name stay: the errors `load` printed read `the HTTP/N protocol`, `NGHTTPN_…`.
    expect(
      errorKind('Response does not match the HTTP/1.1 protocol (Invalid header value char)'),
    ).toBe('Response does not match the HTTP/1.1 protocol (Invalid header value char)')
    expect(errorKind('Stream closed with error code NGHTTP2_ENHANCE_YOUR_CALM')).toBe(
      'Stream closed with error code NGHTTP2_ENHANCE_YOUR_CALM',
    )
    expect(errorKind('HTTP/2: "GOAWAY" frame received with code 0')).toBe(
      'HTTP/2: "GOAWAY" frame received with code N',
    )
    // A limit is the same for every connection: it stays.
    expect(errorKind('the response headers are larger than 16 KiB, more than 2.5 ms')).toBe(
      'the response headers are larger than 16 KiB, more than N ms',
    )
    expect(errorKind('HTTP 302 Found: too many redirects (more than 20)', 302)).toBe(
      'too many redirects',
    )
    expect(
      errorKind('HTTP 301 redirect to a URL that is not http(s), not followed: ftp://h/1'),
    ).toBe('HTTP 301 redirect to a URL that is not http(s)')
  })

  it('reads a number at a JSON pointer', () => {
    expect(numberAt('{"a":{"b/c":12.5}}', jsonPointerArg('/a/b~1c').path)).toBe(12.5)
    expect(numberAt('{"a":"12"}', ['a'])).toBeUndefined()
    expect(numberAt('not json', ['a'])).toBeUndefined()
    expect(numberAt('1700000000000', jsonPointerArg('').path)).toBe(1700000000000)
  })

  it('reads {"key":number} without JSON.parse and gives what numberAt gives for any data', () => {
    const read = numberReader(['sentAt'])
    const datas = [
      '{"sentAt":1700000000000.25}',
      '{"sentAt":-0.5e3}',
      '{"sentAt":01}',
      '{"sentAt":1e999}',
      '{"sentAt":0x10}',
      '{"sentAt":"1"}',
      '{"sentAt": 1 }',
      '{"sentAt":1,"sentAt":2}',
      '{"sentAt":1}x',
      '{"sentAt":}',
    ]
    for (const data of datas) expect(read(data), data).toBe(numberAt(data, ['sentAt']))
    // Anything made of a number's characters, valid JSON or not.
    const numberish = fc.string({ unit: fc.constantFrom(...'0123456789-+.eE }'), maxLength: 12 })
    fc.assert(
      fc.property(numberish, (text) => {
        const data = `{"sentAt":${text}}`
        expect(read(data), data).toBe(numberAt(data, ['sentAt']))
      }),
      { numRuns: 5000 },
    )
    expect(read('{"sentAt":1700000000000.25}')).toBe(1700000000000.25)
    expect(numberReader(['a', 'b'])('{"a":{"b":3}}')).toBe(3)
  })

  it('resolves --expect-connected against -c', () => {
    expect(connectedArg('95%')(2000)).toEqual({ text: '95%', count: 1900 })
    expect(connectedArg('33.3%')(10)).toEqual({ text: '33.3%', count: 4 })
    // Exactly: in floating point each of these came out one more.
    expect(connectedArg('55%')(100).count).toBe(55)
    expect(connectedArg('7%')(100).count).toBe(7)
    expect(connectedArg('14%')(5000).count).toBe(700)
    expect(connectedArg('99.9%')(1000).count).toBe(999)
    expect(connectedArg('0.01%')(10).count).toBe(1)
    expect(connectedArg('0%')(10).count).toBe(0)
    expect(connectedArg('1500')(2000)).toEqual({ text: '1500', count: 1500 })
    expect(() => connectedArg('1.5')).toThrow()
    expect(() => connectedArg('2001')(2000)).toThrow('more than the 2000 connections -c opens')
  })

  it('reads --trigger as the probe does: a URL alone is GET, or POST with a body', () => {
    const stream = new URL('http://u:pw@127.0.0.1:8000/events?x=1')
    expect(triggerArg('post http://h/p', false, stream)).toMatchObject({ method: 'POST' })
    expect(triggerArg(' http://h/p ', false, stream)).toMatchObject({ method: 'GET' })
    expect(triggerArg('http://h/p', true, stream)).toMatchObject({ method: 'POST' })
    expect(triggerArg('POST :8000/publish', false, stream).url.href).toBe(
      'http://localhost:8000/publish',
    )
    expect(triggerArg('POST 127.0.0.1:8000/p', false, stream).url.href).toBe(
      'http://127.0.0.1:8000/p',
    )
    expect(() => triggerArg('POST ftp://h/p', false, stream)).toThrow(
      'expected an http:// or https:// URL',
    )
    expect(() => triggerArg('TRACE http://h/p', false, stream)).toThrow(
      'TRACE is a method fetch refuses',
    )
    // A path alone is on the stream's server, without its credentials or query.
    expect(triggerArg('POST /jobs/42?go=1', false, stream).url.href).toBe(
      'http://127.0.0.1:8000/jobs/42?go=1',
    )
    // A method alone, in any case, is a forgotten URL, not the host `post`.
    for (const text of ['POST', 'post', '', 'POST http://h/p extra'])
      expect(() => triggerArg(text, true, stream), text).toThrow(
        `option '--trigger '<METHOD> <url>'' argument '${text}' is invalid. expected a method and a URL`,
      )
  })

  it('counts the worst second of reconnects over any second, not clock seconds', () => {
    const collector = createCollector({ target: 30, pingEvent: 'ping', epochAtStart: 0 })
    const reconnect = (i: number, at: number) => {
      collector.start(i, 0)
      collector.record(
        i,
        { type: 'reconnect', t: at, attempt: 2, delayMs: 0, lastEventId: null },
        at,
      )
    }
    for (let i = 0; i < 10; i++) reconnect(i, 950 + i)
    for (let i = 10; i < 20; i++) reconnect(i, 1050 + i)
    // A second later the window holds only these: the worst stays 20.
    for (let i = 20; i < 30; i++) reconnect(i, 2100 + i)
    expect(collector.summary(3000).reconnects).toMatchObject({ total: 30, maxPerSecond: 20 })
  })

  it('keeps percentiles within what was recorded', () => {
    const histogram = createLatencyHistogram()
    expect(histogram.percentiles()).toBeNull()
    for (let ms = 1; ms <= 100; ms++) histogram.record(ms)
    histogram.record(-5)
    const p = histogram.percentiles()!
    expect(histogram.count()).toBe(101)
    expect(p.p50).toBeCloseTo(50, 0)
    expect(p.p99).toBeLessThanOrEqual(p.max)
    expect(p.max).toBeCloseTo(100, 1)
    // A send time of -1e300 in --latency-field: the largest value, not a broken histogram.
    const huge = createLatencyHistogram()
    for (const ms of [20, 21, 22, 1e300, 9e15, 1e300]) huge.record(ms)
    const { p50, p95, max } = huge.percentiles()!
    expect(p50).toBeCloseTo(22, 0)
    expect(p95).toBe(max)
    expect(max).toBeGreaterThan(9e12)
    expect(max).toBeLessThan(1e13)
  })

  it('puts values where hdr-histogram-js does, from microseconds to hours', () => {
    const ours = createLatencyHistogram()
    const Int32Histogram = int32.default.default ?? int32.default
    const library = new Int32Histogram(1, 2, 3)
    library.autoResize = true
    let seed = 7
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48271) % 2147483647
      // Spread over 0.001 ms .. 4e6 ms on a log scale: every bucket, and resizes past 2^31 µs.
      const ms = 10 ** ((seed / 2147483647) * 9.6 - 3)
      ours.record(ms)
      library.recordValue(Math.round(ms * 1000))
    }
    const at = (p: number) =>
      roundMs(Math.min(library.getValueAtPercentile(p), library.maxValue) / 1000)
    expect(ours.percentiles()).toEqual({
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max: roundMs(library.maxValue / 1000),
    })
  })
})

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const started = performance.now()
  while (!condition()) {
    if (performance.now() - started > ms) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** What the status line writes, into `writes`, and a collector of 10 connections whose first started. */
function statusLineParts() {
  const writes: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      writes.push(String(chunk))
      callback()
    },
  })
  const collector = createCollector({ target: 10, pingEvent: 'ping', epochAtStart: Date.now() })
  collector.start(0, 0)
  return { writes, stream, collector }
}

describe('load status line', () => {
  it('redraws one line at most 4 times a second', async () => {
    const { writes, stream, collector } = statusLineParts()
    collector.record(
      0,
      {
        type: 'open',
        t: 1,
        attempt: 1,
        url: 'http://x/',
        status: 200,
        httpVersion: '1.1',
        headers: {},
      },
      1,
    )
    const line = startStatusLine(stream, collector, 10)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    line.clear()
    const draws = writes.filter((text) => text.includes('open'))
    expect(draws.length).toBeGreaterThanOrEqual(2)
    expect(draws.length).toBeLessThanOrEqual(5)
    expect(draws[0]).toMatch(/^\r\x1b\[2K1\/10 open · \d+ events\/s · 0 reconnects · 0 errors/)
    expect(writes.at(-1)).toBe('\r\x1b[2K')
  })

  it('says 1 reconnect in the singular', async () => {
    const { writes, stream, collector } = statusLineParts()
    const open = (attempt: number) =>
      ({
        type: 'open',
        t: attempt,
        attempt,
        url: 'http://x/',
        status: 200,
        httpVersion: '1.1',
        headers: {},
      }) as const
    collector.record(0, open(1), 1)
    collector.record(0, { type: 'reconnect', t: 2, attempt: 2, delayMs: 0, lastEventId: null }, 2)
    collector.record(0, open(2), 3)
    const line = startStatusLine(stream, collector, 10)
    await new Promise((resolve) => setTimeout(resolve, 300))
    line.clear()
    expect(writes.find((text) => text.includes('open'))).toMatch(
      /^\r\x1b\[2K1\/10 open · \d+ events\/s · 1 reconnect · 0 errors/,
    )
  })

  it.each([
    [30, '0/10000 open · 0 events/s · …'],
    [1, '…'],
  ])(
    'fits the line in a terminal of %i columns: a line that wraps leaves a row behind at every redraw',
    async (columns, shown) => {
      const writes: string[] = []
      const stream = Object.assign(
        new Writable({
          write(chunk, _encoding, callback) {
            writes.push(String(chunk))
            callback()
          },
        }),
        { columns },
      )
      const collector = createCollector({ target: 10000, pingEvent: 'ping', epochAtStart: 0 })
      const line = startStatusLine(stream, collector, 10000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      line.clear()
      const draw = writes.find((text) => text.startsWith('\r\x1b[2K') && text.length > 4)!
      expect(draw.replace('\r\x1b[2K', '')).toBe(shown)
    },
  )
})

/** The run fails on its trigger answered 500 (exit 3), and holds when it is answered 202: that run. */
async function failsThenAnswered(args: string[], answerWith: (status: number) => void) {
  answerWith(500)
  const failed = await runCli(args)
  expect(failed.exitCode).toBe(3)
  expect(loadRecords(failed).find((r) => r.type === 'trigger')).toMatchObject({ status: 500 })
  expect(loadSummary(failed)).toMatchObject({
    reason: 'trigger-failed',
    message: 'the trigger was answered with HTTP 500',
  })
  answerWith(202)
  const answered = await runCli(args)
  expect(answered.exitCode).toBe(0)
  expect(loadRecords(answered).find((r) => r.type === 'trigger')).toMatchObject({ status: 202 })
  return answered
}
