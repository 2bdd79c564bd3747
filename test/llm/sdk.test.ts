// The official SDKs as oracles: what sse-probe stitches from a stream must equal
// what `openai` and `@anthropic-ai/sdk` assemble from the same bytes.
import Anthropic from '@anthropic-ai/sdk'
import { createParser } from 'eventsource-parser'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { createLlmExtension } from '../../src/llm/extension.ts'
import type { LlmMode, LlmSummary } from '../../src/llm/types.ts'
import {
  anthropicCompaction,
  anthropicError,
  anthropicMcp,
  anthropicTools,
  anthropicWeb,
  chatAudio,
  chatAudioClosed,
  chatAudioFinished,
  chatAzure,
  chatBadArguments,
  chatCallsOutOfOrder,
  chatChoices,
  chatChoicesCut,
  chatChoicesError,
  chatCompat,
  chatCountedUsage,
  chatCustomTool,
  chatCut,
  chatEmpty,
  chatEmptyIds,
  chatError,
  chatErrorEvent,
  chatFunctionCall,
  chatIdsThenEmpty,
  chatObfuscated,
  chatRefusal,
  chatStamped,
  chatTools,
  chatUsageCleared,
  type LlmStream,
  responsesCustomTool,
  responsesCut,
  responsesError,
  responsesFailed,
  responsesIncomplete,
  responsesOnlyFinal,
  responsesRefusal,
  responsesServerTools,
  responsesTools,
  responsesWholeText,
  serveLlmStreams,
  textOf,
} from '../helpers/llm-streams.ts'
import { runMain } from '../helpers/main.ts'

/** What sse-probe makes of a stream (its bytes through the SSE parser, one record per event). */
function assemble(stream: LlmStream, mode: LlmMode = 'auto') {
  const extension = createLlmExtension({ mode })
  let ended: { reason: string; message?: string } | undefined
  const context = {
    now: () => 0,
    emit() {},
    end(reason: string, message?: string) {
      ended ??= { reason, message }
    },
    signal: new AbortController().signal,
    request: { url: new URL('http://127.0.0.1/'), method: 'POST' },
  }
  const record = (r: Record<string, unknown>) =>
    extension.onRecord!({ attempt: 1, ...r } as never, context as never)
  let t = 0
  const parser = createParser({
    onEvent(message) {
      if (ended) return
      record({
        type: 'event',
        t: ++t,
        event: message.event ?? 'message',
        id: null,
        lastEventId: '',
        data: message.data,
        dt: null,
      })
    },
  })
  parser.feed(textOf(stream))
  if (!ended) record({ type: 'close', t: ++t, cause: 'server-closed' })
  const result = extension.finish!({ reason: (ended?.reason ?? 'server-closed') as never, t })
  return { ended, llm: result.summary?.llm as LlmSummary }
}

/** The no-deltas problem of an answer that is only a refusal: it quotes the refusal. */
const refused = (refusal: string) => ({
  code: 'no-deltas',
  message: `the model refused: ${JSON.stringify(refusal)} (the stream carried no text, reasoning or tool-call arguments)`,
})

const openai = (url: string, name: string) =>
  new OpenAI({ apiKey: 'sk-test', baseURL: `${url}/${name}/v1`, maxRetries: 0 })
const anthropic = (url: string, name: string) =>
  new Anthropic({ apiKey: 'sk-ant-test', baseURL: `${url}/${name}`, maxRetries: 0 })
/** The response the openai SDK's Responses stream finishes with, from the stream served under `name`. */
const openaiResponse = (url: string, name: string) =>
  openai(url, name).responses.stream({ model: 'gpt-test', input: 'hi' }).finalResponse()
/** The message @anthropic-ai/sdk assembles from the stream served under `name`. */
const anthropicMessage = (url: string, name: string) =>
  anthropic(url, name)
    .messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    })
    .finalMessage()

