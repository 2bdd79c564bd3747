import type { ExtensionContext, ProbeExtension } from '../engine/extension.ts'
import type { EventRecord, ExpectationResult } from '../engine/records.ts'
import type { KnownBlocks } from '../engine/stream.ts'
import { type Assembler, createAssembler, IGNORED, isBatched, type Signal } from './assembler.ts'
import { detectProfile, fullParser, profileParser } from './profiles.ts'
import type { LlmMode, LlmOutput, LlmProblem, LlmProfile, LlmSummary } from './types.ts'

export interface LlmExtensionOptions {
  mode: LlmMode
  /** --expect-llm: a profile was recognised and no problem was found. */
  expect?: boolean
  /** Called once, when a profile is recognised (or at once when forced): the moment to switch to a live view. */
  onProfile?(profile: LlmProfile): void
  /** Output of the first choice as it arrives. */
  onOutput?(output: LlmOutput): void
  /** Give each event that a template read its data's JSON text (DATA_JSON), for a writer of JSON lines. */
  dataJson?: boolean
}

export interface LlmExtension extends ProbeExtension {
  readonly profile: LlmProfile | undefined
  /** After finish: whether the deltas arrived batched (the pretty summary warns). */
  readonly batched: boolean
  /** After finish: whether the probe stopped the answer mid-stream (Ctrl-C, -n …), before its end marker or close. */
  readonly cut: boolean
}

// auto decides on the first events with data, so a stream that is not a model's is left alone for good.
const EVENTS_TO_RECOGNISE = 3

const END_MARKER: Record<LlmProfile, string> = {
  'openai-chat': 'data [DONE]',
  'openai-responses': 'response.completed',
  anthropic: 'message_stop',
}

/**
 * The probe extension of llm.md: recognises a profile, feeds every event to its
 * assembler, ends the probe at the end marker or a streamed error, and adds
 * `summary.llm` (and the --expect-llm result).
 */
export function createLlmExtension(options: LlmExtensionOptions): LlmExtension {
  let profile: LlmProfile | undefined
  let assembler: Assembler | undefined
  /** The last answer that began, until the next one does. */
  let answered: Assembler | undefined
  let eventsSeen = 0
  // When the current connection's request was sent: TTFT counts from there.
  let sentAt = 0
  let ended = false
  // The current connection closed: the stream is over, whether or not its end marker came.
  let closed = false
  // A response is being read: only then can the probe, ending, have stopped the answer (a refused
  // reconnect or a forced profile's refused request stopped nothing).
  let open = false
  let batched = false
  let knownBlocks: KnownBlocks | undefined
  const dataJson = options.dataJson === true
  const problems: LlmProblem[] = []
  // Each connection of a flapping server can find the same problem: listed once, so that hours of
  // reconnects leave a summary of the same size (the summary counts the reconnects).
  function found(problem: LlmProblem) {
    if (!problems.some((p) => p.code === problem.code && p.message === problem.message))
      problems.push(problem)
  }

  function start(recognised: LlmProfile) {
    profile = recognised
    options.onProfile?.(recognised)
  }
  if (options.mode !== 'auto' && options.mode !== 'off') start(options.mode)

  const newAssembler = (p: LlmProfile) =>
    createAssembler(p, profileParser(p), sentAt, options.onOutput)

  /** The assembler for an event, recognising the profile first if need be; undefined: not a model's stream (yet). */
  function begin(event: EventRecord, context: ExtensionContext): Assembler | undefined {
    if (!profile) {
      if (options.mode !== 'auto' || eventsSeen >= EVENTS_TO_RECOGNISE || event.data === '')
        return undefined
      const recognised = detectProfile(event.event, event.data)
      if (!recognised) {
        // Not a model's stream, for good: the probe goes on as one without the profile.
        if (++eventsSeen === EVENTS_TO_RECOGNISE) context.detach(extension)
        return undefined
      }
      start(recognised)
    }
    assembler = newAssembler(profile!)
    return assembler
  }

  function stop(signal: NonNullable<Signal>, context: ExtensionContext) {
    ended = true
    if ('end' in signal) return context.end(signal.end)
    found({ code: 'stream-error', message: signal.error })
    context.end('stream-error', signal.error)
  }

  // Every event passes here: small, so that the optimised caller takes it in with the profile's
  // hot path; what happens once (recognising, ending) is apart.
  function onEvent(event: EventRecord, context: ExtensionContext) {
    if (ended) return
    const current = assembler ?? begin(event, context)
    if (current === undefined) return
    const signal = current.event(event.event, event.data, event.t, dataJson ? event : undefined)
    if (signal !== undefined) stop(signal, context)
  }

  const extension: LlmExtension = {
    get profile() {
      return profile
    },
    get batched() {
      return batched
    },
    get cut() {
      return profile !== undefined && !ended && !closed
    },
    onRecord(record, context) {
      switch (record.type) {
        case 'event':
          return onEvent(record, context)
        case 'reconnect':
          sentAt = record.t
          // A re-sent request streams a new answer: the summary is the last one's, problems add up.
          // The next event starts a new assembler even when this one has not begun (a role chunk
          // alone), so that TTFT counts from the request that streamed the answer.
          if (assembler?.started() || answered === undefined) answered = assembler
          assembler = undefined
          ended = false
          closed = false
          open = false
          return
        case 'open':
          open = true
          return
        case 'close':
          closed = true
          open = false
          if (profile && !ended)
            found({
              code: 'no-end-marker',
              message: `the stream closed before its end marker (${END_MARKER[profile]})`,
            })
          return
      }
    },
    afterRead(context) {
      assembler?.afterRead()
      // The stream reads the template's events at once from the next read on.
      const blocks = assembler?.knownBlocks()
      if (blocks !== knownBlocks) {
        knownBlocks = blocks
        context.knownBlocks(blocks)
      }
    },
    isControlEvent(record) {
      if (!profile) return false
      const signal = fullParser(profile)(record.event, record.data, IGNORED)
      return signal !== undefined && 'end' in signal
    },
    finish() {
      const expectations: ExpectationResult[] = []
      let llm: LlmSummary | undefined
      if (profile) {
        // A reconnect whose answer has not begun (cut by --duration, say): the last answer stands.
        if (!assembler?.started()) assembler = answered ?? assembler ?? newAssembler(profile)
        assembler.flush()
        llm = assembler.summary(problems, open && extension.cut)
        batched = isBatched(llm.deltas, assembler.medianDeltasPerRead())
      }
      if (options.expect)
        expectations.push({
          name: '--expect-llm',
          ok: llm !== undefined && llm.problems.length === 0,
          // What was seen, a pass too: the profile, or what went wrong.
          actual:
            llm === undefined
              ? 'no LLM stream recognised'
              : llm.problems.length > 0
                ? llm.problems.map((p) => p.code).join(', ')
                : llm.profile,
        })
      return { ...(llm && { summary: { llm } }), expectations }
    },
  }
  return extension
}
