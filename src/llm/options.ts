import { SseProbeUsageError } from '../engine/errors.ts'
import { invalidOption } from '../engine/validate.ts'
import { createLlmExtension, type LlmExtension, type LlmExtensionOptions } from './extension.ts'
import { LLM_MODES, type LlmMode } from './types.ts'

const LLM_FLAG = '--llm <profile>'

/** `--llm <profile>`: one of the modes, or a usage error. */
export function llmModeArg(text: string): LlmMode {
  if (!(LLM_MODES as readonly string[]).includes(text)) {
    throw new SseProbeUsageError(`expected one of ${LLM_MODES.join(', ')}`)
  }
  return text as LlmMode
}

/**
 * The extension for a probe's `llm` / `expectLlm` options (the library's and the CLI's), or none
 * for `off` (the stream is then not looked at).
 */
export function llmExtensionFor(
  mode: unknown,
  expect: boolean,
  hooks: Pick<LlmExtensionOptions, 'onProfile' | 'onOutput' | 'dataJson'> = {},
): LlmExtension | undefined {
  let checked: LlmMode = 'auto'
  if (mode !== undefined) {
    try {
      checked = llmModeArg(String(mode))
    } catch (error) {
      throw invalidOption(LLM_FLAG, String(mode), (error as Error).message)
    }
  }
  if (checked === 'off') {
    // It could only fail: a usage error says why rather than a red CI run.
    if (expect) throw new SseProbeUsageError('--expect-llm conflicts with --llm off')
    return undefined
  }
  return createLlmExtension({ mode: checked, expect, ...hooks })
}
