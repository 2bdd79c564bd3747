// Hostile LLM streams: what the profile keeps must never end the command with an internal error.
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { createAssembler, Stitched } from '../../src/llm/assembler.ts'
import { fullParser } from '../../src/llm/profiles.ts'
import type { LlmSummary } from '../../src/llm/types.ts'
import { runCli } from '../helpers/cli.ts'
import { sseServer, startServer } from '../helpers/server.ts'

// JSON.parse reads this; JSON.stringify overflows the stack on it.
const DEPTH = 100_000
const deep = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`
const depthOf = (value: unknown) => {
  let depth = 0
  for (let v = value; Array.isArray(v); v = v[0]) depth++
  return depth
}
const llmOf = (summary: unknown) => (summary as { llm: LlmSummary }).llm

const chat = (extra: string) =>
  `data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[${extra}]}\n\n`
const anthropic = (type: string, data: string) => `event: ${type}\ndata: ${data}\n\n`
const MESSAGE_START = anthropic(
  'message_start',
  '{"type":"message_start","message":{"model":"claude","content":[],"usage":{"input_tokens":1,"output_tokens":1}}}',
)

/** The CLI on a stream that its SDK fails on: stream-error, exit 3, the text before it kept. */
async function expectStreamError(url: string, text: string, message: unknown) {
  const run = await runCli(['--json', '--expect-llm', url])
  expect(run.exitCode).toBe(3)
  expect(run.summary).toMatchObject({ reason: 'stream-error' })
  const llm = llmOf(run.summary)
  expect(llm.text).toBe(text)
  expect(llm.problems).toEqual([{ code: 'stream-error', message }])
}

describe('JSON nested 100k deep in a chunk', () => {
  it('a usage object: the --json summary is written whole, exit 0', async () => {
    const { url } = await sseServer(
      chat('{"index":0,"delta":{"content":"hi"}}') +
        `data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[],"usage":{"deep":${deep}}}\n\n` +
        'data: [DONE]\n\n',
    )
    const run = await runCli(['--json', url])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const llm = llmOf(run.summary)
    expect(llm.text).toBe('hi')
    expect(depthOf((llm.usage as { deep: unknown }).deep)).toBe(DEPTH)
  })

  it("an Anthropic tool's input: its arguments are the input's JSON, exit 0", async () => {
    const { url } = await sseServer(
      MESSAGE_START +
        anthropic(
          'content_block_start',
          `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":${deep}}}`,
        ) +
        anthropic('content_block_stop', '{"type":"content_block_stop","index":0}') +
        anthropic('message_stop', '{"type":"message_stop"}'),
    )
    const run = await runCli(['--json', '--record', '/dev/null', url])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const [call] = llmOf(run.summary).toolCalls
    expect(call).toMatchObject({ name: 'n', valid: true })
    expect(call!.arguments === deep).toBe(true)
  })

  it('a streamed error object: stream-error, exit 3, the summary printed', async () => {
    const { url } = await sseServer(
      MESSAGE_START + anthropic('error', `{"type":"error","error":${deep}}`),
    )
    const run = await runCli([url])
    // No toContain on stderr: a failure would print the 200 KB message.
    const summary = run.stderr.split('\n').find((line) => line.startsWith('── summary'))
    expect(summary?.slice(0, 52)).toBe('── summary  stream-error: {"type":"error","error":[[')
    expect(run.exitCode).toBe(3)
  })
})

