/**
 * Differential fuzzer of the LLM profiles against the providers' official SDKs. Random but
 * realistic streams (seeded) of the three formats — Chat Completions as OpenAI, Azure, vLLM,
 * DeepSeek, OpenRouter and Ollama write it; Responses; Anthropic Messages — with text full of
 * escapes, multi-byte characters and surrogate pairs, are served from node:http in random network
 * splits (inside characters and escapes), with comments, CRLF and `data:` without a space at
 * times. Each stream goes to the SDK (`chat.completions.stream().finalChatCompletion()`,
 * `responses.stream().finalResponse()`, `messages.stream().finalMessage()`) and to the CLI
 * (`--json --no-reconnect`), and `summary.llm` is compared field by field with what the SDK
 * assembled. In process, the template fast path (src/llm/template.ts) is compared with the full
 * parse on the same events; streams whose chunks change shape mid-way (one byte outside the delta)
 * are generated on purpose. Each divergence is shrunk (events dropped) and printed.
 *
 *   npm run build && node scripts/fuzz-llm.ts [--seed 1] [--streams 2000] [--minutes 30] [--jobs 2]
 *   node scripts/fuzz-llm.ts --templates-only --streams 100000    # the fast path alone, in process
 *
 * Exit 1 if any divergence was found. A script, not a test: a run takes minutes.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isDeepStrictEqual, parseArgs } from 'node:util'
import Anthropic from '@anthropic-ai/sdk'
import { createParser } from 'eventsource-parser'
import OpenAI from 'openai'
import { DATA_JSON } from '../src/engine/json-text.ts'
import { createAssembler } from '../src/llm/assembler.ts'
import { fullParser } from '../src/llm/profiles.ts'
import { withTemplates } from '../src/llm/template.ts'
import type { LlmProfile, LlmSummary } from '../src/llm/types.ts'
import { cut as cutAt } from '../test/helpers/chunks.ts'
import { NOT_STRINGIFIED, runCli } from './fuzz-cli.ts'
import { int, pick, type Rng, rng } from './fuzz-random.ts'

// ---------------------------------------------------------------- random

const chance = (r: Rng, p: number) => r() < p

// Tokens as models emit them, and the ones that make a JSON string differ from its text.
const TOKENS = [
  'Hello',
  ' world',
  ' the',
  '.',
  ',',
  ' a',
  '\n',
  '\n\n',
  ' "quoted"',
  '"',
  '\\',
  ' back\\slash',
  ' caf\u00e9',
  '\u00e9',
  ' \u20ac5',
  '\u{1F600}',
  ' \u{1F30D}\u{1F44D}\u{1F3FD}',
  '\u4f60\u597d',
  '\u2028',
  '\t',
  '\u0000',
  '\u001f',
  ' "content":"x"',
  '"}',
  ' {"a":1}',
  '\\u00e9',
  '\\n',
  ' ',
  '0',
  '\uFEFF',
]

const PLAIN = ['Hello', ' world', ' the', '.', ',', ' a', ' cat', ' on', ' mat', ' 42']
function text(r: Rng, min = 1, max = 12): string[] {
  const out: string[] = []
  // A long answer: a run of plain tokens (a template learns), then the usual mix (escapes after it).
  if (chance(r, 0.25)) for (let n = int(r, 10, 150); n > 0; n--) out.push(pick(r, PLAIN))
  for (let n = int(r, min, max); n > 0; n--) {
    let t = pick(r, TOKENS)
    // Now and then a token split inside a surrogate pair (a model's byte-level token).
    if (t.length === 2 && t.codePointAt(0)! > 0xffff && chance(r, 0.2)) {
      out.push(t[0]!)
      t = t[1]!
    }
    out.push(t)
  }
  return out
}

const NAMES = ['get_weather', 'search', 'lookup_order', 'send_email', 'run_code']
const VALUES = ['Paris', 'Z\u00fcrich', 'say "hi"', 'a\\b', '\u{1F600}', 'line\nbreak', '', 'x']

function jsonValue(r: Rng, depth = 0): unknown {
  const k = r()
  if (k < 0.35 || depth > 2) return pick(r, VALUES)
  if (k < 0.5) return int(r, -5, 1000)
  if (k < 0.55) return pick(r, [true, false, null, 1.5])
  if (k < 0.75) return Array.from({ length: int(r, 0, 3) }, () => jsonValue(r, depth + 1))
  return Object.fromEntries(
    Array.from({ length: int(r, 0, 3) }, (_, i) => [`k${i}`, jsonValue(r, depth + 1)]),
  )
}

/** A tool call's arguments as models write them (spaced or not), cut into fragments anywhere. */
function argumentFragments(r: Rng): { json: string; fragments: string[] } {
  const args = Object.fromEntries(
    Array.from({ length: int(r, 0, 3) }, (_, i) => [
      pick(r, ['city', 'q', 'id', `p${i}`]),
      jsonValue(r),
    ]),
  )
  let json = chance(r, 0.5)
    ? JSON.stringify(args)
    : JSON.stringify(args, null, chance(r, 0.5) ? 1 : undefined).replace(/":/g, '": ')
  // Some models escape non-ASCII in arguments, as Python's json.dumps does.
  if (chance(r, 0.3)) json = asciiEscape(json)
  const fragments: string[] = []
  let at = 0
  while (at < json.length) {
    const n = int(r, 1, 12)
    fragments.push(json.slice(at, at + n))
    at += n
  }
  return { json, fragments }
}

/** JSON text with every non-ASCII character as a \u escape (surrogate pairs as two). */
function asciiEscape(json: string): string {
  return json.replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

const obfuscation = (r: Rng) => 'abcdefghijXYZ0123'.slice(0, int(r, 1, 16))

// ---------------------------------------------------------------- streams

/** An event as written: its type (if any) and its data (JSON text or a marker). */
interface Frame {
  event?: string
  data: string
  /** A comment line written before it. */
  comment?: string
  /** Cut short: data that is not JSON, which every SDK throws on. */
  malformed?: boolean
}

interface Generated {
  profile: LlmProfile
  frames: Frame[]
  /** Whether the stream is written with CRLF, `data:` without a space. */
  crlf: boolean
  nospace: boolean
  /** A short description for the report. */
  shape: string
  /**
   * How the stream ends: its end marker, closed before it, an error the provider streams, or an
   * event whose data is cut short (not JSON).
   */
  ending: 'end' | 'cut' | 'error' | 'malformed'
}

/** A block of MCP tool use or compaction, which only a beta request gets. */
const isMcp = (f: Frame) =>
  f.event === 'content_block_start' && /"(mcp_tool_use|compaction)"/.test(f.data)

const ERRORS: Record<LlmProfile, Frame> = {
  'openai-chat': {
    data: '{"error":{"message":"The server had an error.","type":"server_error","param":null,"code":null}}',
  },
  'openai-responses': {
    event: 'error',
    data: '{"type":"error","sequence_number":999,"code":"server_error","message":"The server had an error.","param":null}',
  },
  anthropic: {
    event: 'error',
    data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
  },
}

/** Most streams end as they should; some close early, some end in a streamed error. */
function ending(r: Rng, g: Omit<Generated, 'ending'>): Generated {
  const k = r()
  if (k < 0.9 || g.frames.length < 2) return { ...g, ending: 'end' }
  const at = int(r, 1, g.frames.length - 1)
  if (k < 0.95) return { ...g, frames: g.frames.slice(0, at), ending: 'cut' }
  if (k < 0.98)
    return { ...g, frames: [...g.frames.slice(0, at), ERRORS[g.profile]], ending: 'error' }
  // A proper prefix of a JSON object is never JSON. Anthropic's SDK parses only named events but ping.
  const frame = g.frames[at]!
  if (frame.event === 'ping' || (g.profile === 'anthropic' && frame.event === undefined))
    return { ...g, ending: 'end' }
  const data = frame.data.slice(0, int(r, 1, frame.data.length - 1))
  const malformed = { event: frame.event, data, malformed: true }
  return { ...g, frames: [...g.frames.slice(0, at), malformed], ending: 'malformed' }
}

/** JSON text of an event, non-ASCII as \u escapes in some, keys in their order. */
const write = (r: Rng, ascii: boolean, value: unknown) => {
  const json = JSON.stringify(value)
  return ascii || chance(r, 0.03) ? asciiEscape(json) : json
}

const CHAT_SHAPES = ['openai', 'azure', 'vllm', 'deepseek', 'openrouter', 'ollama'] as const

function chatStream(r: Rng): Omit<Generated, 'ending'> {
  const shape = pick(r, CHAT_SHAPES)
  const n = chance(r, 0.15) ? int(r, 2, 3) : 1
  const idPerChunk = chance(r, 0.1)
  const ascii = shape === 'vllm' ? chance(r, 0.5) : chance(r, 0.1)
  const reasoningKey =
    shape === 'openrouter' || shape === 'ollama' ? 'reasoning' : 'reasoning_content'
  const usageMode = pick(r, ['chunk', 'chunk', 'finish', 'none', 'every'] as const)
  const model = pick(r, [
    'gpt-4o-2024-08-06',
    'deepseek-reasoner',
    'Qwen/Qwen3-8B',
    'llama3.2:latest',
  ])
  const created = 1_700_000_000 + int(r, 0, 1000)
  let chunkNo = 0
  const frames: Frame[] = []
  let obf = obfuscation(r)

  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Frame => {
    chunkNo++
    const id = idPerChunk ? `chatcmpl-${chunkNo}` : 'chatcmpl-Bx9'
    // A run of alike padding, then another: templates learn, then fail.
    if (chance(r, 0.15)) obf = obfuscation(r)
    let body: Record<string, unknown>
    if (shape === 'azure') {
      body = {
        choices,
        created,
        id,
        model,
        object: 'chat.completion.chunk',
        system_fingerprint: 'fp_az',
        ...extra,
      }
    } else {
      body = { id, object: 'chat.completion.chunk', created, model }
      if (shape === 'openai')
        Object.assign(body, { service_tier: 'default', system_fingerprint: 'fp_1' })
      body.choices = choices
      if (usageMode === 'every' || (shape === 'openai' && usageMode === 'chunk')) body.usage = null
      Object.assign(body, extra)
      if (shape === 'openai' && chance(r, 0.9))
        body.obfuscation = chance(r, 0.05) ? obfuscation(r) : obf
    }
    // One byte outside the delta differs now and then: a template must not serve this chunk.
    if (chance(r, 0.04)) body.system_fingerprint = 'fp_2'
    if (chance(r, 0.02)) body.created = created + 1
    return { data: write(r, ascii, body) }
  }
  // logprobs: true: each text delta's token again, with its bytes (the delta's text twice in a chunk).
  const logprobs = shape === 'openai' && chance(r, 0.1)
  const choice = (index: number, delta: Record<string, unknown>, finish: string | null = null) => {
    const c: Record<string, unknown> = { index, delta }
    if (shape === 'azure')
      c.content_filter_results = finish ? {} : { hate: { filtered: false, severity: 'safe' } }
    if (logprobs && typeof delta.content === 'string' && delta.content !== '') {
      const token = delta.content
      const entry = { token, logprob: -0.25, bytes: [...Buffer.from(token)] }
      c.logprobs = { content: [{ ...entry, top_logprobs: [entry] }], refusal: null }
    } else if (shape !== 'ollama' && shape !== 'deepseek' && !chance(r, 0.03)) c.logprobs = null
    if (shape !== 'ollama' || finish) c.finish_reason = finish
    if (shape === 'vllm' && chance(r, 0.5)) c.stop_reason = null
    return c
  }

  if (shape === 'azure' && chance(r, 0.7))
    frames.push({
      data: write(r, ascii, {
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
      }),
    })

  // What each choice says, as a queue of deltas; choices interleave at random.
  const queues: Record<string, unknown>[][] = []
  // null: the choice ends with no finish_reason (an audio answer's expires_at delta ends it).
  const finishes: (string | null)[] = []
  for (let index = 0; index < n; index++) {
    const q: Record<string, unknown>[] = []
    if (shape === 'openai' && chance(r, 0.15)) {
      // An audio answer (gpt-4o-audio-preview): transcript and audio in delta.audio, no content;
      // it ends with an expires_at-only delta, a finish_reason after it now and then.
      const parts = text(r, 1, 10)
      q.push({ audio: { transcript: parts.shift()! } })
      q.push({ audio: { id: `audio_${index}`, data: 'CAAIAAkACgAP' } })
      for (const t of parts)
        q.push(chance(r, 0.3) ? { audio: { data: 'lBNb' } } : { audio: { transcript: t } })
      q.push({ audio: { expires_at: 1_730_768_595 } })
      queues.push(q)
      finishes.push(chance(r, 0.8) ? null : 'stop')
      continue
    }
    if (chance(r, 0.3))
      for (const t of text(r))
        q.push({ [reasoningKey]: t, ...(shape === 'deepseek' && { content: null }) })
    // A refusal streams in `refusal` deltas, not `content` (the SDK keeps it apart from the text).
    const refuses = (shape === 'openai' || shape === 'azure') && chance(r, 0.08)
    for (const t of chance(r, 0.85) ? text(r, 1, 20) : [])
      q.push(refuses ? { refusal: t } : { content: t })
    // A search model's citations, in a delta of their own after the text.
    if (shape === 'openai' && !refuses && chance(r, 0.05))
      q.push({
        annotations: [
          {
            type: 'url_citation',
            url_citation: {
              end_index: 5,
              start_index: 0,
              title: 'Caf\u00e9 "x"',
              url: 'https://e.com/',
            },
          },
        ],
      })
    const legacy = shape === 'openai' && chance(r, 0.05)
    const calls = !legacy && chance(r, 0.3) ? int(r, 1, 3) : 0
    if (legacy) {
      const { fragments } = argumentFragments(r)
      const name = pick(r, NAMES)
      q.push({ function_call: { name, arguments: chance(r, 0.5) ? '' : fragments.shift()! } })
      for (const f of fragments) q.push({ function_call: { arguments: f } })
    }
    const perCall = Array.from({ length: calls }, (_, k) => {
      const { fragments } = argumentFragments(r)
      const head = { index: k, id: `call_${index}${k}x`, type: 'function' }
      const name = pick(r, NAMES)
      if (shape === 'openai' && chance(r, 0.15)) {
        // A custom (free-form) tool: its input streamed in `custom.input`.
        const input = text(r, 1, 8)
        const cname = pick(r, ['code_exec', 'sql'])
        return [
          {
            ...head,
            type: 'custom',
            custom: { name: cname, input: chance(r, 0.5) ? '' : input.shift()! },
          },
          ...input.map((f) => ({ index: k, custom: { input: f } })),
        ] as never
      }
      if (shape === 'ollama' || chance(r, 0.1))
        return [{ ...head, function: { name, arguments: fragments.join('') } }]
      const first = chance(r, 0.5) ? '' : fragments.shift()!
      return [
        { ...head, function: { name, arguments: first } },
        ...fragments.map((f) => ({ index: k, function: { arguments: f } })),
      ]
    })
    // Parallel calls: in order, or their fragments interleaved by index (each call begun in order).
    const parallel = chance(r, 0.4)
    if (
      calls > 1 &&
      perCall.every((c) => 'type' in c[0]! && c[0].type === 'function') &&
      chance(r, 0.15)
    ) {
      q.push({
        tool_calls: perCall.map((c) => ({
          ...c[0],
          function: { ...c[0]!.function, arguments: c.map((f) => f.function.arguments).join('') },
        })),
      })
      perCall.length = 0
    }
    const pending = perCall.map((c) => [...c])
    const begun = new Set<number>()
    while (pending.some((c) => c.length > 0)) {
      const open = pending
        .map((_, k) => k)
        .filter((k) => pending[k]!.length > 0)
        .filter((k) =>
          parallel ? k === 0 || begun.has(k - 1) : pending.slice(0, k).every((c) => c.length === 0),
        )
      const k = pick(r, open)
      begun.add(k)
      q.push({ tool_calls: [pending[k]!.shift()] })
    }
    queues.push(q)
    finishes.push(
      calls > 0
        ? 'tool_calls'
        : legacy
          ? 'function_call'
          : pick(r, ['stop', 'stop', 'length', 'content_filter']),
    )
  }
  // The first chunk of each choice carries the role (the SDK needs it).
  const role: Record<string, unknown> =
    shape === 'azure' || shape === 'openai'
      ? { role: 'assistant', content: chance(r, 0.2) ? null : '', refusal: null }
      : { role: 'assistant', content: '' }
  if (chance(r, 0.5)) frames.push(chunk(queues.map((_, i) => choice(i, { ...role }))))
  else for (let i = 0; i < n; i++) frames.push(chunk([choice(i, { ...role })]))
  const started = frames.length

  const usage = { prompt_tokens: int(r, 1, 99), completion_tokens: int(r, 1, 999), total_tokens: 0 }
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
  const left = queues.map((q) => q.length)
  const done = queues.map(() => false)
  while (done.some((d) => !d)) {
    const i = pick(
      r,
      done.map((_, k) => k).filter((k) => !done[k]),
    )
    const q = queues[i]!
    if (q.length > 0) {
      const delta = q.shift()!
      // vLLM and others put the finish on the last delta.
      const last = q.length === 0 && finishes[i] !== null && (shape === 'vllm' || chance(r, 0.1))
      if (last) done[i] = true
      const extra =
        usageMode === 'every' ? { usage: { ...usage, completion_tokens: left[i]! - q.length } } : {}
      if (n > 1 && chance(r, 0.2)) {
        // Two choices in one chunk.
        const j = pick(
          r,
          done.map((_, k) => k).filter((k) => k !== i && !done[k]),
        )
        if (j !== undefined && queues[j]!.length > 0) {
          frames.push(
            chunk(
              [choice(i, delta, last ? finishes[i]! : null), choice(j, queues[j]!.shift()!)],
              extra,
            ),
          )
          continue
        }
      }
      frames.push(chunk([choice(i, delta, last ? finishes[i]! : null)], extra))
    } else {
      done[i] = true
      if (finishes[i] === null) continue
      // A server that counts as it goes (vLLM's continuous usage) counts in the finish chunk too.
      const extra =
        usageMode === 'every'
          ? { usage: { ...usage, completion_tokens: left[i]! } }
          : usageMode === 'finish' && done.every((d) => d)
            ? { usage }
            : {}
      frames.push(
        chunk(
          [choice(i, shape === 'ollama' ? { role: 'assistant', content: '' } : {}, finishes[i]!)],
          extra,
        ),
      )
    }
  }
  // Azure's asynchronous filter: results for text already streamed, so never among the first events.
  if (shape === 'azure' && frames.length > started)
    for (let k = int(r, 0, 2); k > 0; k--) {
      const filter = {
        data: write(r, ascii, {
          choices: [
            {
              content_filter_offsets: {
                check_offset: 0,
                start_offset: 0,
                end_offset: int(r, 1, 99),
              },
              content_filter_results: { hate: { filtered: false, severity: 'safe' } },
              finish_reason: null,
              index: 0,
            },
          ],
          created: 0,
          id: '',
          model: '',
          object: '',
        }),
      }
      frames.splice(int(r, started + 1, frames.length), 0, filter)
    }
  if (usageMode === 'chunk' || usageMode === 'every') frames.push(chunk([], { usage }))
  frames.push({ data: '[DONE]' })
  return { profile: 'openai-chat', frames, ...lineStyle(r, shape), shape: `chat/${shape} n=${n}` }
}

function lineStyle(r: Rng, shape: string) {
  const compat =
    shape === 'vllm' || shape === 'openrouter' || shape === 'ollama' || shape === 'deepseek'
  return { crlf: chance(r, compat ? 0.3 : 0.05), nospace: chance(r, compat ? 0.4 : 0.05) }
}

function responsesStream(r: Rng): Omit<Generated, 'ending'> {
  let seq = 0
  const model = pick(r, ['gpt-5-2025-08-07', 'o4-mini'])
  const padded = chance(r, 0.7)
  const frames: Frame[] = []
  const ev = (type: string, data: Record<string, unknown>, delta = false) => {
    const body: Record<string, unknown> = { type, sequence_number: seq++, ...data }
    if (delta && padded) body.obfuscation = obfuscation(r)
    frames.push({ event: type, data: JSON.stringify(body) })
  }
  const response = (status: string, output: unknown[], usage: unknown = null, extra = {}) => ({
    id: 'resp_1',
    object: 'response',
    created_at: 1_700_000_000,
    status,
    error: null,
    incomplete_details: null,
    model,
    output,
    usage,
    ...extra,
  })
  ev('response.created', { response: response('in_progress', []) })
  if (chance(r, 0.1)) ev('response.queued', { response: response('queued', []) })
  ev('response.in_progress', { response: response('in_progress', []) })
  const output: Record<string, unknown>[] = []
  const items = int(r, 1, 4)
  const end = pick(r, ['completed', 'completed', 'completed', 'incomplete', 'failed'])
  for (let oi = 0; oi < items; oi++) {
    const kind = pick(r, [
      'message',
      'message',
      'reasoning',
      'function_call',
      'custom',
      'web_search',
      'code',
      'shell',
    ])
    // A long wait: the server's keepalive event (which the SDK ignores).
    if (chance(r, 0.05)) ev('keepalive', {})
    if (kind === 'web_search' || kind === 'code') {
      // A hosted tool's call: status events, the code interpreter's code in deltas; no tool call.
      const id = `${kind === 'code' ? 'ci' : 'ws'}_${oi}`
      const type = kind === 'code' ? 'code_interpreter_call' : 'web_search_call'
      const start =
        kind === 'code'
          ? { id, type, status: 'in_progress', code: '', container_id: 'cntr_1', outputs: null }
          : { id, type, status: 'in_progress', action: { type: 'search', query: 'q' } }
      ev('response.output_item.added', { output_index: oi, item: start })
      const at = { item_id: id, output_index: oi }
      ev(`response.${type}.in_progress`, at)
      let code = ''
      if (kind === 'code') {
        for (const d of text(r, 1, 8)) {
          code += d
          ev('response.code_interpreter_call_code.delta', { ...at, delta: d }, true)
        }
        ev('response.code_interpreter_call_code.done', { ...at, code })
        ev('response.code_interpreter_call.interpreting', at)
      } else ev('response.web_search_call.searching', at)
      ev(`response.${type}.completed`, at)
      const item = { ...start, status: 'completed', ...(kind === 'code' && { code }) }
      ev('response.output_item.done', { output_index: oi, item })
      output.push(item)
      continue
    }
    if (kind === 'shell') {
      // The shell tool: commands the client runs, streamed in deltas; not a function call.
      const id = `sh_${oi}`
      const call = {
        id,
        type: 'shell_call',
        status: 'in_progress',
        call_id: `call_${oi}s`,
        environment: null,
        action: { commands: [] as string[], max_output_length: null, timeout_ms: null },
      }
      ev('response.output_item.added', { output_index: oi, item: call })
      const commands: string[] = []
      for (let ci = 0; ci < int(r, 1, 2); ci++) {
        const at = { output_index: oi, command_index: ci }
        ev('response.shell_call_command.added', { ...at, command: '' })
        const parts = text(r, 1, 6)
        for (const d of parts) ev('response.shell_call_command.delta', { ...at, delta: d }, true)
        commands.push(parts.join(''))
        ev('response.shell_call_command.done', { ...at, command: commands[ci] })
      }
      const item = { ...call, status: 'completed', action: { ...call.action, commands } }
      ev('response.output_item.done', { output_index: oi, item })
      output.push(item)
      continue
    }
    if (kind === 'custom') {
      const id = `ctc_${oi}`
      const call = {
        id,
        type: 'custom_tool_call',
        status: 'in_progress',
        call_id: `call_${oi}c`,
        name: 'code_exec',
        input: '',
      }
      ev('response.output_item.added', { output_index: oi, item: call })
      const parts = text(r, 1, 8)
      for (const d of parts)
        ev(
          'response.custom_tool_call_input.delta',
          { item_id: id, output_index: oi, delta: d },
          true,
        )
      const input = parts.join('')
      ev('response.custom_tool_call_input.done', { item_id: id, output_index: oi, input })
      const item = { ...call, status: 'completed', input }
      ev('response.output_item.done', { output_index: oi, item })
      output.push(item)
      continue
    }
    if (kind === 'reasoning') {
      const id = `rs_${oi}`
      ev('response.output_item.added', {
        output_index: oi,
        item: { id, type: 'reasoning', summary: [] },
      })
      const summary: { type: string; text: string }[] = []
      const content: { type: string; text: string }[] = []
      // Reasoning as text (gpt-oss through vLLM), or summarised (OpenAI).
      if (chance(r, 0.3)) {
        const at = { item_id: id, output_index: oi, content_index: 0 }
        ev('response.content_part.added', { ...at, part: { type: 'reasoning_text', text: '' } })
        const parts = text(r)
        for (const d of parts) ev('response.reasoning_text.delta', { ...at, delta: d }, true)
        const part = { type: 'reasoning_text', text: parts.join('') }
        ev('response.reasoning_text.done', { ...at, text: part.text })
        ev('response.content_part.done', { ...at, part })
        content.push(part)
      } else
        for (let si = 0; si < int(r, 0, 2); si++) {
          ev('response.reasoning_summary_part.added', {
            item_id: id,
            output_index: oi,
            summary_index: si,
            part: { type: 'summary_text', text: '' },
          })
          const parts = text(r)
          for (const d of parts)
            ev(
              'response.reasoning_summary_text.delta',
              { item_id: id, output_index: oi, summary_index: si, delta: d },
              true,
            )
          const whole = parts.join('')
          ev('response.reasoning_summary_text.done', {
            item_id: id,
            output_index: oi,
            summary_index: si,
            text: whole,
          })
          ev('response.reasoning_summary_part.done', {
            item_id: id,
            output_index: oi,
            summary_index: si,
            part: { type: 'summary_text', text: whole },
          })
          summary.push({ type: 'summary_text', text: whole })
        }
      const item = { id, type: 'reasoning', summary, ...(content.length > 0 && { content }) }
      ev('response.output_item.done', { output_index: oi, item })
      output.push(item)
    } else if (kind === 'message') {
      const id = `msg_${oi}`
      ev('response.output_item.added', {
        output_index: oi,
        item: { id, type: 'message', status: 'in_progress', content: [], role: 'assistant' },
      })
      const content: Record<string, unknown>[] = []
      for (let ci = 0; ci < int(r, 1, 2); ci++) {
        // A refusal is a part of its own, streamed as refusal deltas: not output text.
        if (chance(r, 0.08)) {
          const at = { item_id: id, output_index: oi, content_index: ci }
          ev('response.content_part.added', { ...at, part: { type: 'refusal', refusal: '' } })
          const parts = text(r)
          for (const d of parts) ev('response.refusal.delta', { ...at, delta: d }, true)
          const part = { type: 'refusal', refusal: parts.join('') }
          ev('response.refusal.done', { ...at, refusal: part.refusal })
          ev('response.content_part.done', { ...at, part })
          content.push(part)
          continue
        }
        ev('response.content_part.added', {
          item_id: id,
          output_index: oi,
          content_index: ci,
          part: { type: 'output_text', annotations: [], logprobs: [], text: '' },
        })
        const parts = text(r, 1, 20)
        const annotations: unknown[] = []
        parts.forEach((d, k) => {
          ev(
            'response.output_text.delta',
            { item_id: id, output_index: oi, content_index: ci, delta: d, logprobs: [] },
            true,
          )
          if (!chance(r, 0.05)) return
          const annotation = {
            type: 'url_citation',
            start_index: 0,
            end_index: k,
            title: 'A \u00e9 "source"',
            url: 'https://example.com/a?b=1',
          }
          ev('response.output_text.annotation.added', {
            item_id: id,
            output_index: oi,
            content_index: ci,
            annotation_index: annotations.length,
            annotation,
          })
          annotations.push(annotation)
        })
        const whole = parts.join('')
        ev('response.output_text.done', {
          item_id: id,
          output_index: oi,
          content_index: ci,
          text: whole,
          logprobs: [],
        })
        const part = { type: 'output_text', annotations, logprobs: [], text: whole }
        ev('response.content_part.done', { item_id: id, output_index: oi, content_index: ci, part })
        content.push(part)
      }
      const item = { id, type: 'message', status: 'completed', content, role: 'assistant' }
      ev('response.output_item.done', { output_index: oi, item })
      output.push(item)
    } else {
      const id = `fc_${oi}`
      const name = pick(r, NAMES)
      // An MCP server's call: the same events under mcp_call names, no call_id.
      const mcp = chance(r, 0.2)
      const call = mcp
        ? { id, type: 'mcp_call', status: 'in_progress', arguments: '', server_label: 'srv', name }
        : {
            id,
            type: 'function_call',
            status: 'in_progress',
            arguments: '',
            call_id: `call_${oi}r`,
            name,
          }
      const args = mcp ? 'response.mcp_call_arguments' : 'response.function_call_arguments'
      const { json, fragments } = argumentFragments(r)
      // A compatible server that gives the whole call at once: arguments in the added item, no deltas.
      const whole = chance(r, 0.15)
      ev('response.output_item.added', {
        output_index: oi,
        item: whole ? { ...call, arguments: json } : call,
      })
      if (whole) fragments.length = 0
      for (const d of fragments)
        ev(`${args}.delta`, { item_id: id, output_index: oi, delta: d }, true)
      ev(`${args}.done`, {
        item_id: id,
        output_index: oi,
        arguments: json,
      })
      const item = { ...call, status: 'completed', arguments: json }
      ev('response.output_item.done', { output_index: oi, item })
      output.push(item)
    }
  }
  const usage = {
    input_tokens: int(r, 1, 99),
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: int(r, 1, 999),
    output_tokens_details: { reasoning_tokens: int(r, 0, 9) },
    total_tokens: 0,
  }
  usage.total_tokens = usage.input_tokens + usage.output_tokens
  ev(`response.${end}`, {
    response: response(
      end,
      output,
      end === 'failed' ? null : usage,
      end === 'incomplete'
        ? { incomplete_details: { reason: 'max_output_tokens' } }
        : end === 'failed'
          ? { error: { code: 'server_error', message: 'The model failed.' } }
          : {},
    ),
  })
  return {
    profile: 'openai-responses',
    frames,
    ...lineStyle(r, 'openai'),
    shape: `responses/${end} items=${items}`,
  }
}

function anthropicStream(r: Rng): Omit<Generated, 'ending'> {
  const frames: Frame[] = []
  const ev = (type: string, data: Record<string, unknown>) =>
    frames.push({ event: type, data: JSON.stringify({ type, ...data }) })
  const ping = () => chance(r, 0.1) && ev('ping', {})
  const model = pick(r, ['claude-sonnet-4-5-20250929', 'claude-opus-4-1'])
  const startUsage: Record<string, unknown> = {
    input_tokens: int(r, 1, 999),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: int(r, 0, 50),
    output_tokens: int(r, 1, 5),
  }
  if (chance(r, 0.3)) startUsage.service_tier = 'standard'
  ev('message_start', {
    message: {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: startUsage,
    },
  })
  ping()
  const blocks = int(r, 1, 4)
  let tools = 0
  let compacted = false
  for (let index = 0; index < blocks; index++) {
    const kind = pick(r, [
      'text',
      'text',
      'thinking',
      'tool_use',
      'redacted',
      'search_result',
      'code_result',
      'compaction',
    ])
    if (kind === 'compaction' && index === 0) {
      // Server-side compaction (beta): its summary in one compaction_delta, no text.
      compacted = true
      ev('content_block_start', {
        index,
        content_block: { type: 'compaction', content: null, encrypted_content: null },
      })
      ev('content_block_delta', {
        index,
        delta: {
          type: 'compaction_delta',
          content: 'Earlier: "x" \u00e9',
          encrypted_content: 'Eo8B',
        },
      })
    } else if (kind === 'code_result' || kind === 'compaction') {
      // Code execution's result: a whole block, no deltas, not a tool call.
      ev('content_block_start', {
        index,
        content_block: {
          type: 'bash_code_execution_tool_result',
          tool_use_id: `srvtoolu_${index}`,
          content: {
            type: 'bash_code_execution_result',
            stdout: 'ok "1"\n',
            stderr: '',
            return_code: 0,
            content: [],
          },
        },
      })
    } else if (kind === 'text') {
      // With citations on, a block starts with an empty list and cites between its text deltas.
      const cites = chance(r, 0.2)
      ev('content_block_start', {
        index,
        content_block: {
          type: 'text',
          text: chance(r, 0.1) ? 'Start \u00e9 "q" ' : '',
          ...(cites && { citations: [] }),
        },
      })
      for (const t of text(r, 1, 20)) {
        ev('content_block_delta', { index, delta: { type: 'text_delta', text: t } })
        if (cites && chance(r, 0.2))
          ev('content_block_delta', {
            index,
            delta: {
              type: 'citations_delta',
              citation: {
                type: 'web_search_result_location',
                cited_text: 'caf\u00e9 "x"',
                url: 'https://example.com/',
                title: 'Example',
                encrypted_index: 'Eo8BCioIAhgB',
              },
            },
          })
        ping()
      }
    } else if (kind === 'search_result') {
      // A server tool's result: a whole block, no deltas, not a tool call.
      ev('content_block_start', {
        index,
        content_block: {
          type: 'web_search_tool_result',
          tool_use_id: `srvtoolu_${index}`,
          content: [
            {
              type: 'web_search_result',
              title: 'Example',
              url: 'https://example.com/',
              encrypted_content: 'EqgfCioIAhgB',
              page_age: null,
            },
          ],
        },
      })
    } else if (kind === 'thinking') {
      ev('content_block_start', {
        index,
        content_block: { type: 'thinking', thinking: chance(r, 0.1) ? 'Hmm. ' : '', signature: '' },
      })
      for (const t of text(r))
        ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: t } })
      ev('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' },
      })
    } else if (kind === 'redacted') {
      ev('content_block_start', {
        index,
        content_block: { type: 'redacted_thinking', data: 'EmwKAhgB' },
      })
    } else {
      tools++
      const k = r()
      ev('content_block_start', {
        index,
        content_block:
          k < 0.2
            ? { type: 'server_tool_use', id: `srvtoolu_${index}`, name: 'web_search', input: {} }
            : k < 0.3
              ? {
                  type: 'mcp_tool_use',
                  id: `mcptoolu_${index}`,
                  name: pick(r, NAMES),
                  server_name: 'tracker',
                  input: {},
                }
              : { type: 'tool_use', id: `toolu_${index}`, name: pick(r, NAMES), input: {} },
      })
      const { fragments } = argumentFragments(r)
      if (chance(r, 0.5)) fragments.unshift('')
      // A tool with no parameters: one empty fragment, or none at all.
      if (chance(r, 0.1)) fragments.splice(0, fragments.length, ...(chance(r, 0.5) ? [''] : []))
      for (const f of fragments) {
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: f } })
        ping()
      }
    }
    ev('content_block_stop', { index })
  }
  const usage: Record<string, unknown> = { output_tokens: int(r, 1, 999) }
  if (chance(r, 0.2)) usage.server_tool_use = { web_search_requests: int(r, 1, 3) }
  if (chance(r, 0.3))
    Object.assign(usage, { input_tokens: startUsage.input_tokens, cache_read_input_tokens: 7 })
  if (chance(r, 0.1))
    Object.assign(usage, { cache_creation_input_tokens: null, input_tokens: null })
  if (chance(r, 0.1)) usage.cache_creation_input_tokens = 12
  if (compacted)
    usage.iterations = [
      { type: 'compaction', input_tokens: 180000, output_tokens: 3500 },
      { type: 'message', input_tokens: 30, output_tokens: usage.output_tokens },
    ]
  ev('message_delta', {
    delta: {
      stop_reason: tools > 0 ? 'tool_use' : pick(r, ['end_turn', 'max_tokens', 'stop_sequence']),
      stop_sequence: null,
    },
    usage,
  })
  ev('message_stop', {})
  return {
    profile: 'anthropic',
    frames,
    ...lineStyle(r, 'anthropic'),
    shape: `anthropic blocks=${blocks}`,
  }
}

