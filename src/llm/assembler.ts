import { constants } from 'node:buffer'
import { headOf } from '../engine/escape.ts'
import { isJsonObject } from '../engine/json-text.ts'
import { roundMs } from '../engine/records.ts'
import { createGapStats } from '../engine/stats.ts'
import type { KnownBlocks } from '../engine/stream.ts'
import type { LlmOutput, LlmProblem, LlmProfile, LlmSummary, LlmToolCall } from './types.ts'

/** What one event means for the probe: nothing, the end marker, or an error the provider streamed. */
export type Signal = undefined | { end: 'end-data' | 'end-event' } | { error: string }
export const END_DATA: Signal = { end: 'end-data' }
export const END_EVENT: Signal = { end: 'end-event' }

/** What a profile's parser reports as it reads a stream; the assembler keeps and times it. */
export interface Sink {
  model(name: unknown): void
  /** A choice the stream names, saying anything or nothing: it is one of the answer's (the SDK's `choices[index]`). */
  choice(index: number): void
  text(choice: number, text: unknown): void
  reasoning(choice: number, text: unknown): void
  /** What the model says instead of answering: shown, and named by `no-deltas`, but no delta. */
  refusal(choice: number, text: unknown): void
  /**
   * A tool call appears or names itself; empty ids and names change nothing (the SDKs keep the
   * last non-empty). `freeForm`: a custom tool's call, whose input is text, not JSON.
   */
  toolStart(
    choice: number,
    key: number | string,
    id: unknown,
    name: unknown,
    fallback?: string,
    freeForm?: boolean,
  ): void
  toolArguments(choice: number, key: number | string, fragment: unknown): void
  /** The tool call is complete; `fallback`: its arguments when no fragment carried any. */
  toolDone(choice: number, key: number | string, fallback?: string): void
  finish(choice: number, reason: unknown): void
  /** The usage so far, as the provider's SDK keeps it (replaced, not merged; anything but an object clears it). */
  usage(usage: unknown): void
}

export type DeltaKind = 'text' | 'reasoning' | 'toolArguments'

const ignore = () => {}
/** A sink for a parse whose facts are not wanted. */
export const IGNORED: Sink = {
  model: ignore,
  choice: ignore,
  text: ignore,
  reasoning: ignore,
  refusal: ignore,
  toolStart: ignore,
  toolArguments: ignore,
  toolDone: ignore,
  finish: ignore,
  usage: ignore,
}

/** A call of a sink's method, as a recording notes it. */
export interface SinkCall {
  method: keyof Sink
  args: unknown[]
}

/**
 * Whether a call changes nothing when made again, at any time after it was first made: the model
 * (the first non-empty one stays), a tool call named by neither id nor name (it exists once made,
 * free-form or not), and any call whose value is empty. Anything else adds to or replaces what was there.
 */
export function isNoOpOnceMade({ method, args }: SinkCall): boolean {
  switch (method) {
    case 'model':
    case 'choice':
      return true
    case 'toolStart':
      return !nonEmpty(args[2]) && !nonEmpty(args[3]) && args[4] === undefined
    case 'usage':
      return !isJsonObject(args[0])
    case 'toolDone':
      return false
    default:
      return !nonEmpty(args[args.length - 1])
  }
}

/**
 * One profile's reading of events: type and data in, facts out through the sink. `record`: the
 * event's, which gets the JSON text of its data (DATA_JSON, for a writer of JSON lines) when the
 * parser knows it without escaping the data again (see withTemplates), by the time it is flushed.
 * `settle`: makes the calls it held back, before a summary.
 */
export type ProfileParser = ((
  type: string,
  data: string,
  sink: Sink,
  record?: object,
) => Signal) & {
  settle?(sink: Sink): void
  /** Makes the calls it put off (see withTemplates): before the next read's, or a summary. */
  flush?(sink: Sink): void
  /** The events it reads fastest, for the stream to read at once (see withTemplates). */
  knownBlocks?(): KnownBlocks | undefined
}

// The longest string V8 makes (2^29 - 24 characters).
const MAX_STITCHED = constants.MAX_STRING_LENGTH
// A piece this long skips the batch, which 1,024 of them could make longer than a string can be.
const LONG_PIECE = 64 * 1024

