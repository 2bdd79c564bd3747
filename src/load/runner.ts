import { formatLimit } from '../engine/duration.ts'
import { createHttp } from '../engine/http.ts'
import type { ProbeOptions } from '../engine/options.ts'
import { type Probe, type ProbeSink, startProbe } from '../engine/probe.ts'
import { type ExpectationResult, type ProbeRecord, roundMs } from '../engine/records.ts'
import { redactUrl } from '../engine/redact.ts'
import {
  afterOpeningRead,
  sendTrigger,
  TRIGGER_ANSWER_WAIT_MS,
  type TriggerSpec,
} from '../engine/trigger.ts'
import { llmExtensionFor } from '../llm/options.ts'
import { type Collector, createCollector } from './collector.ts'
import type { LoadOptions } from './options.ts'
import type { LoadEndReason, LoadRecord } from './records.ts'

export interface LoadHooks {
  /** stats, trigger and load-level error records, as they happen. */
  emit(record: LoadRecord): void
}

export interface LoadResult {
  reason: LoadEndReason
  message?: string
  t: number
  collector: Collector
  /** Per probe --expect-*: how many connections failed each. */
  perConnection: { name: string; failed: number }[]
}

export interface LoadRun {
  done: Promise<LoadResult>
  /** Ends the run from outside (signals); the first reason wins. */
  stop(reason: LoadEndReason, message?: string): void
  collector: Collector
}

// Connections are started in batches, yielding to the event loop between them, so that a
// thousand connects at once do not starve the reads, timers and the status line.
const BATCH = 100
const RAMP_TICK_MS = 10
const TOO_MANY_FILES = 'too many open files (EMFILE): stopped opening connections'
const OUT_OF_FILES = /\bE[MN]FILE\b/

/**
 * Holds `connections` probes in one process, each an EventSource of its own (its own
 * last-event-ID, reconnection time and end), all on one shared dispatcher.
 */