describe('a stitched text longer than a string can hold', () => {
  const stitch = (limit: number, ...pieces: string[]) => {
    const stitched = new Stitched(limit)
    for (const piece of pieces) stitched.add(piece)
    return stitched
  }

  it('is cut at the limit, and says so; a text of exactly the limit is whole', () => {
    const cut = stitch(10, 'abcdef', 'ghijkl', 'mn')
    expect(cut.toString()).toBe('abcdefghij')
    expect(cut.cut()).toBe(true)
    const whole = stitch(10, 'abcde', 'fghij')
    expect(whole.toString()).toBe('abcdefghij')
    expect(whole.cut()).toBe(false)
  })

  it('counts characters, not bytes, once a character beyond Latin-1 comes', () => {
    const pieces = ['a'.repeat(1500), '€', 'b'.repeat(600)]
    const cut = stitch(2000, ...pieces)
    expect(cut.toString()).toBe(pieces.join('').slice(0, 2000))
    expect(cut.cut()).toBe(true)
  })

  it('takes long pieces apart from the batch, in order', () => {
    const pieces = ['x', 'a'.repeat(70_000), 'y', '€'.repeat(70_000), 'z']
    expect(stitch(1_000_000, ...pieces).toString()).toBe(pieces.join(''))
    const cut = stitch(100_000, ...pieces)
    expect(cut.toString()).toBe(pieces.join('').slice(0, 100_000))
    expect(cut.cut()).toBe(true)
  })

  it("the summary names each string cut: the text, a tool call's arguments", () => {
    const assembler = createAssembler('openai-chat', fullParser('openai-chat'), 0, undefined, 8)
    const chunk = (delta: object) =>
      JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })
    assembler.event('message', chunk({ content: 'hello ' }), 1)
    assembler.event('message', chunk({ content: 'world' }), 2)
    const call = { index: 0, id: 'c', function: { name: 'f', arguments: '{"a":"1234' } }
    assembler.event('message', chunk({ tool_calls: [call] }), 3)
    assembler.event(
      'message',
      chunk({ tool_calls: [{ index: 0, function: { arguments: '5"}' } }] }),
      4,
    )
    const summary = assembler.summary([])
    expect(summary.text).toBe('hello wo')
    expect(summary.toolCalls).toMatchObject([{ arguments: '{"a":"12', valid: false }])
    expect(summary.problems).toEqual([
      {
        code: 'text-too-long',
        message: 'text longer than the 8 characters a string can hold: cut there',
      },
      {
        code: 'text-too-long',
        message:
          'tool call 0 (f): arguments longer than the 8 characters a string can hold: cut there',
      },
      {
        code: 'invalid-tool-arguments',
        message: expect.stringMatching(/^tool call 0 \(f\): arguments are not JSON: /),
      },
    ])
  })

  it('through the CLI: the summary is printed with text-too-long, not an internal error', async () => {
    // 67 deltas of 8 MiB: past V8's 536,870,888 characters.
    const delta = `data: ${JSON.stringify({ object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content: 'x'.repeat(8 * 1024 ** 2) } }] })}\n\n`
    const { url } = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (let i = 0; i < 67 && !res.destroyed; i++)
        if (!res.write(delta)) await new Promise((resolve) => res.once('drain', resolve))
      res.end('data: [DONE]\n\n')
    })
    const run = await runCli(['-q', '--no-color', '--expect-llm', url], { timeoutMs: 90_000 })
    expect(run.stderr).not.toContain('internal error')
    expect(run.stderr).toContain(
      '✗ text-too-long: text longer than the 536,870,888 characters a string can hold: cut there',
    )
    expect(run.stderr).toContain('── summary  end-data  exit 1')
    expect(run.exitCode).toBe(1)
  }, 120_000)
})

describe('many parallel tool calls', () => {
  it('a finish after each of 150k calls completes each once, in linear time', () => {
    const completed: string[] = []
    const assembler = createAssembler('openai-chat', fullParser('openai-chat'), 0, (output) => {
      if (output.kind === 'tool-call') completed.push(output.call.id!)
    })
    const calls = 150_000
    for (let i = 0; i < calls; i++) {
      // Each finish walked every call before it: 10¹⁰ steps, far past the test's timeout.
      assembler.event(
        'message',
        `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":${i},"id":"c${i}","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`,
        i,
      )
    }
    expect(completed.length).toBe(calls)
    expect(completed[calls - 1]).toBe(`c${calls - 1}`)
    expect(assembler.summary([]).toolCalls.length).toBe(calls)
  })
})

describe('streamed errors of odd shapes', () => {
  it('give a message: the string an error field holds, or a note that there is none', () => {
    expect(
      fullParser('anthropic')('error', '{"type":"error","error":"overloaded"}', {} as never),
    ).toEqual({
      error: 'overloaded',
    })
    expect(fullParser('anthropic')('error', '', {} as never)).toEqual({
      error: 'an error with no message',
    })
    expect(
      fullParser('openai-responses')('error', '{"type":"error","error":42}', {} as never),
    ).toEqual({
      error: '{"type":"error","error":42}',
    })
  })
})

describe("an event name that disagrees with the data's type", () => {
  it('Anthropic: a ping or a nameless event is skipped whatever its data says, as @anthropic-ai/sdk skips it', async () => {
    const delta = (text: string) =>
      `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${text}"}}`
    const { url } = await sseServer(
      MESSAGE_START +
        anthropic(
          'content_block_start',
          '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
        ) +
        anthropic('content_block_delta', delta('a')) +
        anthropic('content_block_delta', delta('b')) +
        anthropic('ping', delta('PING')) +
        `data: ${delta('NAMELESS')}\n\n` +
        anthropic('ping', '{"type":"message_stop"}') +
        anthropic('content_block_delta', delta('c')) +
        anthropic('content_block_stop', '{"type":"content_block_stop","index":0}') +
        anthropic(
          'message_delta',
          '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}',
        ) +
        anthropic('message_stop', '{"type":"message_stop"}'),
    )
    const message = await new Anthropic({ apiKey: 'k', baseURL: url, maxRetries: 0 }).messages
      .stream({ model: 'm', max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'abc' }])
    const run = await runCli(['--json', '--expect-llm', url])
    expect(run.exitCode).toBe(0)
    const llm = llmOf(run.summary)
    expect(llm).toMatchObject({ text: 'abc', finishReason: 'end_turn', problems: [] })
    expect(llm.usage).toEqual(message.usage)
  })
})