function generate(seed: number): Generated {
  const r = rng(seed)
  const k = r()
  return ending(r, k < 0.5 ? chatStream(r) : k < 0.75 ? responsesStream(r) : anthropicStream(r))
}

// ---------------------------------------------------------------- bytes

function bytesOf(g: Generated, seed: number, frames = g.frames): Buffer {
  const r = rng(seed ^ 0xb17e5)
  const nl = g.crlf ? (chance(r, 0.2) ? '\r' : '\r\n') : '\n'
  const field = g.nospace ? ':' : ': '
  const multiline = chance(r, 0.1)
  const ids = chance(r, 0.1)
  let s = chance(r, 0.1) ? `: keep-alive${nl}${nl}` : ''
  if (chance(r, 0.05)) s += `retry: 3000${nl}${nl}`
  let k = 0
  const lead = chance(r, 0.05) ? pick(r, [' ', '\t', '  ']) : ''
  for (const f of frames) {
    if (chance(r, 0.05)) s += `: ping - ${new Date(0).toISOString()}${nl}${nl}`
    if (f.event) s += `event${field}${f.event}${nl}`
    if (chance(r, 0.03)) s += `: interleaved${nl}`
    if (ids) s += `id${field}${++k}${nl}`
    // A server that writes the JSON over several data lines (joined with a line feed).
    const data =
      multiline && chance(r, 0.5)
        ? f.data.replace(
            /,"(model|choices|type|index|delta|sequence_number|usage|item_id)":/g,
            (m) => (chance(r, 0.5) ? `,${nl}data${field}${m.slice(1)}` : m),
          )
        : f.data
    s += `data${field}${lead && data.startsWith('{') && chance(r, 0.5) ? lead : ''}${data}${nl}${nl}`
  }
  return Buffer.from(s)
}