/**
 * A string built from many small pieces. `+=` alone would keep a cons string per piece (and the
 * piece) alive to the end: for 100k tokens, megabytes that every scavenge copies. So the pieces
 * are added to a batch of STITCH_BATCH, whose characters are then copied into a buffer outside
 * V8's heap, grown by doubling: a byte each while they are all below U+0100 (as V8 keeps such a
 * string), else as UTF-16 code units (lone surrogates too). Kept as V8 strings, the batches made
 * the young generation grow in some runs and not in others (+1,500–7,000 page faults on 100k
 * deltas, up to a tenth of a `--json` run). A text of fewer pieces stays a string.
 *
 * A text longer than a string can be (a hostile or broken server) is cut at `limit` characters,
 * and says so (`cut`): the summary is still made, with a problem.
 */
export class Stitched {
  private stored: Buffer | undefined
  private bytes = 0
  private encoding: 'latin1' | 'utf16le' = 'latin1'
  private batch = ''
  private count = 0
  private made = ''
  private madeOf = -1
  private overflowed = false
  private readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  add(piece: string) {
    if (piece.length > LONG_PIECE) return this.addLong(piece)
    this.batch += piece
    if (++this.count === STITCH_BATCH) this.endBatch()
  }

  /** Whether characters were left out: the text would have been longer than `limit`. */
  cut(): boolean {
    if (this.count > 0) this.endBatch()
    return this.overflowed
  }

  toString(): string {
    if (this.count > 0 && (this.stored !== undefined || this.batch.length > this.limit))
      this.endBatch()
    if (this.stored === undefined) return this.batch
    // Made once: a summary asks more than once, and a long text is hundreds of megabytes.
    if (this.madeOf !== this.bytes) {
      this.made = this.stored.toString(this.encoding, 0, this.bytes)
      this.madeOf = this.bytes
    }
    return this.made
  }

  private addLong(piece: string) {
    if (this.count > 0) this.endBatch()
    this.storeText(piece)
  }

  private endBatch() {
    this.storeText(this.batch)
    this.batch = ''
    this.count = 0
  }

  private storeText(text: string) {
    if (this.encoding === 'latin1' && BEYOND_LATIN1.test(text)) {
      const stored = this.stored?.toString('latin1', 0, this.bytes) ?? ''
      this.encoding = 'utf16le'
      this.stored = undefined
      this.bytes = 0
      this.store(stored)
    }
    this.store(text)
  }

  private store(text: string) {
    const unit = this.encoding === 'latin1' ? 1 : 2
    const room = this.limit - this.bytes / unit
    if (text.length > room) {
      this.overflowed = true
      text = text.slice(0, room)
    }
    const size = unit * text.length
    if (this.stored === undefined || this.bytes + size > this.stored.length) {
      const grown = Buffer.allocUnsafeSlow(
        Math.min(Math.max(2 * (this.stored?.length ?? 0), this.bytes + size), unit * this.limit),
      )
      this.stored?.copy(grown, 0, 0, this.bytes)
      this.stored = grown
    }
    this.bytes += this.stored.write(text, this.bytes, this.encoding)
  }
}

const BEYOND_LATIN1 = /[^\u0000-\u00ff]/

interface CallState {
  key: number | string
  id: string | null
  name: string | null
  arguments: Stitched
  fallback: string | undefined
  /** A custom tool's: its input is whatever text the tool takes, never checked as JSON. */
  freeForm: boolean
  done: boolean
}

interface ChoiceState {
  index: number
  text: Stitched
  reasoning: Stitched
  refusal: Stitched
  calls: Map<number | string, CallState>
  order: CallState[]
  /** The calls before this position in `order` are complete. */
  completed: number
  finishReason: string | null
}

export interface Assembler {
  /** One event of the stream, received at `t` (events of one network read share it); `record`: see ProfileParser. */
  event(type: string, data: string, t: number, record?: object): Signal
  /**
   * Whether any event has meant something to the profile. A method, not a getter: an object
   * literal with an accessor is kept as a dictionary, and every event's call of `event` was then a
   * generic property lookup.
   */
  started(): boolean
  /** A network read's events have all come: what the parser put off is made now. */
  afterRead(): void
  /** The events its parser reads fastest (see withTemplates). */
  knownBlocks(): KnownBlocks | undefined
  /** Completes the tool calls still open, so a live view shows them before the summary. */
  flush(): void
  /** `stopped`: the probe stopped the stream before its end (Ctrl-C, -n, --duration). */
  summary(problems: readonly LlmProblem[], stopped?: boolean): LlmSummary
  /** The median number of deltas per read that carried any (0 without deltas). */
  medianDeltasPerRead(): number
}

