import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  afterOpeningRead,
  CONNECT_TIMEOUT_MS,
  createHttp,
  type Ending,
  type EndReason,
  type ExpectationResult,
  formatDuration,
  formatLimit,
  type ProbeExtension,
  redactUrl,
  roundMs,
  sendTrigger,
  TRIGGER_ANSWER_WAIT_MS,
  type TriggerOutcome,
  type TriggerSpec,
} from './engine.ts'

type Context = Parameters<NonNullable<ProbeExtension['onRecord']>>[1]

// The probe's -k is not the trigger's (docs/contracts.md): naming it would send the user round in
// a circle. Node's own list of trusted certificates applies to every request.
const CERTIFICATE_HINT =
  '-k does not apply to --trigger; NODE_EXTRA_CA_CERTS=<ca.pem> makes Node trust its certificate'

/**
 * The ends reached by what the stream sent, which may come before the trigger's answer: not a
 * time window (--duration) or limit that cut the probe short, nor a failure.
 */
const ENDED_BY_ITSELF = new Set<EndReason>(['end-event', 'end-data', 'max-events', 'server-closed'])

/** `--trigger '<METHOD> <url>'` with its body, headers and delay, validated. */
export interface DelayedTrigger extends TriggerSpec {
  delayMs: number
}

export interface TriggerOptions {
  /** `--expect-within`: the first event after the trigger arrives within this long. */
  expectWithinMs?: number
  failFast: boolean
  pingEvent: string
}

/**
 * Sends the request that causes the events once the first connection is open
 * (so no event it causes can be missed), and measures the time from sending it
 * to the first event after it.
 */
export function createTriggerExtension(
  spec: DelayedTrigger,
  options: TriggerOptions,
): ProbeExtension {
  const { expectWithinMs, failFast, pingEvent } = options
  const url = redactUrl(spec.url.href)
  let sentAt: number | undefined
  // Where the trigger was sent from: its records (a late answer, none at all) are emitted there.
  let sentFrom: Context | undefined
  let eventAt: number | undefined
  // A trigger that never reached the server (refused, no such host) causes nothing to measure.
  let unsent = false
  let withinTimer: NodeJS.Timeout | undefined
  const withinName =
    expectWithinMs === undefined ? '' : `--expect-within ${formatLimit(expectWithinMs)}`

  // The trigger's request ends with the probe only if the probe was cut short: otherwise its
  // answer is awaited (settle) and reported, as the stream may end before the answer comes.
  const request = new AbortController()
  let answer: Promise<void> | undefined
  let answered = false
  let settled = false
  let failure: Ending | undefined

  // The wait between the open and the send: --trigger-delay, or the read that opened the stream.
  let opening: Promise<void> | undefined
  let openedFrom: Context | undefined

  async function wait(context: Context) {
    if (spec.delayMs > 0)
      await sleep(spec.delayMs, undefined, { signal: context.signal }).catch(() => {})
    else await afterOpeningRead()
  }

  function send(context: Context) {
    const t = context.now()
    sentAt = t
    sentFrom = context
    if (expectWithinMs !== undefined) {
      withinTimer = setTimeout(() => {
        if (failFast && eventAt === undefined)
          context.end(
            'expectation-failed',
            `${withinName}: no event within ${formatLimit(expectWithinMs)} of the trigger`,
          )
      }, expectWithinMs)
    }
    const http = createHttp({ insecure: false, connectTimeoutMs: CONNECT_TIMEOUT_MS })
    // Aborting the request leaves a connect still in its handshake to live on (undici), keeping
    // the process alive after the probe: it ends with the request.
    request.signal.addEventListener('abort', () => void http.destroy().catch(() => {}), {
      once: true,
    })
    answer = sendTrigger(spec, http.dispatcher, request.signal, CERTIFICATE_HINT).then(
      (outcome) => {
        answered = true
        void http.dispatcher.close().catch(() => {})
        // Nothing after the summary: a trigger that settle() stopped waiting for leaves no record.
        if (!settled) report(context, t, outcome)
      },
    )
  }

  function report(context: Context, t: number, outcome: TriggerOutcome) {
    if (outcome.status !== undefined) {
      context.emit({
        type: 'trigger',
        t,
        method: spec.method,
        url,
        status: outcome.status,
        ms: outcome.ms,
      })
    }
    if (outcome.status === undefined) unsent = true
    if (!outcome.ok) fail(context, `--trigger ${spec.method} ${url}: ${outcome.message}`, outcome)
  }

  function fail(context: Context, message: string, answer?: { status?: number; body?: string }) {
    context.emit({
      type: 'error',
      t: context.now(),
      attempt: 1,
      message,
      ...(answer?.status !== undefined && { status: answer.status }),
      ...(answer?.body !== undefined && { body: answer.body }),
    })
    failure = { reason: 'trigger-failed', message }
    context.end(failure.reason, message)
  }

  return {
    async settle(ending, interrupted) {
      const byItself = ENDED_BY_ITSELF.has(ending.reason) && !interrupted.aborted
      // Without a delay the trigger is due at the open: a stream that ended in the read that
      // opened it (its end event came with the headers) still sends it, and awaits its answer.
      if (byItself && openedFrom && spec.delayMs === 0) {
        await opening
        if (sentAt === undefined) send(openedFrom)
      }
      if (answer !== undefined && byItself) {
        const waited = AbortSignal.any([interrupted, AbortSignal.timeout(TRIGGER_ANSWER_WAIT_MS)])
        await Promise.race([answer, once(waited, 'abort')])
        // The stream had what it needed; the user is told the trigger never answered.
        if (!answered && sentFrom && sentAt !== undefined) {
          const ms = roundMs(sentFrom.now() - sentAt)
          sentFrom.emit({ type: 'trigger', t: sentAt, method: spec.method, url, status: null, ms })
        }
      }
      settled = true
      request.abort()
      return failure
    },
    onRecord(record, context) {
      if (record.type === 'open' && opening === undefined) {
        openedFrom = context
        opening = wait(context).then(() => {
          if (!context.signal.aborted) send(context)
        })
      } else if (
        record.type === 'event' &&
        sentAt !== undefined &&
        eventAt === undefined &&
        record.event !== pingEvent &&
        record.t >= sentAt
      ) {
        eventAt = record.t
        clearTimeout(withinTimer)
        if (failFast && expectWithinMs !== undefined && eventAt - sentAt > expectWithinMs) {
          context.end(
            'expectation-failed',
            `${withinName}: the first event came ${formatDuration(roundMs(eventAt - sentAt))} after the trigger`,
          )
        }
      }
    },
    finish() {
      clearTimeout(withinTimer)
      const triggerToEventMs =
        sentAt === undefined || eventAt === undefined || unsent ? null : roundMs(eventAt - sentAt)
      const expectations: ExpectationResult[] = []
      if (expectWithinMs !== undefined)
        expectations.push({
          name: withinName,
          ok: triggerToEventMs !== null && triggerToEventMs <= expectWithinMs,
          actual: triggerToEventMs,
        })
      return { summary: { triggerToEventMs }, expectations }
    },
  }
}
