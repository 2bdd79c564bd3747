// LLM streams through the real CLI, against local servers.
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createParser } from 'eventsource-parser'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { LlmSummary } from '../../src/llm/types.ts'
import { startBufferingProxy } from '../helpers/buffering-proxy.ts'
import { CLI } from '../helpers/cli.ts'
import {
  anthropicToolOnly,
  anthropicTools,
  chatAzure,
  chatBadArguments,
  chatChoiceOneFirst,
  chatChoices,
  chatCountedUsage,
  chatCut,
  chatEmpty,
  chatError,
  chatGemini,
  chatNoChoiceZero,
  chatObfuscated,
  chatRefusal,
  chatStamped,
  chatTokens,
  chatTools,
  type LlmStream,
  logStream,
  responsesIncomplete,
  responsesTools,
  serveLlmStreams,
  statusStream,
} from '../helpers/llm-streams.ts'
import { runMain } from '../helpers/main.ts'
import { startServer, writeSlowly } from '../helpers/server.ts'

const SUMMARY_LLM_FIELDS = [
  'profile',
  'model',
  'ttftMs',
  'ttfoMs',
  'itlMs',
  'deltas',
  'reads',
  'maxDeltasPerRead',
  'inputTokens',
  'outputTokens',
  'tokensPerSecond',
  'text',
  'reasoning',
  'toolCalls',
  'finishReason',
  'usage',
  'choices',
  'problems',
]

const llmOf = (summary: unknown) => (summary as { llm?: LlmSummary }).llm