describe('openai-chat against the openai SDK', () => {
  it('text, parallel tool calls by index, arguments split in a surrogate pair and an escape, usage chunk', async () => {
    const url = await serveLlmStreams({ chatTools })
    const final = await openai(url, 'chatTools')
      .chat.completions.stream({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'hi' }],
        stream_options: { include_usage: true },
      })
      .finalChatCompletion()
    const { llm, ended } = assemble(chatTools)
    expect(ended).toEqual({ reason: 'end-data', message: undefined })
    const message = final.choices[0]!.message
    expect(llm.profile).toBe('openai-chat')
    expect(llm.text).toBe(message.content)
    expect(llm.toolCalls).toEqual(
      message.tool_calls!.map((call) => {
        if (call.type !== 'function') throw new Error('not a function call')
        return {
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
          valid: true,
        }
      }),
    )
    expect(JSON.parse(llm.toolCalls[1]!.arguments)).toEqual({ q: 'say "hi" 😀' })
    expect(llm.finishReason).toBe(final.choices[0]!.finish_reason)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.model).toBe(final.model)
    expect(llm.inputTokens).toBe(52)
    expect(llm.outputTokens).toBe(31)
    expect(llm.choices).toBeNull()
    expect(llm.problems).toEqual([])
  })

  it('several choices and reasoning_content (which the SDK does not join: the oracle joins its chunks)', async () => {
    const url = await serveLlmStreams({ chatChoices })
    const stream = openai(url, 'chatChoices').chat.completions.stream({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
      n: 2,
    })
    const reasoning: string[] = ['', '']
    stream.on('chunk', (chunk) => {
      for (const choice of chunk.choices)
        reasoning[choice.index] +=
          (choice.delta as { reasoning_content?: string }).reasoning_content ?? ''
    })
    const final = await stream.finalChatCompletion()
    const { llm } = assemble(chatChoices)
    expect(llm.choices).toEqual(
      final.choices.map((choice) => ({
        index: choice.index,
        text: choice.message.content,
        reasoning: reasoning[choice.index],
        toolCalls: [],
        finishReason: choice.finish_reason,
      })),
    )
    expect(llm.text).toBe('Bonjour le monde')
    expect(llm.reasoning).toBe('Thinking…')
    expect(llm.finishReason).toBe('length')
    expect(llm.usage).toEqual(final.usage)
  })

  it('an error object mid-stream is a stream error, as the SDK throws it', async () => {
    const url = await serveLlmStreams({ chatError })
    const error = await openai(url, 'chatError')
      .chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
      .finalChatCompletion()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    const { llm, ended } = assemble(chatError)
    expect(ended?.reason).toBe('stream-error')
    expect(ended?.message).toContain(
      (error as InstanceType<typeof OpenAI.APIError>).error &&
        'The server had an error while processing your request.',
    )
    expect(llm.problems.map((p) => p.code)).toEqual(['stream-error'])
    expect(llm.text).toBe('Partial')
  })

  it('an error event is a stream error, as the SDK throws it, whatever its data holds', async () => {
    const url = await serveLlmStreams({ chatErrorEvent })
    const error = await openai(url, 'chatErrorEvent')
      .chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
      .finalChatCompletion()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    const { llm, ended } = assemble(chatErrorEvent)
    expect(ended).toEqual({ reason: 'stream-error', message: 'upstream_error: upstream failed' })
    expect(llm.problems.map((p) => p.code)).toEqual(['stream-error'])
    expect(llm.text).toBe('Partial')
  })

  it('several choices, the stream fails before the first says anything: the first is index 0, as the SDK has it', async () => {
    const streams = { chatChoicesError, chatChoicesCut }
    const url = await serveLlmStreams(streams)
    for (const [name, served] of Object.entries(streams)) {
      const stream = openai(url, name).chat.completions.stream({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'hi' }],
        n: 2,
      })
      await expect(stream.finalChatCompletion(), name).rejects.toThrow()
      // What the SDK had assembled when the stream failed.
      const snapshot = stream.currentChatCompletionSnapshot!
      const { llm } = assemble(served)
      expect(llm.text, name).toBe(snapshot.choices[0]!.message.content ?? '')
      expect(llm.text, name).toBe('')
      expect(
        llm.choices?.map((c) => [c.index, c.text]),
        name,
      ).toEqual(snapshot.choices.map((c) => [c.index, c.message.content ?? '']))
    }
  })

  it('a stream cut before [DONE]: the SDK fails, sse-probe reports no-end-marker and keeps the text', async () => {
    const url = await serveLlmStreams({ chatCut })
    const stream = openai(url, 'chatCut').chat.completions.stream({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
    })
    let text = ''
    stream.on('content', (delta) => (text += delta))
    await expect(stream.finalChatCompletion()).rejects.toThrow()
    const { llm } = assemble(chatCut)
    expect(llm.text).toBe(text)
    expect(llm.problems.map((p) => p.code)).toEqual(['no-end-marker'])
  })
})

