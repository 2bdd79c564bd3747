// The streams of npm run bench, as a server sends them: shared by scripts/bench.js and
// scripts/bench/llm-hot-path.ts.

/** `count` events whose block (id + data lines) is `size` bytes, a comment every 1000, then `end`. */
export function makeStream(count: number, size: number): Buffer {
  const parts = []
  for (let i = 1; i <= count; i++) {
    const head = `id: ${i}\ndata: `
    parts.push(head, 'x'.repeat(Math.max(1, size - head.length - 3)), '\n\n')
    if (i % 1000 === 0) parts.push(': keep-alive\n\n')
  }
  parts.push('event: end\ndata: done\n\n')
  return Buffer.from(parts.join(''))
}

/** `count` events of about 64 bytes whose data is a small JSON object, then `end`: what --schema validates. */
export function makeJsonStream(count: number): Buffer {
  const parts = []
  for (let i = 1; i <= count; i++)
    parts.push(`id: ${i}\ndata: {"n":${i},"state":"running","ok":true}\n\n`)
  parts.push('event: end\ndata: {"n":0,"state":"done","ok":true}\n\n')
  return Buffer.from(parts.join(''))
}

// What OpenAI puts around each delta, as its API sends it today: ids of their real length, and
// `obfuscation`, random characters of varying length that pad every chunk to hide the tokens'
// sizes (a template's varying field).
const CHAT_ID = 'chatcmpl-C5oqbXp9hz2MLfAZxQw1ktRvy0Jg3'
const ITEM_ID = 'msg_6856e03c97888199971fa4d4fa47f4d20484fb09fc524d66'
const PADDING = 'kX9qZr2LmT7wBv4N'
const obfuscation = (i: number) => PADDING.slice(0, 1 + ((i * 7) % PADDING.length))

/**
 * `count` Chat Completions chunks of one token each, then `[DONE]`: an LLM stream for --llm.
 * `stamped`: each chunk with an id and a time of its own, as some compatible servers write them,
 * and usage counted as it goes (vLLM's `continuous_usage_stats`).
 */
export function makeLlmStream(count: number, stamped = false): Buffer {
  const parts = []
  for (let i = 0; i < count; i++) {
    const chunk = {
      id: stamped ? `${CHAT_ID.slice(0, -6)}${String(i).padStart(6, '0')}` : CHAT_ID,
      object: 'chat.completion.chunk',
      created: stamped ? 1755000000 + i : 1755000000,
      model: 'gpt-4o-mini-2024-07-18',
      service_tier: 'default',
      system_fingerprint: 'fp_34a54ae93c',
      choices: [{ index: 0, delta: { content: ` tok${i}` }, logprobs: null, finish_reason: null }],
      usage: stamped ? { prompt_tokens: 9, completion_tokens: i + 1, total_tokens: i + 10 } : null,
      obfuscation: obfuscation(i),
    }
    parts.push(`data: ${JSON.stringify(chunk)}\n\n`)
  }
  parts.push('data: [DONE]\n\n')
  return Buffer.from(parts.join(''))
}

const sse = (type: string, data: object) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

/** An Anthropic Messages stream of `count` text deltas (and a ping every 1,000), ending at message_stop. */
export function makeAnthropicStream(count: number): Buffer {
  const parts = [
    sse('message_start', {
      message: {
        id: 'msg_bench',
        type: 'message',
        role: 'assistant',
        model: 'claude-bench',
        content: [],
        usage: { input_tokens: 9, output_tokens: 1 },
      },
    }),
    sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ]
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 999) parts.push(sse('ping', {}))
    parts.push(
      sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ` tok${i}` } }),
    )
  }
  parts.push(
    sse('content_block_stop', { index: 0 }),
    sse('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: count },
    }),
    sse('message_stop', {}),
  )
  return Buffer.from(parts.join(''))
}

/** An OpenAI Responses stream of `count` output_text deltas, numbered and padded as OpenAI sends them. */
export function makeResponsesStream(count: number): Buffer {
  const response = (status: string) => ({
    id: 'resp_bench',
    object: 'response',
    model: 'gpt-bench',
    status,
    output: [],
  })
  const parts = [sse('response.created', { sequence_number: 0, response: response('in_progress') })]
  for (let i = 0; i < count; i++) {
    parts.push(
      sse('response.output_text.delta', {
        sequence_number: i + 1,
        item_id: ITEM_ID,
        output_index: 0,
        content_index: 0,
        delta: ` tok${i}`,
        logprobs: [],
        obfuscation: obfuscation(i),
      }),
    )
  }
  parts.push(
    sse('response.completed', {
      sequence_number: count + 1,
      response: { ...response('completed'), usage: { input_tokens: 9, output_tokens: count } },
    }),
  )
  return Buffer.from(parts.join(''))
}