describe('sse-probe --json on LLM streams', () => {
  it('ends by itself at [DONE] and gives summary.llm with exactly the contract fields', async () => {
    const url = await serveLlmStreams({ chatTools })
    const run = await runMain(['--json', '-d', '{"stream":true}', `${url}/chatTools`])
    expect(run.exitCode).toBe(0)
    expect(run.summary.reason).toBe('end-data')
    const llm = llmOf(run.summary)!
    expect(Object.keys(llm)).toEqual(SUMMARY_LLM_FIELDS)
    expect(llm).toMatchObject({
      profile: 'openai-chat',
      model: 'gpt-test-2026',
      text: 'Checking the weather in Zürich 🌦',
      finishReason: 'tool_calls',
      inputTokens: 52,
      outputTokens: 31,
      deltas: 7,
      problems: [],
    })
    expect(llm.toolCalls.map((c) => c.name)).toEqual(['get_weather', 'search'])
    expect(llm.ttftMs).toBeGreaterThan(0)
    expect(llm.ttfoMs).toBe(llm.ttftMs)
    expect(llm.reads).toBeGreaterThanOrEqual(1)
    // JSON output is the usual records: every event is there.
    expect(run.ofType('event')).toHaveLength(chatTools.frames.length)
  })

  it('a streamed error ends with stream-error, exit 3, its message in the summary', async () => {
    const url = await serveLlmStreams({ chatError })
    const run = await runMain(['--json', '-d', '{}', `${url}/chatError`])
    expect(run.exitCode).toBe(3)
    expect(run.summary.reason).toBe('stream-error')
    expect(run.summary.message).toBe(
      'server_error: The server had an error while processing your request.',
    )
    expect(llmOf(run.summary)!.problems.map((p) => p.code)).toEqual(['stream-error'])
    expect(run.stderr).toContain('stream-error')
  })

  it("an error right after Azure's prompt-filter chunk is a stream error, not a plain stream's close", async () => {
    const azureError: LlmStream = {
      frames: [chatAzure.frames[0]!, chatError.frames.at(-1)!],
    }
    const url = await serveLlmStreams({ azureError })
    const run = await runMain(['--json', '-d', '{}', `${url}/azureError`])
    expect(run.exitCode).toBe(3)
    expect(run.summary.reason).toBe('stream-error')
    expect(llmOf(run.summary)!.profile).toBe('openai-chat')
  })

  it('--expect-llm fails on invalid tool arguments, a cut stream, no output; holds on a good stream', async () => {
    const url = await serveLlmStreams({ chatBadArguments, chatCut, chatEmpty, chatTools })
    for (const [name, code] of [
      ['chatBadArguments', 'invalid-tool-arguments'],
      ['chatCut', 'no-end-marker'],
      ['chatEmpty', 'no-deltas'],
    ]) {
      const run = await runMain([
        '--json',
        '--expect-llm',
        '--reconnect',
        'never',
        '-d',
        '{}',
        `${url}/${name}`,
      ])
      expect(run.exitCode, name).toBe(1)
      expect(
        llmOf(run.summary)!.problems.map((p) => p.code),
        name,
      ).toEqual([code])
      expect(run.summary.expectations).toEqual([{ name: '--expect-llm', ok: false, actual: code }])
    }
    const good = await runMain(['--json', '--expect-llm', '-d', '{}', `${url}/chatTools`])
    expect(good.exitCode).toBe(0)
    expect(good.summary.expectations).toEqual([
      { name: '--expect-llm', ok: true, actual: 'openai-chat' },
    ])
  })

  it("Gemini's tool calls without an index, each in a chunk of its own: one call each, not one call of joined arguments", async () => {
    const url = await serveLlmStreams({ chatGemini })
    const run = await runMain(['--json', '--expect-llm', '-d', '{}', `${url}/chatGemini`])
    expect(llmOf(run.summary)).toMatchObject({
      text: 'Checking both.',
      toolCalls: [
        // Its fragment without an id continues the call at its position.
        { id: 'function-call-1', name: 'get_weather', arguments: '{"city":"Paris"}', valid: true },
        { id: 'function-call-2', name: 'get_weather', arguments: '{"city":"Rome"}', valid: true },
        { id: 'function-call-3', name: 'search', arguments: '{"q":"x"}', valid: true },
      ],
      finishReason: 'stop',
      problems: [],
    })
    expect(run.summary.reason).toBe('end-data')
    expect(run.exitCode).toBe(0)
  })

  it('--expect-llm holds on an answer that is only a call of a tool with no arguments', async () => {
    // Its one fragment is empty, so no delta: the call is still output, not a stream without any.
    const url = await serveLlmStreams({ anthropicToolOnly })
    const run = await runMain(['--json', '--expect-llm', '-d', '{}', `${url}/anthropicToolOnly`])
    expect(llmOf(run.summary)).toMatchObject({
      deltas: 0,
      toolCalls: [{ id: 'toolu_1', name: 'get_time', arguments: '{}', valid: true }],
      problems: [],
    })
    expect(run.summary.expectations).toEqual([
      { name: '--expect-llm', ok: true, actual: 'anthropic' },
    ])
    expect(run.exitCode).toBe(0)
  })

  it('a Responses end marker or failure ends the probe whatever its response object holds', async () => {
    const frame = (type: string, data: string) => `event: ${type}\ndata: ${data}\n\n`
    const created = frame('response.created', '{"type":"response.created","response":{"id":"r"}}')
    const url = await serveLlmStreams({
      completed: {
        frames: [
          created,
          frame('response.completed', '{"type":"response.completed","response":null}'),
        ],
      },
      failed: { frames: [created, frame('response.failed', '{"type":"response.failed"}')] },
    })
    const completed = await runMain(['--json', '--no-reconnect', `${url}/completed`])
    expect([completed.summary.reason, completed.exitCode]).toEqual(['end-event', 0])
    const failed = await runMain(['--json', '--no-reconnect', `${url}/failed`])
    expect([failed.summary.reason, failed.summary.message, failed.exitCode]).toEqual([
      'stream-error',
      'response.failed',
      3,
    ])
  })

  it('writes a long stitched text whole: its summary line comes in pieces, as one JSON line', async () => {
    // ~90 KB of text, escapes and astral characters falling on every offset of the pieces.
    const token = (i: number) => ` "t${i}" \\ 😀 é${i % 7 === 0 ? '\n' : ''}`
    const url = await serveLlmStreams({ long: chatTokens(6000, 500, 1, token) })
    const run = await runMain(['--json', '-d', '{}', `${url}/long`])
    expect(run.exitCode).toBe(0)
    const text = Array.from({ length: 6000 }, (_, i) => token(i)).join('')
    expect(text.length).toBeGreaterThan(80_000)
    expect(llmOf(run.summary)!.text).toBe(text)
    const lines = run.stdout.split('\n')
    expect(lines.at(-1)).toBe('')
    expect(JSON.parse(lines.at(-2)!).llm.text).toBe(text)
  })

  it("writes each event's line as JSON.stringify does, the deltas a template read too", async () => {
    // Padding that varies (Chat, Responses), a counter before the delta, \\u escapes, a tool call,
    // an id and a time in every chunk.
    const streams = {
      chatObfuscated,
      chatStamped,
      chatCountedUsage,
      chatTools,
      chatAzure,
      anthropicTools,
      responsesTools,
    }
    const url = await serveLlmStreams(streams)
    for (const [name, stream] of Object.entries(streams)) {
      const sent: string[] = []
      createParser({ onEvent: (event) => sent.push(event.data) }).feed(stream.frames.join(''))
      const run = await runMain(['--json', '--no-reconnect', '-d', '{}', `${url}/${name}`])
      const lines = run.stdout.split('\n').filter((line) => line.startsWith('{"type":"event"'))
      expect(lines.map((line) => JSON.parse(line).data)).toEqual(sent)
      for (const line of lines) expect(line).toBe(JSON.stringify(JSON.parse(line)))
    }
  })

  it('reads chunks that carry tens of kilobytes besides their delta (not an internal error)', async () => {
    // A proxy's trace in every chunk: more bytes around the delta than V8 compiles into one
    // regular expression, the template the profile learnt from the first.
    const trace = 't'.repeat(40_000)
    const frame = (content: string) =>
      `data: ${JSON.stringify({ object: 'chat.completion.chunk', trace, choices: [{ index: 0, delta: { content } }] })}\n\n`
    const frames = [...['a', 'b', 'c'].map(frame), 'data: [DONE]\n\n']
    const url = await serveLlmStreams({ traced: { frames } })
    const run = await runMain(['--json', '-d', '{}', `${url}/traced`])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(llmOf(run.summary)!.text).toBe('abc')
  })

  it('--expect-llm fails when no LLM stream is recognised', async () => {
    const url = await serveLlmStreams({ statusStream })
    const run = await runMain(['--json', '--expect-llm', `${url}/statusStream`])
    expect(run.exitCode).toBe(1)
    expect(llmOf(run.summary)).toBeUndefined()
  })
})