/** The writes of a stream: cut at random places, preferring inside characters and after a backslash or CR. */
function cut(bytes: Buffer, seed: number): Uint8Array[] {
  const r = rng(seed ^ 0x5eed)
  const cuts = new Set<number>()
  const wanted = int(r, 0, Math.min(60, bytes.length - 1))
  for (let i = 0; i < wanted * 6 && cuts.size < wanted; i++) {
    const at = int(r, 1, bytes.length - 1)
    const k = r()
    if (k < 0.3 && (bytes[at]! & 0xc0) !== 0x80) continue
    if (k >= 0.3 && k < 0.5 && bytes[at - 1] !== 0x5c && bytes[at - 1] !== 13) continue
    cuts.add(at)
  }
  return cutAt(bytes, [...cuts])
}

// ---------------------------------------------------------------- server, SDKs, CLI

const served = new Map<string, Uint8Array[]>()

async function serve(res: ServerResponse, writes: Uint8Array[]) {
  res.socket?.setNoDelay(true)
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.flushHeaders()
  for (const w of writes) {
    if (res.destroyed) return
    res.write(w)
    await new Promise((resolve) => setImmediate(resolve))
  }
  res.end()
}

const server = createServer((req, res) => {
  res.shouldKeepAlive = false
  req.resume()
  const writes = served.get(req.url?.split('/')[2] ?? '')
  if (!writes) res.writeHead(404).end()
  else void serve(res, writes)
})
let base = ''
let nextKey = 0
let events = 0
let parses = 0
/** Template events whose data's JSON text (what --json writes) was not JSON.stringify's. */
let wrongJson = 0
/** `--templates-only`: only the in-process check of the fast path against the full parse (fast). */
let templatesOnly = false

