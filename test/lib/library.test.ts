import { getEventListeners, once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { Headers as UndiciHeaders } from 'undici'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { createHttp } from '../../src/engine/http.ts'
import {
  check,
  type KnownBlocks,
  type ProbeExtension,
  type ProbeRecord,
  probe,
  SseProbeUsageError,
  serve,
} from '../../src/index.ts'
import { runCli } from '../helpers/cli.ts'
import { sseServer, startServer, writeSlowly } from '../helpers/server.ts'

const STREAM =
  'retry: 10\nid: 1\nevent: status\ndata: {"a":1}\n\n: ping\n\nevent: end\ndata: bye\n\n'

/** What does not depend on timing or on the run. */
const stable = (records: readonly ProbeRecord[]) =>
  records.map((r) => ({
    ...r,
    t: 0,
    ...('dt' in r && { dt: 0 }),
    ...(r.type === 'open' && { headers: {} }),
    ...(r.type === 'summary' && { startedAt: '', bytes: 0, firstEventMs: 0, gapMs: null }),
  }))

async function collect(run: AsyncIterable<ProbeRecord>): Promise<ProbeRecord[]> {
  const records: ProbeRecord[] = []
  for await (const record of run) records.push(record)
  return records
}

describe('probe()', () => {
  it('yields the records the CLI prints with --json, the summary last', async () => {
    const server = await sseServer(STREAM)
    const records = await collect(probe(server.url, { expectEvent: 'status' }))
    const cli = await runCli([server.url, '--json', '--expect-event', 'status'])
    expect(stable(records)).toEqual(stable(cli.records))
    expect(records.at(-1)).toMatchObject({ type: 'summary', reason: 'end-event', exitCode: 0 })
  })

  it('resolves the summary without anyone iterating', async () => {
    const server = await sseServer(STREAM)
    const summary = await probe(server.url).summary
    expect(summary).toMatchObject({ reason: 'end-event', events: 2, connections: 1 })
  })

  it('keeps every record for a loop that starts just after summary was asked for', async () => {
    const server = await sseServer(STREAM)
    const run = probe(server.url)
    const summary = run.summary
    await Promise.resolve()
    const records = await collect(run)
    expect(records.map((record) => record.type)).toEqual([
      'open',
      'retry',
      'event',
      'comment',
      'event',
      'summary',
    ])
    expect(await summary).toBe(records.at(-1))
  })

  it('starts on the next tick, not before', async () => {
    const server = await sseServer(STREAM)
    const run = probe(server.url)
    expect(server.requests).toHaveLength(0)
    await run.summary
    expect(server.requests).toHaveLength(1)
  })

  it('abort() ends it as Ctrl-C does: interrupted, 130, with a summary', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: first\n\n')
    })
    const run = probe(server.url)
    const seen: string[] = []
    for await (const record of run) {
      seen.push(record.type)
      if (record.type === 'event') run.abort()
    }
    expect(seen).toEqual(['open', 'event', 'summary'])
    expect(await run.summary).toMatchObject({ reason: 'interrupted', exitCode: 130, events: 1 })
  })

  it('two loops at once share the records and both end; a loop after the end gets nothing', async () => {
    const server = await sseServer(STREAM)
    const run = probe(server.url)
    const [first, second] = await Promise.all([collect(run), collect(run)])
    const types = [...first, ...second].map((record) => record.type).sort()
    expect(types).toEqual(['comment', 'event', 'event', 'open', 'retry', 'summary'])
    expect(await collect(run)).toEqual([])
  })

  it('an AbortSignal ends it the same way', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': open\n\n')
    })
    const summary = await probe(server.url, { signal: AbortSignal.timeout(100) }).summary
    expect(summary).toMatchObject({ reason: 'interrupted', exitCode: 130 })
  })

  it('many probes and checks share one AbortSignal through one listener (no Node warning)', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': open\n\n')
    })
    const controller = new AbortController()
    const runs = Array.from({ length: 20 }, () => probe(server.url, { signal: controller.signal }))
    const checks = Array.from({ length: 12 }, () =>
      check(server.url, { signal: controller.signal }),
    )
    // Past 10 listeners on one signal, Node prints a MaxListenersExceededWarning on stderr.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort()
    const summaries = await Promise.all(runs.map((run) => run.summary))
    expect(summaries.every((summary) => summary.reason === 'interrupted')).toBe(true)
    expect((await Promise.all(checks)).every((report) => report.summary)).toBe(true)
  })

  it('an extension that throws ends the probe: the summary rejects with its error', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: 1\n\n')
    })
    const mine = new Error('my extension broke')
    const extension = {
      onRecord(record: ProbeRecord) {
        if (record.type === 'event') throw mine
      },
    }
    const run = probe(server.url, { extensions: [extension], reconnect: 'never' })
    await expect(collect(run)).rejects.toBe(mine)
    await expect(run.summary).rejects.toBe(mine)
  })

  it('an async onRecord that rejects ends the probe the same way, not as an unhandled rejection', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: 1\n\n')
    })
    const mine = new Error('my async extension broke')
    const extension: ProbeExtension = {
      async onRecord(record) {
        if (record.type === 'event') throw mine
      },
    }
    const run = probe(server.url, { extensions: [extension], reconnect: 'never' })
    await expect(collect(run)).rejects.toBe(mine)
    await expect(run.summary).rejects.toBe(mine)
  })

  it('an extension that detaches sees no more records; its finish still adds to the summary', async () => {
    const server = await sseServer('data: 1\n\ndata: 2\n\ndata: 3\n\n')
    const seen: string[] = []
    const extension: ProbeExtension = {
      onRecord(record, context) {
        seen.push(record.type === 'event' ? `event ${record.data}` : record.type)
        if (record.type === 'event') context.detach(this)
      },
      finish: () => ({ summary: { seen: seen.length } }),
    }
    const run = probe(server.url, { extensions: [extension], reconnect: 'never' })
    const records = await collect(run)
    expect(seen).toEqual(['open', 'event 1'])
    // The probe itself goes on: every event is yielded.
    expect(records.filter((r) => r.type === 'event').map((r) => r.data)).toEqual(['1', '2', '3'])
    expect((await run.summary) as unknown).toMatchObject({ events: 3, seen: 2 })
  })

  it("calls an extension's afterRead after the records of each network read, and not once detached", async () => {
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // A read each, the pause long enough for the client to have read the first.
      await writeSlowly(res, ['data: 1\n\ndata: 2\n\n', 'data: 3\n\ndata: 4\n\n'], 200)
      res.end('data: 5\n\n')
    })
    const seen: string[] = []
    const extension: ProbeExtension = {
      onRecord(record, context) {
        if (record.type === 'event') seen.push(record.data)
        if (record.type === 'event' && record.data === '4') context.detach(this)
      },
      afterRead: () => void seen.push('read'),
    }
    // One without onRecord is called after each read too.
    let reads = 0
    const readsOnly: ProbeExtension = { afterRead: () => void reads++ }
    await collect(probe(server.url, { extensions: [extension, readsOnly], reconnect: 'never' }))
    expect(seen).toEqual(['1', '2', 'read', '3', '4'])
    expect(reads).toBe(3)
  })

  it('reads the blocks an extension knows without the line parser: the same records', async () => {
    const block = (n: number) => `event: delta\ndata: {"n":${n}}\n\n`
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // Reads that end inside a block, a comment and an id among the known blocks.
      await writeSlowly(
        res,
        [
          `${block(1)}${block(2)}event: de`,
          `lta\ndata: {"n":3}\n\n${block(4)}`,
          `: c\n\n${block(5)}id: 9\n${block(6)}${block(7)}`,
          // A read with a CR is the parser's.
          `${block(8)}event: delta\r\ndata: {"n":9}\r\n\r\n`,
        ],
        150,
      )
      res.end()
    })
    const blocks: KnownBlocks = { type: 'delta', data: '\\{"n":\\d+\\}', last: undefined }
    const readAsBlocks: string[] = []
    const extension: ProbeExtension = {
      onRecord(record) {
        if (record.type === 'event' && record.data === blocks.last) readAsBlocks.push(record.data)
      },
      afterRead: (context) => context.knownBlocks(blocks),
    }
    const withBlocks = await collect(
      probe(server.url, { extensions: [extension], reconnect: 'never' }),
    )
    const without = await collect(probe(server.url, { reconnect: 'never' }))
    const comparable = (records: ProbeRecord[]) =>
      records
        .filter((r) => r.type === 'event' || r.type === 'comment')
        .map(({ t: _t, ...r }) => ({ ...r, dt: undefined }))
    expect(comparable(withBlocks)).toEqual(comparable(without))
    expect(comparable(without)).toHaveLength(10)
    // From the second read on, once the parser is between blocks: not 3 (begun in the first read),
    // nor 6 (its block has an id), nor 8 and 9 (a read with a CR).
    expect(readAsBlocks).toEqual(['{"n":4}', '{"n":5}', '{"n":7}'])
  })

  it('takes an extension whose onRecord is null (JavaScript) as one without a hook', async () => {
    const server = await sseServer('data: 1\n\ndata: 2\n\n')
    const extension = { onRecord: null, finish: () => ({ summary: { mine: 1 } }) }
    const run = probe(server.url, {
      extensions: [extension as unknown as ProbeExtension],
      reconnect: 'never',
    })
    expect((await run.summary) as unknown).toMatchObject({ events: 2, mine: 1 })
  })

  it('types summary.llm as the LLM summary of llm.md', async () => {
    const chunk = (delta: object) =>
      `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}\n\n`
    const server = await sseServer(
      `${chunk({ role: 'assistant', content: 'Hel' })}${chunk({ content: 'lo' })}data: [DONE]\n\n`,
    )
    const summary = await probe(server.url, { llm: 'openai-chat' }).summary
    const text: string | undefined = summary.llm?.text
    expect(text).toBe('Hello')
    expect(summary.llm?.problems).toEqual([])
  })

  it('a bad option throws SseProbeUsageError at once, with the message the CLI prints', async () => {
    let thrown: unknown
    try {
      probe('http://127.0.0.1:9/', { timeout: '5' })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(SseProbeUsageError)
    const cli = await runCli(['http://127.0.0.1:9/', '--timeout', '5'])
    expect(cli.stderr).toBe(`error: ${(thrown as Error).message}\n`)
    expect(() => probe('ftp://x/')).toThrow(SseProbeUsageError)
    expect(() => probe('http://x/', { header: 'no colon' })).toThrow(/--header/)
    expect(() => probe('http://x/', { reconnect: 'sometimes' as never })).toThrow(/--reconnect/)
    // One line, the value escaped as the CLI prints it.
    expect(() => probe('http://x/', { lastEventId: 'a\nb' })).toThrow(
      "option '--last-event-id <id>' argument 'a\\nb' is invalid.",
    )
  })

  it('a usage error redacts the credentials it quotes, as the CLI prints it, unless showSecrets', async () => {
    const bad = [
      { url: 'http://u:s3cret@x:99999/', options: {} },
      { url: 'http://x/', options: { header: 'Authorization: Bearer s3cret\r' } },
      { url: 'http://x/', options: { header: { 'X-Api-Key': 's3cret\n' } } },
      { url: 'http://x/', options: { proxy: 'ftp://u:s3cret@proxy/' } },
    ]
    for (const { url, options } of bad) {
      expect(() => probe(url, options)).toThrow(/<redacted>/)
      expect(() => probe(url, options)).not.toThrow(/s3cret/)
      await expect(check(url, options)).rejects.toThrow(/<redacted>/)
      await expect(check(url, options)).rejects.not.toThrow(/s3cret/)
      expect(() => probe(url, { ...options, showSecrets: true })).toThrow(/s3cret/)
    }
  })

  it('rejects at once an option it does not take, a value of the wrong type, a bad contract', async () => {
    const url = 'http://127.0.0.1:9/'
    const bad = (options: object) => () => probe(url, options as never)
    expect(bad({ maxEvent: 3 })).toThrow("unknown option 'maxEvent' (did you mean maxEvents?)")
    expect(bad({ format: 'json' })).toThrow("unknown option 'format'")
    expect(bad({ header: 5 })).toThrow(/--header .*expected a string/)
    // An unset token is not sent as "Authorization: undefined".
    expect(bad({ header: { Authorization: undefined } })).toThrow(
      "argument 'Authorization: <redacted>' is invalid. expected a string value, not undefined",
    )
    expect(bad({ header: { 'X-Trace': 5 } })).toThrow(
      "argument 'X-Trace: 5' is invalid. expected a string value, not number",
    )
    expect(bad({ expectEnd: 'no' })).toThrow("option '--expect-end' argument 'no' is invalid")
    expect(bad({ expectMinEvents: 0 })).toThrow("'--expect-min-events <n>' argument '0' is invalid")
    expect(bad({ extensions: 5 })).toThrow('option extensions: expected an array')
    expect(bad({ endEvent: 5 })).toThrow(/--end-event/)
    expect(() => probe(5 as never)).toThrow(/argument 'url'. expected a string or a URL/)
    expect(bad({ expectOrder: 5 })).toThrow(/--expect-order/)
    expect(bad({ trigger: `GET ${url}`, triggerDelay: '5' })).toThrow(
      '--trigger-delay 5: add a unit, e.g. 5s or 5ms',
    )
    for (const options of [{ loop: 'yes' }, { bogus: 1 }]) {
      await expect(serve([], options as never)).rejects.toThrow(SseProbeUsageError)
    }
    await expect(check(url, { signal: {} as never })).rejects.toThrow(SseProbeUsageError)
    for (const options of [{ maxEvent: 3 }, { header: 5 }, { expectOrder: 5 }, { trigger: 5 }]) {
      expect(bad(options)).toThrow(SseProbeUsageError)
    }
  })

  it('rejects a duration, count or proxy of the wrong type (null, an object) as a usage error', async () => {
    const url = 'http://127.0.0.1:9/'
    const bad = (options: object) => () => probe(url, options as never)
    for (const name of ['timeout', 'duration', 'idleTimeout', 'connectTimeout', 'retry']) {
      for (const value of [null, {}, true]) {
        expect(bad({ [name]: value }), `${name}: ${String(value)}`).toThrow(SseProbeUsageError)
      }
    }
    expect(bad({ expectMaxGap: null })).toThrow(
      "option '--expect-max-gap <duration>' argument 'null' is invalid. expected a duration such as 5s, or a number of milliseconds",
    )
    await expect(check(url, { window: null as never })).rejects.toThrow(SseProbeUsageError)
    // A count given as text is named as such, not as "not a whole number".
    expect(bad({ maxEvents: '2' })).toThrow(
      "option '-n, --max-events <n>' argument '2' is invalid. expected a number, not a string",
    )
    // null is not the proxy at host "null": a usage error, not a connection that fails.
    for (const proxy of [null, 8080, {}]) {
      expect(bad({ proxy }), String(proxy)).toThrow(
        /option '--proxy <url>' argument '.*' is invalid. expected a string or a URL/,
      )
    }
  })

  it('takes headers as an object, data as bytes, durations as numbers of ms', async () => {
    const server = await startServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(`data: ${req.method} ${req.headers['x-a']} ${body}\n\n`)
    })
    const records = await collect(
      probe(server.url, {
        header: { 'X-A': 'b' },
        data: new TextEncoder().encode('hi'),
        timeout: 5000,
      }),
    )
    const event = records.find((r) => r.type === 'event')
    expect(event).toMatchObject({ data: 'POST b hi' })
    // A POST is not sent again after a complete answer.
    expect(records.at(-1)).toMatchObject({ reason: 'server-closed', exitCode: 0 })
  })

  it('takes headers as a Headers or a Map too', async () => {
    const server = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(`data: ${req.headers['x-a']} ${req.headers['x-b']}\n\n`)
    })
    for (const header of [
      new Headers({ 'X-A': 'a', 'X-B': 'b' }),
      new Map([
        ['X-A', 'a'],
        ['X-B', 'b'],
      ]),
    ]) {
      const records = await collect(probe(server.url, { header, maxEvents: 1 }))
      expect(records.find((r) => r.type === 'event')).toMatchObject({ data: 'a b' })
    }
  })

  it('takes headers, bytes and patterns made in another realm or by another copy of undici', async () => {
    // What a test under jsdom, or one that imports undici itself, passes.
    const server = await startServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(`data: ${req.headers['x-a']} ${body}\n\n`)
    })
    const other = (code: string) => runInNewContext(code)
    const options = [
      { header: new UndiciHeaders({ 'X-A': 'a' }) },
      { header: other("new Map([['X-A', 'a']])") },
      { header: { 'X-A': 'a' }, data: other('new Uint8Array([104, 105])') },
    ]
    for (const option of options) {
      const run = probe(server.url, { ...option, reconnect: false, expectData: other('/^a/') })
      const records = await collect(run)
      expect(records.find((r) => r.type === 'event')).toMatchObject({
        data: option.data ? 'a hi' : 'a ',
      })
      expect(records.at(-1)).toMatchObject({ exitCode: 0 })
    }
  })

  it('takes read-only lists (`as const`) wherever it takes an array, in its types too', async () => {
    // `tsc --noEmit` checks this file: a mutable array type in the options would refuse these.
    const server = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(`event: status\ndata: ${req.headers['x-a']}\n\nevent: done\ndata: [DONE]\n\n`)
    })
    const types = ['status', 'done'] as const
    const headers = ['X-A: a'] as const
    const extensions: readonly ProbeExtension[] = [{}]
    const summary = await probe(server.url, {
      header: headers,
      endEvent: ['done'] as const,
      endData: ['[DONE]'] as const,
      expectEvent: types,
      expectData: [/^a$/] as const,
      expectOrder: types,
      extensions,
    }).summary
    expect(summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    expect(summary.expectations.map((e) => e.ok)).toEqual([true, true, true, true])
    const report = await check(server.url, {
      header: new Map([['X-A', 'a']]) as ReadonlyMap<string, string>,
      endEvent: types,
      window: '1s',
    })
    // The end event named in the list ends the stream as it should.
    expect(report.checks.find((c) => c.id === 'end-of-stream')?.status).toBe('pass')
  })

  it('a /g pattern in expectData matches in every probe that shares it', async () => {
    const server = await sseServer('data: done\n\n')
    const done = /done/g
    // The caller's own test moved lastIndex past the end of the data.
    done.test('done')
    const summaries = await Promise.all(
      [1, 2].map(() => probe(server.url, { expectData: done, maxEvents: 1 }).summary),
    )
    expect(summaries.map((s) => s.expectations[0]!.ok)).toEqual([true, true])
  })

  it('a /g pattern in expectData counts every matching event of one probe', async () => {
    const server = await sseServer('data: a\n\ndata: b\n\ndata: c\n\n')
    const summary = await probe(server.url, { expectData: /a|b|c/g, maxEvents: 3 }).summary
    expect(summary.expectations).toEqual([{ name: '--expect-data a|b|c', ok: true, actual: 3 }])
  })

  it('throws at once for a transcript it cannot write, contract options or not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-record-'))
    const schema = join(dir, 'any.json')
    writeFileSync(schema, '{}')
    const record = join(dir, 'missing', 'run.ndjson')
    const url = 'http://127.0.0.1:9/'
    for (const options of [{}, { schema }, { expectOrder: 'a,b' }]) {
      expect(() => probe(url, { ...options, record })).toThrow(
        `option '--record <file>' cannot write '${record}': no such directory`,
      )
    }
    // Opened before the schema is read, and written once it is.
    const server = await sseServer('event: end\ndata: {}\n\n')
    const written = join(dir, 'run.ndjson')
    const summary = await probe(server.url, { schema, record: written }).summary
    expect(summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
    const types = readFileSync(written, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as ProbeRecord).type)
    expect(types).toEqual(['open', 'event', 'summary'])
  })

  it('prints nothing for a YAML schema with a tag it does not know (no process warning)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-yaml-'))
    const schema = join(dir, 'status.yaml')
    writeFileSync(schema, 'type: string\ndescription: !note a status\n')
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const server = await sseServer('data: "ok"\n\n')
      const summary = await probe(server.url, { schema, maxEvents: 1 }).summary
      expect(summary).toMatchObject({ reason: 'max-events', exitCode: 0 })
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.map((warning) => warning.message)).toEqual([])
  })

  it('runs many probes at once in one process', async () => {
    const server = await sseServer(STREAM)
    const summaries = await Promise.all(
      Array.from({ length: 100 }, () => probe(server.url).summary),
    )
    expect(summaries.every((s) => s.reason === 'end-event' && s.events === 2)).toBe(true)
    expect(server.requests).toHaveLength(100)
  })

  it('many probes can share one dispatcher (as load runs them), and still end at once', async () => {
    const http = createHttp({ insecure: false, connectTimeoutMs: 10_000 })
    try {
      const server = await sseServer(STREAM)
      const runs = Array.from({ length: 20 }, () => probe(server.url, { http }).summary)
      expect((await Promise.all(runs)).every((s) => s.reason === 'end-event')).toBe(true)
      const silent = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': open\n\n')
      })
      const open = probe(silent.url, { http, signal: AbortSignal.timeout(200) })
      expect(await open.summary).toMatchObject({ reason: 'interrupted', connections: 1 })
    } finally {
      await http.dispatcher.destroy()
    }
  })

  it('ended during a TLS handshake, it leaves no socket behind to keep the process alive', async () => {
    // A server that takes the connection and never answers the TLS hello (a stuck proxy, a
    // plain-TCP port): the socket would live on until the 10s connect timeout.
    const open = new Set<Socket>()
    let connections = 0
    const server = createTcpServer((socket) => {
      connections++
      open.add(socket)
      socket.on('close', () => open.delete(socket)).on('error', () => {})
      socket.resume()
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    onTestFinished(() => {
      for (const socket of open) socket.destroy()
      server.close()
    })
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`
    const aborted = probe(url)
    setTimeout(() => aborted.abort(), 50)
    // A trigger sent there, from a probe of a stream that stays open, ends with the probe too.
    const stream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.flushHeaders()
    })
    const triggered = probe(stream.url, { trigger: `POST ${url}`, timeout: '200ms' })
    const ends = [probe(url, { timeout: '50ms' }).summary, aborted.summary, triggered.summary]
    expect((await Promise.all(ends)).map((s) => s.reason)).toEqual([
      'timeout',
      'interrupted',
      'timeout',
    ])
    expect(connections).toBe(3)
    await vi.waitFor(() => expect(open.size).toBe(0), { timeout: 2000 })
  })

  it('however a probe or a check ends, it leaves no socket or timer to keep the process alive', async () => {
    // What a test runner waits on before it can exit (vitest: a hanging worker).
    const KINDS = new Set(['TCPSocketWrap', 'TLSWrap', 'Timeout', 'GetAddrInfoReqWrap'])
    const ours = () => process.getActiveResourcesInfo().filter((kind) => KINDS.has(kind)).length
    const server = await startServer((req, res) => {
      const path = req.url ?? '/'
      if (path === '/no-headers') return
      if (path === '/500') return void res.writeHead(500).end('no')
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      if (path === '/end') return void res.end('data: a\n\nevent: end\ndata: b\n\n')
      if (path === '/close') return void res.end('retry: 5000\n\n')
      if (path === '/silent') return void res.flushHeaders()
      const each = setInterval(() => res.write('data: x\n\n'), 5)
      res.on('close', () => clearInterval(each))
    })
    const refused = createTcpServer()
    refused.listen(0, '127.0.0.1')
    await once(refused, 'listening')
    const closedPort = (refused.address() as { port: number }).port
    await new Promise((resolve) => refused.close(resolve))
    const at = (path: string) => `${server.url}${path}`
    const loop = async (path: string, leave: 'break' | 'throw') => {
      const run = probe(at(path))
      try {
        for await (const record of run) {
          if (record.type !== 'event') continue
          if (leave === 'break') break
          throw new Error('a failing assertion')
        }
      } catch {}
      return run.summary
    }
    // Less whatever of the test's own start is gone by then (a timer of the servers' start).
    let baseline = ours()
    const endings = {
      'end-event': () => probe(at('/end'), { endEvent: 'end' }).summary,
      'max-events': () => probe(at('/stream'), { maxEvents: 2 }).summary,
      timeout: () => probe(at('/silent'), { timeout: '50ms' }).summary,
      'idle-timeout': () => probe(at('/silent'), { idleTimeout: '50ms' }).summary,
      'aborted before it starts': () =>
        probe(at('/stream'), { signal: AbortSignal.abort() }).summary,
      'aborted awaiting headers': () =>
        probe(at('/no-headers'), { signal: AbortSignal.timeout(50) }).summary,
      'aborted mid-stream': () => probe(at('/stream'), { signal: AbortSignal.timeout(50) }).summary,
      'aborted waiting to reconnect': () =>
        probe(at('/close'), { signal: AbortSignal.timeout(100) }).summary,
      'http-error': () => probe(at('/500')).summary,
      'connect-failed': () => probe(`http://127.0.0.1:${closedPort}/`).summary,
      'a loop left by break': () => loop('/stream', 'break'),
      'a loop left by a throw': () => loop('/stream', 'throw'),
      'a throwing extension': () =>
        probe(at('/stream'), {
          extensions: [
            {
              onRecord: () => {
                throw new Error('bug')
              },
            },
          ],
        }).summary.catch(() => undefined),
      'check, its window over': () => check(at('/stream'), { window: '100ms' }),
      'check, aborted': () => check(at('/stream'), { signal: AbortSignal.timeout(50) }),
    }
    const left: Record<string, number> = {}
    for (const [name, end] of Object.entries(endings)) {
      await end()
      // Sockets close in a turn or two of the event loop, the server's side once the probe's has.
      let extra = ours() - baseline
      for (let turn = 0; turn < 20 && extra > 0; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        extra = ours() - baseline
      }
      // A leak is told once, by the ending that left it.
      if (extra > 0) left[name] = extra
      baseline = extra > 0 ? ours() : Math.min(baseline, ours())
    }
    expect(left).toEqual({})
  })

  it('holds the connection back while the loop is slow (backpressure)', async () => {
    let written = 0
    let stalled = false
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const block = `data: ${'x'.repeat(1000)}\n\n`.repeat(100)
      while (!res.destroyed && written < 200_000_000) {
        written += block.length
        if (!res.write(block)) {
          stalled = true
          await new Promise((resolve) => res.once('drain', resolve))
        }
      }
    })
    const run = probe(server.url)
    let events = 0
    for await (const record of run) {
      if (record.type !== 'event') continue
      if (++events === 2000) break
      if (events % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(stalled).toBe(true)
    // The server was held back: it could not run far ahead of what was read.
    expect(written).toBeLessThan(50_000_000)
    expect(await run.summary).toMatchObject({ reason: 'interrupted' })
  })
})