/** llm.md: deltas that arrive this batched mean something between client and model buffers the stream. */
export const isBatched = (deltas: number, medianPerRead: number) =>
  deltas >= 20 && medianPerRead >= 4

const STITCH_BATCH = 1024

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== ''

/**
 * Stitches one stream's deltas the way the provider's SDK does, and times them
 * on the wire: `sentAt` is when the request of this connection was sent.
 */
export function createAssembler(
  profile: LlmProfile,
  parse: ProfileParser,
  sentAt: number,
  onOutput?: (output: LlmOutput) => void,
  /** The most characters a stitched string keeps (see Stitched). */
  textLimit = MAX_STITCHED,
): Assembler {
  const choices = new Map<number, ChoiceState>()
  let model: string | null = null
  let usage: Record<string, unknown> | null = null
  let started = false
  let t = 0

  // Timing: a delta is an event that carries output; a new `t` is a new network read. The work
  // is done once per read: the deltas after a read's first one have gaps of 0, counted at its end.
  const gaps = createGapStats()
  let deltas = 0
  let reads = 0
  let maxDeltasPerRead = 0
  let readT = -1
  let inRead = 0
  // How many reads carried n deltas: enough for the median, in constant memory.
  const readsByCount = new Map<number, number>()
  let firstDeltaT: number | undefined
  let firstOutputT: number | undefined

  function endRead() {
    if (inRead === 0) return
    gaps.addZeros(inRead - 1)
    readsByCount.set(inRead, (readsByCount.get(inRead) ?? 0) + 1)
    if (inRead > maxDeltasPerRead) maxDeltasPerRead = inRead
    inRead = 0
  }

  /** A delta of choice `index` arrived (output: text or tool-call arguments): it is timed and started the answer. */
  function delta(index: number, output: boolean): ChoiceState {
    started = true
    if (t !== readT) {
      endRead()
      if (firstDeltaT === undefined) firstDeltaT = t
      else gaps.add(t - readT)
      readT = t
      reads++
    }
    inRead++
    deltas++
    if (output && firstOutputT === undefined) firstOutputT = t
    // choiceState's own first test, here too: a call less per delta until this is optimised.
    return lastChoice?.index === index ? lastChoice : choiceState(index)
  }

  // Nearly every delta is the same choice's as the one before: no map lookup for it.
  let lastChoice: ChoiceState | undefined
  function choiceState(index: number): ChoiceState {
    if (lastChoice?.index === index) return lastChoice
    let state = choices.get(index)
    if (!state) {
      state = {
        index,
        text: new Stitched(textLimit),
        reasoning: new Stitched(textLimit),
        refusal: new Stitched(textLimit),
        calls: new Map(),
        order: [],
        completed: 0,
        finishReason: null,
      }
      choices.set(index, state)
    }
    lastChoice = state
    return state
  }

  const firstIndex = () => (choices.has(0) ? 0 : (choices.keys().next().value ?? 0))

  // The view shows index 0 as it arrives: another choice may speak before index 0 is named, and
  // what is printed cannot be taken back. A stream that never names it is shown at the end (flush).
  function complete(choice: ChoiceState, call: CallState) {
    if (call.done) return
    call.done = true
    if (onOutput && choice.index === 0) onOutput({ kind: 'tool-call', call: toolCall(call) })
  }

  // From where the last one stopped: a server that sends a finish with each of 100k calls would
  // otherwise have every finish walk all the calls before it.
  function completeAll(choice: ChoiceState) {
    for (; choice.completed < choice.order.length; choice.completed++)
      complete(choice, choice.order[choice.completed]!)
  }

  function callState(choice: ChoiceState, key: number | string): CallState {
    let call = choice.calls.get(key)
    if (!call) {
      call = {
        key,
        id: null,
        name: null,
        arguments: new Stitched(textLimit),
        fallback: undefined,
        freeForm: false,
        done: false,
      }
      choice.calls.set(key, call)
      choice.order.push(call)
    }
    return call
  }

  const sink: Sink = {
    model(name) {
      if (model === null && nonEmpty(name)) model = name
    },
    choice: choiceState,
    text(index, text) {
      if (!nonEmpty(text)) return
      delta(index, true).text.add(text)
      if (onOutput && index === 0) onOutput({ kind: 'text', text })
    },
    reasoning(index, text) {
      if (!nonEmpty(text)) return
      delta(index, false).reasoning.add(text)
      if (onOutput && index === 0) onOutput({ kind: 'reasoning', text })
    },
    refusal(index, text) {
      if (!nonEmpty(text)) return
      started = true
      choiceState(index).refusal.add(text)
      if (onOutput && index === 0) onOutput({ kind: 'refusal', text })
    },
    toolStart(index, key, id, name, fallback, freeForm) {
      started = true
      const call = callState(choiceState(index), key)
      if (nonEmpty(id)) call.id = id
      if (nonEmpty(name)) call.name = name
      if (fallback !== undefined) call.fallback = fallback
      if (freeForm) call.freeForm = true
    },
    toolArguments(index, key, fragment) {
      if (!nonEmpty(fragment)) return
      callState(delta(index, true), key).arguments.add(fragment)
    },
    toolDone(index, key, fallback) {
      const choice = choiceState(index)
      const call = choice.calls.get(key)
      if (!call) return
      if (fallback !== undefined) call.fallback = fallback
      complete(choice, call)
    },
    finish(index, reason) {
      if (!nonEmpty(reason)) return
      started = true
      const choice = choiceState(index)
      choice.finishReason = reason
      // Only the finish says a Chat call is complete: parallel calls may interleave by index.
      completeAll(choice)
    },
    usage(value) {
      usage = isJsonObject(value) ? value : null
      if (usage !== null) started = true
    },
  }

  // A Chat answer's calls as the SDK keeps them, by index (SGLang may stream call 1 before call 0);
  // the others' in the order they came, which is their index's.
  const callsOf = (choice: ChoiceState) =>
    profile === 'openai-chat' && choice.order.every((call) => typeof call.key === 'number')
      ? [...choice.order].sort((a, b) => (a.key as number) - (b.key as number))
      : choice.order

  function summary(problems: readonly LlmProblem[], stopped = false): LlmSummary {
    parse.settle?.(sink)
    endRead()
    const all = [...choices.values()].sort((a, b) => a.index - b.index)
    const first = choices.get(firstIndex())
    const toolCalls = first ? callsOf(first).map(toolCall) : []
    const found: LlmProblem[] = [...problems]
    for (const choice of all) {
      const where = all.length > 1 ? `choice ${choice.index} ` : ''
      for (const kind of ['text', 'reasoning', 'refusal'] as const)
        if (choice[kind].cut()) found.push(tooLong(`${where}${kind}`, textLimit))
      callsOf(choice).forEach((call, i) => {
        if (call.arguments.cut())
          found.push(
            tooLong(`${where}tool call ${i} (${call.name ?? 'unnamed'}): arguments`, textLimit),
          )
        const error = call.freeForm ? undefined : jsonError(argumentsOf(call))
        if (error === undefined) return
        found.push({
          code: 'invalid-tool-arguments',
          message: `${where}tool call ${i} (${call.name ?? 'unnamed'}): arguments are not JSON: ${error}`,
        })
      })
    }
    // A call whose fragments were all empty (an Anthropic tool with no parameters) is output too.
    if (deltas === 0 && all.every((choice) => choice.order.length === 0))
      found.push({ code: 'no-deltas', message: noDeltas(first, all, stopped) })
    const { inputTokens, outputTokens } = tokens(profile, usage)
    const streamedMs = firstDeltaT === undefined ? 0 : readT - firstDeltaT
    const itl = gaps.result()
    return {
      profile,
      model,
      ttftMs: firstDeltaT === undefined ? null : roundMs(firstDeltaT - sentAt),
      ttfoMs: firstOutputT === undefined ? null : roundMs(firstOutputT - sentAt),
      itlMs: itl && { p50: itl.p50, p95: itl.p95, max: itl.max },
      deltas,
      reads,
      maxDeltasPerRead,
      inputTokens,
      outputTokens,
      tokensPerSecond:
        outputTokens === null || streamedMs <= 0
          ? null
          : Math.round((outputTokens / streamedMs) * 10_000) / 10,
      text: first?.text.toString() ?? '',
      reasoning: first?.reasoning.toString() ?? '',
      toolCalls,
      finishReason: first?.finishReason ?? null,
      usage,
      choices:
        all.length > 1
          ? all.map((c) => ({
              index: c.index,
              text: c.text.toString(),
              reasoning: c.reasoning.toString(),
              toolCalls: callsOf(c).map(toolCall),
              finishReason: c.finishReason,
            }))
          : null,
      problems: found,
    }
  }

  return {
    event(type, data, at, record) {
      // Stored only when it changes: a number in a closure is a heap object, each store a barrier.
      if (at !== t) {
        // Without afterRead (a caller of the assembler alone), a new read's first event flushes.
        parse.flush?.(sink)
        t = at
      }
      const signal = parse(type, data, sink, record)
      // A live view shows each delta as it comes.
      if (onOutput) parse.flush?.(sink)
      return signal
    },
    afterRead: () => parse.flush?.(sink),
    knownBlocks: () => parse.knownBlocks?.(),
    started: () => {
      parse.flush?.(sink)
      return started
    },
    flush() {
      parse.flush?.(sink)
      for (const choice of choices.values()) completeAll(choice)
      const first = choices.get(firstIndex())
      if (onOutput && first && first.index !== 0) showWhole(first, onOutput)
    },
    summary,
    medianDeltasPerRead() {
      endRead()
      // Of an even number of reads, the mean of the middle two: reads of 3 and 5 have a median of 4.
      const lower = Math.floor((reads - 1) / 2)
      const upper = Math.floor(reads / 2)
      let seen = 0
      let low = 0
      for (const [count, times] of [...readsByCount].sort((a, b) => a[0] - b[0])) {
        if (seen <= lower && seen + times > lower) low = count
        seen += times
        if (seen > upper) return (low + count) / 2
      }
      return 0
    },
  }
}

