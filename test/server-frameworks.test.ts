import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCheck } from './helpers/check.ts'
import { runCli, startCli } from './helpers/cli.ts'
import {
  END_DATA,
  type FrameworkServer,
  hasStarlette,
  RETRY_MS,
  STATUS_COUNT,
  startBetterSse,
  startExpress,
  startFastify,
  startHono,
  startStarlette,
  statusData,
} from './helpers/frameworks.ts'

// Real SSE libraries and frameworks serving the seed's status stream (helpers/frameworks.ts): their
// own bytes and headers, not our imitation of them.
const FRAMEWORKS: [string, () => Promise<FrameworkServer>, { skip?: boolean }][] = [
  ['better-sse', startBetterSse, {}],
  ['Hono streamSSE', startHono, {}],
  ['Fastify with @fastify/sse', startFastify, {}],
  ['Express writing by hand', () => startExpress(), {}],
  [
    'Starlette StreamingResponse on uvicorn',
    startStarlette,
    { skip: !hasStarlette && !process.env.CI },
  ],
]

const STATUSES = Array.from({ length: STATUS_COUNT }, (_, i) => ({
  event: 'status',
  id: String(i + 1),
  data: statusData(i + 1),
}))

describe.each(FRAMEWORKS)('%s', (_name, start, { skip }) => {
  it.skipIf(skip)(
    'probe --json: status events, pings, a restart resumed with Last-Event-ID, the end; --record replays with serve',
    async () => {
      const server = await start()
      const file = join(mkdtempSync(join(tmpdir(), 'sse-probe-frameworks-')), 'status.ndjson')
      const run = await runCli([`${server.url}?drop=2`, '--json', '--record', file])
      expect(run.stderr).toBe('')
      expect(run.exitCode).toBe(0)
      const events = run.ofType('event')
      expect(events.map(({ event, data }) => ({ event, data }))).toEqual([
        ...STATUSES.map(({ event, data }) => ({ event, data })),
        { event: 'end', data: END_DATA },
      ])
      expect(events.slice(0, STATUS_COUNT).map((e) => e.id)).toEqual(STATUSES.map((s) => s.id))
      expect(run.ofType('reconnect')).toMatchObject([
        { attempt: 2, delayMs: RETRY_MS, lastEventId: '2' },
      ])
      expect(run.ofType('close')).toMatchObject([{ attempt: 1, cause: 'server-closed' }])
      expect(run.ofType('open').map((o) => o.headers['content-type'])).toEqual([
        expect.stringMatching(/^text\/event-stream/),
        expect.stringMatching(/^text\/event-stream/),
      ])
      if (server.requests.length > 0)
        expect(server.requests.map((r) => r['last-event-id'])).toEqual([undefined, '2'])
      const { summary } = run
      expect(summary).toMatchObject({
        reason: 'end-event',
        exitCode: 0,
        events: STATUS_COUNT + 1,
        eventsByType: { status: STATUS_COUNT, end: 1 },
        // One keep-alive after each status event, whatever the library writes (`:`, `: ping`).
        pings: STATUS_COUNT,
        connections: 2,
        reconnects: 1,
      })
      // A status stream whose data is JSON is not an LLM stream: --llm auto stays off.
      expect(summary).not.toHaveProperty('llm')

      expect(readFileSync(file, 'utf8')).toBe(run.stdout)
      const replay = await startCli(['serve', file, '--speed', '0'])
      const replayed = await runCli([replay.url, '--json'])
      expect(replayed.exitCode).toBe(0)
      const fields = (r: typeof run) =>
        r
          .ofType('event')
          .map(({ event, id, lastEventId, data }) => ({ event, id, lastEventId, data }))
      expect(fields(replayed)).toEqual(fields(run))
      expect(replayed.ofType('reconnect')).toMatchObject([{ delayMs: RETRY_MS, lastEventId: '2' }])
      expect(replayed.summary).toMatchObject({
        reason: 'end-event',
        pings: STATUS_COUNT,
        connections: 2,
      })
    },
  )

  it.skipIf(skip)(
    'probe, pretty: each status shown, pings counted; --end-event ends at it',
    async () => {
      const server = await start()
      const run = await runCli([server.url, '--last-event-id', '1'])
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toContain('status  id 2\n')
      expect(run.stdout).toContain('status  id 3  +')
      expect(run.stdout).toContain(`           ${statusData(3)}\n`)
      expect(run.stderr).toMatch(/── summary {2}end-event {2}exit 0/)
      expect(run.stderr).toContain(`events       3  (status 2, end 1)\n`)
      expect(run.stderr).toContain(`pings        2  (comments 2)\n`)
      // @fastify/sse sends retry with each event: only a change of it is a status line.
      expect(run.stderr.match(/↻ retry: \d+ms/g)).toEqual([`↻ retry: ${RETRY_MS}ms`])

      const ended = await runCli([server.url, '--json', '--end-event', 'status'])
      expect(ended.exitCode).toBe(0)
      expect(ended.ofType('event').map((e) => e.data)).toEqual([statusData(1)])
      expect(ended.summary).toMatchObject({ reason: 'end-event', events: 1 })
    },
  )

  it.skipIf(skip)('check: every verdict right for a well-behaved library', async () => {
    const server = await start()
    const { run, checks, summary } = await runCheck(server.url, ['--window', '1s'])
    const statuses = Object.fromEntries(Object.values(checks).map((c) => [c.id, c.status]))
    expect(statuses).toEqual({
      'content-type': 'pass',
      'cache-control': 'pass',
      compression: 'pass',
      buffering: 'pass',
      'early-headers': 'pass',
      'keep-alive': 'pass',
      // Plain HTTP/1.1 on 127.0.0.1, as every one of them serves without TLS.
      'http-version': 'warn',
      ids: 'pass',
      retry: 'pass',
      'end-of-stream': 'pass',
      cors: 'skip',
    })
    expect(checks.ids.measured).toMatch(/Last-Event-ID: \d+ resumed right after it/)
    expect(summary).toMatchObject({ fail: 0, exitCode: 0 })
    expect(run.exitCode).toBe(0)
  })
})

describe('Express behind the compression middleware (compressing text/event-stream)', () => {
  it('the probe that offers gzip decodes the stream: the same events as uncompressed', async () => {
    const server = await startExpress({ compression: 'flush' })
    const run = await runCli([server.url, '--json', '-H', 'Accept-Encoding: gzip'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('open')[0]!.headers['content-encoding']).toBe('gzip')
    expect(run.ofType('event').map((e) => e.data)).toEqual([
      ...STATUSES.map((s) => s.data),
      END_DATA,
    ])
    expect(run.summary).toMatchObject({ reason: 'end-event', pings: STATUS_COUNT })
  })

  it.each(['flush', 'no-flush'] as const)(
    'check (%s): compression is a warning, not a failure',
    async (mode) => {
      const server = await startExpress({ compression: mode })
      const { run, checks, summary } = await runCheck(server.url, ['--window', '1s'])
      expect(checks.compression).toMatchObject({
        status: 'warn',
        measured: expect.stringMatching(/^(br|gzip)-compressed: first event after/),
      })
      expect(summary).toMatchObject({ fail: 0, exitCode: 0 })
      expect(run.exitCode).toBe(0)
    },
  )
})
