import type { ChalkInstance } from 'chalk'
import { counted } from '../engine/counted.ts'
import { formatDuration } from '../engine/duration.ts'
import { isHighSurrogate, visible, visibleLines } from '../engine/escape.ts'
import type { LlmOutput, LlmSummary } from './types.ts'

/** What the summary says besides summary.llm (see LlmExtension). */
export interface LlmNotes {
  batched: boolean
  cut: boolean
}

export interface LlmRenderer {
  /** What one piece of output adds to stdout; cheap per delta (the view keeps up with 10,000/s). */
  output(output: LlmOutput): string
  /** What ends the streamed text before anything else is printed: a line end when one is missing. */
  end(): string
  /** Whether the streamed text stopped in the middle of a line. */
  lineOpen(): boolean
  /** The LLM block of the pretty summary (stderr); `notes`: the extension's batched and cut. */
  summary(llm: LlmSummary, notes: LlmNotes): string[]
}

/** The live text view of llm.md: text as it arrives, reasoning dimmed, a refusal marked, tool calls when complete. */
export function createLlmRenderer(c: ChalkInstance, e: ChalkInstance): LlmRenderer {
  let lineStart = true
  let last: LlmOutput['kind'] | undefined
  // A server that cuts its text by UTF-16 units may end a delta inside a surrogate pair (an emoji):
  // its first half waits for the rest, so that the terminal gets the character, not two U+FFFD.
  let half = ''

  const styled = (kind: LlmOutput['kind'] | undefined, text: string) =>
    kind === 'reasoning' ? c.dim(text) : kind === 'refusal' ? c.yellow(text) : text

  /** The first half of a pair whose second never came, as it is (the stream moved on or ends). */
  function release(): string {
    if (half === '') return ''
    const text = styled(last, half)
    half = ''
    lineStart = false
    return text
  }

  function output(piece: LlmOutput): string {
    if (piece.kind === 'tool-call') {
      const released = release()
      last = piece.kind
      const { name, arguments: args, valid } = piece.call
      const text = `${released}${lineStart ? '' : '\n'}${c.magenta('⚙')} ${c.bold(visible(name ?? '(unnamed)'))} ${valid ? visibleLines(args) : c.red(visibleLines(args))}\n`
      lineStart = true
      return text
    }
    // A blank line between reasoning, a refusal and the answer (tool calls are on lines of their
    // own); a refusal starts with its marker, so that it is not taken for the answer.
    let before = ''
    if (last !== piece.kind) {
      before = release()
      if (last !== undefined) before += lineStart ? '\n' : '\n\n'
      if (piece.kind === 'refusal') before += c.yellow.bold('refusal: ')
      last = piece.kind
    }
    let text = half + piece.text
    half = ''
    if (isHighSurrogate(text.charCodeAt(text.length - 1))) {
      half = text.slice(-1)
      text = text.slice(0, -1)
    }
    if (text === '') return before
    lineStart = text.endsWith('\n')
    return before + styled(piece.kind, visibleLines(text))
  }

  function summary(llm: LlmSummary, { batched, cut }: LlmNotes): string[] {
    const ms = (value: number | null) => (value === null ? '–' : formatDuration(value))
    const lines = [`llm          ${llm.profile}${llm.model ? `  model ${visible(llm.model)}` : ''}`]
    lines.push(`first token  ${ms(llm.ttftMs)}  (first output ${ms(llm.ttfoMs)})`)
    if (llm.itlMs)
      lines.push(
        `token gaps   p50 ${ms(llm.itlMs.p50)} · p95 ${ms(llm.itlMs.p95)} · max ${ms(llm.itlMs.max)}`,
      )
    const count = (n: number | null) => (n === null ? '?' : String(n))
    const rate = llm.tokensPerSecond === null ? '' : ` · ${llm.tokensPerSecond} tokens/s`
    lines.push(
      `tokens       in ${count(llm.inputTokens)} · out ${count(llm.outputTokens)}${rate}  (${counted(llm.deltas, 'delta')} in ${counted(llm.reads, 'read')})`,
    )
    lines.push(`finish       ${llm.finishReason === null ? '–' : visible(llm.finishReason)}`)
    // Only the first choice streams above: the others would go unnoticed.
    if (llm.choices)
      lines.push(
        `choices      ${llm.choices.length}  (the text above is the first one's; --json has each)`,
      )
    if (batched) {
      lines.push(
        e.yellow(
          `⚠ deltas arrived batched (${llm.deltas} in ${counted(llm.reads, 'read')}, up to ${llm.maxDeltasPerRead} at once): something between the client and the model buffers the stream`,
        ),
      )
    }
    // Usage comes last: a stream the probe stopped early (Ctrl-C, -n), or that failed or closed
    // before its end, says nothing about it.
    const brokeOff = llm.problems.some(
      (p) => p.code === 'stream-error' || p.code === 'no-end-marker',
    )
    if (llm.usage === null && llm.profile === 'openai-chat' && !cut && !brokeOff) {
      lines.push(
        e.dim(
          'no usage in the stream: send "stream_options": {"include_usage": true} to get token counts',
        ),
      )
    }
    for (const problem of llm.problems)
      lines.push(`${e.red('✗')} ${problem.code}: ${visible(problem.message)}`)
    return lines
  }

  return {
    output,
    end() {
      const released = release()
      if (lineStart) return released
      lineStart = true
      return `${released}\n`
    },
    lineOpen: () => !lineStart,
    summary,
  }
}