/** What is compared: the stitched fields, as the SDK has them and as sse-probe reports them. */
interface Stitched {
  finalReasoning?: string
  model: string | null
  text: string
  reasoning: string
  toolCalls: { id: string | null; name: string | null; arguments: unknown }[]
  finishReason: string | null
  usage: unknown
  choices:
    | {
        index: number
        text: string
        reasoning: string
        toolCalls: unknown[]
        finishReason: string | null
      }[]
    | null
}

// Arguments are compared as JSON values where the SDK parses them (Anthropic's input), else as text.
const sdkCall = (id: string | null, name: string | null, args: unknown) => ({
  id,
  name,
  arguments: args,
})

/**
 * What the SDK assembles (undefined when it throws: `error`), and the text of the first choice it
 * streamed through its events before the end or the error.
 */
interface Oracle {
  final?: Stitched
  error?: string
  streamed: string
  /**
   * The deltas llm.md names (non-empty text, reasoning, tool-call arguments), counted from the
   * events as the SDK parsed them: no other event may count as one.
   */
  deltas: number
}

const said = (value: unknown) => (typeof value === 'string' && value !== '' ? 1 : 0)
const RESPONSES_DELTAS = new Set([
  'response.output_text.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
  'response.mcp_call_arguments.delta',
])

/** The two message streams of @anthropic-ai/sdk (the beta one's blocks are a superset), as read here. */
interface AnthropicStream {
  finalMessage(): Promise<{
    model: string
    content: unknown[]
    stop_reason: string | null
    usage: unknown
  }>
}
interface Block {
  type: string
  text?: string
  thinking?: string
  id?: string
  name?: string
  input?: unknown
}

