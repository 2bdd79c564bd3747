/** The stream formats sse-probe understands (llm.md, "Profiles"). */
const LLM_PROFILES = ['openai-chat', 'openai-responses', 'anthropic'] as const
export type LlmProfile = (typeof LLM_PROFILES)[number]
/** `--llm`: a profile to force, `auto` to recognise one, `off`. */
export type LlmMode = LlmProfile | 'auto' | 'off'
export const LLM_MODES: readonly LlmMode[] = ['auto', ...LLM_PROFILES, 'off']

export interface LlmToolCall {
  id: string | null
  name: string | null
  /** Exactly as assembled from the fragments. */
  arguments: string
  /** Whether `arguments` parses as JSON. */
  valid: boolean
}

export interface LlmChoice {
  index: number
  text: string
  reasoning: string
  toolCalls: LlmToolCall[]
  finishReason: string | null
}

type LlmProblemCode =
  | 'stream-error'
  | 'no-end-marker'
  | 'invalid-tool-arguments'
  | 'no-deltas'
  | 'text-too-long'

export interface LlmProblem {
  code: LlmProblemCode
  message: string
}

/** `summary.llm`, field for field as llm.md lists it. */
export interface LlmSummary {
  profile: LlmProfile
  model: string | null
  ttftMs: number | null
  ttfoMs: number | null
  itlMs: { p50: number; p95: number; max: number } | null
  deltas: number
  reads: number
  maxDeltasPerRead: number
  inputTokens: number | null
  outputTokens: number | null
  tokensPerSecond: number | null
  text: string
  reasoning: string
  toolCalls: LlmToolCall[]
  finishReason: string | null
  usage: Record<string, unknown> | null
  choices: LlmChoice[] | null
  problems: LlmProblem[]
}

/** What the stream says as it arrives, for a live view: output of the first choice only. */
export type LlmOutput =
  | { kind: 'text' | 'reasoning' | 'refusal'; text: string }
  | { kind: 'tool-call'; call: LlmToolCall }
