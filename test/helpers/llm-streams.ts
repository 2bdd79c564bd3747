// LLM streams written the way the providers send them, for the SDK-oracle and CLI tests.
import type { ServerResponse } from 'node:http'
import { startServer } from './server.ts'

export interface LlmStream {
  /** Each frame is written on its own (so it arrives as its own network read, given the pause). */
  frames: string[]
  /** Cut the connection after the frames instead of ending the response. */
  cut?: boolean
  /** Split every frame into writes of this many bytes (inside multi-byte characters too). */
  splitBytes?: number
  /** Milliseconds between frames; default 1. */
  pauseMs?: number
  status?: number
}

const sse = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`

// ---- OpenAI Chat Completions -------------------------------------------------

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  sse({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'gpt-test-2026',
    system_fingerprint: 'fp_1',
    choices,
    usage: null,
    ...extra,
  })
const delta = (d: Record<string, unknown>, index = 0, finish: string | null = null) => ({
  index,
  delta: d,
  logprobs: null,
  finish_reason: finish,
})
const toolDelta = (index: number, args: string, head?: { id: string; name: string }) => ({
  index,
  ...(head && { id: head.id, type: 'function' }),
  function: { ...(head && { name: head.name }), arguments: args },
})

/** Text, then two tool calls interleaved by index; arguments split inside a surrogate pair and an escape; usage after. */
export const chatTools: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: '', refusal: null })]),
    chunk([delta({ content: 'Checking ' })]),
    chunk([delta({ content: 'the weather in Zürich 🌦' })]),
    chunk([delta({ tool_calls: [toolDelta(0, '', { id: 'call_A', name: 'get_weather' })] })]),
    chunk([delta({ tool_calls: [toolDelta(0, '{"city":"Z\\u00fcri')] })]),
    chunk([delta({ tool_calls: [toolDelta(1, '', { id: 'call_B', name: 'search' })] })]),
    // A fragment ending inside an escape (\) and one inside a surrogate pair (😀 = \ud83d\ude00).
    chunk([delta({ tool_calls: [toolDelta(1, '{"q":"say \\')] })]),
    chunk([delta({ tool_calls: [toolDelta(0, 'ch"}')] })]),
    chunk([delta({ tool_calls: [toolDelta(1, '"hi\\" \ud83d')] })]),
    chunk([delta({ tool_calls: [toolDelta(1, '\ude00"}')] })]),
    chunk([delta({}, 0, 'tool_calls')]),
    chunk([], {
      usage: {
        prompt_tokens: 52,
        completion_tokens: 31,
        total_tokens: 83,
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    }),
    sse('[DONE]'),
  ],
  splitBytes: 7,
}

/**
 * An audio answer (gpt-4o-audio-preview, openai-node#1206): its transcript and audio in
 * `delta.audio`, no content; it ends with an expires_at-only delta and no finish_reason.
 */
export const chatAudio: LlmStream = {
  frames: [
    chunk([delta({ audio: { transcript: 'Hi' } })]),
    chunk([
      delta({
        role: 'assistant',
        content: null,
        refusal: null,
        audio: { id: 'audio_1', data: 'CAAIAAkACgAP' },
      }),
    ]),
    chunk([delta({ audio: { transcript: ' there!' } })]),
    chunk([delta({ audio: { data: 'lBNbDTYZdhyc' } })]),
    chunk([delta({ audio: { expires_at: 1730768595 } })]),
    chunk([], { usage: { prompt_tokens: 20, completion_tokens: 45, total_tokens: 65 } }),
    sse('[DONE]'),
  ],
}

/** The audio answer with a finish_reason before its expires_at delta: the finish given stands. */
export const chatAudioFinished: LlmStream = {
  frames: [
    ...chatAudio.frames.slice(0, 4),
    chunk([delta({}, 0, 'length')]),
    ...chatAudio.frames.slice(4),
  ],
}

/** The audio answer closed after its expires_at delta, before [DONE]: the SDK still finishes it. */
export const chatAudioClosed: LlmStream = { frames: chatAudio.frames.slice(0, 5) }

/** Two choices interleaved (n = 2), reasoning_content in both, usage in the last chunk. */
export const chatChoices: LlmStream = {
  frames: [
    chunk([
      delta({ role: 'assistant', content: '' }, 0),
      delta({ role: 'assistant', content: '' }, 1),
    ]),
    chunk([delta({ reasoning_content: 'Think' }, 0)]),
    chunk([delta({ reasoning_content: 'ing…' }, 0), delta({ reasoning_content: 'Hmm' }, 1)]),
    chunk([delta({ content: 'Hello' }, 1)]),
    chunk([delta({ content: 'Bonjour' }, 0)]),
    chunk([delta({ content: ' le monde' }, 0), delta({ content: ' world' }, 1)]),
    chunk([delta({}, 1, 'stop')]),
    chunk([delta({}, 0, 'length')], {
      usage: { prompt_tokens: 10, completion_tokens: 9, total_tokens: 19 },
    }),
    sse('[DONE]'),
  ],
}

/** Two choices (n = 2), the second speaking before the first is named (choices arrive in any order). */
export const chatChoiceOneFirst: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: 'Second ' }, 1)]),
    chunk([delta({ role: 'assistant', content: 'First ' }, 0)]),
    chunk([delta({ content: 'choice' }, 1)]),
    chunk([delta({ content: 'choice' }, 0)]),
    chunk([delta({}, 0, 'stop'), delta({}, 1, 'stop')]),
    sse('[DONE]'),
  ],
}

/** A server that numbers its only choice 1: never index 0. */
export const chatNoChoiceZero: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', reasoning_content: 'Hmm' }, 1)]),
    chunk([delta({ content: 'Only ' }, 1)]),
    chunk([delta({ content: 'choice' }, 1)]),
    chunk([delta({ tool_calls: [toolDelta(0, '{}', { id: 'call_1', name: 'now' })] }, 1)]),
    chunk([delta({}, 1, 'tool_calls')]),
    sse('[DONE]'),
  ],
}

/** Text, then an error object where the next chunk should be (as OpenAI and many gateways do). */
export const chatError: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: '' })]),
    chunk([delta({ content: 'Partial' })]),
    sse({
      error: {
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      },
    }),
  ],
}

/** Text, then an `error` event whose data has no `error` key (as some gateways say it). */
export const chatErrorEvent: LlmStream = {
  frames: [
    ...chatError.frames.slice(0, 2),
    sse({ message: 'upstream failed', type: 'upstream_error' }, 'error'),
  ],
}

/** Two choices (n = 2): the first names itself with an empty role chunk, the second speaks, then an error. */
export const chatChoicesError: LlmStream = {
  frames: [
    chunk([
      delta({ role: 'assistant', content: '' }, 0),
      delta({ role: 'assistant', content: '' }, 1),
    ]),
    chunk([delta({ content: 'Hello' }, 1)]),
    chunk([delta({ content: ' world' }, 1)]),
    chatError.frames[2]!,
  ],
}

/** The same, cut where the error was. */
export const chatChoicesCut: LlmStream = { frames: chatChoicesError.frames.slice(0, -1), cut: true }

/** Text, then the connection drops: no finish_reason, no [DONE]. */
export const chatCut: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: '' })]),
    chunk([delta({ content: 'Half an ans' })]),
  ],
  cut: true,
}

/** A tool call whose arguments do not join into JSON. */
export const chatBadArguments: LlmStream = {
  frames: [
    chunk([
      delta({ tool_calls: [toolDelta(0, '{"city":', { id: 'call_X', name: 'get_weather' })] }),
    ]),
    chunk([delta({ tool_calls: [toolDelta(0, '"Paris"')] })]),
    chunk([delta({}, 0, 'tool_calls')]),
    sse('[DONE]'),
  ],
}

/** A role chunk and a finish, nothing said. */
export const chatEmpty: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: '' })]),
    chunk([delta({}, 0, 'stop')]),
    sse('[DONE]'),
  ],
}

/** `count` one-token chunks, `perFrame` of them per write (a buffering gateway), then usage and [DONE]. */
export function chatTokens(
  count: number,
  perFrame: number,
  pauseMs = 1,
  token = (i: number) => `t${i} `,
): LlmStream {
  const frames: string[] = [chunk([delta({ role: 'assistant', content: '' })])]
  let frame = ''
  for (let i = 0; i < count; i++) {
    frame += chunk([delta({ content: token(i) })])
    if ((i + 1) % perFrame === 0) {
      frames.push(frame)
      frame = ''
    }
  }
  if (frame) frames.push(frame)
  frames.push(
    chunk([delta({}, 0, 'stop')]),
    chunk([], { usage: { prompt_tokens: 5, completion_tokens: count, total_tokens: count + 5 } }),
    sse('[DONE]'),
  )
  return { frames, pauseMs }
}

/**
 * A custom (free-form) tool's call beside a function call: GPT-5 names it in `custom` and streams
 * its input, code that is not JSON, as `custom.input` fragments.
 */
export const chatCustomTool: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: null, refusal: null })]),
    chunk([delta({ content: 'Running it.' })]),
    chunk([
      delta({
        tool_calls: [
          { index: 0, id: 'call_C1', type: 'custom', custom: { name: 'code_exec', input: '' } },
        ],
      }),
    ]),
    ...['print("h', 'i")\n', 'x = {', '1: 2}'].map((input) =>
      chunk([delta({ tool_calls: [{ index: 0, custom: { input } }] })]),
    ),
    chunk([delta({ tool_calls: [toolDelta(1, '', { id: 'call_F1', name: 'get_time' })] })]),
    chunk([delta({ tool_calls: [toolDelta(1, '{"tz":"UTC"}')] })]),
    chunk([delta({}, 0, 'tool_calls')]),
    chunk([], { usage: { prompt_tokens: 30, completion_tokens: 17, total_tokens: 47 } }),
    sse('[DONE]'),
  ],
}

/** The call of a deprecated `functions` request: `delta.function_call`, finish_reason function_call. */
export const chatFunctionCall: LlmStream = {
  frames: [
    chunk([
      delta({
        role: 'assistant',
        content: null,
        function_call: { name: 'get_weather', arguments: '' },
        refusal: null,
      }),
    ]),
    ...['{\n', '  "city": "Z\\u00fc', 'rich"\n}'].map((args) =>
      chunk([delta({ function_call: { arguments: args } })]),
    ),
    chunk([delta({}, 0, 'function_call')]),
    chunk([], { usage: { prompt_tokens: 60, completion_tokens: 14, total_tokens: 74 } }),
    sse('[DONE]'),
  ],
  splitBytes: 6,
}

// ---- OpenAI Chat as providers and compatible servers send it today -------------------

// A token for each way a text differs from the bytes on the wire: escapes, \u escapes, astral
// characters, a line separator, a key inside the text.
const TOKENS = [
  'Hello',
  ' "quoted"',
  '\n',
  ' back\\slash',
  ' caf\u00e9',
  ' 😀',
  '\u2028',
  '\t',
  ' "usage":{}',
]

/**
 * OpenAI's chunks today: service_tier, and obfuscation padding of varying length per chunk (with
 * runs where it repeats, so a template of the fast path serves, then fails); escapes written as
 * \u escapes in some; a usage chunk with empty choices.
 */
export const chatObfuscated: LlmStream = (() => {
  const extra = (i: number) => ({
    service_tier: 'default',
    usage: null,
    // Alike for the first 70 chunks, then different in every one.
    obfuscation: i < 70 ? 'Qm3' : 'x'.repeat(1 + (i % 9)),
  })
  const frames = [chunk([delta({ role: 'assistant', content: '', refusal: null })], extra(0))]
  for (let i = 0; i < 160; i++) {
    const frame = chunk([delta({ content: TOKENS[i % TOKENS.length] })], extra(i))
    frames.push(i % 4 === 3 ? frame.replace('é', '\\u00e9') : frame)
  }
  frames.push(
    chunk([delta({}, 0, 'stop')], extra(1)),
    chunk([], {
      ...extra(2),
      usage: { prompt_tokens: 9, completion_tokens: 160, total_tokens: 169 },
    }),
    sse('[DONE]'),
  )
  return { frames, pauseMs: 0 }
})()

/**
 * A server that stamps every chunk with an id and a time of its own (as some compatible servers
 * and test doubles do): text, then a tool call's arguments, each chunk different from the last
 * in more than its delta; the fingerprint changes once.
 */
export const chatStamped: LlmStream = (() => {
  const extra = (i: number) => ({
    id: `chatcmpl-${1000 + i}`,
    created: 1700000000 + i,
    system_fingerprint: i < 50 ? 'fp_a' : 'fp_b',
    obfuscation: 'Qm3x'.slice(i % 4),
  })
  const frames = [chunk([delta({ role: 'assistant', content: '' })], extra(0))]
  for (let i = 1; i <= 80; i++)
    frames.push(chunk([delta({ content: TOKENS[i % TOKENS.length] })], extra(i)))
  frames.push(
    chunk([delta({ tool_calls: [toolDelta(0, '', { id: 'call_s', name: 'lookup' })] })], extra(81)),
  )
  for (let i = 82; i < 120; i++)
    frames.push(
      chunk([delta({ tool_calls: [toolDelta(0, i === 82 ? '{"q":"' : 'ab')] })], extra(i)),
    )
  frames.push(
    chunk([delta({ tool_calls: [toolDelta(0, '"}')] })], extra(120)),
    chunk([delta({}, 0, 'tool_calls')], extra(121)),
    chunk([], {
      ...extra(122),
      usage: { prompt_tokens: 5, completion_tokens: 119, total_tokens: 124 },
    }),
    sse('[DONE]'),
  )
  return { frames, pauseMs: 0 }
})()

/**
 * HuggingFace TGI: every chunk's id is "", its usage on the last: after the first chunk the SDK
 * takes the completion's fields, usage among them, only from chunks with an id, so it has none.
 */
export const chatEmptyIds: LlmStream = (() => {
  const frames = [chunk([delta({ role: 'assistant', content: '' })], { id: '' })]
  for (let i = 1; i <= 40; i++)
    frames.push(chunk([delta({ content: TOKENS[i % TOKENS.length] })], { id: '' }))
  frames.push(
    chunk([delta({}, 0, 'stop')], {
      id: '',
      usage: { prompt_tokens: 7, completion_tokens: 40, total_tokens: 47 },
    }),
    sse('[DONE]'),
  )
  return { frames, pauseMs: 0 }
})()

/**
 * A usage in the first chunk and in a chunk of its own among the text's, whose chunks have an id
 * and "usage": null: each clears the SDK's usage (served by a template too); the last has none.
 */
export const chatUsageCleared: LlmStream = (() => {
  const usage = (n: number) => ({
    usage: { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n },
  })
  const frames = [chunk([delta({ role: 'assistant', content: '' })], usage(0))]
  for (let i = 1; i <= 40; i++) {
    frames.push(chunk([delta({ content: TOKENS[i % TOKENS.length] })]))
    if (i === 20) frames.push(chunk([], usage(i)))
  }
  // No usage key: the usage stays as the text's chunks left it.
  frames.push(chunk([delta({}, 0, 'stop')], { usage: undefined }), sse('[DONE]'))
  return { frames, pauseMs: 0 }
})()

/**
 * Ids that change, then ids that are empty: a template that takes any id must not take "" (the
 * SDK takes no usage from such a chunk, "usage": null or counted). `counted`: usage in every chunk.
 */
export function chatIdsThenEmpty(counted: boolean): LlmStream {
  const usage = (n: number) => ({ prompt_tokens: 1, completion_tokens: n, total_tokens: 1 + n })
  const frames = [chunk([delta({ role: 'assistant', content: '' })], { id: 'a0' })]
  for (let i = 1; i <= 20; i++)
    frames.push(
      chunk([delta({ content: ` w${i}` })], { id: `a${i}`, usage: counted ? usage(i) : null }),
    )
  if (!counted) frames.push(chunk([], { id: 'b', usage: usage(20) }))
  for (let i = 1; i <= 10; i++)
    frames.push(
      chunk([delta({ content: ` z${i}` })], { id: '', usage: counted ? usage(20 + i) : null }),
    )
  frames.push(chunk([delta({}, 0, 'stop')], { id: '', usage: undefined }), sse('[DONE]'))
  return { frames, pauseMs: 0 }
}

/** SGLang: a call's first index is its tool's place in the request, so call 1 can come before call 0. */
export const chatCallsOutOfOrder: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: null })]),
    chunk([delta({ tool_calls: [toolDelta(1, '{"a":3,', { id: 'call_k', name: 'multiply' })] })]),
    chunk([delta({ tool_calls: [toolDelta(1, '"b":12}')] })]),
    chunk([delta({ tool_calls: [toolDelta(0, '{"a":11,', { id: 'call_m', name: 'add' })] })]),
    chunk([delta({ tool_calls: [toolDelta(0, '"b":49}')] })]),
    chunk([delta({}, 0, 'tool_calls')]),
    sse('[DONE]'),
  ],
}

/** vLLM with `stream_options: {include_usage: true, continuous_usage_stats: true}`: usage counted in every chunk. */
export const chatCountedUsage: LlmStream = (() => {
  const usage = (completion: number) => ({
    prompt_tokens: 12,
    total_tokens: 12 + completion,
    completion_tokens: completion,
  })
  const vllm = (d: Record<string, unknown>, completion: number, finish: string | null = null) =>
    sse({
      id: 'chatcmpl-vu',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      choices: [{ index: 0, delta: d, logprobs: null, finish_reason: finish, stop_reason: null }],
      usage: usage(completion),
    })
  const frames = [vllm({ role: 'assistant', content: '' }, 0)]
  for (let i = 1; i <= 90; i++) frames.push(vllm({ content: TOKENS[i % TOKENS.length] }, i))
  frames.push(
    vllm({ content: '' }, 90, 'stop'),
    sse({
      id: 'chatcmpl-vu',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      choices: [],
      usage: usage(90),
    }),
    sse('[DONE]'),
  )
  return { frames, pauseMs: 0 }
})()

/** A refusal: the SDK keeps it in message.refusal, not in the content. */
export const chatRefusal: LlmStream = {
  frames: [
    chunk([delta({ role: 'assistant', content: null, refusal: '' })]),
    chunk([delta({ refusal: "I'm sorry, " })]),
    chunk([delta({ refusal: 'I cannot help with that.' })]),
    chunk([delta({}, 0, 'stop')]),
    sse('[DONE]'),
  ],
}

const filtered = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
}
// Azure writes the keys of its chunks in alphabetical order.
const azure = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  sse({
    choices,
    created: 1720000000,
    id: 'chatcmpl-AZ',
    model: 'gpt-4o-2024-11-20',
    object: 'chat.completion.chunk',
    system_fingerprint: 'fp_az',
    ...extra,
  })
const azureDelta = (d: Record<string, unknown>, finish: string | null = null) => ({
  content_filter_results: finish ? {} : filtered,
  delta: d,
  finish_reason: finish,
  index: 0,
  logprobs: null,
})

/** Azure OpenAI: a first chunk of prompt_filter_results with empty choices and no object, content_filter_results per choice. */
export const chatAzure: LlmStream = {
  frames: [
    sse({
      choices: [],
      created: 0,
      id: '',
      model: '',
      object: '',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: filtered }],
    }),
    azure([
      {
        ...azureDelta({ content: '', refusal: null, role: 'assistant' }),
        content_filter_results: {},
      },
    ]),
    azure([azureDelta({ content: 'Grüezi' })]),
    azure([azureDelta({ content: ' mitenand' })]),
    azure([azureDelta({}, 'stop')]),
    azure([], { usage: { completion_tokens: 3, prompt_tokens: 8, total_tokens: 11 } }),
    sse('[DONE]'),
  ],
}

/**
 * vLLM, Ollama, OpenRouter, DeepSeek: CRLF line endings, `data:` without a space, SSE comments,
 * reasoning as `reasoning_content` and as `reasoning`, a tool call named in its first fragment
 * only, a final chunk with both finish_reason and usage.
 */
export const chatCompat: LlmStream = {
  frames: [
    ': OPENROUTER PROCESSING\n\n',
    chunk([delta({ role: 'assistant', content: null, reasoning_content: 'Let me ' })]),
    ': OPENROUTER PROCESSING\n\n',
    chunk([delta({ content: null, reasoning_content: 'think.' })]),
    chunk([delta({ content: '', reasoning: ' Still.' })]),
    chunk([delta({ content: 'Calling.' })]),
    chunk([
      delta({
        tool_calls: [
          {
            index: 0,
            id: 'chatcmpl-tool-9',
            type: 'function',
            function: { name: 'lookup', arguments: '' },
          },
        ],
      }),
    ]),
    chunk([delta({ tool_calls: [{ index: 0, function: { arguments: '{"id": ' } }] })]),
    chunk([delta({ tool_calls: [{ index: 0, function: { arguments: '7}' } }] })]),
    chunk([delta({ content: '' }, 0, 'tool_calls')], {
      usage: {
        prompt_tokens: 20,
        completion_tokens: 11,
        total_tokens: 31,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 4 },
      },
    }),
    sse('[DONE]'),
  ].map((frame) => frame.replaceAll('data: ', 'data:').replaceAll('\n', '\r\n')),
  splitBytes: 5,
}

/**
 * Gemini's compatibility layer: chunks without an id, each tool call in a chunk of its own without
 * an index (the openai SDK throws on it), finish_reason stop; the first call's arguments in two
 * fragments, the second naming no id, as some gateways split them.
 */
export const chatGemini: LlmStream = (() => {
  const gemini = (d: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    sse({
      choices: [{ delta: { role: 'assistant', ...d }, index: 0, ...extra }],
      created: 1700000000,
      model: 'gemini-2.5-flash',
      object: 'chat.completion.chunk',
    })
  const call = (id: string | undefined, args: string, name?: string) => ({
    tool_calls: [
      {
        ...(id && { id, type: 'function' }),
        function: { ...(name && { name }), arguments: args },
      },
    ],
  })
  return {
    frames: [
      gemini({ content: 'Checking both.' }),
      gemini(call('function-call-1', '{"city":', 'get_weather')),
      gemini(call(undefined, '"Paris"}')),
      gemini(call('function-call-2', '{"city":"Rome"}', 'get_weather')),
      gemini(call('function-call-3', '{"q":"x"}', 'search')),
      gemini({}, { finish_reason: 'stop' }),
      sse('[DONE]'),
    ],
  }
})()

// ---- Anthropic Messages ------------------------------------------------------

const ev = (type: string, data: Record<string, unknown>) => sse({ type, ...data }, type)
const inputJson = (index: number, partial: string) =>
  ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } })

/** ping, thinking, text, a tool_use with input_json_delta split in an escape, a tool without fragments. */
export const anthropicTools: LlmStream = {
  frames: [
    ev('message_start', {
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-test-4',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 472,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: 2,
        },
      },
    }),
    ev('ping', {}),
    ev('content_block_start', {
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    }),
    ev('content_block_delta', {
      index: 0,
      delta: { type: 'thinking_delta', thinking: 'The user wants ' },
    }),
    ev('content_block_delta', {
      index: 0,
      delta: { type: 'thinking_delta', thinking: 'the weather.' },
    }),
    ev('content_block_delta', {
      index: 0,
      delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' },
    }),
    ev('content_block_stop', { index: 0 }),
    ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Let me check ' } }),
    ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Zürich.' } }),
    ev('content_block_stop', { index: 1 }),
    ev('ping', {}),
    ev('content_block_start', {
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
    }),
    inputJson(2, ''),
    inputJson(2, '{"city": "Z\\'),
    inputJson(2, 'u00fcrich", "unit": "°C"}'),
    ev('content_block_stop', { index: 2 }),
    ev('content_block_start', {
      index: 3,
      content_block: { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
    }),
    inputJson(3, ''),
    ev('content_block_stop', { index: 3 }),
    ev('message_delta', {
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 89 },
    }),
    ev('message_stop', {}),
  ],
  splitBytes: 11,
}

/**
 * A tool with no parameters called and nothing else said (tool_choice forcing it): its only
 * fragment is empty, and the call is the whole answer.
 */
export const anthropicToolOnly: LlmStream = {
  frames: [
    anthropicTools.frames[0]!,
    ev('content_block_start', {
      index: 0,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_time', input: {} },
    }),
    inputJson(0, ''),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', {
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 12 },
    }),
    ev('message_stop', {}),
  ],
}

/** Text, then an `error` event (overloaded), as the Messages API streams it. */
export const anthropicError: LlmStream = {
  frames: [
    anthropicTools.frames[0]!,
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
    sse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error'),
  ],
}

/**
 * Thinking with its signature, a redacted_thinking block, a web search (server_tool_use, its
 * result block), text with citations, a tool_use whose input_json_delta splits an escape and a
 * surrogate pair, and message_delta usage with the server tool counters.
 */
export const anthropicWeb: LlmStream = {
  frames: [
    anthropicTools.frames[0]!,
    ev('content_block_start', {
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    }),
    ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Search.' } }),
    ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'Eq==' } }),
    ev('content_block_stop', { index: 0 }),
    ev('content_block_start', {
      index: 1,
      content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
    }),
    ev('content_block_stop', { index: 1 }),
    ev('content_block_start', {
      index: 2,
      content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} },
    }),
    inputJson(2, '{"query": "weather'),
    inputJson(2, ' Zürich"}'),
    ev('content_block_stop', { index: 2 }),
    ev('content_block_start', {
      index: 3,
      content_block: {
        type: 'web_search_tool_result',
        tool_use_id: 'srvtoolu_1',
        content: [
          {
            type: 'web_search_result',
            title: 'Weather',
            url: 'https://example.com/w',
            encrypted_content: 'Eq',
            page_age: null,
          },
        ],
      },
    }),
    ev('content_block_stop', { index: 3 }),
    ev('content_block_start', {
      index: 4,
      content_block: { type: 'text', text: '', citations: [] },
    }),
    ev('content_block_delta', {
      index: 4,
      delta: {
        type: 'citations_delta',
        citation: {
          type: 'web_search_result_location',
          url: 'https://example.com/w',
          title: 'Weather',
          encrypted_index: 'Eo',
          cited_text: 'Sunny, 21°C',
        },
      },
    }),
    ev('content_block_delta', { index: 4, delta: { type: 'text_delta', text: 'It is sunny.' } }),
    ev('content_block_stop', { index: 4 }),
    ev('content_block_start', {
      index: 5,
      content_block: { type: 'tool_use', id: 'toolu_9', name: 'notify', input: {} },
    }),
    inputJson(5, '{"msg": "sunny \\'),
    inputJson(5, '"ok\\" \ud83d'),
    inputJson(5, '\ude00"}'),
    ev('content_block_stop', { index: 5 }),
    ev('message_delta', {
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 2100,
        cache_read_input_tokens: 50,
        output_tokens: 120,
        server_tool_use: { web_search_requests: 1 },
      },
    }),
    ev('message_stop', {}),
  ],
  splitBytes: 3,
}

/**
 * A call of a tool on an MCP server (the MCP connector, a beta request): an mcp_tool_use block
 * whose input streams as input_json_delta, its mcp_tool_result, then text.
 */
export const anthropicMcp: LlmStream = {
  frames: [
    anthropicTools.frames[0]!,
    ev('content_block_start', {
      index: 0,
      content_block: {
        type: 'mcp_tool_use',
        id: 'mcptoolu_1',
        name: 'search_issues',
        server_name: 'tracker',
        input: {},
      },
    }),
    inputJson(0, '{"query": "cr'),
    inputJson(0, 'ash"}'),
    ev('content_block_stop', { index: 0 }),
    ev('content_block_start', {
      index: 1,
      content_block: {
        type: 'mcp_tool_result',
        tool_use_id: 'mcptoolu_1',
        is_error: false,
        content: [{ type: 'text', text: '2 issues' }],
      },
    }),
    ev('content_block_stop', { index: 1 }),
    ev('content_block_start', { index: 2, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'Two issues.' } }),
    ev('content_block_stop', { index: 2 }),
    ev('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 40 },
    }),
    ev('message_stop', {}),
  ],
}

/**
 * A beta request with server-side compaction: a compaction block (its summary in one
 * compaction_delta, not text), then the answer; message_delta's usage has the iterations.
 */
export const anthropicCompaction: LlmStream = {
  frames: [
    anthropicTools.frames[0]!,
    ev('content_block_start', {
      index: 0,
      content_block: { type: 'compaction', content: null, encrypted_content: null },
    }),
    ev('content_block_delta', {
      index: 0,
      delta: {
        type: 'compaction_delta',
        content: 'Earlier: weather talk.',
        encrypted_content: 'Eo8B',
      },
    }),
    ev('content_block_stop', { index: 0 }),
    ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Still sunny.' } }),
    ev('content_block_stop', { index: 1 }),
    ev('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: 30,
        output_tokens: 12,
        iterations: [
          { type: 'compaction', input_tokens: 180000, output_tokens: 3500 },
          { type: 'message', input_tokens: 30, output_tokens: 12 },
        ],
      },
    }),
    ev('message_stop', {}),
  ],
}

// ---- OpenAI Responses ----------------------------------------------------------

const response = (status: string, output: unknown[], usage: unknown = null) => ({
  id: 'resp_1',
  object: 'response',
  created_at: 1700000000,
  status,
  model: 'gpt-test-2026-resp',
  output,
  usage,
  error: null,
  incomplete_details: null,
})
let sequence = 0
const rev = (type: string, data: Record<string, unknown>) =>
  sse({ type, sequence_number: sequence++, ...data }, type)
const reasoningItem = {
  id: 'rs_1',
  type: 'reasoning',
  summary: [{ type: 'summary_text', text: 'Weather lookup.' }],
}
const messageItem = {
  id: 'msg_1',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'Sure — checking.', annotations: [] }],
}
const callItem = (args: string, status: string) => ({
  id: 'fc_1',
  type: 'function_call',
  status,
  call_id: 'call_R1',
  name: 'get_weather',
  arguments: args,
})

/** Reasoning summary, text, a function call, response.completed with usage. */
export const responsesTools: LlmStream = {
  frames: [
    rev('response.created', { response: response('in_progress', []) }),
    rev('response.in_progress', { response: response('in_progress', []) }),
    rev('response.output_item.added', {
      output_index: 0,
      item: { id: 'rs_1', type: 'reasoning', summary: [] },
    }),
    rev('response.reasoning_summary_part.added', {
      item_id: 'rs_1',
      output_index: 0,
      summary_index: 0,
      part: { type: 'summary_text', text: '' },
    }),
    rev('response.reasoning_summary_text.delta', {
      item_id: 'rs_1',
      output_index: 0,
      summary_index: 0,
      delta: 'Weather ',
    }),
    rev('response.reasoning_summary_text.delta', {
      item_id: 'rs_1',
      output_index: 0,
      summary_index: 0,
      delta: 'lookup.',
    }),
    rev('response.reasoning_summary_text.done', {
      item_id: 'rs_1',
      output_index: 0,
      summary_index: 0,
      text: 'Weather lookup.',
    }),
    rev('response.reasoning_summary_part.done', {
      item_id: 'rs_1',
      output_index: 0,
      summary_index: 0,
      part: { type: 'summary_text', text: 'Weather lookup.' },
    }),
    rev('response.output_item.done', { output_index: 0, item: reasoningItem }),
    rev('response.output_item.added', {
      output_index: 1,
      item: { ...messageItem, status: 'in_progress', content: [] },
    }),
    rev('response.content_part.added', {
      item_id: 'msg_1',
      output_index: 1,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    }),
    rev('response.output_text.delta', {
      item_id: 'msg_1',
      output_index: 1,
      content_index: 0,
      delta: 'Sure — ',
    }),
    rev('response.output_text.delta', {
      item_id: 'msg_1',
      output_index: 1,
      content_index: 0,
      delta: 'checking.',
    }),
    rev('response.output_text.done', {
      item_id: 'msg_1',
      output_index: 1,
      content_index: 0,
      text: 'Sure — checking.',
    }),
    rev('response.content_part.done', {
      item_id: 'msg_1',
      output_index: 1,
      content_index: 0,
      part: messageItem.content[0],
    }),
    rev('response.output_item.done', { output_index: 1, item: messageItem }),
    rev('response.output_item.added', { output_index: 2, item: callItem('', 'in_progress') }),
    rev('response.function_call_arguments.delta', {
      item_id: 'fc_1',
      output_index: 2,
      delta: '{"city":',
    }),
    rev('response.function_call_arguments.delta', {
      item_id: 'fc_1',
      output_index: 2,
      delta: '"Paris"}',
    }),
    rev('response.function_call_arguments.done', {
      item_id: 'fc_1',
      output_index: 2,
      arguments: '{"city":"Paris"}',
    }),
    rev('response.output_item.done', {
      output_index: 2,
      item: callItem('{"city":"Paris"}', 'completed'),
    }),
    rev('response.completed', {
      response: response(
        'completed',
        [reasoningItem, messageItem, callItem('{"city":"Paris"}', 'completed')],
        {
          input_tokens: 37,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 25,
          output_tokens_details: { reasoning_tokens: 12 },
          total_tokens: 62,
        },
      ),
    }),
  ],
  splitBytes: 13,
}

const customItem = (input: string, status: string) => ({
  id: 'ctc_1',
  type: 'custom_tool_call',
  status,
  call_id: 'call_RC',
  name: 'code_exec',
  input,
})

/** Only a custom (free-form) tool's call: its input, code that is not JSON, in custom_tool_call_input deltas. */
export const responsesCustomTool: LlmStream = {
  frames: [
    responsesTools.frames[0]!,
    rev('response.output_item.added', { output_index: 0, item: customItem('', 'in_progress') }),
    ...['print("h', 'i")\n', 'x = {', '1: 2}'].map((d) =>
      rev('response.custom_tool_call_input.delta', { item_id: 'ctc_1', output_index: 0, delta: d }),
    ),
    rev('response.custom_tool_call_input.done', {
      item_id: 'ctc_1',
      output_index: 0,
      input: 'print("hi")\nx = {1: 2}',
    }),
    rev('response.output_item.done', {
      output_index: 0,
      item: customItem('print("hi")\nx = {1: 2}', 'completed'),
    }),
    rev('response.completed', {
      response: response('completed', [customItem('print("hi")\nx = {1: 2}', 'completed')], {
        input_tokens: 30,
        output_tokens: 12,
        total_tokens: 42,
      }),
    }),
  ],
  splitBytes: 9,
}

const fnItem = (at: number, args: string, status: string) => ({
  id: `fc_${at}`,
  type: 'function_call',
  status,
  call_id: `call_P${at}`,
  name: `tool_${at}`,
  arguments: args,
})
const mcpItem = (args: string, status: string) => ({
  id: 'mcp_1',
  type: 'mcp_call',
  status,
  server_label: 'tracker',
  name: 'search_issues',
  arguments: args,
  ...(status === 'completed' && { output: '2 issues', error: null }),
})
const codeItem = (code: string, status: string) => ({
  id: 'ci_1',
  type: 'code_interpreter_call',
  status,
  code,
  container_id: 'cntr_1',
  outputs: null,
})
const imageItem = (result: string | null, status: string) => ({
  id: 'ig_1',
  type: 'image_generation_call',
  status,
  result,
})
const thoughtItem = (text: string) => ({
  id: 'rs_2',
  type: 'reasoning',
  summary: [],
  content: text ? [{ type: 'reasoning_text', text }] : [],
})
const citation = {
  type: 'url_citation',
  url: 'https://example.com/i',
  title: 'Issues',
  start_index: 0,
  end_index: 3,
}
const citedItem = {
  ...messageItem,
  id: 'msg_6',
  content: [{ type: 'output_text', text: 'Two issues.', annotations: [citation] }],
}
const at = (output_index: number, item_id: string) => ({ item_id, output_index })

/**
 * The rarer items of a response: two function calls whose arguments interleave by output_index,
 * an MCP server's call (mcp_call_arguments deltas), a code interpreter and an image generation
 * with their partial events, reasoning as reasoning_text (an open-weight model's), text with an
 * annotation.
 */
export const responsesServerTools: LlmStream = {
  frames: [
    responsesTools.frames[0]!,
    rev('response.output_item.added', { output_index: 0, item: fnItem(0, '', 'in_progress') }),
    rev('response.output_item.added', { output_index: 1, item: fnItem(1, '', 'in_progress') }),
    rev('response.function_call_arguments.delta', { ...at(0, 'fc_0'), delta: '{"a":' }),
    rev('response.function_call_arguments.delta', { ...at(1, 'fc_1'), delta: '{"b":"é' }),
    rev('response.function_call_arguments.delta', { ...at(0, 'fc_0'), delta: '1}' }),
    rev('response.function_call_arguments.delta', { ...at(1, 'fc_1'), delta: '"}' }),
    rev('response.function_call_arguments.done', { ...at(0, 'fc_0'), arguments: '{"a":1}' }),
    rev('response.output_item.done', { output_index: 0, item: fnItem(0, '{"a":1}', 'completed') }),
    rev('response.function_call_arguments.done', { ...at(1, 'fc_1'), arguments: '{"b":"é"}' }),
    rev('response.output_item.done', {
      output_index: 1,
      item: fnItem(1, '{"b":"é"}', 'completed'),
    }),
    rev('response.output_item.added', { output_index: 2, item: mcpItem('', 'in_progress') }),
    rev('response.mcp_call.in_progress', at(2, 'mcp_1')),
    rev('response.mcp_call_arguments.delta', { ...at(2, 'mcp_1'), delta: '{"query":' }),
    rev('response.mcp_call_arguments.delta', { ...at(2, 'mcp_1'), delta: ' "crash"}' }),
    rev('response.mcp_call_arguments.done', { ...at(2, 'mcp_1'), arguments: '{"query": "crash"}' }),
    rev('response.mcp_call.completed', at(2, 'mcp_1')),
    rev('response.output_item.done', {
      output_index: 2,
      item: mcpItem('{"query": "crash"}', 'completed'),
    }),
    rev('response.output_item.added', { output_index: 3, item: codeItem('', 'in_progress') }),
    rev('response.code_interpreter_call.in_progress', at(3, 'ci_1')),
    rev('response.code_interpreter_call_code.delta', { ...at(3, 'ci_1'), delta: 'print(' }),
    rev('response.code_interpreter_call_code.delta', { ...at(3, 'ci_1'), delta: '2)' }),
    rev('response.code_interpreter_call_code.done', { ...at(3, 'ci_1'), code: 'print(2)' }),
    rev('response.code_interpreter_call.interpreting', at(3, 'ci_1')),
    rev('response.code_interpreter_call.completed', at(3, 'ci_1')),
    rev('response.output_item.done', { output_index: 3, item: codeItem('print(2)', 'completed') }),
    rev('response.output_item.added', { output_index: 4, item: imageItem(null, 'in_progress') }),
    rev('response.image_generation_call.in_progress', at(4, 'ig_1')),
    rev('response.image_generation_call.generating', at(4, 'ig_1')),
    rev('response.image_generation_call.partial_image', {
      ...at(4, 'ig_1'),
      partial_image_index: 0,
      partial_image_b64: 'iVBORw0KGgo=',
    }),
    rev('response.image_generation_call.completed', at(4, 'ig_1')),
    rev('response.output_item.done', {
      output_index: 4,
      item: imageItem('iVBORw0KGgo=', 'completed'),
    }),
    rev('response.output_item.added', { output_index: 5, item: thoughtItem('') }),
    rev('response.content_part.added', {
      ...at(5, 'rs_2'),
      content_index: 0,
      part: { type: 'reasoning_text', text: '' },
    }),
    ...['Two ', 'found.'].map((delta) =>
      rev('response.reasoning_text.delta', { ...at(5, 'rs_2'), content_index: 0, delta }),
    ),
    rev('response.reasoning_text.done', { ...at(5, 'rs_2'), content_index: 0, text: 'Two found.' }),
    rev('response.content_part.done', {
      ...at(5, 'rs_2'),
      content_index: 0,
      part: { type: 'reasoning_text', text: 'Two found.' },
    }),
    rev('response.output_item.done', { output_index: 5, item: thoughtItem('Two found.') }),
    rev('response.output_item.added', {
      output_index: 6,
      item: { ...citedItem, status: 'in_progress', content: [] },
    }),
    rev('response.content_part.added', {
      ...at(6, 'msg_6'),
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    }),
    rev('response.output_text.delta', { ...at(6, 'msg_6'), content_index: 0, delta: 'Two' }),
    rev('response.output_text.annotation.added', {
      ...at(6, 'msg_6'),
      content_index: 0,
      annotation_index: 0,
      annotation: citation,
    }),
    rev('response.output_text.delta', { ...at(6, 'msg_6'), content_index: 0, delta: ' issues.' }),
    rev('response.output_text.done', { ...at(6, 'msg_6'), content_index: 0, text: 'Two issues.' }),
    rev('response.content_part.done', {
      ...at(6, 'msg_6'),
      content_index: 0,
      part: citedItem.content[0],
    }),
    rev('response.output_item.done', { output_index: 6, item: citedItem }),
    rev('response.completed', {
      response: response(
        'completed',
        [
          fnItem(0, '{"a":1}', 'completed'),
          fnItem(1, '{"b":"é"}', 'completed'),
          mcpItem('{"query": "crash"}', 'completed'),
          codeItem('print(2)', 'completed'),
          imageItem('iVBORw0KGgo=', 'completed'),
          thoughtItem('Two found.'),
          citedItem,
        ],
        { input_tokens: 80, output_tokens: 40, total_tokens: 120 },
      ),
    }),
  ],
  splitBytes: 5,
}

/** Text, then response.failed. */
export const responsesFailed: LlmStream = {
  frames: [
    responsesTools.frames[0]!,
    rev('response.output_item.added', {
      output_index: 0,
      item: { ...messageItem, status: 'in_progress', content: [] },
    }),
    rev('response.content_part.added', {
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    }),
    rev('response.output_text.delta', {
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: 'Sure',
    }),
    rev('response.failed', {
      response: {
        ...response('failed', []),
        error: { code: 'server_error', message: 'The model failed.' },
      },
    }),
  ],
}

const refusalItem = {
  id: 'msg_2',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'refusal', refusal: 'I cannot help.' }],
}

/** The events that close the refusal part and its item, as the Responses API sends them. */
const refusalDone = () => [
  rev('response.refusal.done', {
    item_id: 'msg_2',
    output_index: 0,
    content_index: 0,
    refusal: 'I cannot help.',
  }),
  rev('response.content_part.done', {
    item_id: 'msg_2',
    output_index: 0,
    content_index: 0,
    part: refusalItem.content[0],
  }),
  rev('response.output_item.done', { output_index: 0, item: refusalItem }),
]

/** A refusal (which the SDK keeps apart from output_text), then a message cut by max_output_tokens: response.incomplete. */
export const responsesIncomplete: LlmStream = {
  frames: [
    responsesTools.frames[0]!,
    rev('response.output_item.added', {
      output_index: 0,
      item: { ...refusalItem, status: 'in_progress', content: [] },
    }),
    rev('response.content_part.added', {
      item_id: 'msg_2',
      output_index: 0,
      content_index: 0,
      part: { type: 'refusal', refusal: '' },
    }),
    rev('response.refusal.delta', {
      item_id: 'msg_2',
      output_index: 0,
      content_index: 0,
      delta: 'I cannot help.',
    }),
    ...refusalDone(),
    rev('response.output_item.added', {
      output_index: 1,
      item: { ...messageItem, status: 'in_progress', content: [] },
    }),
    rev('response.content_part.added', {
      item_id: 'msg_1',
      output_index: 1,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    }),
    rev('response.output_text.delta', {
      item_id: 'msg_1',
      output_index: 1,
      content_index: 0,
      delta: 'But here',
    }),
    rev('response.incomplete', {
      response: {
        ...response(
          'incomplete',
          [
            refusalItem,
            {
              ...messageItem,
              status: 'incomplete',
              content: [{ type: 'output_text', text: 'But here', annotations: [] }],
            },
          ],
          { input_tokens: 5, output_tokens: 16, total_tokens: 21 },
        ),
        incomplete_details: { reason: 'max_output_tokens' },
      },
    }),
  ],
}

/** Only a refusal (in two deltas), then response.completed. */
export const responsesRefusal: LlmStream = {
  frames: [
    responsesTools.frames[0]!,
    rev('response.output_item.added', {
      output_index: 0,
      item: { ...refusalItem, status: 'in_progress', content: [] },
    }),
    rev('response.content_part.added', {
      item_id: 'msg_2',
      output_index: 0,
      content_index: 0,
      part: { type: 'refusal', refusal: '' },
    }),
    ...['I cannot ', 'help.'].map((d) =>
      rev('response.refusal.delta', {
        item_id: 'msg_2',
        output_index: 0,
        content_index: 0,
        delta: d,
      }),
    ),
    ...refusalDone(),
    rev('response.completed', {
      response: response('completed', [refusalItem], {
        input_tokens: 5,
        output_tokens: 4,
        total_tokens: 9,
      }),
    }),
  ],
}

/** A message whose text is given whole, as a compatible server may: in the part's done events, with no delta. */
export const responsesWholeText: LlmStream = {
  frames: [
    // response.created, the message item and its text part added, as in responsesFailed.
    ...responsesFailed.frames.slice(0, 3),
    rev('response.output_text.done', {
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      text: 'Sure — checking.',
    }),
    rev('response.content_part.done', {
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      part: messageItem.content[0],
    }),
    rev('response.output_item.done', { output_index: 0, item: messageItem }),
    rev('response.completed', {
      response: response('completed', [messageItem], {
        input_tokens: 5,
        output_tokens: 4,
        total_tokens: 9,
      }),
    }),
  ],
}

/** A stream that gives its answer only in the final response (response.created, then response.completed). */
export const responsesOnlyFinal: LlmStream = {
  frames: [responsesTools.frames[0]!, responsesWholeText.frames.at(-1)!],
}

/**
 * Reasoning, text and half a function call, then the server closes the response before
 * response.completed (a clean end, which the SDK resolves with the status it last had).
 */
export const responsesCut: LlmStream = { frames: responsesTools.frames.slice(0, 18) }

/** Text, then an `error` event as the Responses API streams it. */
export const responsesError: LlmStream = {
  frames: [
    ...responsesFailed.frames.slice(0, 4),
    rev('error', {
      code: 'server_error',
      message: 'The server had an error while processing your request.',
      param: null,
    }),
  ],
}

// ---- Not an LLM stream ---------------------------------------------------------

/** A job's progress as JSON status events: must look exactly as without --llm. */
export const statusStream: LlmStream = {
  frames: [
    sse({ progress: 0, state: 'queued', object: 'job', type: 'status' }, 'status'),
    sse({ progress: 50, state: 'running', choices: [] }, 'status'),
    sse({ type: 'message_start' }),
    sse({ progress: 100, state: 'done' }, 'status'),
    sse({ result: 'ok' }, 'end'),
  ],
}

/** Log lines that quote a model's chunks inside strings, then one too late to be recognised. */
export const logStream: LlmStream = {
  frames: [
    sse({ line: 'data: {"object":"chat.completion.chunk","choices":[]}' }, 'log'),
    sse('{"object":"chat.completion.chunk" was sent}'),
    sse({ line: '{"type":"response.created"}', type: 'log' }),
    sse('[DONE]'),
    chunk([delta({ content: 'late' })]),
  ],
}

// ---- Server ----------------------------------------------------------------------

async function write(res: ServerResponse, text: string, splitBytes: number | undefined) {
  const bytes = Buffer.from(text)
  const size = splitBytes ?? bytes.length
  for (let at = 0; at < bytes.length; at += size) {
    if (!res.write(bytes.subarray(at, at + size)))
      await new Promise((resolve) => res.once('drain', resolve))
  }
}

/** Serves each stream at `/<name>` (any path below it too, for SDK base URLs), on 127.0.0.1; closed after the test. */
export async function serveLlmStreams(streams: Record<string, LlmStream>): Promise<string> {
  const server = await startServer(async (req, res) => {
    req.resume()
    const name = (req.url ?? '/').split('/')[1] ?? ''
    const stream = streams[name]
    if (!stream) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(stream.status ?? 200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
    })
    for (const frame of stream.frames) {
      await write(res, frame, stream.splitBytes)
      await new Promise((resolve) => setTimeout(resolve, stream.pauseMs ?? 1))
    }
    if (stream.cut) res.socket?.destroy()
    else res.end()
  })
  return server.url
}

/** The whole stream as one text, as the server sends it. */
export const textOf = (stream: LlmStream) => stream.frames.join('')