/** A choice's output at once, for a view that could not show it as it arrived. */
function showWhole(choice: ChoiceState, onOutput: (output: LlmOutput) => void) {
  for (const kind of ['reasoning', 'refusal', 'text'] as const) {
    const text = choice[kind].toString()
    if (text !== '') onOutput({ kind, text })
  }
  for (const call of choice.order) onOutput({ kind: 'tool-call', call: toolCall(call) })
}

/** The no-deltas message; when the model refused, it says so, with the start of the refusal (a CI log then explains the failure). */
function noDeltas(first: ChoiceState | undefined, all: ChoiceState[], stopped: boolean): string {
  // A model that had not begun when the probe stopped (Ctrl-C, --duration) said nothing yet.
  const carried = stopped
    ? 'no text, reasoning or tool-call arguments came before the probe stopped the stream'
    : 'the stream carried no text, reasoning or tool-call arguments'
  const refused = [first, ...all].find((choice) => choice && choice.refusal.toString() !== '')
  // Anthropic says it by its stop reason alone.
  if (refused === undefined)
    return first?.finishReason === 'refusal'
      ? `the model refused (stop reason refusal): ${carried}`
      : carried
  const which = all.length > 1 ? ` (choice ${refused.index})` : ''
  return `the model refused${which}: ${startOf(refused.refusal.toString())} (${carried})`
}

