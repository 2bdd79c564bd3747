import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  createConnectionLog,
  type LocalServer,
  listenLocally,
  pause,
  send,
  startStream,
} from './local-server.ts'
import { sseEvent } from './sse-text.ts'

const LLM_DEMO_PATH = '/v1/chat/completions'
const LLM_DEMO_MODEL = 'sse-probe-demo-1'

const ANSWER =
  'Sure! Server-Sent Events stream text one token at a time, so you see the answer while it is written. I will look up the weather in Zürich for you.'
const TOOL = {
  id: 'call_demo_1',
  name: 'get_weather',
  arguments: '{"city": "Zürich", "unit": "celsius"}',
}

/** The answer as a model tokenises it, roughly: words with their leading space, punctuation apart. */
const tokens = (text: string) => text.match(/ ?[\p{L}\p{N}']+|[^\s\p{L}\p{N}]| /gu) ?? []

export interface LlmDemoOptions {
  port: number
  /** Mean time per token; each token waits between half and 1.5 times this. Default 30 ms. */
  tokenMs?: number
  log?: (text: string) => void
}

/**
 * A built-in OpenAI-style Chat Completions endpoint: it streams a short answer
 * token by token with realistic timing, a tool call whose arguments arrive in
 * fragments, the usage chunk that `stream_options.include_usage` asks for, then
 * `[DONE]`. Any method, any body: the answer is always the same.
 */
export function startLlmDemoEndpoint(options: LlmDemoOptions): Promise<LocalServer> {
  const tokenMs = options.tokenMs ?? 30
  const log = options.log && createConnectionLog(options.log)
  const created = Math.floor(Date.now() / 1000)

  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null = null,
    usage: unknown = null,
  ) =>
    sseEvent({
      event: 'message',
      id: null,
      data: JSON.stringify({
        id: 'chatcmpl-demo',
        object: 'chat.completion.chunk',
        created,
        model: LLM_DEMO_MODEL,
        choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        usage,
      }),
    })

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal) {
    req.resume()
    if (new URL(req.url ?? '/', 'http://x').pathname !== LLM_DEMO_PATH) {
      log?.(req, '404')
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(
        `${JSON.stringify({ error: { message: `Not found: the demo model is at ${LLM_DEMO_PATH}`, type: 'invalid_request_error' } })}\n`,
      )
      return
    }
    log?.(req, 'streaming an answer')
    startStream(res)
    // Time to first token: the model reads the prompt first.
    if (!(await pause(tokenMs * 8, signal))) return
    await send(res, chunk({ role: 'assistant', content: '', refusal: null }))
    const pieces: Record<string, unknown>[] = tokens(ANSWER).map((content) => ({ content }))
    pieces.push({
      tool_calls: [
        { index: 0, id: TOOL.id, type: 'function', function: { name: TOOL.name, arguments: '' } },
      ],
    })
    for (const fragment of tokens(TOOL.arguments))
      pieces.push({ tool_calls: [{ index: 0, function: { arguments: fragment } }] })
    for (const delta of pieces) {
      if (!(await pause(tokenMs * (0.5 + Math.random()), signal))) return
      await send(res, chunk(delta))
    }
    await send(res, chunk({}, 'tool_calls'))
    const completion = pieces.length
    await send(
      res,
      chunk({}, null, {
        prompt_tokens: 42,
        completion_tokens: completion,
        total_tokens: 42 + completion,
      }),
    )
    await send(res, sseEvent({ event: 'message', id: null, data: '[DONE]' }))
    res.end()
  }

  return listenLocally(handle, options.port, LLM_DEMO_PATH)
}
