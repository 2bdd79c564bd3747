import type { Dispatcher } from 'undici'
import { discardBody } from '../engine/connection.ts'
import { describeError } from '../engine/errors.ts'
import { roundMs } from '../engine/records.ts'
import { toRequestOptions } from '../engine/request.ts'

/**
 * The request that causes the events whose fan-out is measured. A small sender of
 * its own until the contracts helper's `--trigger` lands in the engine.
 */
export interface TriggerSpec {
  method: string
  url: URL
  /** --trigger-data, already read (a file's content for @file). */
  data?: Buffer
  headers: [string, string][]
}

export type TriggerOutcome =
  | { ok: true; status: number; ms: number }
  | { ok: false; status?: number; ms: number; message: string }

/** Sends the trigger; a transport error or a 4xx/5xx answer is a failed trigger. */
export async function sendTrigger(
  spec: TriggerSpec,
  dispatcher: Dispatcher,
  signal: AbortSignal,
): Promise<TriggerOutcome> {
  const startedAt = performance.now()
  const ms = () => roundMs(performance.now() - startedAt)
  // As the probe's own request: URL credentials become an Authorization header.
  const { url, method, headers } = toRequestOptions({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
  })
  try {
    const response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: method as Dispatcher.HttpMethod,
      headers: Object.fromEntries(headers),
      body: spec.data,
      signal,
    })
    discardBody(response.body)
    if (response.statusCode >= 400)
      return {
        ok: false,
        status: response.statusCode,
        ms: ms(),
        message: `the trigger was answered with HTTP ${response.statusCode}`,
      }
    return { ok: true, status: response.statusCode, ms: ms() }
  } catch (error) {
    return {
      ok: false,
      ms: ms(),
      message: `the trigger could not be sent: ${describeError(error)}`,
    }
  }
}