const REFUSAL_SHOWN = 100

/** The start of a text, quoted on one line: JSON's escapes, an ellipsis when cut. */
function startOf(text: string): string {
  if (text.length <= REFUSAL_SHOWN) return JSON.stringify(text)
  return `${JSON.stringify(headOf(text, REFUSAL_SHOWN))}…`
}

/** A stitched string cut where a string ends (see Stitched). */
const tooLong = (what: string, limit: number): LlmProblem => ({
  code: 'text-too-long',
  message: `${what} longer than the ${limit.toLocaleString('en-US')} characters a string can hold: cut there`,
})

/** Fragments as joined; when none carried anything, the arguments the stream gave whole (Anthropic's input at the start). */
function argumentsOf(call: CallState): string {
  const joined = call.arguments.toString()
  return joined === '' && call.fallback !== undefined ? call.fallback : joined
}

function toolCall(call: CallState): LlmToolCall {
  const args = argumentsOf(call)
  const valid = call.freeForm || jsonError(args) === undefined
  return { id: call.id, name: call.name, arguments: args, valid }
}

function jsonError(text: string): string | undefined {
  try {
    JSON.parse(text)
    return undefined
  } catch (error) {
    return text === '' ? 'empty' : (error as Error).message
  }
}

/** Input and output tokens from the usage object, named as each provider names them. */
function tokens(
  profile: LlmProfile,
  usage: Record<string, unknown> | null,
): { inputTokens: number | null; outputTokens: number | null } {
  const count = (key: string) =>
    usage && typeof usage[key] === 'number' ? (usage[key] as number) : null
  return profile === 'openai-chat'
    ? { inputTokens: count('prompt_tokens'), outputTokens: count('completion_tokens') }
    : { inputTokens: count('input_tokens'), outputTokens: count('output_tokens') }
}
