import { gzipSync } from 'node:zlib'
import { Chalk } from 'chalk'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createPrettyRenderer } from '../../src/cli/render/pretty.ts'
import type { EndReason, ProbeRecord } from '../../src/engine/records.ts'
import { createEventStream } from '../../src/engine/stream.ts'
import { cut } from '../helpers/chunks.ts'
import { runCli } from '../helpers/cli.ts'
import { startRawServer } from '../helpers/hostile-servers.ts'
import { startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }
const REASONS: EndReason[] = [
  'end-event',
  'end-data',
  'max-events',
  'duration',
  'server-closed',
  'no-content',
  'timeout',
  'idle-timeout',
  'http-error',
  'not-event-stream',
  'connect-failed',
  'reconnects-exhausted',
  'event-too-large',
  'interrupted',
]
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** Everything the stream reports, in order, and what it discarded at the end. */
function parse(chunks: Uint8Array[], maxEventSize = 1 << 20) {
  const seen: unknown[] = []
  const stream = createEventStream(
    {
      onEvent: (event, id, data, lastEventId) =>
        seen.push(['event', { event, id, data, lastEventId }]),
      onComment: (text) => seen.push(['comment', text]),
      onRetry: (ms) => seen.push(['retry', ms]),
      onTooLarge: (message) => seen.push(['too-large', message]),
    },
    { lastEventId: 'start', maxEventSize },
  )
  for (const chunk of chunks) stream.feed(chunk)
  const end = stream.end()
  return { seen, end, lastEventId: stream.lastEventId() }
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text))

const CORPUS: Uint8Array[] = [
  utf8(
    '\uFEFF: hi\r\nretry: 10\nid: 7\r\nevent: status\rdata: {"p": 1}\n\ndata: x\r\rid\n\n:\n\ndata: y\n',
  ),
  utf8(
    'data: a\ndata:b\ndata:  c\n\nevent: x\n\nfoo: bar\n\ndata\n\n:  two spaces\n:tight\n\nid: 1\0x\ndata: nul\n\n',
  ),
  utf8(
    'event: ping\ndata: é€🚀\r\n\r\nid:\ndata: reset\n\nid: 3\n\nretry: 1.5\nretry: 20x\nretry: 0\n\ndata: partial',
  ),
  new Uint8Array(
    Buffer.concat([
      Buffer.from('data: a'),
      Buffer.of(0xff, 0xc0, 0xaf, 0xe2, 0x82),
      Buffer.from('\n\n: '),
      Buffer.of(0xf0, 0x9f),
      Buffer.from('\r\n\r\n'),
    ]),
  ),
  utf8('\uFEFF\uFEFFdata: double bom\n\ndata: x\r\n:\r\n\r\n'.repeat(3)),
]

// Streams built from the field grammar, with every kind of line end, BOM, multi-byte and control characters.
const text = fc.string({
  unit: fc.constantFrom(
    'a',
    'Z',
    ' ',
    ':',
    'é',
    '€',
    '🚀',
    '\t',
    '\x1b',
    '\0',
    '\u202e',
    '{',
    '}',
    '"',
  ),
  maxLength: 12,
})
const line = fc.oneof(
  text.map((t) => `data: ${t}`),
  text.map((t) => `data:${t}`),
  fc.constant('data'),
  text.map((t) => `event: ${t}`),
  text.map((t) => `id: ${t}`),
  fc.constant('id'),
  fc.nat({ max: 100_000 }).map((n) => `retry: ${n}`),
  text.map((t) => `: ${t}`),
  text.map((t) => `:${t}`),
  fc.constant(''),
  text.map((t) => `${t}: ignored`),
)
const generatedStream = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.tuple(line, fc.constantFrom('\n', '\r', '\r\n')), { maxLength: 30 }),
  )
  .map(([bom, lines]) => utf8(`${bom ? '\uFEFF' : ''}${lines.map(([l, end]) => l + end).join('')}`))

describe('random re-chunking never changes the records', () => {
  it('at the parser, for a corpus and for generated streams', () => {
    const splits = fc.array(fc.nat(), { maxLength: 40 })
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...CORPUS), generatedStream),
        splits,
        (bytes, positions) => {
          expect(parse(cut(bytes, positions))).toEqual(parse([bytes]))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('at the parser, byte by byte', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...CORPUS), generatedStream), (bytes) => {
        expect(parse([...bytes].map((byte) => Uint8Array.of(byte)))).toEqual(parse([bytes]))
      }),
      { numRuns: 300 },
    )
  })

  it('at the parser, an endless line past --max-event-size is reported the same way however it is cut', () => {
    const limit = 4096
    fc.assert(
      fc.property(
        generatedStream,
        fc.constantFrom('data: ', ': ', 'event: ', 'id: ', 'unknown: '),
        fc.array(fc.nat(), { maxLength: 40 }),
        (prefix, field, positions) => {
          const bytes = new Uint8Array(
            Buffer.concat([prefix, Buffer.from(`\n\n${field}${'x'.repeat(3 * limit)}`)]),
          )
          const whole = parse([bytes], limit)
          expect(parse(cut(bytes, positions), limit)).toEqual(whole)
          // An unknown field is skipped as it comes, without being kept: it needs no limit.
          if (field !== 'unknown: ')
            expect(whole.seen.at(-1)).toEqual([
              'too-large',
              expect.stringContaining('line or event that had not ended'),
            ])
        },
      ),
      { numRuns: 300 },
    )
  })

  it('through the real CLI and a server that writes the pieces with pauses', async () => {
    const body = CORPUS.slice(0, 3).map((b) => Buffer.from(b).toString('utf8'))
    const pieces: Buffer[][] = []
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, SSE)
      res.socket?.setNoDelay(true)
      for (const piece of pieces.shift()!) {
        res.write(piece)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      res.end()
    })
    const comparable = (records: ProbeRecord[]): unknown[] =>
      records.map((r) => ({
        ...r,
        t: 0,
        ...('dt' in r && { dt: 0 }),
        ...(r.type === 'open' && { headers: {} }),
        ...(r.type === 'summary' && { firstEventMs: 0, gapMs: 0, startedAt: 0 }),
      }))
    const wholeRecords = new Map<number, unknown[]>()
    for (const [index, stream] of body.entries()) {
      pieces.push([Buffer.from(stream)])
      wholeRecords.set(
        index,
        comparable((await runCli([server.url, '--json', '--no-reconnect'])).records),
      )
    }
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: body.length - 1 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 15 }),
        async (index, positions) => {
          pieces.push(cut(utf8(body[index]!), positions).map((chunk) => Buffer.from(chunk)))
          const run = await runCli([server.url, '--json', '--no-reconnect'])
          expect(comparable(run.records)).toEqual(wholeRecords.get(index))
        },
      ),
      { numRuns: 10 },
    )
  })
})