async function oracle(profile: LlmProfile, url: string, beta: boolean): Promise<Oracle> {
  const result: Oracle = { streamed: '', deltas: 0 }
  const settle = async (assemble: () => Promise<Stitched>) => {
    try {
      result.final = await assemble()
    } catch (e) {
      result.error = `${(e as Error).constructor.name}: ${(e as Error).message}`
    }
    return result
  }
  if (profile === 'anthropic') {
    const client = new Anthropic({ apiKey: 'k', baseURL: url, maxRetries: 0, logLevel: 'off' })
    const params = {
      model: 'm',
      max_tokens: 9,
      messages: [{ role: 'user' as const, content: 'hi' }],
    }
    // MCP tool use answers only a beta request, and only the beta stream assembles its input.
    const stream: AnthropicStream = beta
      ? client.beta.messages.stream(params)
      : client.messages.stream(params)
    ;(
      stream as unknown as { on(e: string, l: (e: unknown, m: { content: Block[] }) => void): void }
    ).on('streamEvent', (e, m) => {
      if (m) result.streamed = m.content.map((b) => (b.type === 'text' ? b.text : '')).join('')
      const {
        type,
        content_block: block,
        delta,
        index,
      } = e as {
        type: string
        content_block?: Block
        delta?: { type: string; text?: string; thinking?: string; partial_json?: string }
        index: number
      }
      if (type === 'content_block_start' && block)
        result.deltas += said(
          block.type === 'text' ? block.text : block.type === 'thinking' ? block.thinking : '',
        )
      if (type !== 'content_block_delta' || !delta) return
      const at = m?.content[index]?.type ?? ''
      if (delta.type === 'text_delta') result.deltas += said(delta.text)
      else if (delta.type === 'thinking_delta') result.deltas += said(delta.thinking)
      else if (
        delta.type === 'input_json_delta' &&
        /^(tool_use|server_tool_use|mcp_tool_use)$/.test(at)
      )
        result.deltas += said(delta.partial_json)
    })
    return settle(async () => {
      const m = await stream.finalMessage()
      const blocks = m.content as Block[]
      return {
        model: m.model,
        text: blocks.map((b) => (b.type === 'text' ? b.text : '')).join(''),
        reasoning: blocks.map((b) => (b.type === 'thinking' ? b.thinking : '')).join(''),
        toolCalls: blocks.flatMap((b) =>
          /^(tool_use|server_tool_use|mcp_tool_use)$/.test(b.type)
            ? [sdkCall(b.id!, b.name!, b.input)]
            : [],
        ),
        finishReason: m.stop_reason,
        usage: m.usage,
        choices: null,
      }
    })
  }
  const client = new OpenAI({ apiKey: 'k', baseURL: `${url}/v1`, maxRetries: 0, logLevel: 'off' })
  if (profile === 'openai-responses') {
    const stream = client.responses.stream({ model: 'm', input: 'hi' })
    let reasoning = ''
    stream.on('response.reasoning_summary_text.delta', (e) => (reasoning += e.delta))
    stream.on('response.reasoning_text.delta', (e) => (reasoning += e.delta))
    stream.on('response.output_text.delta', (e) => (result.streamed += e.delta))
    // A refusal is no delta (llm.md): it is in the set only to be taken out.
    stream.on('event', (e) => {
      if (RESPONSES_DELTAS.has(e.type) && e.type !== 'response.refusal.delta')
        result.deltas += said((e as { delta?: unknown }).delta)
    })
    return settle(async () => {
      const f = await stream.finalResponse()
      return {
        model: f.model,
        text: f.output_text,
        reasoning,
        toolCalls: f.output.flatMap((o) =>
          o.type === 'function_call'
            ? [sdkCall(o.call_id, o.name, o.arguments)]
            : o.type === 'custom_tool_call'
              ? [sdkCall(o.call_id, o.name, o.input)]
              : o.type === 'mcp_call'
                ? [sdkCall(o.id, o.name, o.arguments)]
                : [],
        ),
        finalReasoning: f.output
          .map((o) =>
            o.type === 'reasoning'
              ? [...o.summary.map((p) => p.text), ...(o.content ?? []).map((p) => p.text)].join('')
              : '',
          )
          .join(''),
        finishReason: f.status ?? null,
        usage: f.usage ?? null,
        choices: null,
      }
    })
  }
  const stream = client.chat.completions.stream({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    n: 3,
    stream_options: { include_usage: true },
  })
  // The SDK does not join reasoning: joined from its chunks, as compatible servers send it.
  const reasoning: string[] = []
  stream.on('chunk', (c) => {
    for (const ch of c.choices) {
      // Azure's content-filter chunks have no delta.
      const d = (ch.delta ?? {}) as {
        content?: string | null
        reasoning_content?: string | null
        reasoning?: string | null
      }
      reasoning[ch.index] = (reasoning[ch.index] ?? '') + (d.reasoning_content ?? d.reasoning ?? '')
      if (ch.index === 0) result.streamed += d.content ?? ''
      const { function_call: legacy, tool_calls: calls } = d as {
        function_call?: { arguments?: string }
        tool_calls?: { function?: { arguments?: string }; custom?: { input?: string } }[]
      }
      result.deltas +=
        said(d.content) +
        said(d.reasoning_content ?? d.reasoning) +
        said(legacy?.arguments) +
        (calls ?? []).reduce(
          (n, c) => n + said(c.custom ? c.custom.input : c.function?.arguments),
          0,
        )
    }
  })
  return settle(async () => {
    const f = await stream.finalChatCompletion()
    const all = f.choices.map((c) => ({
      index: c.index,
      text: c.message.content ?? '',
      reasoning: reasoning[c.index] ?? '',
      toolCalls: c.message.function_call
        ? [sdkCall(null, c.message.function_call.name, c.message.function_call.arguments)]
        : (c.message.tool_calls ?? []).map((t) =>
            t.type === 'function'
              ? sdkCall(t.id, t.function.name, t.function.arguments)
              : sdkCall(t.id, t.custom.name, t.custom.input),
          ),
      finishReason: c.finish_reason,
    }))
    const first = all[0]!
    return {
      model: f.model,
      text: first.text,
      reasoning: first.reasoning,
      toolCalls: first.toolCalls,
      finishReason: first.finishReason,
      usage: f.usage ?? null,
      choices: all.length > 1 ? all : null,
    }
  })
}

