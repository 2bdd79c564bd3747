import { setTimeout as sleep } from 'node:timers/promises'
import {
  CONNECT_TIMEOUT_MS,
  createHttp,
  type ExpectationResult,
  formatDuration,
  type ProbeExtension,
  redactUrl,
  roundMs,
  sendTrigger,
  type TriggerSpec,
} from './engine.ts'

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
  let started = false
  let sentAt: number | undefined
  let eventAt: number | undefined
  let withinTimer: NodeJS.Timeout | undefined
  const withinName =
    expectWithinMs === undefined ? '' : `--expect-within ${formatDuration(expectWithinMs)}`

  async function send(context: Parameters<NonNullable<ProbeExtension['onRecord']>>[1]) {
    if (spec.delayMs > 0)
      await sleep(spec.delayMs, undefined, { signal: context.signal }).catch(() => {})
    if (context.signal.aborted) return
    const t = context.now()
    sentAt = t
    if (expectWithinMs !== undefined) {
      withinTimer = setTimeout(() => {
        if (failFast && eventAt === undefined)
          context.end(
            'expectation-failed',
            `${withinName}: no event within ${formatDuration(expectWithinMs)} of the trigger`,
          )
      }, expectWithinMs)
    }
    const http = createHttp({ insecure: false, connectTimeoutMs: CONNECT_TIMEOUT_MS })
    const outcome = await sendTrigger(spec, http.dispatcher, context.signal)
    void http.dispatcher.close()
    // Nothing after the summary: a probe that its event ended first keeps triggerToEventMs only.
    if (context.signal.aborted) return
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
    if (!outcome.ok)
      fail(context, `--trigger ${spec.method} ${url}: ${outcome.message}`, outcome.status)
  }

  function fail(context: Parameters<typeof send>[0], message: string, status?: number) {
    context.emit({
      type: 'error',
      t: context.now(),
      attempt: 1,
      message,
      ...(status !== undefined && { status }),
    })
    context.end('trigger-failed', message)
  }

  return {
    onRecord(record, context) {
      if (record.type === 'open' && !started) {
        started = true
        void send(context)
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
        sentAt === undefined || eventAt === undefined ? null : roundMs(eventAt - sentAt)
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