describe('timing on the wire', () => {
  const sse = (data: unknown, event?: string) =>
    `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`
  // Each format's frames: the start, a reasoning and a text delta, the end with the usage.
  const formats = {
    'openai-chat': {
      start: [
        sse({
          object: 'chat.completion.chunk',
          model: 'm',
          choices: [{ index: 0, delta: { role: 'assistant', content: '' } }],
        }),
      ],
      reasoning: (t: string) =>
        sse({
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta: { reasoning_content: t } }],
        }),
      text: (t: string) =>
        sse({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: t } }] }),
      end: (n: number) => [
        sse({
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk',
          choices: [],
          usage: { prompt_tokens: 5, completion_tokens: n },
        }),
        'data: [DONE]\n\n',
      ],
    },
    'openai-responses': {
      start: [
        sse(
          { type: 'response.created', response: { model: 'm', status: 'in_progress', output: [] } },
          'response.created',
        ),
      ],
      reasoning: (t: string) =>
        sse(
          {
            type: 'response.reasoning_summary_text.delta',
            output_index: 0,
            summary_index: 0,
            delta: t,
          },
          'response.reasoning_summary_text.delta',
        ),
      text: (t: string) =>
        sse(
          { type: 'response.output_text.delta', output_index: 1, content_index: 0, delta: t },
          'response.output_text.delta',
        ),
      end: (n: number) => [
        sse(
          {
            type: 'response.completed',
            response: {
              model: 'm',
              status: 'completed',
              output: [],
              usage: { input_tokens: 5, output_tokens: n },
            },
          },
          'response.completed',
        ),
      ],
    },
    anthropic: {
      start: [
        sse(
          {
            type: 'message_start',
            message: { model: 'm', content: [], usage: { input_tokens: 5, output_tokens: 1 } },
          },
          'message_start',
        ),
        sse(
          {
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'thinking', thinking: '' },
          },
          'content_block_start',
        ),
      ],
      reasoning: (t: string) =>
        sse(
          { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: t } },
          'content_block_delta',
        ),
      text: (t: string) =>
        sse(
          { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: t } },
          'content_block_delta',
        ),
      end: (n: number) => [
        sse(
          {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn' },
            usage: { output_tokens: n },
          },
          'message_delta',
        ),
        sse({ type: 'message_stop' }, 'message_stop'),
      ],
    },
  }
  const REASONING = 5
  const TEXT = 20
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  /**
   * Headers at once, the first token 300 ms later: reasoning, then text, one token per write
   * 20 ms apart, with one stall of `stallMs`; `together`: the writes that carry two tokens.
   */
  async function serveTimed(
    format: keyof typeof formats,
    { together = new Set<number>(), stallMs = 400 } = {},
  ) {
    const f = formats[format]
    const tokens = [
      ...Array.from({ length: REASONING }, (_, i) => f.reasoning(`r${i} `)),
      ...Array.from({ length: TEXT }, (_, i) => f.text(`t${i} `)),
    ]
    return startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(f.start.join(''))
      await sleep(300)
      for (let i = 0; i < tokens.length; i++) {
        if (together.has(i)) res.write(tokens[i]! + tokens[++i]!)
        else res.write(tokens[i])
        if (i < tokens.length - 1) await sleep(i === 12 ? stallMs : 20)
      }
      res.end(f.end(tokens.length).join(''))
    })
  }

  /** The nearest-rank percentile of llm.md's numbers. */
  const nearestRank = (sorted: number[], p: number) =>
    sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]
  const round = (ms: number) => Math.round(ms * 1000) / 1000

  it('times each format as the server wrote it; the numbers agree with the events and the pretty summary', async () => {
    for (const format of Object.keys(formats) as (keyof typeof formats)[]) {
      const server = await serveTimed(format)
      const run = await runMain(['--json', '-d', '{}', server.url])
      const llm = llmOf(run.summary)!
      expect(llm, format).toMatchObject({
        profile: format,
        deltas: REASONING + TEXT,
        outputTokens: REASONING + TEXT,
        problems: [],
      })
      // The wire's own times: the events that carry tokens, by the data the server wrote.
      const times = run
        .ofType('event')
        .filter((e) => /"(r|t)\d+ "/.test(e.data))
        .map((e) => e.t)
      const reads = [...new Set(times)]
      const gaps = times.slice(1).map((t, i) => round(t - times[i]!))
      const sorted = [...gaps].sort((a, b) => a - b)
      expect(llm.ttftMs, format).toBe(times[0])
      expect(llm.ttfoMs, format).toBe(times[REASONING])
      expect(llm.reads, format).toBe(reads.length)
      expect(llm.itlMs, format).toEqual({
        p50: nearestRank(sorted, 50),
        p95: nearestRank(sorted, 95),
        max: sorted.at(-1),
      })
      expect(llm.tokensPerSecond, format).toBe(
        Math.round(((REASONING + TEXT) / (times.at(-1)! - times[0]!)) * 10_000) / 10,
      )
      // What the server did, with room for a busy machine: timers never fire early.
      expect(llm.ttftMs!, format).toBeGreaterThanOrEqual(299)
      expect(llm.ttfoMs! - llm.ttftMs!, format).toBeGreaterThanOrEqual(REASONING * 15)
      expect(llm.itlMs!.max, format).toBeGreaterThanOrEqual(399)
      expect(llm.itlMs!.p50, format).toBeGreaterThanOrEqual(15)
      expect(llm.maxDeltasPerRead, format).toBeLessThan(4)
    }
    const server = await serveTimed('anthropic')
    const pretty = await runMain(['-d', '{}', server.url])
    expect(pretty.stdout).toBe(
      `${Array.from({ length: REASONING }, (_, i) => `r${i} `).join('')}\n\n${Array.from({ length: TEXT }, (_, i) => `t${i} `).join('')}\n`,
    )
    expect(pretty.stderr).toMatch(/\nfirst token {2}\d\S*s {2}\(first output \d\S*s\)\n/)
    expect(pretty.stderr).toMatch(/\ntoken gaps {3}p50 \d+ms · p95 \d+ms · max \d\S*s\n/)
    expect(pretty.stderr).toMatch(
      /\ntokens {7}in 5 · out 25 · \d+(\.\d)? tokens\/s {2}\(25 deltas in \d+ reads\)\n/,
    )
    expect(pretty.stderr).not.toContain('batched')
  })

  it('warns of batching through a buffering proxy, never for tokens that share a read now and then', async () => {
    // Two tokens in one write, four times over: a healthy stream whose median read carries one.
    const healthy = await serveTimed('openai-chat', { together: new Set([2, 8, 14, 20]) })
    const direct = await runMain(['--json', '-d', '{}', healthy.url])
    expect(llmOf(direct.summary)!.maxDeltasPerRead).toBeGreaterThanOrEqual(2)
    const pretty = await runMain(['-d', '{}', healthy.url])
    expect(pretty.stderr).toContain('llm          openai-chat')
    expect(pretty.stderr).not.toContain('batched')
    // The proxy passes on what it holds every 200 ms: about 10 tokens written 20 ms apart (no
    // stall, so that only the first and last reads can carry few).
    const steady = await serveTimed('openai-chat', { stallMs: 20 })
    const proxy = await startBufferingProxy(steady.url, 200)
    const proxied = await runMain(['--json', '-d', '{}', proxy.url])
    const llm = llmOf(proxied.summary)!
    expect(llm.deltas).toBe(REASONING + TEXT)
    expect(llm.reads).toBeLessThan(llm.deltas / 2)
    expect(llm.itlMs!.p50).toBe(0)
    const warned = await runMain(['-d', '{}', proxy.url])
    expect(warned.stderr).toMatch(
      /⚠ deltas arrived batched \(25 in \d reads?, up to \d+ at once\): something between the client and the model buffers the stream/,
    )
  })

  it('a POST re-sent after a connection that streamed only its role chunk: TTFT from the re-sent request', async () => {
    const role = `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\n\n`
    const token = `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`
    const server = await startServer(async (_req, res, index) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`retry: 1\n${role}`)
      await new Promise((resolve) => setTimeout(resolve, index === 0 ? 800 : 300))
      // The first connection breaks before any token; the second answers 300 ms after its request.
      if (index === 0) res.socket?.destroy()
      else res.end(`${token}data: [DONE]\n\n`)
    })
    const run = await runMain(['--json', '-d', '{}', server.url])
    expect(run.summary).toMatchObject({ reason: 'end-data', reconnects: 1 })
    const llm = llmOf(run.summary)!
    expect(llm).toMatchObject({ text: 'hi', deltas: 1 })
    // From the first request it would be over 800 ms.
    expect(llm.ttftMs).toBeGreaterThanOrEqual(299)
    expect(llm.ttftMs).toBeLessThan(700)
  })
})

