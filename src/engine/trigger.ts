import { readExcerpt } from './connection.ts'
import { sendRequest } from './dispatch.ts'
import { describeError, SseProbeUsageError } from './errors.ts'
import { roundMs } from './records.ts'
import { sentSecrets } from './redact.ts'
import { toRequestOptions, withBody } from './request.ts'
import type { Dispatcher } from './undici-lite.ts'
import { bodyArg, invalidOption, methodArg, urlArg } from './validate.ts'
import { VERSION } from './version.ts'

/**
 * `--trigger`: the request that causes the events (contracts.md, load.md). Sent once, never
 * retried; a probe and `load` each decide when, and what its outcome means for them.
 */
export interface TriggerSpec {
  method: string
  url: URL
  headers: [string, string][]
  /** --trigger-data, already read (a file's content for @file). */
  body?: Buffer
}

/** --trigger and --trigger-data as the probe's and `load`'s messages name them. */
export const TRIGGER_FLAG = "--trigger '<METHOD> <url>'"
export const TRIGGER_DATA_FLAG = '--trigger-data <text|@file>'

// A method alone ('POST') is a forgotten URL, not the host post.
const METHOD_ALONE = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/i

/**
 * `--trigger '<METHOD> <url>'`, or a URL alone: GET, or POST when the trigger has a body
 * (contracts.md). The URL is read as the probe's own (`:8000/jobs` is localhost); a path alone
 * (`POST /jobs`) is on the stream's server, without the stream URL's credentials (as `-H`, they
 * are the probe's).
 */
export function triggerArg(
  text: string,
  hasBody: boolean,
  streamUrl: URL,
): Pick<TriggerSpec, 'method' | 'url'> {
  const parts = text.trim().split(/\s+/)
  const [method, target] = parts.length === 1 ? [hasBody ? 'POST' : 'GET', parts[0]] : parts
  if (parts.length > 2 || !target || METHOD_ALONE.test(target))
    throw invalidOption(
      TRIGGER_FLAG,
      text,
      'expected a method and a URL, e.g. "POST http://127.0.0.1:8000/jobs", or a URL alone (GET)',
    )
  try {
    return { method: methodArg(method!), url: onServerOf(streamUrl, target) ?? urlArg(target) }
  } catch (error) {
    if (error instanceof SseProbeUsageError) throw invalidOption(TRIGGER_FLAG, text, error.message)
    throw error
  }
}

function onServerOf(streamUrl: URL, target: string): URL | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined
  const url = new URL(target, streamUrl)
  url.username = ''
  url.password = ''
  return url
}

/** --trigger-data: text or @file. Not stdin: -d @- may read it, and it can be read only once. */
export function triggerDataArg(data: string): Buffer {
  if (data === '@-')
    throw invalidOption(
      TRIGGER_DATA_FLAG,
      data,
      'stdin (@-) is for -d: give the body as text or @file',
    )
  return bodyArg(data, TRIGGER_DATA_FLAG)
}

export type TriggerOutcome =
  | { ok: true; status: number; ms: number }
  /** `body`: the start of a 4xx/5xx answer's body, which says why (an API's validation error). */
  | { ok: false; status?: number; ms: number; message: string; body?: string }

/**
 * How long a run whose streams all ended by themselves (an end event the trigger caused, say)
 * still waits for the trigger's answer, which may come after them.
 */
export const TRIGGER_ANSWER_WAIT_MS = 5000

/**
 * When a trigger may go once its stream is open: after the network read that opened it is parsed.
 * An event that came with the headers (a welcome, the current state) was sent before the trigger,
 * and is not what it caused (its fan-out, its time to the first event).
 */
export const afterOpeningRead = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Sends the trigger; a transport error or a 4xx/5xx answer is a failed trigger. `certificateHint`:
 * what to do about a certificate that is not trusted, when -k does not apply to the trigger.
 */
export async function sendTrigger(
  spec: TriggerSpec,
  dispatcher: Dispatcher,
  signal: AbortSignal,
  certificateHint?: string,
): Promise<TriggerOutcome> {
  const startedAt = performance.now()
  const ms = () => roundMs(performance.now() - startedAt)
  // As the probe's own request: URL credentials become an Authorization header, and a JSON
  // body is sent as application/json unless a Content-Type is given.
  const { url, method, headers } = toRequestOptions({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    ...(spec.body && { body: spec.body }),
  })
  try {
    const response = await sendRequest(
      dispatcher,
      {
        origin: url.origin,
        path: url.pathname + url.search,
        method: method as Dispatcher.HttpMethod,
        headers: withBody({ 'user-agent': `sse-probe/${VERSION}` }, headers, spec.body),
        body: spec.body,
      },
      signal,
    )
    if (response.statusCode >= 400) {
      const status = response.statusCode
      const message = `HTTP ${status}`
      const body = await readExcerpt(response.body, sentSecrets(url, headers))
      return { ok: false, status, ms: ms(), message, body }
    }
    response.body.destroy()
    return { ok: true, status: response.statusCode, ms: ms() }
  } catch (error) {
    return { ok: false, ms: ms(), message: describeError(error, certificateHint) }
  }
}