describe('random byte mutations never crash the probe', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.array(fc.constantFrom(0x00, 0x0a, 0x0d, 0x20, 0x3a, 0x1b, 0x9b, 0xc3, 0xe2, 0xff), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
    fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 8 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  )
  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

  function mutate(bytes: Buffer, mutations: Mutation[], from = 0): Buffer {
    let out = [...bytes]
    for (const m of mutations) {
      const at = from + (m.at % Math.max(1, out.length - from + 1))
      if (m.kind === 'set' && at < out.length) out[at] = m.byte
      else if (m.kind === 'insert') out.splice(at, 0, ...m.bytes)
      else if (m.kind === 'delete') out.splice(at, m.length)
      else if (m.kind === 'truncate') out = out.slice(0, at)
    }
    return Buffer.from(out)
  }

  const stream =
    'retry: 10\n: hello\r\nid: 1\nevent: status\ndata: {"state": "é€", "n": [1, 2]}\n\ndata: line one\ndata: line two\r\n\r\nid: 2\nevent: end\ndata: bye\n\n'
  const chunked = (body: Buffer) =>
    Buffer.concat([
      Buffer.from(`${body.length.toString(16)}\r\n`),
      body,
      Buffer.from('\r\n0\r\n\r\n'),
    ])
  const RESPONSES = [
    Buffer.concat([
      Buffer.from(
        'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n',
      ),
      chunked(Buffer.from(stream)),
    ]),
    Buffer.from(
      `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(stream)}\r\n\r\n${stream}`,
    ),
    Buffer.from(
      `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n\uFEFF${stream}`,
    ),
    Buffer.concat([
      Buffer.from(
        'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n',
      ),
      gzipSync(stream),
    ]),
    Buffer.from(
      'HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\ntry later',
    ),
  ]

  it('at the parser and the pretty renderer: no exception, nothing raw reaches the terminal', () => {
    const pretty = createPrettyRenderer({
      chalk: new Chalk({ level: 0 }),
      chalkStderr: new Chalk({ level: 0 }),
      pingEvent: 'ping',
      hidePings: false,
      include: true,
    })
    fc.assert(
      fc.property(
        fc.constantFrom(...CORPUS),
        fc.array(mutation, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, mutations, positions) => {
          const { seen } = parse(
            cut(new Uint8Array(mutate(Buffer.from(bytes), mutations)), positions),
            64,
          )
          for (const [kind, value] of seen as [string, unknown][]) {
            const record: ProbeRecord | undefined =
              kind === 'event'
                ? {
                    type: 'event',
                    t: 0,
                    attempt: 1,
                    dt: null,
                    ...(value as {
                      event: string
                      id: string | null
                      lastEventId: string
                      data: string
                    }),
                  }
                : kind === 'comment'
                  ? { type: 'comment', t: 0, attempt: 1, text: value as string }
                  : undefined
            const rendered = record && pretty(record)
            if (rendered) expect(rendered.text).not.toMatch(RAW_CONTROL)
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('through the real CLI: always ends with a contract reason, never a stack trace, nothing raw on the terminal', async () => {
    let response: Buffer = RESPONSES[0]!
    const server = await startRawServer((socket) => socket.end(response))
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: RESPONSES.length - 1 }),
        fc.boolean(),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (index, bodyOnly, mutations, json) => {
          const original = RESPONSES[index]!
          response = mutate(original, mutations, bodyOnly ? original.indexOf('\r\n\r\n') + 4 : 0)
          const flags = [
            '--retry',
            '10',
            '--max-reconnects',
            '2',
            '--timeout',
            '1s',
            '--max-event-size',
            '64KiB',
          ]
          const run = await runCli([server.url, json ? '--json' : '--no-color', ...flags], {
            timeoutMs: 10_000,
          })
          expect([0, 1, 3, 4]).toContain(run.exitCode)
          expect(run.stderr).not.toMatch(/\n\s+at |internal error/)
          if (json) {
            expect(run.summary.exitCode).toBe(run.exitCode)
            expect(REASONS).toContain(run.summary.reason)
            expect(run.records.at(-1)!.type).toBe('summary')
          } else {
            const reason = /── summary {2}([a-z-]+)/.exec(run.stderr)?.[1]
            expect(REASONS).toContain(reason)
            expect(run.stdout + run.stderr).not.toMatch(RAW_CONTROL)
          }
        },
      ),
      { numRuns: 20 },
    )
  }, 60_000)
})