describe('openai-chat as providers and compatible servers send it today, against the openai SDK', () => {
  /** The SDK's final completion, and the reasoning of each choice joined from its chunks (the SDK does not join it). */
  async function oracle(url: string, name: string) {
    const stream = openai(url, name).chat.completions.stream({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
      stream_options: { include_usage: true },
    })
    let reasoning = ''
    stream.on('chunk', (chunk) => {
      for (const choice of chunk.choices) {
        const d = choice.delta as { reasoning_content?: string | null; reasoning?: string | null }
        if (choice.index === 0) reasoning += d.reasoning_content || d.reasoning || ''
      }
    })
    return { final: await stream.finalChatCompletion(), reasoning }
  }

  /** Everything stitched, field by field, as the SDK has it. */
  function expectSame(llm: LlmSummary, final: Awaited<ReturnType<typeof oracle>>['final']) {
    const choice = final.choices[0]!
    expect(llm.text).toBe(choice.message.content ?? '')
    // A custom tool's input is its arguments; a legacy function_call is a call without an id.
    const legacy = choice.message.function_call
    expect(llm.toolCalls).toEqual([
      ...(choice.message.tool_calls ?? []).map((call) => {
        const [name, args] =
          call.type === 'custom'
            ? [call.custom.name, call.custom.input]
            : [call.function.name, call.function.arguments]
        return { id: call.id, name, arguments: args, valid: true }
      }),
      ...(legacy
        ? [{ id: null, name: legacy.name, arguments: legacy.arguments, valid: true }]
        : []),
    ])
    expect(llm.finishReason).toBe(choice.finish_reason)
    expect(llm.usage).toEqual(final.usage ?? null)
    expect(llm.choices).toBeNull()
  }

  it('OpenAI: service_tier, obfuscation padding that changes from chunk to chunk, escapes, a usage chunk', async () => {
    const url = await serveLlmStreams({ chatObfuscated })
    const { final } = await oracle(url, 'chatObfuscated')
    const { llm, ended } = assemble(chatObfuscated)
    expect(ended?.reason).toBe('end-data')
    expectSame(llm, final)
    expect(llm.model).toBe(final.model)
    expect(llm.deltas).toBe(160)
    expect(llm.problems).toEqual([])
  })

  it('a server that stamps every chunk with an id and a time of its own: text and a tool call as the SDK stitches them', async () => {
    const url = await serveLlmStreams({ chatStamped })
    const { final } = await oracle(url, 'chatStamped')
    const { llm } = assemble(chatStamped)
    expectSame(llm, final)
    expect(llm.deltas).toBe(119)
    expect(llm.toolCalls).toEqual([
      { id: 'call_s', name: 'lookup', arguments: `{"q":"${'ab'.repeat(37)}"}`, valid: true },
    ])
    expect(llm.problems).toEqual([])
  })

  it("vLLM's usage counted in every chunk: the last one, as the SDK keeps it", async () => {
    const url = await serveLlmStreams({ chatCountedUsage })
    const { final } = await oracle(url, 'chatCountedUsage')
    const { llm } = assemble(chatCountedUsage)
    expectSame(llm, final)
    expect(llm.usage).toEqual({ prompt_tokens: 12, total_tokens: 102, completion_tokens: 90 })
    expect(llm.deltas).toBe(90)
  })

  it('usage as the SDK takes it: not from a chunk whose id is "" (TGI), cleared by a later "usage": null', async () => {
    const url = await serveLlmStreams({ chatEmptyIds, chatUsageCleared })
    for (const [name, stream] of [
      ['chatEmptyIds', chatEmptyIds],
      ['chatUsageCleared', chatUsageCleared],
    ] as const) {
      const { final } = await oracle(url, name)
      const { llm } = assemble(stream)
      expectSame(llm, final)
      expect(final.usage ?? null, name).toBeNull()
      expect(llm.deltas, name).toBe(40)
    }
  })

  it('usage where ids change, then are empty: a template takes no empty id, whose usage the SDK ignores', async () => {
    const streams = { cleared: chatIdsThenEmpty(false), counted: chatIdsThenEmpty(true) }
    const url = await serveLlmStreams(streams)
    for (const [name, stream] of Object.entries(streams)) {
      const { final } = await oracle(url, name)
      const { llm } = assemble(stream)
      expectSame(llm, final)
      expect(llm.usage, name).toEqual({ prompt_tokens: 1, completion_tokens: 20, total_tokens: 21 })
    }
  })

  it('calls whose indexes come out of order (SGLang): in index order, as the SDK keeps them', async () => {
    const url = await serveLlmStreams({ chatCallsOutOfOrder })
    const { final } = await oracle(url, 'chatCallsOutOfOrder')
    const { llm } = assemble(chatCallsOutOfOrder)
    expectSame(llm, final)
    expect(llm.toolCalls.map((call) => call.id)).toEqual(['call_m', 'call_k'])
    expect(llm.problems).toEqual([])
  })

  it('a refusal is not text: the SDK keeps it in message.refusal; no-deltas quotes it', async () => {
    const url = await serveLlmStreams({ chatRefusal })
    const { final } = await oracle(url, 'chatRefusal')
    expect(final.choices[0]!.message.refusal).toBe("I'm sorry, I cannot help with that.")
    const { llm } = assemble(chatRefusal)
    expectSame(llm, final)
    // Not a delta, so no-deltas: whose message says that the model refused, and what it said.
    expect(llm.problems).toEqual([refused(final.choices[0]!.message.refusal!)])
  })

  it("an audio answer that ends with an expires_at-only delta: finished with 'stop', as the SDK finishes it; its transcript is no text", async () => {
    const url = await serveLlmStreams({ chatAudio })
    const { final } = await oracle(url, 'chatAudio')
    expect(final.choices[0]!.finish_reason).toBe('stop')
    const { llm, ended } = assemble(chatAudio)
    expect(ended?.reason).toBe('end-data')
    expectSame(llm, final)
  })

  it('an audio answer with a finish_reason before its expires_at delta, or closed before [DONE]: as the SDK has it', async () => {
    const url = await serveLlmStreams({ chatAudioFinished, chatAudioClosed })
    const given = await oracle(url, 'chatAudioFinished')
    expect(given.final.choices[0]!.finish_reason).toBe('length')
    expectSame(assemble(chatAudioFinished).llm, given.final)
    const closed = await oracle(url, 'chatAudioClosed')
    expect(closed.final.choices[0]!.finish_reason).toBe('stop')
    const { llm } = assemble(chatAudioClosed)
    expectSame(llm, closed.final)
    expect(llm.problems.map((p) => p.code)).toEqual(['no-end-marker', 'no-deltas'])
  })

  it("a custom tool's call beside a function call: name and input (code, not JSON) as the SDK assembles them, no problem", async () => {
    const url = await serveLlmStreams({ chatCustomTool })
    const { final } = await oracle(url, 'chatCustomTool')
    const { llm, ended } = assemble(chatCustomTool)
    expect(ended?.reason).toBe('end-data')
    expectSame(llm, final)
    expect(llm.toolCalls[0]).toMatchObject({
      name: 'code_exec',
      arguments: 'print("hi")\nx = {1: 2}',
    })
    expect(llm.problems).toEqual([])
  })

  it('the function_call of a deprecated functions request: name and arguments as the SDK assembles them', async () => {
    const url = await serveLlmStreams({ chatFunctionCall })
    const { final } = await oracle(url, 'chatFunctionCall')
    const { llm, ended } = assemble(chatFunctionCall)
    expect(ended?.reason).toBe('end-data')
    expectSame(llm, final)
    expect(final.choices[0]!.message.function_call).toBeDefined()
    expect(JSON.parse(llm.toolCalls[0]!.arguments)).toEqual({ city: 'Zürich' })
    expect(llm.problems).toEqual([])
  })

  it('Azure: a prompt_filter_results chunk with empty choices first, content_filter_results per choice', async () => {
    const url = await serveLlmStreams({ chatAzure })
    const { final } = await oracle(url, 'chatAzure')
    const { llm, ended } = assemble(chatAzure)
    expect(ended?.reason).toBe('end-data')
    expect(llm.profile).toBe('openai-chat')
    expectSame(llm, final)
    expect(llm.model).toBe(final.model)
    expect(llm.problems).toEqual([])
  })

  it('vLLM, Ollama, OpenRouter, DeepSeek: CRLF, data: without a space, comments, reasoning, finish and usage in one chunk', async () => {
    const url = await serveLlmStreams({ chatCompat })
    const { final, reasoning } = await oracle(url, 'chatCompat')
    const { llm, ended } = assemble(chatCompat)
    expect(ended?.reason).toBe('end-data')
    expectSame(llm, final)
    expect(llm.reasoning).toBe(reasoning)
    expect(llm.reasoning).toBe('Let me think. Still.')
    expect(llm.toolCalls[0]!.arguments).toBe('{"id": 7}')
    expect(llm.problems).toEqual([])
  })

  it('JSON data after whitespace (data:  {…}, a tab): read as the SDK parses it, the first chunk recognised', async () => {
    // Every other chunk, the first one too, begins with a space or a tab before its JSON.
    let n = 0
    const chatSpaced: LlmStream = {
      frames: chatObfuscated.frames.map((frame) =>
        frame.replace(/^data: \{/m, () =>
          n++ % 2 === 0 ? `data: ${n % 4 === 1 ? ' ' : '\t'}{` : 'data: {',
        ),
      ),
    }
    expect(textOf(chatSpaced)).toContain('data:  {"id"')
    expect(textOf(chatSpaced)).toContain('data: \t{"id"')
    const url = await serveLlmStreams({ chatSpaced })
    const { final } = await oracle(url, 'chatSpaced')
    const { llm, ended } = assemble(chatSpaced)
    expect(ended?.reason).toBe('end-data')
    expect(llm.profile).toBe('openai-chat')
    expectSame(llm, final)
    expect(llm.deltas).toBe(160)
    expect(llm.problems).toEqual([])
  })
})

describe('anthropic against @anthropic-ai/sdk', () => {
  it('ping, thinking, text, tool_use with input_json_delta, a tool without fragments, usage', async () => {
    const url = await serveLlmStreams({ anthropicTools })
    const final = await anthropicMessage(url, 'anthropicTools')
    const { llm, ended } = assemble(anthropicTools)
    expect(ended?.reason).toBe('end-event')
    expect(llm.profile).toBe('anthropic')
    const blocks = final.content
    expect(llm.text).toBe(blocks.map((b) => (b.type === 'text' ? b.text : '')).join(''))
    expect(llm.reasoning).toBe(
      blocks.map((b) => (b.type === 'thinking' ? b.thinking : '')).join(''),
    )
    const tools = blocks.filter((b) => b.type === 'tool_use')
    expect(
      llm.toolCalls.map((c) => ({ id: c.id, name: c.name, input: JSON.parse(c.arguments) })),
    ).toEqual(tools.map((b) => ({ id: b.id, name: b.name, input: b.input })))
    expect(llm.toolCalls.map((c) => c.arguments)).toEqual([
      '{"city": "Z\\u00fcrich", "unit": "°C"}',
      '{}',
    ])
    expect(llm.finishReason).toBe(final.stop_reason)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.model).toBe(final.model)
    expect([llm.inputTokens, llm.outputTokens]).toEqual([472, 89])
    expect(llm.problems).toEqual([])
  })

  it('thinking with a signature, redacted_thinking, a web search with its result, citations, input split in an escape and a surrogate pair', async () => {
    const url = await serveLlmStreams({ anthropicWeb })
    const final = await anthropicMessage(url, 'anthropicWeb')
    const { llm, ended } = assemble(anthropicWeb)
    expect(ended?.reason).toBe('end-event')
    const blocks = final.content
    expect(llm.text).toBe(blocks.map((b) => (b.type === 'text' ? b.text : '')).join(''))
    expect(llm.reasoning).toBe(
      blocks.map((b) => (b.type === 'thinking' ? b.thinking : '')).join(''),
    )
    const tools = blocks.filter((b) => b.type === 'tool_use' || b.type === 'server_tool_use')
    expect(
      llm.toolCalls.map((c) => ({ id: c.id, name: c.name, input: JSON.parse(c.arguments) })),
    ).toEqual(tools.map((b) => ({ id: b.id, name: b.name, input: b.input })))
    expect(JSON.parse(llm.toolCalls[1]!.arguments)).toEqual({ msg: 'sunny "ok" 😀' })
    expect(llm.finishReason).toBe(final.stop_reason)
    expect(llm.usage).toEqual(final.usage)
    expect([llm.inputTokens, llm.outputTokens]).toEqual([2100, 120])
    expect(llm.problems).toEqual([])
  })

  it("an MCP server's tool call (beta): its id, name and input, as the beta SDK assembles them", async () => {
    const url = await serveLlmStreams({ anthropicMcp })
    const final = await anthropic(url, 'anthropicMcp')
      .beta.messages.stream({
        model: 'claude-test',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .finalMessage()
    const { llm, ended } = assemble(anthropicMcp)
    expect(ended?.reason).toBe('end-event')
    const tools = final.content.filter((b) => b.type === 'mcp_tool_use')
    expect(
      llm.toolCalls.map((c) => ({ id: c.id, name: c.name, input: JSON.parse(c.arguments) })),
    ).toEqual(tools.map((b) => ({ id: b.id, name: b.name, input: b.input })))
    expect(llm.toolCalls).toHaveLength(1)
    expect(llm.text).toBe('Two issues.')
    expect(llm.problems).toEqual([])
  })

  it("compaction (beta): its summary is no text; message_delta's iterations kept in the usage, as the beta SDK keeps them", async () => {
    const url = await serveLlmStreams({ anthropicCompaction })
    const final = await anthropic(url, 'anthropicCompaction')
      .beta.messages.stream({
        model: 'claude-test',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .finalMessage()
    const { llm, ended } = assemble(anthropicCompaction)
    expect(ended?.reason).toBe('end-event')
    expect(llm.text).toBe('Still sunny.')
    expect(llm.deltas).toBe(1)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.usage?.iterations).toHaveLength(2)
    expect(llm.finishReason).toBe(final.stop_reason)
    expect(llm.problems).toEqual([])
  })

  it('an error event is a stream error, as the SDK throws it', async () => {
    const url = await serveLlmStreams({ anthropicError })
    const error = await anthropicMessage(url, 'anthropicError').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    const { llm, ended } = assemble(anthropicError)
    expect(ended).toEqual({ reason: 'stream-error', message: 'overloaded_error: Overloaded' })
    expect(llm.text).toBe('Hel')
  })
})

describe('openai-responses against the openai SDK', () => {
  it('reasoning summary, text, a function call, usage and status', async () => {
    const url = await serveLlmStreams({ responsesTools })
    const stream = openai(url, 'responsesTools').responses.stream({
      model: 'gpt-test',
      input: 'hi',
    })
    let reasoning = ''
    stream.on('response.reasoning_summary_text.delta', (event) => (reasoning += event.delta))
    const final = await stream.finalResponse()
    const { llm, ended } = assemble(responsesTools)
    expect(ended?.reason).toBe('end-event')
    expect(llm.profile).toBe('openai-responses')
    expect(llm.text).toBe(final.output_text)
    expect(llm.reasoning).toBe(reasoning)
    const calls = final.output.filter((item) => item.type === 'function_call')
    expect(llm.toolCalls).toEqual(
      calls.map((c) => ({ id: c.call_id, name: c.name, arguments: c.arguments, valid: true })),
    )
    expect(llm.finishReason).toBe(final.status)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.model).toBe(final.model)
    expect(llm.problems).toEqual([])
  })

  it("a custom tool's call alone: its call_id, name and input (code, not JSON) as the SDK assembles them, no problem", async () => {
    const url = await serveLlmStreams({ responsesCustomTool })
    const final = await openaiResponse(url, 'responsesCustomTool')
    const { llm, ended } = assemble(responsesCustomTool)
    expect(ended?.reason).toBe('end-event')
    const calls = final.output.filter((item) => item.type === 'custom_tool_call')
    expect(calls).toHaveLength(1)
    expect(llm.toolCalls).toEqual(
      calls.map((c) => ({ id: c.call_id, name: c.name, arguments: c.input, valid: true })),
    )
    expect(llm.text).toBe(final.output_text)
    expect(llm.finishReason).toBe(final.status)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.deltas).toBe(4)
    expect(llm.problems).toEqual([])
  })

  it("calls interleaved by output_index, an MCP server's call, code interpreter and image partial events, reasoning_text, an annotation: as the SDK assembles them", async () => {
    const url = await serveLlmStreams({ responsesServerTools })
    const stream = openai(url, 'responsesServerTools').responses.stream({
      model: 'gpt-test',
      input: 'hi',
    })
    let reasoning = ''
    stream.on('response.reasoning_text.delta', (event) => (reasoning += event.delta))
    const final = await stream.finalResponse()
    const { llm, ended } = assemble(responsesServerTools)
    expect(ended?.reason).toBe('end-event')
    // The calls whose arguments the SDK assembles, in output order (an MCP call has no call_id).
    const calls = final.output.flatMap((item) =>
      item.type === 'function_call'
        ? [{ id: item.call_id, name: item.name, arguments: item.arguments, valid: true }]
        : item.type === 'mcp_call'
          ? [{ id: item.id, name: item.name, arguments: item.arguments, valid: true }]
          : [],
    )
    expect(calls).toHaveLength(3)
    expect(llm.toolCalls).toEqual(calls)
    expect(llm.text).toBe(final.output_text)
    expect(llm.reasoning).toBe(reasoning)
    expect(llm.finishReason).toBe(final.status)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.problems).toEqual([])
  })

  it('response.failed (which the SDK resolves with status failed) is a stream error', async () => {
    const url = await serveLlmStreams({ responsesFailed })
    const final = await openaiResponse(url, 'responsesFailed')
    const { llm, ended } = assemble(responsesFailed)
    expect(ended).toEqual({
      reason: 'stream-error',
      message: `server_error: ${final.error!.message}`,
    })
    expect(llm.finishReason).toBe(final.status)
    expect(llm.text).toBe('Sure')
  })
  it('a refusal (not output_text) and response.incomplete: text, usage and status as the SDK has them', async () => {
    const url = await serveLlmStreams({ responsesIncomplete })
    const final = await openaiResponse(url, 'responsesIncomplete')
    const { llm, ended } = assemble(responsesIncomplete)
    expect(ended).toEqual({ reason: 'end-event', message: undefined })
    expect(llm.text).toBe(final.output_text)
    expect(llm.finishReason).toBe(final.status)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.problems).toEqual([])
  })

  it('a refusal alone: no text, and no-deltas quotes the refusal part the SDK assembles', async () => {
    const url = await serveLlmStreams({ responsesRefusal })
    const final = await openaiResponse(url, 'responsesRefusal')
    const { llm, ended } = assemble(responsesRefusal)
    expect(ended).toEqual({ reason: 'end-event', message: undefined })
    const item = final.output[0]!
    const part = item.type === 'message' ? item.content[0] : undefined
    if (part?.type !== 'refusal') throw new Error('no refusal part')
    expect(llm.text).toBe(final.output_text)
    expect(llm.toolCalls).toEqual([])
    expect(llm.finishReason).toBe(final.status)
    expect(llm.usage).toEqual(final.usage)
    expect(llm.problems).toEqual([refused(part.refusal)])
  })

  it('text given whole, without deltas (in its done events, or only in the final response): as the SDK keeps it, once', async () => {
    const url = await serveLlmStreams({ responsesWholeText, responsesOnlyFinal })
    for (const [name, stream] of Object.entries({ responsesWholeText, responsesOnlyFinal })) {
      const final = await openaiResponse(url, name)
      const { llm, ended } = assemble(stream)
      expect(ended?.reason, name).toBe('end-event')
      expect(final.output_text, name).toBe('Sure — checking.')
      expect(llm.text, name).toBe(final.output_text)
      expect(llm.usage, name).toEqual(final.usage)
      expect(llm.problems, name).toEqual([])
    }
  })

  it('closed before response.completed: the SDK resolves with the last status (in_progress), sse-probe says the same', async () => {
    const url = await serveLlmStreams({ responsesCut })
    const final = await openaiResponse(url, 'responsesCut')
    const { llm, ended } = assemble(responsesCut)
    expect(ended).toBeUndefined()
    expect(llm.finishReason).toBe(final.status)
    expect(llm.finishReason).toBe('in_progress')
    expect(llm.text).toBe(final.output_text)
    const calls = final.output.filter((item) => item.type === 'function_call')
    expect(llm.toolCalls).toEqual(
      calls.map((c) => ({ id: c.call_id, name: c.name, arguments: c.arguments, valid: false })),
    )
    expect(llm.usage).toEqual(final.usage ?? null)
    expect(llm.problems.map((p) => p.code)).toEqual(['no-end-marker', 'invalid-tool-arguments'])
  })

  it('an error event is a stream error, as the SDK throws it', async () => {
    const url = await serveLlmStreams({ responsesError })
    const error = await openaiResponse(url, 'responsesError').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    const { llm, ended } = assemble(responsesError)
    expect(ended).toEqual({
      reason: 'stream-error',
      message: 'server_error: The server had an error while processing your request.',
    })
    expect(llm.text).toBe('Sure')
  })
})

