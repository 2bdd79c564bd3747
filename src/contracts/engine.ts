/**
 * What the contracts chunk (loaded by the contract flags alone) takes from the engine, in one
 * place. Not options.ts: it reads the flags before the chunk loads, so it is part of the CLI.
 */
export { counted } from '../engine/counted.ts'
export { formatDuration, formatLimit, parseDuration } from '../engine/duration.ts'
export { fileProblem, SseProbeUsageError as UsageError } from '../engine/errors.ts'
export { clipped, escapeRegex, visible } from '../engine/escape.ts'
export type { Ending, ExtensionContext, ProbeExtension } from '../engine/extension.ts'
export { createHttp } from '../engine/http.ts'
export { pointerTokens } from '../engine/json-pointer.ts'
export { forEachObject, isJsonObject, nestedDeeperThan } from '../engine/json-text.ts'
export { fileName, readFileOrStdin, readWhole } from '../engine/pipe.ts'
export type {
  EndReason,
  EventRecord,
  ExpectationResult,
  ProbeRecord,
  SummaryRecord,
  TriggerRecord,
  ViolationRecord,
} from '../engine/records.ts'
export { roundMs } from '../engine/records.ts'
export { redactUrl } from '../engine/redact.ts'
export { userRegex } from '../engine/regex.ts'
export { CONNECT_TIMEOUT_MS } from '../engine/request.ts'
export { createGapStats } from '../engine/stats.ts'
export { createEventStream } from '../engine/stream.ts'
export { readTranscript } from '../engine/transcript-read.ts'
export {
  afterOpeningRead,
  sendTrigger,
  TRIGGER_ANSWER_WAIT_MS,
  type TriggerOutcome,
  type TriggerSpec,
} from '../engine/trigger.ts'