describe('detection never fires on other streams', () => {
  // Timings differ from run to run; everything else must not.
  const TIMED = new Set(['t', 'dt', 'startedAt', 'date', 'firstEventMs', 'gapMs'])
  const normalise = (text: string) =>
    text.startsWith('{')
      ? text
          .trimEnd()
          .split('\n')
          .map((line) =>
            JSON.stringify(JSON.parse(line), (key, value) => (TIMED.has(key) ? 'T' : value)),
          )
          .join('\n')
      : text.replace(/\d+(\.\d+)?m?s\b/g, 'T')

  it('a status stream, or a log quoting chunks in strings, looks exactly as with --llm off', async () => {
    const url = await serveLlmStreams({ statusStream, logStream })
    for (const [name, shown] of [
      ['statusStream', 'message_start'],
      ['logStream', 'late'],
    ])
      for (const format of [[], ['--json']]) {
        const once = [...format, '--reconnect', 'never']
        const auto = await runMain([...once, `${url}/${name}`])
        const off = await runMain([...once, '--llm', 'off', `${url}/${name}`])
        expect(auto.exitCode, name).toBe(0)
        expect(normalise(auto.stdout), name).toBe(normalise(off.stdout))
        expect(auto.stdout, name).toContain(shown)
        expect(normalise(auto.stderr), name).toBe(normalise(off.stderr))
        if (format.length > 0) expect(llmOf(auto.summary), name).toBeUndefined()
      }
  })
  it("a model's stream gives exactly the event records of --llm off, its deltas read as known blocks", async () => {
    // Many deltas in few reads (so that the stream reads the template's blocks at once), some
    // with escapes (so that others are parsed), cut inside blocks; LF and CRLF.
    const tokens = Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? `"q${i}"\n` : ` t${i}`))
    const formats = {
      chat: [
        ...tokens.map(
          (content) =>
            `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`,
        ),
        'data: [DONE]\n\n',
      ],
      responses: [
        ...tokens.map(
          (delta, i) =>
            `event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', sequence_number: i + 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta })}\n\n`,
        ),
        `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response: { id: 'r', status: 'completed', output: [] } })}\n\n`,
      ],
      anthropic: [
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', model: 'c', usage: { input_tokens: 1, output_tokens: 1 } } })}\n\n`,
        ...tokens.map(
          (text) =>
            `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })}\n\n`,
        ),
        `event: message_stop\ndata: ${JSON.stringify({ type: 'message_stop' })}\n\n`,
      ],
    }
    for (const [name, blocks] of Object.entries(formats))
      for (const crlf of [false, true]) {
        const body = blocks.join('').replaceAll(crlf ? '\n' : '\0', '\r\n')
        const server = await startServer(async (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' })
          const third = Math.floor(body.length / 3) + 11
          await writeSlowly(
            res,
            [body.slice(0, third), body.slice(third, 2 * third), body.slice(2 * third)],
            30,
          )
          res.end()
        })
        const once = ['--json', '--reconnect', 'never']
        const auto = await runMain([...once, server.url])
        const off = await runMain([...once, '--llm', 'off', server.url])
        const events = (stdout: string) =>
          normalise(stdout)
            .split('\n')
            .filter((line) => line.includes('"type":"event"'))
        const which = `${name}${crlf ? ' CRLF' : ''}`
        expect(llmOf(auto.summary)?.text, which).toBe(tokens.join(''))
        expect(events(auto.stdout), which).toEqual(events(off.stdout))
        expect(events(off.stdout).length, which).toBe(blocks.length)
      }
  })
  it('--expect-llm with --llm off is a usage error: it could never hold', async () => {
    const run = await runMain(['--llm', 'off', '--expect-llm', 'http://127.0.0.1:9/'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe('error: --expect-llm conflicts with --llm off\n')
  })
})