function stitched(profile: LlmProfile, llm: LlmSummary): Stitched {
  const args = (a: string) => {
    if (profile !== 'anthropic') return a
    try {
      return JSON.parse(a)
    } catch {
      return `(not JSON) ${a}`
    }
  }
  const calls = (cs: LlmSummary['toolCalls']) =>
    cs.map((c) => sdkCall(c.id, c.name, args(c.arguments)))
  return {
    model: llm.model,
    text: llm.text,
    reasoning: llm.reasoning,
    toolCalls: calls(llm.toolCalls),
    finishReason: llm.finishReason,
    usage: llm.usage,
    choices: llm.choices?.map((c) => ({ ...c, toolCalls: calls(c.toolCalls) })) ?? null,
  }
}

async function cliLlmSummary(
  url: string,
): Promise<{ llm?: LlmSummary; how: string; notStringified?: string }> {
  const args = [url, '--json', '--no-reconnect', '--timeout', '60s']
  const { records, code, stderr, notStringified } = await runCli(args)
  let llm: LlmSummary | undefined
  let how = `exit ${code}`
  for (const record of records) {
    if (record.type === 'summary') {
      llm = record.llm ?? undefined
      how = `${record.reason}, exit ${code}`
    }
  }
  if (stderr.trim()) how += `; stderr: ${stderr.trim().slice(0, 300)}`
  return { llm, how, ...(notStringified !== undefined && { notStringified }) }
}

