import { setTimeout as sleep } from 'node:timers/promises'
import { readBody } from './body.ts'
import { type Attempt, openStream, SCHEME_HINT } from './connection.ts'
import { createCookieJar } from './cookies.ts'
import { exitCodeFor, type StopSignal } from './exit-code.ts'
import { evaluateExpectations } from './expectations.ts'
import type { Ending, ExtensionContext, ProbeExtension } from './extension.ts'
import type { ProbeOptions } from './options.ts'
import { type ConnInput, type ConnState, type Effect, initialState, step } from './reconnect.ts'
import {
  type CloseRecord,
  type ExpectationResult,
  type ProbeRecord,
  roundMs,
  type SummaryRecord,
} from './records.ts'
import { redactHeaders, redactUrl } from './redact.ts'
import { firstRequest, type StreamRequest } from './request.ts'
import { createSession } from './session.ts'
import { createEventStream } from './stream.ts'
import { createRecorder, type Recorder } from './transcript.ts'

// Node defines the `performance` global with a getter: read once here, not at every network read.
const clock = performance

/** Where a probe's records go: the CLI's output, or the library's iterator. */
export interface ProbeSink {
  emit(record: ProbeRecord): void
  /**
   * Called once a network chunk has been handled: the moment to write what it produced.
   * Returns a promise while the consumer is backed up (a slow reader of stdout, a slow loop).
   */
  flush(): Promise<void> | undefined
  /** The body bytes exactly as received, for --format raw. */
  raw?(chunk: Uint8Array): void
  /** Whether event records are used: millions of them are not made for nothing. */
  events: boolean
  /**
   * Each event when no event record is made (`events` false, no extension or transcript): what
   * `load` counts and times, without a record object per event on its hot path.
   */
  event?(t: number, type: string, data: string): void
  /** Whether comment records are shown or kept: only then is their exact text worth recovering. */
  commentText: boolean
  /**
   * The --record transcript could not be written (a full disk): it stops, the probe goes on. The
   * CLI says so and exits 74 at the end, as `tee` does: the file is incomplete.
   */
  recordStopped?(message: string): void
  /** Each request as it is about to be sent, a redirect's too (credentials not redacted): what `-v` shows. */
  request?(request: StreamRequest): void
  /** false: no gap percentiles in the summary (`load` holds thousands of probes; they take up to 32 KiB each). */
  gaps?: boolean
}

export interface Probe {
  /** The summary, also emitted as the last record. Rejects only on a bug (exit 70). */
  done: Promise<SummaryRecord>
  /** Ends the probe as Ctrl-C does (SIGINT: 130, SIGTERM: 143); the summary is still produced. */
  interrupt(signal?: StopSignal): void
  /**
   * Drops the open connection as a network failure would (inspect's `r`): the probe reconnects
   * with Last-Event-ID as after any drop. While it waits to reconnect, the wait is cut short.
   * False when there was neither (a request still waiting for its response).
   */
  reconnect(): boolean
}

/** The message of the close record of a connection that reconnect() dropped. */
const DROPPED_MESSAGE = 'dropped on request (reconnect now)'

/**
 * The transcript of `record`, opened at once: a file that cannot be written is a usage error
 * before anything is sent (startProbe opens it unless given one opened earlier).
 */
export function openRecorder(options: ProbeOptions, sink: ProbeSink): Recorder | undefined {
  return options.record === undefined
    ? undefined
    : createRecorder(options.record, (message) => sink.recordStopped?.(message))
}

/**
 * The probe loop: the only code that connects, reads and sleeps. It feeds what happens into
 * step() (reconnect.ts), which decides what to do next and when the probe ends, and reports
 * everything as records: to the extensions, the transcript, then the sink.
 */