describe('through the real CLI', () => {
  // What depends on the network's timing; everything else must be the same as in process.
  const stitched = ({
    ttftMs,
    ttfoMs,
    itlMs,
    reads,
    maxDeltasPerRead,
    tokensPerSecond,
    ...rest
  }: LlmSummary) => rest

  it('sse-probe --json stitches every stream as the in-process assembly (checked above against the SDKs)', async () => {
    const streams = {
      chatTools,
      chatChoices,
      chatError,
      chatCut,
      chatBadArguments,
      chatCallsOutOfOrder,
      chatEmpty,
      anthropicTools,
      anthropicError,
      responsesTools,
      responsesFailed,
      chatObfuscated,
      chatStamped,
      chatCountedUsage,
      chatRefusal,
      chatAzure,
      chatCompat,
      chatChoicesError,
      chatChoicesCut,
      anthropicWeb,
      responsesIncomplete,
      responsesRefusal,
      responsesError,
      responsesCut,
      chatCustomTool,
      responsesCustomTool,
      responsesWholeText,
      chatFunctionCall,
      responsesServerTools,
      anthropicCompaction,
      chatAudio,
    }
    const url = await serveLlmStreams(streams)
    for (const [name, stream] of Object.entries(streams)) {
      const run = await runMain([
        '--json',
        '--reconnect',
        'never',
        '-d',
        '{"stream":true}',
        `${url}/${name}`,
      ])
      const { llm, ended } = assemble(stream)
      expect(stitched(run.summary.llm as unknown as LlmSummary), name).toEqual(stitched(llm))
      expect(run.summary.reason, name).toBe(ended?.reason ?? 'server-closed')
    }
  })
})