// What an SSE client library is configured with (LaunchDarkly's sse-contract-tests test service:
// method, body, headers, initial Last-Event-ID, initial retry delay, read timeout), as options.
describe('probe() as an SSE client', () => {
  it('sends method, body and headers on every connection, and Last-Event-ID from the stream', async () => {
    const seen: { method?: string; headers: Record<string, unknown>; body: string }[] = []
    const server = await startServer(async (req, res, index) => {
      let body = ''
      for await (const chunk of req) body += chunk
      seen.push({ method: req.method, headers: req.headers, body })
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // The second event's id line is in an unterminated event: discarded with it.
      res.end(
        index === 0 ? 'id: abc\ndata: Hello\n\nid: def\ndata: Goodbye' : 'event: end\ndata:\n\n',
      )
    })
    const summary = await probe(server.url, {
      method: 'REPORT',
      data: '{"hello": "world"}',
      header: { 'content-type': 'application/json; charset=utf-8', 'header-name-1': 'value-1' },
      lastEventId: 'initial',
      retry: 0,
      reconnect: 'always',
    }).summary
    expect(summary).toMatchObject({ reason: 'end-event', connections: 2 })
    expect(seen.map((request) => request.headers['last-event-id'])).toEqual(['initial', 'abc'])
    for (const request of seen) {
      expect(request).toMatchObject({ method: 'REPORT', body: '{"hello": "world"}' })
      expect(request.headers).toMatchObject({
        accept: 'text/event-stream',
        'cache-control': 'no-cache',
        'content-type': 'application/json; charset=utf-8',
        'header-name-1': 'value-1',
      })
    }
  })

  it('an idle timeout is reset by any byte, not only by a complete line', async () => {
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      await writeSlowly(res, ['data: ', ...'partial', '\n\nevent: end\ndata:\n\n'], 100)
      res.end()
    })
    const summary = await probe(server.url, { idleTimeout: 300 }).summary
    expect(summary).toMatchObject({ reason: 'end-event', events: 2 })
  })
})

