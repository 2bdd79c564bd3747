import type { EndReason, EventRecord, ExpectationResult, ProbeRecord } from './records.ts'
import type { KnownBlocks } from './stream.ts'

/**
 * How a consumer (llm/, contracts/, load/) takes part in a probe without touching the loop: it
 * sees every record, may add records of its own or end the probe, and adds to the summary.
 * The same extensions run under the CLI and the library.
 */
export interface ProbeExtension {
  /** Every record the engine produces, in order, before it is yielded/printed/recorded. */
  onRecord?(record: ProbeRecord, context: ExtensionContext): void
  /**
   * After the records of one network read, before they are printed: work put off for a read's
   * records is done here (the LLM templates', see withTemplates). Not called once detached.
   */
  afterRead?(context: ExtensionContext): void
  /**
   * Whether an event is a signal of this extension's rather than payload (an LLM stream's end
   * marker): contracts do not validate it. Asked only of events that fail a check.
   */
  isControlEvent?(record: EventRecord): boolean
  /**
   * Once, when the probe ends, before finish: what the extension still awaits (a trigger sent but
   * not yet answered when the stream ended), so that its records come before the summary. May
   * resolve to the end it meant (the trigger failed): it replaces an end with exit code 0.
   * `interrupted` aborts when the probe is interrupted meanwhile (Ctrl-C) or its --timeout or
   * --duration deadline passes: stop waiting then.
   */
  settle?(ending: Ending, interrupted: AbortSignal): Promise<Ending | undefined>
  /** Once, when the probe ends, before the summary is built. */
  finish?(ending: { reason: EndReason; t: number }): ExtensionResult
}

/** How the probe ended: the summary's reason and message. */
export interface Ending {
  reason: EndReason
  message?: string
}

export interface ExtensionContext {
  /** Milliseconds since t = 0 (the same clock as record.t). */
  now(): number
  /** A record of its own (violation, trigger): yielded, printed and recorded like the engine's. */
  emit(record: ProbeRecord): void
  /** Ends the probe; the first end wins. */
  end(reason: EndReason, message?: string): void
  /**
   * The extension needs no more records: from the next one on, its onRecord is not called (its
   * isControlEvent, settle and finish are). A probe whose extensions have all detached makes
   * event records only for its sink, as one without extensions.
   */
  detach(extension: ProbeExtension): void
  /**
   * Events that the stream may read without its line parser, from the next network read on (the
   * same events, sooner): see EventStream.knownBlocks. Undefined: none.
   */
  knownBlocks(blocks: KnownBlocks | undefined): void
  /** Aborted when the probe ends. */
  signal: AbortSignal
  /** The probe's request. */
  request: { url: URL; method: string }
}

export interface ExtensionResult {
  /** Merged into the summary (llm, triggerToEventMs). */
  summary?: Record<string, unknown>
  /** Appended to summary.expectations. */
  expectations?: ExpectationResult[]
}
