import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import {
  describeError,
  type ExpectationResult,
  formatDuration,
  type ProbeExtension,
  redactUrl,
  roundMs,
} from './engine.ts'

/** `--trigger '<METHOD> <url>'` with its body, headers and delay, validated. */
export interface TriggerSpec {
  method: string
  url: URL
  headers: [string, string][]
  body?: Buffer
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
export function createTriggerExtension(spec: TriggerSpec, options: TriggerOptions): ProbeExtension {
  const { expectWithinMs, failFast, pingEvent } = options
  const url = redactUrl(spec.url.href)
  let started = false
  let sentAt: number | undefined
  let eventAt: number | undefined
  let withinTimer: NodeJS.Timeout | undefined
  const withinName =
    expectWithinMs === undefined ? '' : `--expect-within ${formatDuration(expectWithinMs)}`
  const headers = Object.fromEntries(spec.headers)
  if (
    spec.body &&
    !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type') &&
    isJson(spec.body)
  )
    headers['content-type'] = 'application/json'

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
    try {
      const response = await request(spec.url, {
        method: spec.method as 'POST',
        headers,
        body: spec.body,
        signal: context.signal,
      })
      const ms = roundMs(context.now() - t)
      await response.body.dump()
      // Nothing after the summary: a probe that its event ended first keeps triggerToEventMs only.
      if (context.signal.aborted) return
      context.emit({
        type: 'trigger',
        t,
        method: spec.method,
        url,
        status: response.statusCode,
        ms,
      })
      if (response.statusCode >= 400)
        fail(
          context,
          `--trigger ${spec.method} ${url}: HTTP ${response.statusCode}`,
          response.statusCode,
        )
    } catch (error) {
      if (!context.signal.aborted)
        fail(context, `--trigger ${spec.method} ${url}: ${describeError(error)}`)
    }
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

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'))
    return true
  } catch {
    return false
  }
}