describe('probe().reconnect()', () => {
  it('drops the connection; the probe resumes with Last-Event-ID', async () => {
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // The first connection stays open after its event: only reconnect() ends it.
      if (index === 0) res.write('id: 7\ndata: a\n\n')
      else res.end('event: end\ndata: b\n\n')
    })
    const run = probe(server.url, { retry: 0 })
    const types: string[] = []
    for await (const record of run) {
      types.push(record.type)
      if (record.type === 'event' && record.data === 'a') expect(run.reconnect()).toBe(true)
    }
    expect(types).toEqual(['open', 'event', 'close', 'reconnect', 'open', 'event', 'summary'])
    expect(server.requests[1]!.headers['last-event-id']).toBe('7')
    expect(await run.summary).toMatchObject({ reason: 'end-event', connections: 2 })
    // Ended: nothing to drop.
    expect(run.reconnect()).toBe(false)
  })

  it("does nothing with reconnect: 'never', where a drop would end the probe", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: a\n\n')
    })
    const run = probe(server.url, { reconnect: 'never', maxEvents: 2, timeout: 500 })
    for await (const record of run) if (record.type === 'event') expect(run.reconnect()).toBe(false)
    expect(await run.summary).toMatchObject({ reason: 'timeout', connections: 1 })
  })
})