describe('the pretty view', () => {
  it('streams the text, shows tool calls when complete, and the LLM block in the summary', async () => {
    const url = await serveLlmStreams({ chatTools })
    const run = await runMain(['-d', '{}', `${url}/chatTools`])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe(
      'Checking the weather in Zürich 🌦\n⚙ get_weather {"city":"Z\\u00fcrich"}\n⚙ search {"q":"say \\"hi\\" 😀"}\n',
    )
    expect(run.stderr).toMatch(/llm {10}openai-chat {2}model gpt-test-2026/)
    expect(run.stderr).toMatch(/first token {2}\S+ {2}\(first output \S+\)/)
    expect(run.stderr).toContain('tokens       in 52 · out 31')
    expect(run.stderr).toContain('finish       tool_calls')
    expect(run.stderr).not.toContain('batched')
  })

  it('escapes control characters in the text, a tool name and the summary as everywhere else: \\x1b, \\r', async () => {
    const words = ['Red: \x1b[31mred\x1b[0m', ' CR\r\nnext', '\tcol \u202eevil']
    const error = JSON.stringify({ error: { message: 'overloaded \x1b]0;owned\x07' } })
    const call = JSON.stringify({
      object: 'chat.completion.chunk',
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [{ index: 0, id: 'c', function: { name: 'get\nx', arguments: '{}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
    })
    const tokens = chatTokens(3, 1, 1, (i) => words[i]!)
    const url = await serveLlmStreams({
      text: { frames: [...tokens.frames.slice(0, 4), `data: ${call}\n\n`, `data: ${error}\n\n`] },
    })
    const run = await runMain(['-d', '{}', `${url}/text`])
    expect(run.exitCode).toBe(3)
    expect(run.stdout).toBe(
      'Red: \\x1b[31mred\\x1b[0m CR\\r\nnext\tcol \\u202eevil\n⚙ get\\nx {}\n',
    )
    expect(run.stderr).toContain('stream-error: overloaded \\x1b]0;owned\\x07  exit 3')
    expect(run.stderr).toContain('✗ stream-error: overloaded \\x1b]0;owned\\x07\n')
  })

  it('shows a refusal as it arrives, marked and apart, and says in the summary that the model refused', async () => {
    const url = await serveLlmStreams({ chatRefusal, responsesIncomplete })
    const run = await runMain(['--expect-llm', '-d', '{}', `${url}/chatRefusal`])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toBe("refusal: I'm sorry, I cannot help with that.\n")
    expect(run.stderr).toContain(
      '✗ no-deltas: the model refused: "I\'m sorry, I cannot help with that." (the stream carried no text',
    )
    const colored = await runMain(['--color', '-d', '{}', `${url}/chatRefusal`])
    expect(colored.stdout).toContain("\x1b[33mI'm sorry, \x1b[39m")
    // A refusal, then the answer: a blank line between them, as after reasoning.
    const responses = await runMain(['-d', '{}', `${url}/responsesIncomplete`])
    expect(responses.stdout).toBe('refusal: I cannot help.\n\nBut here\n')
  })

  it('--events shows the usual event blocks instead', async () => {
    const url = await serveLlmStreams({ chatTools })
    const run = await runMain(['--events', '-d', '{}', `${url}/chatTools`])
    expect(run.stdout).toContain('"object":"chat.completion.chunk"')
    expect(run.stderr).toContain('llm          openai-chat')
  })

  it('warns when deltas arrive batched, not when they come one by one; hints at include_usage', async () => {
    const batched = chatTokens(40, 8, 20)
    const single = chatTokens(25, 1, 20)
    const noUsage = {
      frames: chatTokens(3, 1).frames.filter((frame) => !frame.includes('"usage":{')),
    }
    // A minimal writer's stream: no finish_reason either, yet it ended at [DONE].
    const bare = {
      frames: noUsage.frames.filter((frame) => !frame.includes('"finish_reason":"stop"')),
    }
    const url = await serveLlmStreams({ batched, single, noUsage, bare, one: chatTokens(1, 1) })
    const a = await runMain(['-d', '{}', `${url}/batched`])
    expect(a.stderr).toMatch(/deltas arrived batched \(40 in \d+ reads?, up to \d+ at once\)/)
    const b = await runMain(['-d', '{}', `${url}/single`])
    expect(b.stderr).not.toContain('batched')
    expect(b.stdout).toBe(`${Array.from({ length: 25 }, (_, i) => `t${i} `).join('')}\n`)
    const one = await runMain(['-d', '{}', `${url}/one`])
    expect(one.stderr).toContain('(1 delta in 1 read)')
    const c = await runMain(['-d', '{}', `${url}/noUsage`])
    expect(c.stderr).toContain('"stream_options": {"include_usage": true}')
    const d = await runMain(['-d', '{}', `${url}/bare`])
    expect(d.stderr).toContain('finish       –')
    expect(d.stderr).toContain('"stream_options": {"include_usage": true}')
    expect(b.stderr).not.toContain('include_usage')
  })

  it('no include_usage hint for an answer that failed or closed before its end (its usage never came)', async () => {
    const url = await serveLlmStreams({ chatError, chatCut })
    const failed = await runMain(['-d', '{}', `${url}/chatError`])
    expect(failed.exitCode).toBe(3)
    expect(failed.stderr).toContain('✗ stream-error: server_error: The server had an error')
    expect(failed.stderr).not.toContain('include_usage')
    const cut = await runMain(['--reconnect', 'never', '-d', '{}', `${url}/chatCut`])
    expect(cut.stderr).toContain('✗ no-end-marker')
    expect(cut.stderr).not.toContain('include_usage')
  })

  it('shows a comment in the middle of the answer on a line of its own', async () => {
    const frames = chatTokens(4, 1).frames
    frames.splice(3, 0, ': keep-alive\n\n')
    const url = await serveLlmStreams({ pinged: { frames } })
    const run = await runMain(['-d', '{}', `${url}/pinged`])
    expect(run.stdout).toMatch(/^t0 t1 \n +\d+\.\d{3}s {2}: keep-alive\nt2 t3 \n$/)
  })

  it('keeps the text on stdout as the model wrote it when a status line goes to stderr', async () => {
    const frames = chatTokens(4, 1).frames
    frames.splice(3, 0, 'retry: 500\n\n')
    const url = await serveLlmStreams({ retried: { frames } })
    const run = await runMain(['-d', '{}', `${url}/retried`])
    expect(run.stderr).toContain('retry: 500ms')
    expect(run.stdout).toBe('t0 t1 t2 t3 \n')
  })

  it('no-deltas says the probe stopped the stream when it did so before the model said anything', async () => {
    const role = `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant' } }] })}\n\n`
    let requests = 0
    const server = await startServer((req, res) => {
      // /refused: its reconnect is refused, and nothing stopped the stream but the server.
      if (req.url === '/refused' && requests++ > 0) return void res.writeHead(503).end()
      if (req.url === '/503') return void res.writeHead(503).end()
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // /held: the model is still thinking when --duration ends the probe; /closed: it never will.
      if (req.url === '/held') res.write(role)
      else res.end(`retry: 10\n${role}`)
    })
    const held = await runMain(['--json', '--duration', '200ms', `${server.url}/held`])
    const closed = await runMain(['--json', '--no-reconnect', `${server.url}/closed`])
    const refused = await runMain(['--json', `${server.url}/refused`])
    const forced = await runMain(['--json', '--llm', 'openai-chat', `${server.url}/503`])
    const noDeltas = (run: typeof held) =>
      llmOf(run.summary)?.problems.find((p) => p.code === 'no-deltas')?.message
    expect(noDeltas(held)).toBe(
      'no text, reasoning or tool-call arguments came before the probe stopped the stream',
    )
    for (const run of [closed, refused, forced])
      expect(noDeltas(run)).toBe('the stream carried no text, reasoning or tool-call arguments')
    expect(refused.summary).toMatchObject({ reason: 'http-error' })
  })

  it("starts a reconnect's answer on a line of its own when stdout is not a terminal", async () => {
    const chunk = (text: string) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}\n\n`
    let requests = 0
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // The first answer is cut before [DONE]; the request re-sent is answered whole.
      if (++requests === 1) res.end(`retry: 1\n${chunk('Half an ')}${chunk('ans')}`)
      else res.end(`${chunk('Whole')}data: [DONE]\n\n`)
    })
    const run = await runMain(['--llm', 'openai-chat', '--reconnect', 'always', server.url])
    expect(run.stdout).toBe('Half an ans\nWhole\n')
  })

  it('prints an emoji whose surrogate pair a server split between two deltas whole', async () => {
    const words = ['Zürich ', 'sun \ud83d', '\ude00 and ', '你好']
    // Paced: each delta is a read of its own, so that each is written on its own.
    const url = await serveLlmStreams({ split: chatTokens(4, 1, 20, (i) => words[i]!) })
    const run = await runMain(['-d', '{}', `${url}/split`])
    expect(run.stdout).toBe('Zürich sun 😀 and 你好\n')
  })

  it('2>&1 into one file: a status line after a cut answer starts on a line of its own', async () => {
    const url = await serveLlmStreams({ chatCut: { ...chatCut, pauseMs: 20 } })
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-llm-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'out.txt')
    const fd = openSync(file, 'w')
    const child = spawn(process.execPath, [CLI, '-d', '{}', '--no-reconnect', `${url}/chatCut`], {
      env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined },
      stdio: ['ignore', fd, fd],
    })
    const exitCode = await new Promise((resolve) => child.on('close', resolve))
    closeSync(fd)
    expect(exitCode).toBe(0)
    const text = readFileSync(file, 'utf8')
    expect(text).toMatch(/\nHalf an ans\n +\d+\.\d{3}s {2}■ connection broke: .*\n── summary/)
  })

  it('dims reasoning and keeps control characters from reaching the terminal', async () => {
    const url = await serveLlmStreams({ chatChoices })
    const run = await runMain(['--color', '-d', '{}', `${url}/chatChoices`])
    expect(run.stdout).toContain('\x1b[2mThink\x1b[22m')
    expect(run.stdout).toContain('Bonjour le monde')
    expect(run.stdout).not.toContain('Hello')
    expect(run.stderr).toContain(
      "choices      2  (the text above is the first one's; --json has each)",
    )
  })

  it('shows index 0 live though another choice speaks first; a stream without index 0 at the end', async () => {
    const url = await serveLlmStreams({ chatChoiceOneFirst, chatNoChoiceZero })
    // The view is the summary's text: the second choice's first words were printed before.
    const run = await runMain(['-d', '{}', `${url}/chatChoiceOneFirst`])
    expect(run.stdout).toBe('First choice\n')
    // Its first choice is the answer, known only once the stream has ended.
    const none = await runMain(['-d', '{}', `${url}/chatNoChoiceZero`])
    expect(none.stdout).toBe('Hmm\n\nOnly choice\n⚙ now {}\n')
    expect(none.exitCode).toBe(0)
  })
})

describe('sse-probe demo llm', () => {
  it('serves and probes an OpenAI-style stream: text, a tool call, usage, [DONE]', async () => {
    const run = await runMain(['demo', 'llm', '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.summary.reason).toBe('end-data')
    const llm = llmOf(run.summary)!
    expect(llm).toMatchObject({
      profile: 'openai-chat',
      model: 'sse-probe-demo-1',
      finishReason: 'tool_calls',
      inputTokens: 42,
      problems: [],
    })
    expect(llm.toolCalls).toEqual([
      {
        id: 'call_demo_1',
        name: 'get_weather',
        arguments: '{"city": "Zürich", "unit": "celsius"}',
        valid: true,
      },
    ])
    expect(llm.text).toMatch(/^Sure! Server-Sent Events stream text/)
    expect(llm.outputTokens).toBeGreaterThanOrEqual(llm.deltas)
    // Realistic timing: tokens a few tens of milliseconds apart, one per read.
    expect(llm.maxDeltasPerRead).toBe(1)
    expect(llm.itlMs!.p50).toBeGreaterThan(5)
  })
})

describe('the library', () => {
  it('probe() takes llm and expectLlm, and its summary has summary.llm', async () => {
    const { probe, SseProbeUsageError } = await import('../../src/index.ts')
    const url = await serveLlmStreams({ chatTools, chatCut })
    const summary = await probe(`${url}/chatTools`, { data: '{}', expectLlm: true }).summary
    expect(summary).toMatchObject({
      reason: 'end-data',
      exitCode: 0,
      expectations: [{ name: '--expect-llm', ok: true }],
    })
    expect(llmOf(summary)?.toolCalls).toHaveLength(2)
    const off = await probe(`${url}/chatTools`, { data: '{}', llm: 'off' }).summary
    expect(off.reason).toBe('server-closed')
    expect(llmOf(off)).toBeUndefined()
    const cut = await probe(`${url}/chatCut`, { data: '{}', reconnect: false, expectLlm: true })
      .summary
    expect(cut.exitCode).toBe(1)
    expect(() => probe(url, { llm: 'gemini' as never })).toThrow(SseProbeUsageError)
    // It could never hold.
    expect(() => probe(url, { llm: 'off', expectLlm: true })).toThrow(
      '--expect-llm conflicts with --llm off',
    )
  })

  it('a reconnect whose answer has not begun when the probe ends leaves the last answer summarised', async () => {
    const { probe } = await import('../../src/index.ts')
    const chunk = JSON.stringify({ choices: [{ index: 0, delta: { content: 'hello' } }] })
    let requests = 0
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // The first answer is cut before [DONE]; the request re-sent gets no answer yet.
      if (++requests === 1) res.end(`retry: 1\ndata: ${chunk}\n\n`)
      else res.flushHeaders()
    })
    const summary = await probe(server.url, { llm: 'openai-chat', duration: '500ms' }).summary
    expect(summary).toMatchObject({ reason: 'duration', reconnects: 1 })
    expect(llmOf(summary)).toMatchObject({
      text: 'hello',
      deltas: 1,
      problems: [{ code: 'no-end-marker' }],
    })
  })
})
