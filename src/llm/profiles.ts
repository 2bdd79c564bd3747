import { clipped, SHOWN_MAX } from '../engine/escape.ts'
import { isJsonObject, jsonText } from '../engine/json-text.ts'
import { END_DATA, END_EVENT, type ProfileParser, type Signal, type Sink } from './assembler.ts'
import { withTemplates } from './template.ts'
import type { LlmProfile } from './types.ts'

// Provider JSON is read loosely: a field of the wrong type is treated as absent, never thrown on.
// biome-ignore lint: the shapes are the providers', checked field by field where used
type Json = any

/**
 * Data that JSON.parse rejects. Each SDK parses every event's data (Anthropic's: every named one
 * but `ping`) and throws on it, so the answer fails there for every SDK client: a stream error.
 */
const MALFORMED: unique symbol = Symbol('malformed')

/** Parses an event's data; `[DONE]` (the openai SDK's end) is undefined, data that is no JSON MALFORMED. */
function parseJson(data: string): Json {
  if (data === '[DONE]') return undefined
  try {
    return JSON.parse(data)
  } catch {
    return MALFORMED
  }
}

/** The stream error of an error event: its JSON as parsed, else its data as sent. */
const errorIn = (parsed: Json, data: string): Signal => ({
  error: errorMessage(parsed === MALFORMED || parsed === undefined ? data : parsed),
})

/** The stream error of data that is not JSON, quoted as far as one line shows it. */
const malformed = (data: string): Signal => ({
  error: `data that is not JSON, where the SDKs throw: ${JSON.stringify(clipped(data, SHOWN_MAX))}`,
})

const isObject = isJsonObject<Json>

/** The message of an error object as providers send it (`{error: {message}}`, `{message}`, `{error: "…"}`), else its JSON. */
function errorMessage(error: Json): string {
  const text = errorText(error)
  // The summary's and stderr's line must say something: an error event may have no data.
  return text === '' ? 'an error with no message' : text
}

function errorText(error: Json): string {
  const inner =
    isObject(error) && (isObject(error.error) || typeof error.error === 'string')
      ? error.error
      : error
  if (isObject(inner) && typeof inner.message === 'string' && inner.message !== '') {
    // `type` names the error (Anthropic, Chat); a Responses error event's own type is just 'error'.
    const name = inner.type !== 'error' && typeof inner.type === 'string' ? inner.type : inner.code
    return typeof name === 'string' && name !== '' ? `${name}: ${inner.message}` : inner.message
  }
  return typeof inner === 'string' ? inner : jsonText(inner)
}

/** The key of a choice's legacy `function_call`, apart from its tool calls' indexes. */
const FUNCTION_CALL = 'function_call'

/** Which parts of a choice's audio came, as the openai SDK keeps them. */
interface AudioState {
  id: boolean
  data: boolean
  transcript: boolean
}

/** The delta fields besides `audio` that the SDK lets an audio answer's last delta have, when null. */
const AUDIO_END_NULLS = new Set(['content', 'refusal', 'function_call', 'role', 'tool_calls'])

/**
 * Notes a choice's audio; true when the delta is the expires_at-only one that ends an audio
 * answer whose id, data and transcript all came.
 */
function noteAudio(states: Map<number, AudioState>, index: number, delta: Json): boolean {
  const audio = delta.audio
  if (!isObject(audio)) return false
  let state = states.get(index)
  if (!state) {
    state = { id: false, data: false, transcript: false }
    states.set(index, state)
  }
  if (audio.id != null) state.id = true
  if (audio.data != null) state.data = true
  if (audio.transcript != null) state.transcript = true
  return (
    audio.expires_at != null &&
    audio.id == null &&
    audio.data == null &&
    audio.transcript == null &&
    Object.keys(delta).every(
      (key) => key === 'audio' || (AUDIO_END_NULLS.has(key) && delta[key] == null),
    ) &&
    state.id &&
    state.data &&
    state.transcript
  )
}

/** Chat Completions (and compatible servers): `chat.completion.chunk` objects, then `[DONE]`. */
function createOpenaiChatParser(): ProfileParser {
  // An audio answer (gpt-4o-audio-preview) ends with an expires_at-only delta and no finish_reason:
  // the SDK then finishes the choice with 'stop' (openai-node#1206), [DONE] or not. What that
  // takes, per choice. (A delta after that one leaves the SDK with no finish: it throws.)
  const audio = new Map<number, AudioState>()
  const finished = new Set<number>()
  const indexless = new Map<string, string>()
  const seen = { chunk: false }
  return (type, data, sink) =>
    data === '[DONE]'
      ? END_DATA
      : openaiChatChunk(type, data, sink, { audio, finished, indexless, seen })
}