describe('probe() extensions', () => {
  it('an extension whose hook is not a function is a usage error, thrown at once', () => {
    for (const hook of ['onRecord', 'afterRead', 'isControlEvent', 'settle', 'finish']) {
      const extension = { [hook]: 5 } as unknown as ProbeExtension
      expect(() => probe('http://127.0.0.1:1/', { extensions: [extension] })).toThrow(
        new SseProbeUsageError(`option extensions: extensions[0].${hook} is not a function`),
      )
    }
    // An absent hook, undefined or null, is no hook.
    const run = probe('http://127.0.0.1:1/', {
      extensions: [{ onRecord: undefined }, { finish: null } as unknown as ProbeExtension],
    })
    run.abort()
    return expect(run.summary).resolves.toMatchObject({ reason: 'interrupted' })
  })
})

describe('serve()', () => {
  it('replays an array of records as a mock endpoint, which probe() reads back', async () => {
    const server = await serve(
      [
        { type: 'open', t: 0, attempt: 1, url: 'x', status: 200, httpVersion: '1.1', headers: {} },
        {
          type: 'event',
          t: 5,
          attempt: 1,
          event: 'status',
          id: '1',
          lastEventId: '1',
          data: 'a',
          dt: null,
        },
        {
          type: 'event',
          t: 10,
          attempt: 1,
          event: 'end',
          id: null,
          lastEventId: '1',
          data: 'b',
          dt: 5,
        },
      ],
      { speed: 0 },
    )
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      const records = await collect(probe(server.url))
      expect(records.filter((r) => r.type === 'event').map((r) => r.data)).toEqual(['a', 'b'])
    } finally {
      await server.close()
    }
  })

  it("names a bad record by its place in the array, not by a transcript's line", async () => {
    const event = { type: 'event', t: 0, attempt: 1, event: 'status', id: null, lastEventId: '' }
    const bad = [
      { ...event, data: 'a', dt: null },
      { ...event, dt: 0 },
    ] as ProbeRecord[]
    await expect(serve(bad)).rejects.toThrow(/^records\[1\]: event record: "data" is missing/)
    await expect(serve([])).rejects.toThrow(/^records: nothing to replay/)
  })

  it('a file that cannot be read is a usage error', async () => {
    await expect(serve('/nonexistent.ndjson')).rejects.toThrow(SseProbeUsageError)
  })

  it('names the array index of a bad record, with or without an open record first', async () => {
    const open = { type: 'open', t: 0, attempt: 1, url: '', status: 200, httpVersion: '1.1' }
    const event = { type: 'event', t: 0, attempt: 1, event: 'm', id: null, lastEventId: '' }
    const bad = (records: unknown[]) => serve(records as ProbeRecord[])
    await expect(bad([{ type: 'event' }])).rejects.toThrow(/^records\[0\]: event record: "t"/)
    await expect(bad([{ ...event, data: 'a', dt: null }, { type: 'bogus' }])).rejects.toThrow(
      /^records\[1\]: unknown record type "bogus"/,
    )
    await expect(bad([{ ...open, headers: {} }, { type: 'event' }])).rejects.toThrow(
      /^records\[1\]: event record/,
    )
    await expect(bad([])).rejects.toThrow(/^records: nothing to replay/)
  })

  it('an element that is no record at all (null, undefined, a number) is a usage error, not a TypeError', async () => {
    const event = { type: 'event', t: 0, attempt: 1, event: 'm', id: null, lastEventId: '' }
    const bad = (records: unknown[]) => serve(records as ProbeRecord[])
    for (const first of [null, undefined, 5, 'x', []]) {
      const rejected = bad([first])
      await expect(rejected).rejects.toThrow(SseProbeUsageError)
      await expect(rejected).rejects.toThrow(/^records\[0\]: not a record/)
    }
    await expect(bad([{ ...event, data: 'a', dt: null }, null])).rejects.toThrow(
      /^records\[1\]: not a record/,
    )
  })

  it('a host that is not a string is a usage error, and leaves no server bound', async () => {
    const records = [
      {
        type: 'event',
        t: 0,
        attempt: 1,
        event: 'm',
        id: null,
        lastEventId: '',
        data: 'a',
        dt: null,
      },
    ] as ProbeRecord[]
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap')
    const before = servers().length
    for (const host of [5, '', null]) {
      await expect(serve(records, { host: host as string })).rejects.toThrow(
        new SseProbeUsageError('option host: expected a host name or an IP address'),
      )
    }
    expect(servers().length).toBe(before)
  })

  it('takes interval 0 for a raw capture, as serve --interval 0 does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-serve-'))
    const file = join(dir, 'capture.sse')
    writeFileSync(file, 'data: a\n\nevent: end\ndata: b\n\n')
    const server = await serve(file, { interval: 0 })
    try {
      expect(await probe(server.url).summary).toMatchObject({ reason: 'end-event', events: 2 })
    } finally {
      await server.close()
    }
  })
})