describe('a Responses event that the openai SDK throws on, whatever its type says', () => {
  it('under the name error, or with an error object: stream-error, exit 3, as the SDK throws', async () => {
    const event = (name: string, data: object) =>
      `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
    const delta = (text: string, extra = {}) => ({
      type: 'response.output_text.delta',
      output_index: 0,
      item_id: 'msg',
      content_index: 0,
      delta: text,
      ...extra,
    })
    const head =
      event('response.created', {
        type: 'response.created',
        response: { id: 'r', object: 'response', model: 'gpt', status: 'in_progress', output: [] },
      }) +
      event('response.output_item.added', {
        type: 'response.output_item.added',
        output_index: 0,
        item: { id: 'msg', type: 'message', role: 'assistant', status: 'in_progress', content: [] },
      }) +
      event('response.output_text.delta', delta('a')) +
      event('response.output_text.delta', delta('b'))
    const cases = [
      [event('error', delta('E')), '"delta":"E"'],
      [
        event(
          'response.output_text.delta',
          delta('E', { error: { code: 'server_error', message: 'boom' } }),
        ),
        'server_error: boom',
      ],
    ]
    for (const [failing, message] of cases) {
      const { url } = await sseServer(`${head}${failing}`)
      const client = new OpenAI({ apiKey: 'k', baseURL: url, maxRetries: 0 })
      await expect(
        client.responses.stream({ model: 'm', input: 'hi' }).finalResponse(),
      ).rejects.toThrow()
      await expectStreamError(url, 'ab', expect.stringContaining(message!))
    }
  })
})

describe('data that is not JSON, after the profile is recognised', () => {
  const chatText = (text: string) => chat(`{"index":0,"delta":{"content":"${text}"}}`)
  const garbage = '{"object":"chat.completion.chunk","choices":[{"delta":'

  it('Chat: a stream error where the openai SDK throws, the text before it kept, exit 3', async () => {
    const { url } = await sseServer(
      `${chatText('a')}${chatText('b')}data: ${garbage}\n\n${chatText('c')}data: [DONE]\n\n`,
    )
    const client = new OpenAI({ apiKey: 'k', baseURL: url, maxRetries: 0 })
    const stream = client.chat.completions.stream({ model: 'm', messages: [] })
    await expect(stream.finalChatCompletion()).rejects.toThrow('malformed server-sent event JSON')
    await expectStreamError(
      url,
      'ab',
      `data that is not JSON, where the SDKs throw: ${JSON.stringify(garbage)}`,
    )
  })

  it('Responses: a stream error, as the openai SDK throws', async () => {
    const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`
    const { url } = await sseServer(
      event(
        'response.created',
        '{"type":"response.created","response":{"id":"r","object":"response","model":"m","status":"in_progress","output":[]}}',
      ) +
        event(
          'response.output_item.added',
          '{"type":"response.output_item.added","output_index":0,"item":{"id":"i","type":"message","role":"assistant","status":"in_progress","content":[]}}',
        ) +
        event(
          'response.content_part.added',
          '{"type":"response.content_part.added","output_index":0,"item_id":"i","content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}',
        ) +
        event(
          'response.output_text.delta',
          '{"type":"response.output_text.delta","output_index":0,"item_id":"i","content_index":0,"delta":"a"}',
        ) +
        event('response.output_text.delta', 'keep-alive') +
        event('response.completed', '{"type":"response.completed","response":{"id":"r"}}'),
    )
    const client = new OpenAI({ apiKey: 'k', baseURL: url, maxRetries: 0 })
    await expect(
      client.responses.stream({ model: 'm', input: 'hi' }).finalResponse(),
    ).rejects.toThrow('malformed server-sent event JSON')
    await expectStreamError(url, 'a', 'data that is not JSON, where the SDKs throw: "keep-alive"')
  })

  it('Anthropic: a stream error under a name the SDK parses; skipped under ping or no name, or when empty, as the SDK skips them', async () => {
    const text = (t: string) =>
      anthropic(
        'content_block_delta',
        `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${t}"}}`,
      )
    const body = (bad: string) =>
      MESSAGE_START +
      anthropic(
        'content_block_start',
        '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
      ) +
      text('a') +
      bad +
      text('b') +
      anthropic('content_block_stop', '{"type":"content_block_stop","index":0}') +
      anthropic('message_stop', '{"type":"message_stop"}')
    const outcomes = []
    for (const bad of [
      anthropic('content_block_delta', '{"type":'),
      anthropic('ping', 'ping'),
      'data: {\n\n',
      anthropic('content_block_delta', ''),
      anthropic('message_delta', '[DONE]'),
    ]) {
      const { url } = await sseServer(body(bad))
      const client = new Anthropic({ apiKey: 'k', baseURL: url, maxRetries: 0 })
      const sdk = await client.messages
        .stream({ model: 'm', max_tokens: 9, messages: [] })
        .finalMessage()
        .then((m) => (m.content[0] as { text: string }).text)
        .catch(() => 'threw')
      const run = await runCli(['--json', url])
      outcomes.push([sdk, run.exitCode, llmOf(run.summary).text])
    }
    expect(outcomes).toEqual([
      ['threw', 3, 'a'],
      ['ab', 0, 'ab'],
      ['ab', 0, 'ab'],
      ['ab', 0, 'ab'],
      ['threw', 3, 'a'],
    ])
  })
})