interface ChatState {
  audio: Map<number, AudioState>
  finished: Set<number>
  indexless: Map<string, string>
  /** Whether a chunk came: the SDK takes the completion's fields from the first as they are. */
  seen: { chunk: boolean }
}

/**
 * The key of a tool call that names no index (Gemini's compatibility layer gives each call whole,
 * in a chunk of its own, without one; the SDK throws): its position in the chunk, unless it names
 * an id other than the call's there, which makes it a call of its own. A fragment with neither
 * continues the call at its position. `indexless`: the id first seen at each choice's position.
 */
function indexlessKey(
  indexless: Map<string, string>,
  choice: number,
  position: number,
  id: unknown,
): number | string {
  if (typeof id !== 'string' || id === '') return position
  const at = `${choice}:${position}`
  const first = indexless.get(at)
  if (first === undefined) indexless.set(at, id)
  return first === undefined || first === id ? position : `id:${id}`
}

function openaiChatChunk(
  type: string,
  data: string,
  sink: Sink,
  { audio, finished, indexless, seen }: ChatState,
): Signal {
  const chunk = parseJson(data)
  // The openai SDK throws on an `error` event (a gateway's way to say it) and on any data with an
  // `error`: the stream failed.
  if (type === 'error') return errorIn(chunk, data)
  if (chunk === MALFORMED) return malformed(data)
  if (!isObject(chunk)) return undefined
  if (chunk.error) return { error: errorMessage(chunk.error) }
  sink.model(chunk.model)
  // The SDK takes the usage (as the completion's other fields) from the first chunk, then only from
  // chunks with an id: a usage chunk of TGI (whose ids are all "") is not the SDK's; a later
  // "usage": null clears it.
  if ((!seen.chunk || chunk.id) && Object.hasOwn(chunk, 'usage')) sink.usage(chunk.usage)
  seen.chunk = true
  if (!Array.isArray(chunk.choices)) return undefined
  for (const choice of chunk.choices) {
    if (!isObject(choice)) continue
    const index = typeof choice.index === 'number' ? choice.index : 0
    // Named is enough: the first choice is index 0 even when the stream ends before it says anything.
    sink.choice(index)
    const delta = choice.delta
    if (choice.finish_reason) finished.add(index)
    if (isObject(delta)) {
      if (delta.audio != null && noteAudio(audio, index, delta) && !finished.has(index))
        sink.finish(index, 'stop')
      sink.text(index, delta.content)
      sink.refusal(index, delta.refusal)
      // vLLM and DeepSeek say reasoning_content, OpenRouter and Ollama reasoning; some send both, alike.
      sink.reasoning(index, delta.reasoning_content ?? delta.reasoning)
      // The call of a (deprecated, still served) `functions` request: one per choice, no id.
      const legacy = delta.function_call
      if (isObject(legacy)) {
        sink.toolStart(index, FUNCTION_CALL, undefined, legacy.name)
        sink.toolArguments(index, FUNCTION_CALL, legacy.arguments)
      }
      if (Array.isArray(delta.tool_calls)) {
        delta.tool_calls.forEach((call: Json, i: number) => {
          if (!isObject(call)) return
          const key =
            typeof call.index === 'number' ? call.index : indexlessKey(indexless, index, i, call.id)
          // A custom tool's call names itself and streams its input in `custom`, as the SDK reads it.
          const custom = isObject(call.custom)
          const fn = custom ? call.custom : call.function
          sink.toolStart(index, key, call.id, fn?.name, undefined, custom)
          sink.toolArguments(index, key, custom ? fn.input : fn?.arguments)
        })
      }
    }
    sink.finish(index, choice.finish_reason)
  }
  return undefined
}

/** The Responses API: typed events from `response.created` to `response.completed`. */
function createOpenaiResponsesParser(): ProfileParser {
  const texted = new TextedParts()
  return (type, data, sink) => openaiResponsesEvent(type, data, sink, texted)
}

/**
 * The text parts that carried text, each by its item's output index and id (a server may name
 * either). A compatible server may give a part's text whole, without deltas (in the part or item
 * added, `output_text.done`, the part or item done, the final response): the SDK keeps it, so it
 * is text then, once, unless deltas carried the part's.
 */
class TextedParts {
  private parts = new Set<string>()
  /** Whether a part carried text; notes that it did when `now`. */
  has(item: Json, content: unknown, now = false): boolean {
    const named = [item.output_index, item.id].filter((k) => k != null)
    // A part named by neither is one with every other such part: its text is not given twice. A
    // missing content index is the first part's: a server with one part may name none.
    const part = content ?? 0
    const keys = (named.length > 0 ? named : ['?']).map((k) => `${k}:${part}`)
    const seen = keys.some((k) => this.parts.has(k))
    if (now) for (const k of keys) this.parts.add(k)
    return seen
  }
  get any(): boolean {
    return this.parts.size > 0
  }
  /** A part's text given whole: text, unless the part carried some already. */
  whole(sink: Sink, item: Json, content: unknown, text: unknown) {
    if (typeof text !== 'string' || text === '' || this.has(item, content, true)) return
    sink.text(0, text)
  }
}