export function startLoad(options: LoadOptions, hooks: LoadHooks): LoadRun {
  const runStart = performance.now()
  const now = () => performance.now() - runStart
  const target = options.connections
  const http = createHttp(options.probe.request)
  const probeOptions = { ...options.probe, http }
  const collector = createCollector({
    target,
    pingEvent: options.probe.stream.pingEvent,
    latencyPath: options.latencyField?.path,
    epochAtStart: performance.timeOrigin + runStart,
  })
  const probes: Probe[] = []
  const expectationFailures: number[] = []
  let expectationNames: string[] = []
  const interrupt = new AbortController()
  let ending: { reason: LoadEndReason; message?: string } | undefined
  let holdTimer: NodeJS.Timeout | undefined
  let holdEndsAt = Number.POSITIVE_INFINITY
  let rampTimer: NodeJS.Timeout | undefined
  let outOfFiles = false
  /** Once the trigger is sent: its answer (reported, or cut short by stop()), and what says none came. */
  let sentTrigger: { answer: Promise<void>; unanswered(): void } | undefined
  /** Once the hold began: the wait for the read that opened the connections, then the trigger. */
  let triggerDue: Promise<void> | undefined
  let resolveEnded!: () => void
  const endedSignal = new Promise<void>((resolve) => (resolveEnded = resolve))

  function stop(reason: LoadEndReason, message?: string) {
    if (ending) return
    ending = { reason, ...(message !== undefined && { message }) }
    clearTimeout(rampTimer)
    clearTimeout(holdTimer)
    interrupt.abort()
    resolveEnded()
  }

  /** One connection's view of the engine: records go to the counters and are dropped. */
  function sinkFor(i: number): ProbeSink {
    const startedAt = now()
    collector.start(i, startedAt)
    return {
      emit(record: ProbeRecord) {
        // Each probe's summary is read from its `done`.
        if (record.type === 'summary') return
        const at = startedAt + record.t
        collector.record(i, record, at)
        if (record.type === 'error' && OUT_OF_FILES.test(record.message)) onTooManyFiles()
        if (record.type === 'open' || record.type === 'error') afterSettled()
      },
      // Events come as arguments, not records: load only counts and times them.
      event: (t, type, data) => collector.event(i, type, data, startedAt + t),
      flush: () => undefined,
      events: false,
      commentText: false,
      gaps: false,
    }
  }

  /** Out of file descriptors: open no more, let the connections under way settle, then end with what is held. */
  function onTooManyFiles() {
    if (outOfFiles || ending) return
    outOfFiles = true
    clearTimeout(rampTimer)
    hooks.emit({ type: 'error', t: roundMs(now()), message: TOO_MANY_FILES })
    endIfOutOfFiles()
  }

  function endIfOutOfFiles() {
    if (outOfFiles && collector.connecting() === 0) stop('too-many-open-files', TOO_MANY_FILES)
  }

  /** Each connection's options: its own LLM profile, which keeps the state of its stream. */
  function optionsFor(): ProbeOptions {
    const llm = llmExtensionFor(options.llm.mode, options.llm.expect)
    return llm ? { ...probeOptions, extensions: [llm, ...probeOptions.extensions] } : probeOptions
  }

  function open(i: number) {
    const probe = startProbe(optionsFor(), sinkFor(i))
    probes.push(probe)
    void probe.done.then((summary) => {
      collector.ended(i, summary.reason)
      // The probe's own --expect-*, as the engine evaluated them for this connection.
      const results = summary.expectations
      if (expectationNames.length === 0) expectationNames = results.map((r) => r.name)
      results.forEach((r, k) => {
        if (!r.ok) expectationFailures[k] = (expectationFailures[k] ?? 0) + 1
      })
      afterSettled()
      if (collector.running() === 0 && collector.started() === target) void connectionsEnded()
    })
  }

  /**
   * Every connection ended by itself. The trigger's answer may still be on its way (the events it
   * caused ended them, broadcast before the answer): it is awaited, as the probe awaits it, so that
   * a refused trigger still fails the run; a trigger record says when none came. The trigger is
   * due at the open: connections that ended in the read that opened them (their end event came
   * with the headers) still send it; when none opened, nothing it causes could be seen.
   */
  async function connectionsEnded() {
    if (!sentTrigger && collector.opened() > 0) await triggerDue
    if (ending) return
    if (!sentTrigger) return stop('connections-ended')
    const { answer, unanswered } = sentTrigger
    // No longer than the hold would have lasted, and its end is then this wait's: what was held
    // ended by itself, so the run ends as connections-ended, not on --duration.
    clearTimeout(holdTimer)
    const waitMs = Math.min(TRIGGER_ANSWER_WAIT_MS, holdEndsAt - now())
    const waiting = setTimeout(() => {
      unanswered()
      stop('connections-ended')
    }, waitMs)
    // Any stop() aborts the trigger's request, which settles the answer: the wait ends with it.
    void answer.then(() => {
      clearTimeout(waiting)
      stop('connections-ended')
    })
  }

  /** Opens connections evenly over --ramp (all at once without), then holds them for --duration. */
  function ramp() {
    const due =
      options.rampMs > 0
        ? Math.min(target, Math.floor((now() / options.rampMs) * target) + 1)
        : target
    for (
      let opened = 0;
      collector.started() < due && opened < BATCH && !ending && !outOfFiles;
      opened++
    )
      open(collector.started())
    if (ending || outOfFiles) return
    if (collector.started() < target) {
      rampTimer = setTimeout(ramp, options.rampMs > 0 ? RAMP_TICK_MS : 0)
      return
    }
    afterSettled()
  }

  /**
   * Once every connection is open (or has given up), the hold begins and the trigger goes out:
   * all of them can receive its events.
   */
  function afterSettled() {
    endIfOutOfFiles()
    if (ending || holdTimer || collector.started() < target || collector.connecting() > 0) return
    holdEndsAt = now() + options.durationMs
    holdTimer = setTimeout(() => stop('duration'), options.durationMs)
    const spec = options.trigger
    if (spec)
      triggerDue = afterOpeningRead().then(() => {
        if (!ending) trigger(spec)
      })
  }

  function trigger(spec: TriggerSpec) {
    const t = now()
    collector.triggerSent(t)
    const record = (status: number | null, ms: number) =>
      hooks.emit({
        type: 'trigger',
        t: roundMs(t),
        method: spec.method,
        url: redactUrl(spec.url.href),
        status,
        ms,
      })
    let answered = false
    const answer = sendTrigger(spec, http.dispatcher, interrupt.signal).then((outcome) => {
      answered = true
      if (ending) return
      record(outcome.status ?? null, outcome.ms)
      if (outcome.ok) return
      // The connections took the last descriptors: said as for them, with the limit and the fix.
      if (outcome.status === undefined && OUT_OF_FILES.test(outcome.message))
        return onTooManyFiles()
      const message =
        outcome.status === undefined
          ? `the trigger could not be sent: ${outcome.message}`
          : `the trigger was answered with ${outcome.message}`
      hooks.emit({
        type: 'error',
        t: roundMs(now()),
        message,
        ...(outcome.status !== undefined && { status: outcome.status }),
      })
      stop('trigger-failed', message)
    })
    sentTrigger = { answer, unanswered: () => answered || record(null, roundMs(now() - t)) }
  }

  const statsTimer = options.json
    ? setInterval(() => hooks.emit(collector.stats(now())), options.intervalMs)
    : undefined
  ramp()

  const done = endedSignal.then(async () => {
    clearInterval(statsTimer)
    // Ended from outside, each probe ends as interrupted: of its expectations only --expect-end
    // looks at the reason, and a connection that was still held did not end by itself.
    for (const probe of probes) probe.interrupt()
    await Promise.all(probes.map((probe) => probe.done))
    await http.destroy().catch(() => {})
    const perConnection = expectationNames.map((name, k) => ({
      name,
      failed: expectationFailures[k] ?? 0,
    }))
    return { ...ending!, t: roundMs(now()), collector, perConnection }
  })
  return { done, stop, collector }
}

/** The expectations of the whole run: load's own, then the probe's, each failed by how many connections. */
export function loadExpectations(
  options: LoadOptions,
  result: LoadResult,
  fanoutP95: number | null,
): (ExpectationResult & { actual?: number | null })[] {
  const expectations: (ExpectationResult & { actual?: number | null })[] = []
  const { collector } = result
  if (options.expectConnected) {
    expectations.push({
      name: `--expect-connected ${options.expectConnected.text}`,
      ok: collector.opened() >= options.expectConnected.count,
      actual: collector.opened(),
    })
  }
  if (options.expectMaxErrors !== undefined) {
    expectations.push({
      name: `--expect-max-errors ${options.expectMaxErrors}`,
      ok: collector.errorCount() <= options.expectMaxErrors,
      actual: collector.errorCount(),
    })
  }
  if (options.expectFanoutP95Ms !== undefined) {
    expectations.push({
      name: `--expect-fanout-p95 ${formatLimit(options.expectFanoutP95Ms)}`,
      ok: fanoutP95 !== null && fanoutP95 <= options.expectFanoutP95Ms,
      actual: fanoutP95,
    })
  }
  for (const { name, failed } of result.perConnection)
    expectations.push({ name, ok: failed === 0, actual: failed })
  return expectations
}