/** The summary in process, from the stream's events, with the template fast path or the full parse. */
function inProcess(profile: LlmProfile, bytes: Buffer, templates: boolean): LlmSummary {
  const full = fullParser(profile)
  // Events the full parse did not see were served by a template (the count is for the report).
  const records: { data: string; [DATA_JSON]?: string }[] = []
  const parse = templates
    ? withTemplates((type, data, sink) => {
        parses++
        return full(type, data, sink)
      })
    : full
  const assembler = createAssembler(profile, parse, 0)
  let t = 0
  let ended = false
  const parser = createParser({
    onEvent(m) {
      if (ended) return
      if (templates) events++
      const record = { data: m.data }
      records.push(record)
      // Three events a read: a template's are put off to the end of theirs.
      const signal = assembler.event(m.event ?? 'message', m.data, Math.floor(++t / 3), record)
      if (signal) ended = true
    },
  })
  parser.feed(bytes.toString('utf8'))
  const summary = assembler.summary([])
  // What --json writes of a template's event: the data's JSON text, as JSON.stringify's.
  for (const record of records) {
    const text = record[DATA_JSON]
    if (text !== undefined && text !== JSON.stringify(record.data)) wrongJson++
  }
  return summary
}

// ---------------------------------------------------------------- one stream

interface Outcome {
  /** 'sdk-cli', 'template-full', 'template-json', 'cli-failed', 'cli-json'; empty when all agree. */
  differ: string[]
  sdkError?: string
  detail: string
}

