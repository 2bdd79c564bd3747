import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCheck } from '../helpers/check.ts'
import { runCli } from '../helpers/cli.ts'
import { startServer, writeSlowly } from '../helpers/server.ts'

/**
 * FastAPI 0.142.2's real output (fixtures/fastapi-0.142.2.md): its generated openapi.json and the
 * exact bytes its streams sent, replayed by a node:http server, probed by the built CLI.
 */
const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
const OPENAPI = fixture('fastapi-0.142.2-openapi.json')
const bytes = (name: string) => readFileSync(fixture(name))

/** Replays a captured body, one block (event or comment) per write, as uvicorn sent them. */
function replay(body: Buffer | string) {
  const text = body.toString()
  const blocks = text.split(/(?<=\r?\n\r?\n)/)
  return startServer(async (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    })
    await writeSlowly(res, blocks, 2)
    res.end()
  })
}

const violations = (records: { type: string }[]) => records.filter((r) => r.type === 'violation')

describe('FastAPI 0.142.2', () => {
  it('sse-starlette stream: CRLF blocks, ids, a ping comment and the end event', async () => {
    const server = await replay(bytes('fastapi-0.142.2-sse-starlette-3.5.0.sse'))
    const run = await runCli([
      '--json',
      '--expect-order',
      'status,end',
      `${server.url}/status/stream`,
    ])
    expect(run.exitCode).toBe(0)
    const events = run.records.filter((r) => r.type === 'event')
    expect(events.map((e) => [e.event, e.id])).toEqual([
      ['status', '0'],
      ['status', '1'],
      ['status', '2'],
      ['status', '3'],
      ['end', null],
    ])
    expect(run.records.at(-1)).toMatchObject({ reason: 'end-event', pings: 1, comments: 1 })
  })

  it('native SSE: every event of each stream is valid against the generated itemSchema', async () => {
    for (const [body, path] of [
      ['fastapi-0.142.2-native.sse', '/native/status/events'],
      ['fastapi-0.142.2-native-union.sse', '/native/jobs/stream'],
    ] as const) {
      const server = await replay(bytes(body))
      const run = await runCli([
        '--json',
        '--no-reconnect',
        '--openapi',
        OPENAPI,
        `${server.url}${path}`,
      ])
      expect(violations(run.records)).toEqual([])
      expect(run.exitCode).toBe(0)
    }
  })

  it('contentSchema behind $ref: nullable fields, enums and bounds of the pydantic model', async () => {
    const server = await replay(
      [
        '{"job":"j","state":"running","progress":null,"note":null}',
        '{"job":"j","state":"weird"}',
        '{"job":"j","state":"done","progress":101}',
        '{"state":"done"}',
        '{"job":"j","state":"done","note":7}',
      ]
        .map((data) => `data: ${data}\n\n`)
        .join(''),
    )
    const url = `${server.url}/native/status/stream`
    const run = await runCli(['--json', '--no-reconnect', '--openapi', OPENAPI, url])
    expect(run.exitCode).toBe(1)
    expect(violations(run.records)).toMatchObject([
      { index: 2, pointer: '/data/state' },
      { index: 3, pointer: '/data/progress', message: 'must be <= 100' },
      { index: 4, pointer: '/data', message: "must have required property 'job'" },
      { index: 5, pointer: '/data/note' },
    ])
  })

  it('a discriminated union (oneOf + discriminator): the tag is required, as pydantic requires it', async () => {
    // Without its `kind`, {"position":"x"} is valid against `Finished` (all of whose fields have
    // defaults) as plain JSON Schema, but FastAPI's clients (and pydantic) reject it.
    const body = ['{"kind":"progress","percent":500}', '{"position":"x"}', '{"kind":"finished"}']
      .map((data) => `data: ${data}\n\n`)
      .join('')
    const server = await replay(body)
    const url = `${server.url}/native/jobs/stream`
    const run = await runCli(['--json', '--no-reconnect', '--openapi', OPENAPI, url])
    expect(violations(run.records)).toMatchObject([
      { index: 1, pointer: '/data/percent', message: 'must be <= 100' },
      { index: 2, pointer: '/data', message: "must have required property 'kind'" },
    ])
    expect(run.exitCode).toBe(1)
    // The same with the schema pydantic writes for the union (TypeAdapter(JobEvent).json_schema()).
    const schema = fixture('fastapi-0.142.2-jobevent.schema.json')
    const direct = await runCli(['--json', '--no-reconnect', '--schema', schema, url])
    expect(violations(direct.records)).toMatchObject([
      { index: 1, pointer: '/percent' },
      { index: 2, pointer: '', message: "must have required property 'kind'" },
    ])
  })

  it('an sse-starlette endpoint, documented as application/json: the usage error says so and what to do', async () => {
    const server = await replay(bytes('fastapi-0.142.2-sse-starlette-3.5.0.sse'))
    const run = await runCli(['--openapi', OPENAPI, `${server.url}/status/stream`])
    expect(run.exitCode).toBe(2)
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /status_stream_status_stream_get\): its 200 response has no text\/event-stream content \(it declares application\/json;.*--schema/,
      ),
    ])
    expect(server.requests).toHaveLength(0)
  })

  it("pydantic's formats: a timedelta's ISO 8601 duration holds; a naive datetime is told why it fails", async () => {
    // datetime, date, time, timedelta (PT1M30.5S, -PT23H59M59.999995S, P2DT3H), UUID, Decimal,
    // AnyUrl, IPv4Address, enums, sets, tuples, bytes, dicts, nested and recursive models.
    const server = await replay(bytes('fastapi-0.142.2-types.sse'))
    const openapi = fixture('fastapi-0.142.2-types-openapi.json')
    const run = await runCli([
      '--json',
      '--no-reconnect',
      '--openapi',
      openapi,
      `${server.url}/rich`,
    ])
    expect(violations(run.records)).toEqual([
      expect.objectContaining({
        index: 4,
        pointer: '/data/when',
        message:
          'must match format "date-time" (RFC 3339, with a time zone offset: 2026-01-01T10:00:00Z)',
      }),
    ])
    expect(run.exitCode).toBe(1)
  })

  it('check: a native ServerSentEvent(event="end") without data is no event; the advice names fastapi.sse', async () => {
    const server = await replay(bytes('fastapi-0.142.2-native-end-nodata.sse'))
    const { checks } = await runCheck(`${server.url}/native/status/events`)
    expect(checks['end-of-stream']).toMatchObject({
      status: 'warn',
      measured: expect.stringContaining('"end" block that had no data line'),
      hint: expect.stringContaining(
        'ServerSentEvent(event="end", data="") in sse-starlette and in fastapi.sse',
      ),
    })
  })

  it('sse-starlette endpoints as FastAPI documents them: the usage error says what the response declares', async () => {
    const server = await replay(bytes('fastapi-0.142.2-sse-starlette-3.5.0.sse'))
    const document = fixture('fastapi-0.142.2-sse-starlette-openapi.json')
    const probe = (path: string) =>
      runCli(['--json', '--openapi', document, `${server.url}${path}`])
    const bare = await probe('/status/7/stream')
    expect(bare.exitCode).toBe(2)
    expect(bare.stderr).toMatch(
      /its 200 response has no text\/event-stream content \(it declares no content, as FastAPI does for response_class=EventSourceResponse from sse-starlette\): check the data with --schema/,
    )
    const json = await probe('/jobs/7/events')
    expect(json.exitCode).toBe(2)
    expect(json.stderr).toMatch(/\(it declares application\/json;/)
    // A text/event-stream schema the user writes in `responses` describes each event's data:
    // the status events hold, the end event's `{}` has no state.
    const described = await probe('/jobs2/7/events')
    expect(violations(described.records)).toMatchObject([
      { index: 5, event: 'end', pointer: '/data', message: "must have required property 'state'" },
    ])
    expect(server.requests).toHaveLength(1)
  })
})