describe('check()', () => {
  it('resolves to the records of check --json', async () => {
    const server = await sseServer(STREAM)
    const report = await check(server.url, { window: '1s' })
    expect(report.checks.map((c) => c.id)).toContain('content-type')
    expect(report.checks.find((c) => c.id === 'content-type')).toMatchObject({ status: 'pass' })
    expect(report.summary).toMatchObject({ type: 'summary', exitCode: expect.any(Number) })
  })

  it('an AbortSignal ends it as Ctrl-C does: a report, exit code 130', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('id: 1\ndata: a\n\n')
    })
    const aborted = await check(server.url, { signal: AbortSignal.abort() })
    // Not "could not connect" (exit 3's message): every check says it was interrupted.
    expect(aborted.summary).toMatchObject({ exitCode: 130, skip: 11 })
    expect(aborted.summary).not.toHaveProperty('message')
    expect(aborted.checks[0]!.measured).toMatch(/^the check was interrupted after /)
    const controller = new AbortController()
    const report = check(server.url, { signal: controller.signal })
    await vi.waitFor(() => expect(server.requests.length).toBeGreaterThan(0))
    controller.abort()
    expect((await report).summary).toMatchObject({ exitCode: 130, connections: 1 })
  })
})

describe('the documentation', () => {
  it('shows the vitest examples that test/lib/*-example.test.ts run, as written', () => {
    const example = readFileSync(new URL('readme-example.test.ts', import.meta.url), 'utf8')
    const read = (doc: string) => readFileSync(new URL(doc, import.meta.url), 'utf8')
    const serveExample = readFileSync(new URL('serve-example.test.ts', import.meta.url), 'utf8')
    expect(read('../../docs/library.md')).toContain(example.trimEnd())
    expect(read('../../docs/library.md')).toContain(serveExample.trimEnd())
    // api.md: the README's section shows a complete vitest file.
    expect(read('../../README.md')).toContain(`### Testing an SSE endpoint in your test suite\n`)
    expect(read('../../README.md')).toContain(example.trimEnd())
  })
})
