import { readFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { DEMO_EVENTS, DEMO_PATH } from '../../src/server/demo-endpoint.ts'
import { chromiumInstalled, launchChromium } from '../helpers/browser.ts'
import { runCli, startCli } from '../helpers/cli.ts'

const ids = DEMO_EVENTS.map((e) => e.id)

describe('sse-probe demo', () => {
  // The two whole demos (5 s each) run side by side.
  it.concurrent('probes the built-in endpoint: every event once and in order, one reconnect with Last-Event-ID, exit 0', async () => {
    const run = await runCli(['demo', '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toBe('')
    const events = run.ofType('event')
    expect(events.map((e) => [e.event, e.id, e.data])).toEqual(
      DEMO_EVENTS.map((e) => [e.event, e.id, e.data]),
    )
    expect(events.slice(0, -1).map((e) => JSON.parse(e.data).progress)).toEqual([
      0, 20, 40, 60, 80, 100,
    ])
    // The restart: a short retry, the connection drops, the probe resumes after id 3 on attempt 2.
    expect(run.records.map((r) => r.type).filter((t) => t !== 'comment' && t !== 'event')).toEqual([
      'open',
      'retry',
      'close',
      'reconnect',
      'open',
      'summary',
    ])
    expect(run.ofType('retry')).toMatchObject([{ attempt: 1, ms: 1000 }])
    expect(run.ofType('close')).toMatchObject([{ attempt: 1, cause: 'network-error' }])
    expect(run.ofType('reconnect')).toMatchObject([{ attempt: 2, delayMs: 1000, lastEventId: '3' }])
    expect(events.map((e) => e.attempt)).toEqual([1, 1, 1, 2, 2, 2, 2])
    expect(run.ofType('open')[0]!.url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+${DEMO_PATH}$`),
    )
    expect(run.summary).toMatchObject({
      reason: 'end-event',
      exitCode: 0,
      events: 7,
      eventsByType: { status: 6, end: 1 },
      reconnects: 1,
    })
    expect(run.summary.pings).toBeGreaterThanOrEqual(4)
  })

  it.concurrent('pretty, without colour: events on stdout, the endpoint, the restart and the summary on stderr', async () => {
    const run = await runCli(['demo', '--no-color', '--hide-pings'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout + run.stderr).not.toMatch(/\x1b/)
    expect(run.stdout).not.toContain(': ping')
    expect([...run.stdout.matchAll(/status {2}id (\d)/g)].map((m) => m[1])).toEqual(ids.slice(0, 6))
    expect(run.stdout).toMatch(/end {2}id 7 .*\n {11}\{"result":"ok"\}/)
    expect(run.stderr).toMatch(
      /^demo: a status stream on http:\/\/127\.0\.0\.1:\d+\/status\/stream/,
    )
    expect(run.stderr).toContain('retry: 1000ms')
    expect(run.stderr).toContain('connection broke')
    expect(run.stderr).toContain('reconnecting (attempt 2) after 1s, Last-Event-ID: 3')
    expect(run.stderr).toMatch(/summary {2}end-event {2}exit 0/)
    // The README's sample of this run, line by line: its times, ids, port and counts as numbers.
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const sample = /```\n(demo: a status stream[^`]*)```/.exec(readme)![1]!.trimEnd().split('\n')
    const printed = `${run.stdout}${run.stderr}`.split('\n')
    const shown = sample.filter((line) => line.trim() !== '…' && !line.includes(': ping'))
    expect(shown.length).toBeGreaterThan(20)
    for (const line of shown) {
      const shape = line
        .split(/\d+(?:\.\d+)?(?:ms|s)?/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('\\d+(?:\\.\\d+)?(?:ms|s)?')
      expect(printed, line).toContainEqual(expect.stringMatching(new RegExp(`^${shape}$`)))
    }
  })

  it("takes the probe's other flags: -q, --format raw, -n, expectations", async () => {
    const quiet = await runCli(['demo', '-q', '-n', '1'])
    expect(quiet.exitCode).toBe(0)
    expect(quiet.stdout).toBe('')
    expect(quiet.stderr).toMatch(/^── summary {2}max-events/)
    const raw = await runCli(['demo', '--format', 'raw', '-n', '2'])
    expect(raw.stdout).toMatch(
      /^event: status\nid: 1\ndata: \{"progress": 0, "state": "queued"\}\n\n/,
    )
    const failing = await runCli(['demo', '--json', '-n', '1', '--expect-reconnect'])
    expect(failing.exitCode).toBe(1)
    const bad = await runCli(['demo', '--format', 'xml'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain("option '--format <format>' argument 'xml' is invalid")
  })

  it('--serve-only prints the URL and keeps the endpoint up for other clients until Ctrl-C', async () => {
    const demo = await startCli(['demo', '--serve-only'])
    expect(demo.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+${DEMO_PATH}$`))
    const run = await runCli([demo.url, '--json', '-n', '4'])
    expect(run.ofType('event').map((e) => e.id)).toEqual(['1', '2', '3', '4'])
    expect(run.ofType('reconnect')).toMatchObject([{ lastEventId: '3' }])
    // After the end event, a browser's reconnect is told to stop.
    const over = await runCli([demo.url, '--json', '--last-event-id', '7'])
    expect(over.summary).toMatchObject({ reason: 'no-content', exitCode: 0 })
    const elsewhere = await runCli([new URL('/other', demo.url).href, '--json'])
    expect(elsewhere.summary).toMatchObject({ reason: 'http-error', exitCode: 3 })
    const { exitCode, stderr } = await demo.stop()
    expect(exitCode).toBe(0)
    expect(stderr).toMatch(/GET \/status\/stream {2}no Last-Event-ID {2}→ from the start\n/)
    expect(stderr).toMatch(/GET \/status\/stream {2}Last-Event-ID: 3 {2}→ resuming after id 3\n/)
    expect(stderr).toMatch(/Last-Event-ID: 7 {2}→ 204/)
  })

  it('--port uses that port; a port in use is a clear error, exit 2', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const run = await runCli(['demo', '--serve-only', '--port', String(port)])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toBe(
        `error: port ${port} on 127.0.0.1 is already in use: choose another --port, or 0 for any free port\n`,
      )
      const probe = await runCli(['demo', '--port', String(port)])
      expect(probe.exitCode).toBe(2)
    } finally {
      taken.close()
    }
    const free = await runCli(['demo', '--port', String(port), '--json', '-n', '1'])
    expect(free.ofType('open')[0]!.url).toBe(`http://127.0.0.1:${port}${DEMO_PATH}`)
    expect((await runCli(['demo', '--port', '70000'])).exitCode).toBe(2)
  })

  // The demo asks for usage (stream_options.include_usage), which comes after the answer: stopped
  // mid-answer, the summary told the user to ask for it.
  it('demo llm, stopped by Ctrl-C mid-answer: exit 130, the LLM summary without the include_usage hint', async () => {
    const run = await runCli(['demo', 'llm', '--no-color'], {
      onSpawn: (child) =>
        child.stdout!.once('data', () => setTimeout(() => child.kill('SIGINT'), 100)),
    })
    expect(run.exitCode).toBe(130)
    expect(run.stdout).toMatch(/^Sure!/)
    expect(run.stderr).toMatch(/summary {2}interrupted {2}exit 130/)
    expect(run.stderr).toMatch(/tokens {7}in \? · out \?/)
    expect(run.stderr).not.toContain('include_usage')
    const whole = await runCli(['demo', 'llm', '-q'])
    expect(whole.stderr).toMatch(/tokens {7}in 42 · out 56/)
    expect(whole.stderr).not.toContain('include_usage')
  })

  // "CORS is open, so a page on any origin can use it": a model client's fetch (a JSON body, an
  // Authorization header) is preceded by a preflight, which was answered with the stream itself,
  // without Access-Control-Allow-Headers, so the browser refused the request.
  it.skipIf(!chromiumInstalled())(
    'demo llm --serve-only: a page on another origin can POST JSON with an Authorization header',
    async () => {
      const demo = await startCli(['demo', 'llm', '--serve-only'])
      const page = createHttpServer((_, res) => res.writeHead(200).end('<!doctype html>'))
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
      const browser = await launchChromium()
      try {
        await browser.page.goto(`http://127.0.0.1:${(page.address() as AddressInfo).port}/`)
        const answer = await browser.page.evaluate(async (url) => {
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: 'Bearer sk-demo' },
              body: '{"model":"sse-probe-demo-1","stream":true,"messages":[]}',
            })
            return `${res.status} ${(await res.text()).trimEnd().split('\n').at(-1)}`
          } catch (error) {
            return String(error)
          }
        }, demo.url)
        expect(answer).toBe('200 data: [DONE]')
      } finally {
        await browser.close()
        page.close()
      }
      const { stderr } = await demo.stop()
      // The preflight is not a client of the stream: only the POST is logged.
      expect(stderr).toMatch(/▶ POST \/v1\/chat\/completions .*→ streaming an answer\n/)
      expect(stderr).not.toContain('OPTIONS')
    },
  )
})