/** Output texts of a message item, given whole, by content index. */
function wholeTexts(sink: Sink, texted: TextedParts, at: Json, item: Json) {
  if (!isObject(item) || item.type !== 'message' || !Array.isArray(item.content)) return
  item.content.forEach((part: Json, i: number) => {
    if (isObject(part) && part.type === 'output_text') texted.whole(sink, at, i, part.text)
  })
}

/** The item an event is about, as TextedParts names it. */
const itemOf = (event: Json) => ({ output_index: event.output_index, id: event.item_id })

function openaiResponsesEvent(type: string, data: string, sink: Sink, texted: TextedParts): Signal {
  const event = parseJson(data)
  const kind: string = isObject(event) && typeof event.type === 'string' ? event.type : type
  // The openai SDK throws on an `error` event and on any data with an `error`, whatever its type.
  if (kind === 'error' || type === 'error') return errorIn(event, data)
  if (event === MALFORMED) return malformed(data)
  if (!isObject(event)) return undefined
  if (event.error) return { error: errorMessage(event.error) }
  const key = typeof event.output_index === 'number' ? event.output_index : event.item_id
  switch (kind) {
    case 'response.output_text.delta':
      // Noted at the part's first delta, which is always parsed whole: a template serves only
      // the events after it, with the same bytes (item and content index) around their delta.
      if (typeof event.delta === 'string' && event.delta !== '')
        texted.has(itemOf(event), event.content_index, true)
      sink.text(0, event.delta)
      break
    case 'response.output_text.done':
      texted.whole(sink, itemOf(event), event.content_index, event.text)
      break
    case 'response.content_part.added':
    case 'response.content_part.done':
      if (isObject(event.part) && event.part.type === 'output_text')
        texted.whole(sink, itemOf(event), event.content_index, event.part.text)
      break
    case 'response.reasoning_text.delta':
    case 'response.reasoning_summary_text.delta':
      sink.reasoning(0, event.delta)
      break
    case 'response.refusal.delta':
      sink.refusal(0, event.delta)
      break
    case 'response.function_call_arguments.delta':
    case 'response.custom_tool_call_input.delta':
    case 'response.mcp_call_arguments.delta':
      sink.toolArguments(0, key, event.delta)
      break
    case 'response.function_call_arguments.done':
    case 'response.mcp_call_arguments.done':
      sink.toolDone(0, key, typeof event.arguments === 'string' ? event.arguments : undefined)
      break
    case 'response.custom_tool_call_input.done':
      sink.toolDone(0, key, typeof event.input === 'string' ? event.input : undefined)
      break
    case 'response.output_item.added':
    case 'response.output_item.done': {
      const item = event.item
      if (!isObject(item)) break
      wholeTexts(sink, texted, { output_index: event.output_index, id: item.id }, item)
      // A custom tool's call carries text as its `input` where a function call has `arguments`.
      const custom = item.type === 'custom_tool_call'
      // An MCP server's tool call (which the SDK assembles as a function call's) has no call_id: its id names it.
      const mcp = item.type === 'mcp_call'
      if (!custom && !mcp && item.type !== 'function_call') break
      const given = custom ? item.input : item.arguments
      const args = typeof given === 'string' ? given : undefined
      if (kind === 'response.output_item.added')
        sink.toolStart(0, key, mcp ? item.id : item.call_id, item.name, args, custom)
      else sink.toolDone(0, key, args)
      break
    }
    default:
      return lifecycle(kind, event.response, sink, texted)
  }
  return undefined
}

const FINAL = new Set(['response.completed', 'response.incomplete', 'response.failed'])

function lifecycle(kind: string, response: Json, sink: Sink, texted: TextedParts): Signal {
  if (!kind.startsWith('response.')) return undefined
  // The event's type is the end marker or the error, whatever its response object holds.
  if (isObject(response)) {
    // The final response's text, when no part streamed any (its items are by position there); not
    // an in-progress snapshot's, which the final one completes.
    if (!texted.any && FINAL.has(kind) && Array.isArray(response.output))
      response.output.forEach((item: Json, i: number) => {
        wholeTexts(
          sink,
          texted,
          { output_index: i, id: isObject(item) ? item.id : undefined },
          item,
        )
      })
    sink.model(response.model)
    if (response.usage) sink.usage(response.usage)
    // The status the response last had, as the SDK keeps it: in_progress when the stream closes early.
    sink.finish(0, response.status)
  }
  if (kind === 'response.failed')
    return {
      error:
        isObject(response) && response.error ? errorMessage(response.error) : 'response.failed',
    }
  if (kind === 'response.completed' || kind === 'response.incomplete') return END_EVENT
  return undefined
}