export function startProbe(
  options: ProbeOptions,
  sink: ProbeSink,
  recorder = openRecorder(options, sink),
): Probe {
  const origin = clock.now()
  const startedAt = new Date().toISOString()
  const now = () => roundMs(clock.now() - origin)
  const controller = new AbortController()
  const { end: ends, extensions } = options
  const session = createSession({
    pingEvent: options.stream.pingEvent,
    expectedEvents: options.expect.events,
    endEvents: ends.endEvents,
    endData: ends.endData,
    maxEvents: ends.maxEvents,
    dataPatterns: options.expect.dataPatterns.map((pattern) => pattern.regex),
    ...(sink.gaps === false && { gaps: false }),
  })
  let state: ConnState = initialState(options.reconnect.retryMs, firstRequest(options.request))
  // A probe is one EventSource: its cookies are its own, in `load` too (as separate browsers').
  const cookies = createCookieJar()
  let signal: StopSignal = 'SIGINT'
  // One clock reading per network chunk: what arrived together is stamped together. In a typed
  // array: a closure variable holding a fraction is boxed anew on each write (once per chunk).
  const chunkTime = new Float64Array(1)
  const stopped = new Promise<void>((resolve) =>
    controller.signal.addEventListener('abort', () => resolve(), { once: true }),
  )

  // What extensions emit while they look at a record (a violation of an event) follows that record.
  let inHooks = false
  const emittedInHooks: ProbeRecord[] = []
  const context: ExtensionContext = {
    now,
    emit(record) {
      if (inHooks) emittedInHooks.push(record)
      else deliver(record)
    },
    end: (reason, message) => dispatch({ type: 'stop', reason, message }),
    detach(extension) {
      detaching.push(extension)
      if (!inHooks) detach()
    },
    knownBlocks: (blocks) => stream.knownBlocks(blocks),
    signal: controller.signal,
    request: { url: options.request.url, method: options.request.method },
  }
  /** A record as the consumers get it: the transcript, then the sink. */
  function deliver(record: ProbeRecord) {
    recorder?.write(record)
    sink.emit(record)
  }
  // Each extension's hook, looked up once: a property load per record does not stay inline. An
  // extension that needs no more records (the LLM profile on a stream that is not a model's)
  // detaches, after the record at hand, and is not called again. Picked by truthiness: a
  // JavaScript caller's `onRecord: null` is no hook.
  const hooksOf = (list: ProbeExtension[]) => list.map((e) => e.onRecord!.bind(e))
  let hooked = extensions.filter((e) => e.onRecord)
  let onRecord = hooksOf(hooked)
  let readHooked = extensions.filter((e) => e.afterRead)
  const detaching: ProbeExtension[] = []
  function detach() {
    hooked = hooked.filter((e) => !detaching.includes(e))
    readHooked = readHooked.filter((e) => !detaching.includes(e))
    onRecord = hooksOf(hooked)
    detaching.length = 0
    route()
  }
  // An onRecord that returns a promise (an async function, which the void return type lets
  // through): its rejection fails the probe as a throw does (the summary rejects with it),
  // instead of going unhandled and crashing the caller's process. Once the summary is out,
  // there is nothing left to fail.
  let hookFailure: { error: unknown } | undefined
  const failHook = (error: unknown) => {
    hookFailure ??= { error }
    dispatch({ type: 'stop', reason: 'interrupted' })
  }
  const watchHook = (result: unknown) => {
    const then = (result as PromiseLike<unknown> | null)?.then
    if (typeof then === 'function') then.call(result, undefined, failHook)
  }
  const hookedEmit = (record: ProbeRecord) => {
    inHooks = true
    // Indexed: until it is optimised, a for-of loop costs an iterator call per record.
    for (let i = 0; i < onRecord.length; i++) {
      const result: unknown = onRecord[i]!(record, context)
      if (result !== undefined) watchHook(result)
    }
    inHooks = false
    if (detaching.length > 0) detach()
    deliver(record)
    if (emittedInHooks.length > 0) for (const own of emittedInHooks.splice(0)) deliver(own)
  }
  // Without hooks or a transcript, records go straight to the sink, and an event is made into a
  // record only if the sink wants it: the hot path of -q.
  let emit: (record: ProbeRecord) => void = sink.emit
  let wantEvents = sink.events
  function route() {
    const direct = onRecord.length === 0 && !recorder
    emit = direct ? sink.emit : hookedEmit
    wantEvents = sink.events || !direct
  }
  route()
  const wantCommentText = sink.commentText || extensions.length > 0 || recorder !== undefined

  function dispatch(input: ConnInput): Effect {
    const [next, effect] = step(state, input, options.reconnect)
    state = next
    if (effect.type === 'end') controller.abort()
    return effect
  }

  const stream = createEventStream(
    {
      onEvent(event, id, data, lastEventId) {
        if (state.ended) return
        const t = chunkTime[0]!
        const end = session.event(t, event, data)
        if (wantEvents) {
          const { attempt } = state
          const dt = session.dt()
          emit({ type: 'event', t, attempt, event, id, lastEventId, data, dt })
        } else sink.event?.(t, event, data)
        if (end || !state.connectionHadEvent) dispatch({ type: 'event', end })
      },
      onComment(text) {
        if (state.ended) return
        const t = chunkTime[0]!
        session.comment(t)
        emit({ type: 'comment', t, attempt: state.attempt, text })
      },
      onRetry(ms) {
        if (state.ended) return
        dispatch({ type: 'retry', ms })
        emit({ type: 'retry', t: chunkTime[0]!, attempt: state.attempt, ms })
      },
      onTooLarge(message) {
        dispatch({ type: 'stop', reason: 'event-too-large', message })
      },
    },
    {
      lastEventId: options.request.lastEventId,
      maxEventSize: options.stream.maxEventSize,
      exactComments: wantCommentText,
    },
  )

  // "No bytes at all": it runs from the start, through connection attempts and reconnect waits too.
  const idleMs = ends.idleTimeoutMs
  const startIdleTimer = () =>
    idleMs
      ? setTimeout(() => {
          const message = `no data for ${idleMs}ms (--idle-timeout)`
          dispatch({ type: 'stop', reason: 'idle-timeout', message })
        }, idleMs)
      : undefined
  let idleTimer = startIdleTimer()
  /**
   * --timeout and --duration bound the run: the probe ends then, or, if it has ended by itself
   * already, stops waiting for what the extensions await (a trigger's answer).
   */
  const deadline = (reason: 'timeout' | 'duration', message?: string) => {
    if (state.ended) interruptedWhileSettling.abort()
    else dispatch({ type: 'stop', reason, ...(message !== undefined && { message }) })
  }
  // --duration first: timers of equal length fire in the order they were set, and when both are
  // due at once the window has ended while --timeout has not elapsed *before* it (cli.md).
  const timers = [
    ends.durationMs && setTimeout(() => deadline('duration'), ends.durationMs),
    ends.timeoutMs &&
      setTimeout(
        () => deadline('timeout', `no end after ${ends.timeoutMs}ms (--timeout)`),
        ends.timeoutMs,
      ),
  ]

  /**
   * Reads no more while the consumer is backed up, so that a slow reader keeps memory flat (the
   * server is held back by TCP instead); that wait is not the server's silence.
   */
  async function drained(backlog: Promise<void>): Promise<boolean> {
    clearTimeout(idleTimer)
    await Promise.race([backlog, stopped])
    idleTimer = startIdleTimer()
    return state.ended !== undefined
  }

  /** Reads one established stream to its end; undefined when the probe was ended meanwhile. */
  async function read(
    attempt: Extract<Attempt, { type: 'response' }>,
  ): Promise<Omit<CloseRecord, 't' | 'attempt' | 'type'> | undefined> {
    cutShort = () => attempt.body.destroy(new Error(DROPPED_MESSAGE))
    const end = await readBody(attempt.body, attempt.headers['content-encoding'], {
      onBytes(chunk) {
        chunkTime[0] = now()
        session.bytes(chunk.length)
        idleTimer?.refresh()
        sink.raw?.(chunk)
      },
      onData(chunk) {
        stream.feed(chunk)
        for (let i = 0; i < readHooked.length; i++) readHooked[i]!.afterRead!(context)
        const backlog = sink.flush()
        return backlog ? drained(backlog) : state.ended !== undefined
      },
    })
    cutShort = undefined
    attempt.release()
    const { discardedData, datalessType } = stream.end()
    if (state.ended || end.cause === 'stopped') return undefined
    return {
      cause: end.cause,
      ...(end.message !== undefined && { message: end.message }),
      ...(discardedData !== undefined && { discardedBytes: Buffer.byteLength(discardedData) }),
      // The end event the server meant to send, without a data line: not one, so the probe goes on.
      ...(datalessType !== undefined &&
        ends.endEvents.includes(datalessType) && { datalessEnd: datalessType }),
    }
  }

  /** The response (or the failure) as a record and as the input step() needs. */
  function report(attempt: Attempt): ConnInput {
    const t = now()
    const base = { t, attempt: state.attempt }
    if (attempt.type === 'network-error') {
      // A reconnect's URL has answered before: its silence is no TLS port's.
      const hint = attempt.silent && state.attempt === 1 ? SCHEME_HINT : ''
      const message = attempt.message + hint
      emit({ type: 'error', ...base, message })
      return { ...attempt, message }
    }
    const headers = redactHeaders(attempt.headers, options.showSecrets)
    if (attempt.verdict === 'ok') {
      const url = options.showSecrets ? attempt.url : redactUrl(attempt.url)
      const { status, httpVersion } = attempt
      emit({ type: 'open', ...base, url, status, httpVersion, headers })
    } else if (attempt.verdict !== 'no-content') {
      emit({
        type: 'error',
        ...base,
        message: attempt.message!,
        status: attempt.status,
        headers,
        ...(attempt.excerpt !== undefined && { body: attempt.excerpt }),
      })
    }
    const { verdict, request, message } = attempt
    return { type: 'response', verdict, request, ...(message !== undefined && { message }) }
  }

  /** Ends the current read or reconnect wait early, for reconnect(). */
  let cutShort: (() => void) | undefined

  async function run(): Promise<void> {
    // What the last wait lasted: the reconnection time, or less when reconnect() cut it short.
    let waitedMs = 0
    for (;;) {
      const lastEventId = stream.lastEventId()
      if (state.attempt > 1) {
        session.reconnecting()
        const id = lastEventId === '' ? null : lastEventId
        emit({
          type: 'reconnect',
          t: now(),
          attempt: state.attempt,
          delayMs: waitedMs,
          lastEventId: id,
        })
        sink.flush()
      }
      let effect = dispatch({ type: 'connect', lastEventId })
      if (effect.type !== 'connect') return
      const attempt = await openStream(
        effect.request,
        options.request,
        controller.signal,
        options.http,
        cookies,
        sink.request?.bind(sink),
      )
      if (state.ended) {
        if (attempt.type === 'response') attempt.release()
        return
      }
      const input = report(attempt)
      sink.flush()
      effect = dispatch(input)
      if (effect.type === 'read' && attempt.type === 'response') {
        session.open(now())
        const closed = await read(attempt)
        if (!closed) return
        const t = now()
        session.closed(t)
        emit({ type: 'close', t, attempt: state.attempt, ...closed })
        sink.flush()
        effect = dispatch({ type: 'closed', cause: closed.cause })
      }
      if (effect.type !== 'wait') return
      // Not AbortSignal.any() with the probe's signal: Node keeps a little of each composite on
      // its sources for good, and a probe can wait thousands of times (a server's `retry: 1`).
      const wait = new AbortController()
      const cut = () => wait.abort()
      cutShort = cut
      controller.signal.addEventListener('abort', cut, { once: true })
      const waitFrom = clock.now()
      await sleep(effect.ms, undefined, { signal: wait.signal }).catch(() => {})
      controller.signal.removeEventListener('abort', cut)
      cutShort = undefined
      waitedMs = wait.signal.aborted ? roundMs(clock.now() - waitFrom) : effect.ms
      if (state.ended) return
    }
  }

  const interruptedWhileSettling = new AbortController()
  /** What the extensions still await; a failure one of them reports turns an exit-0 end into its own. */
  async function settle(): Promise<Ending> {
    const ending = state.ended!
    const settling = extensions.flatMap((e) =>
      e.settle ? [e.settle(ending, interruptedWhileSettling.signal)] : [],
    )
    if (settling.length === 0) return ending
    const meant = (await Promise.all(settling)).find((end) => end !== undefined)
    return meant !== undefined && exitCodeFor(ending.reason, []) === 0 ? meant : ending
  }

  const clearTimers = () => {
    for (const timer of [...timers, idleTimer]) if (timer) clearTimeout(timer)
  }

  function summarise({ reason, message }: Ending): SummaryRecord {
    clearTimers()
    const t = now()
    const stats = session.stats(t)
    const expectations: ExpectationResult[] = evaluateExpectations(options.expect, stats, reason)
    const extra: Record<string, unknown> = {}
    for (const extension of extensions) {
      const result = extension.finish?.({ reason, t })
      if (result?.summary) Object.assign(extra, result.summary)
      if (result?.expectations) expectations.push(...result.expectations)
    }
    const { maxSilenceMs: _silence, dataMatches: _matches, ...counts } = stats
    return {
      type: 'summary',
      t,
      startedAt,
      reason,
      exitCode: exitCodeFor(reason, expectations, signal),
      ...(message !== undefined && { message }),
      ...counts,
      expectations,
      ...extra,
    }
  }

  // The caller gets the probe before anything happens: the library's contract (api.md).
  const done = new Promise<void>((resolve) => process.nextTick(resolve))
    .then(run)
    .then(settle)
    .then((ending) => {
      if (hookFailure) throw hookFailure.error
      return ending
    })
    .then(
      (ending) => {
        const summary = summarise(ending)
        deliver(summary)
        recorder?.close()
        return summary
      },
      (error: unknown) => {
        // A bug, not an outcome of the endpoint: no reason may stand for it (exit 70).
        controller.abort()
        clearTimers()
        recorder?.close()
        throw error
      },
    )
  return {
    done,
    interrupt(stopSignal = 'SIGINT') {
      if (state.ended) return interruptedWhileSettling.abort()
      signal = stopSignal
      dispatch({ type: 'stop', reason: 'interrupted' })
    },
    reconnect() {
      const cut = cutShort
      cut?.()
      return cut !== undefined
    },
  }
}