async function run(g: Generated, seed: number, frames = g.frames): Promise<Outcome> {
  const bytes = bytesOf(g, seed, frames)
  const differ: string[] = []
  const details: string[] = []
  const full = inProcess(g.profile, bytes, false)
  const wrongBefore = wrongJson
  const fast = inProcess(g.profile, bytes, true)
  if (wrongJson > wrongBefore) {
    differ.push('template-json')
    details.push(`${wrongJson - wrongBefore} template events' JSON text not JSON.stringify's`)
  }
  const { ttftMs, ttfoMs, itlMs, reads, maxDeltasPerRead, tokensPerSecond, ...a } = full
  const b = (({ ttftMs, ttfoMs, itlMs, reads, maxDeltasPerRead, tokensPerSecond, ...rest }) =>
    rest)(fast)
  if (!isDeepStrictEqual(a, b)) {
    differ.push('template-full')
    details.push(firstDifference('full', a, 'template', b))
  }
  if (templatesOnly) return { differ, detail: details.join('\n  ') }
  const key = `${nextKey++}`
  served.set(key, cut(bytes, seed))
  try {
    const url = `${base}/s/${key}`
    const [sdk, cli] = await Promise.all([
      oracle(g.profile, url, frames.some(isMcp)),
      cliLlmSummary(`${url}/cli`),
    ])
    const reason = cli.how.split(',')[0]
    // From the frames as served (a shrunk stream may have lost its end).
    const last = frames.at(-1)!
    const failed =
      last === ERRORS[g.profile] || last.malformed === true || last.event === 'response.failed'
    const ends =
      last.data === '[DONE]' ||
      /^(message_stop|response\.(completed|incomplete))$/.test(last.event ?? '')
    const expected = failed ? 'stream-error' : ends ? /^end-/ : 'server-closed'
    if (cli.notStringified !== undefined) {
      differ.push('cli-json')
      details.push(`cli: ${NOT_STRINGIFIED}: ${cli.notStringified.slice(0, 300)}`)
    } else if (!cli.llm || cli.llm.profile !== g.profile || !reason?.match(expected)) {
      differ.push('cli-failed')
      details.push(`cli: ${cli.how}, profile ${cli.llm?.profile}`)
    } else if (sdk.final) {
      const mine = stitched(g.profile, cli.llm)
      const { finalReasoning, ...fin } = sdk.final
      if (finalReasoning !== undefined && finalReasoning !== mine.reasoning) {
        differ.push('sdk-cli')
        details.push(
          `finalReasoning: sdk ${JSON.stringify(finalReasoning)} / cli ${JSON.stringify(mine.reasoning)}`,
        )
      } else if (!isDeepStrictEqual(mine, JSON.parse(JSON.stringify(fin)))) {
        differ.push('sdk-cli')
        details.push(firstDifference('sdk', JSON.parse(JSON.stringify(fin)), 'cli', mine))
      } else if (cli.llm.deltas !== sdk.deltas) {
        differ.push('sdk-cli')
        details.push(`deltas: sdk events ${sdk.deltas} / cli ${cli.llm.deltas}`)
      }
    } else if (cli.llm.text !== sdk.streamed) {
      // The SDK threw: what it streamed before is what sse-probe must have kept.
      differ.push('sdk-cli')
      details.push(
        `streamed text: sdk ${JSON.stringify(sdk.streamed)} / cli ${JSON.stringify(cli.llm.text)}`,
      )
    }
    return { differ, sdkError: sdk.error, detail: details.join('\n  ') }
  } finally {
    served.delete(key)
  }
}

function firstDifference(an: string, a: object, bn: string, b: object): string {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = (a as Record<string, unknown>)[k]
    const y = (b as Record<string, unknown>)[k]
    if (!isDeepStrictEqual(x, y))
      return `${k}: ${an} ${JSON.stringify(x)} / ${bn} ${JSON.stringify(y)}`
  }
  return '(equal)'
}

const field = (o: Outcome) => o.detail.split(':')[0]

/** Drops frames (halving the range down to single frames) while the divergence stays. */
async function shrink(
  g: Generated,
  seed: number,
  outcome: Outcome,
  budget = 150,
): Promise<Frame[]> {
  const differ = outcome.differ
  let frames = g.frames
  let tries = 0
  for (let size = Math.max(1, frames.length >> 1); size >= 1 && tries < budget; size >>= 1) {
    for (let at = 0; at + size <= frames.length && tries < budget; ) {
      const candidate = [...frames.slice(0, at), ...frames.slice(at + size)]
      tries++
      const o = candidate.length > 0 ? await run(g, seed, candidate) : undefined
      // The same divergence, in the same field, on a stream the SDK still takes.
      if (
        o &&
        !o.sdkError === !outcome.sdkError &&
        o.differ.join() === differ.join() &&
        field(o) === field(outcome)
      )
        frames = candidate
      else at += size
    }
  }
  return frames
}

// ---------------------------------------------------------------- main

async function main() {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      streams: { type: 'string', default: '2000' },
      minutes: { type: 'string', default: '30' },
      jobs: { type: 'string', default: '2' },
      'templates-only': { type: 'boolean', default: false },
    },
  })
  const seed = Number(values.seed)
  templatesOnly = values['templates-only']
  const total = Number(values.streams)
  const deadline = Date.now() + Number(values.minutes) * 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const found = new Map<string, { s: number; g: Generated; outcome: Outcome }>()
  const sdkErrors = new Map<string, number>()
  const byProfile = new Map<string, number>()
  let next = 0
  let done = 0
  let diverged = 0
  const started = Date.now()
  async function worker() {
    while (next < total && Date.now() < deadline) {
      const s = seed + next++
      const g = generate(s)
      const outcome = await run(g, s)
      done++
      byProfile.set(g.profile, (byProfile.get(g.profile) ?? 0) + 1)
      if (outcome.sdkError) {
        const kind = `${g.profile} ${g.ending}: ${outcome.sdkError.slice(0, 120)}`
        sdkErrors.set(kind, (sdkErrors.get(kind) ?? 0) + 1)
      }
      if (outcome.differ.length > 0) {
        diverged++
        const kind = `${g.profile} ${outcome.differ.join('+')} ${field(outcome)}`
        if (!found.has(kind)) {
          found.set(kind, { s, g, outcome })
          console.log(`stream ${s} (${g.shape}): ${kind}\n  ${outcome.detail}`)
        }
      }
      if (done % 100 === 0) {
        const rate = done / ((Date.now() - started) / 1000)
        console.log(`${done} streams, ${diverged} divergent, ${rate.toFixed(2)}/s`)
      }
    }
  }
  await Promise.all(Array.from({ length: Number(values.jobs) }, worker))
  console.log(
    `\n${done} streams run (seed ${seed}; ${[...byProfile].map(([p, n]) => `${p} ${n}`).join(', ')}), ${diverged} divergent; of their ${events} events, ${events - parses} or more were served by a template`,
  )
  for (const [kind, n] of sdkErrors) console.log(`the SDK threw on ${n}: ${kind}`)
  for (const [kind, { s, g, outcome }] of found) {
    const frames = await shrink(g, s, outcome)
    const o = await run(g, s, frames)
    console.log(
      `\n== ${kind} (stream ${s}, ${g.shape}, crlf ${g.crlf}, nospace ${g.nospace}), shrunk to ${frames.length} events:`,
    )
    for (const f of frames) console.log(`  ${f.event ? `event: ${f.event} ` : ''}data: ${f.data}`)
    console.log(`  ${o.detail}`)
  }
  server.close()
  server.closeAllConnections()
  process.exitCode = found.size > 0 ? 1 : 0
}

await main()