// The last two only a beta request streams (compaction's iterations, a fallback's credit): kept as
// the beta SDK keeps them.
const CUMULATIVE_USAGE = [
  'input_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
  'server_tool_use',
  'output_tokens_details',
  'iterations',
  'fallback_credit',
]

// The blocks whose input the SDK assembles from input_json_delta (MCP's as the beta SDK does: only
// a beta request streams them); fragments of any other block are no call's.
const TOOL_BLOCKS = new Set(['tool_use', 'server_tool_use', 'mcp_tool_use'])

/** The Messages API: `message_start`, content blocks by index, `message_delta`, `message_stop`. */
function createAnthropicParser(): ProfileParser {
  // The usage as the SDK keeps it: message_start's, updated by each message_delta.
  let usage: Record<string, Json> | undefined
  const toolBlocks = new Set<unknown>()
  return (type, data, sink) => {
    // The SDK reads an event by its data's type, but only under an event name: a `ping` event or
    // one without a name ('message') is skipped, whatever its data says.
    if (type === 'ping' || type === 'message') return undefined
    // `[DONE]` is the openai SDK's end, no word to this one, which parses it and throws.
    const event = data === '[DONE]' ? MALFORMED : parseJson(data)
    if (type === 'error' || (isObject(event) && event.type === 'error')) return errorIn(event, data)
    // The SDK skips a named event with empty data (`data:`) before it parses any.
    if (event === MALFORMED) return data === '' ? undefined : malformed(data)
    if (!isObject(event)) return undefined
    switch (event.type) {
      case 'message_start': {
        const message = event.message
        if (!isObject(message)) break
        sink.model(message.model)
        if (isObject(message.usage)) sink.usage((usage = { ...message.usage }))
        break
      }
      case 'content_block_start': {
        const block = event.content_block
        if (!isObject(block)) break
        if (block.type === 'text') sink.text(0, block.text)
        else if (block.type === 'thinking') sink.reasoning(0, block.thinking)
        else if (TOOL_BLOCKS.has(block.type)) {
          toolBlocks.add(event.index)
          sink.toolStart(0, event.index, block.id, block.name, jsonText(block.input ?? {}))
        }
        break
      }
      case 'content_block_delta': {
        const delta = event.delta
        if (!isObject(delta)) break
        if (delta.type === 'text_delta') sink.text(0, delta.text)
        else if (delta.type === 'thinking_delta') sink.reasoning(0, delta.thinking)
        else if (delta.type === 'input_json_delta' && toolBlocks.has(event.index))
          sink.toolArguments(0, event.index, delta.partial_json)
        break
      }
      case 'content_block_stop':
        sink.toolDone(0, event.index)
        break
      case 'message_delta': {
        if (isObject(event.delta)) sink.finish(0, event.delta.stop_reason)
        const update = event.usage
        if (!isObject(update)) break
        usage ??= {}
        // output_tokens always; the other counters are whole-message totals, given when they apply.
        usage.output_tokens = update.output_tokens
        for (const name of CUMULATIVE_USAGE) if (update[name] != null) usage[name] = update[name]
        sink.usage(usage)
        break
      }
      case 'message_stop':
        return END_EVENT
    }
    return undefined
  }
}

/** A fresh parser for a profile (they keep state between events) that parses every event whole. */
export function fullParser(profile: LlmProfile): ProfileParser {
  if (profile === 'openai-chat') return createOpenaiChatParser()
  if (profile === 'openai-responses') return createOpenaiResponsesParser()
  return createAnthropicParser()
}

/** A fresh parser for a profile that reads most deltas from a template (see withTemplates). */
export const profileParser = (profile: LlmProfile): ProfileParser =>
  withTemplates(fullParser(profile))

/**
 * Recognises a profile from one event with data (llm.md, "recognised by");
 * undefined for anything else, so other streams are never taken for a model's.
 */
export function detectProfile(type: string, data: string): LlmProfile | undefined {
  if (type === 'response.created') return 'openai-responses'
  const json = parseJson(data)
  if (!isObject(json)) return undefined
  if (json.object === 'chat.completion.chunk') return 'openai-chat'
  // Azure OpenAI's first chunk (no object, empty choices): an error may follow it at once.
  if (Array.isArray(json.choices) && Array.isArray(json.prompt_filter_results)) return 'openai-chat'
  if (typeof json.type === 'string' && json.type.startsWith('response.')) return 'openai-responses'
  if (type === 'message_start' && json.type === 'message_start') return 'anthropic'
  return undefined
}
