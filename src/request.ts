import type { RequestOptions } from './options.ts'
import { VERSION } from './version.ts'

/**
 * The request headers: what a browser's EventSource sends, the user's -H on top.
 * No Accept-Encoding: a compressing server may hold events back to fill its
 * buffers, and the probe shows the stream as the server flushes it.
 */
export function requestHeaders(
  options: Pick<RequestOptions, 'headers'>,
  body: Buffer | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'cache-control': 'no-cache',
    'user-agent': `sse-probe/${VERSION}`,
  }
  if (body !== undefined)
    headers['content-type'] = looksLikeJson(body) ? 'application/json' : 'text/plain;charset=UTF-8'
  for (const [name, value] of options.headers) headers[name.toLowerCase()] = headerBytes(value)
  return headers
}

/** The headers of one attempt: Last-Event-ID when the buffer is not empty, none when it is. */
export function withLastEventId(
  headers: Record<string, string>,
  lastEventId: string,
): Record<string, string> {
  const withId = { ...headers }
  delete withId['last-event-id']
  // [spec] Last-Event-ID is the last event ID string, encoded as UTF-8.
  if (lastEventId !== '') withId['last-event-id'] = headerBytes(lastEventId)
  return withId
}

/** Control characters other than tab, which no HTTP header value may carry (undici refuses them). */
export function hasHeaderControl(text: string): boolean {
  return /[\x00-\x08\x0a-\x1f\x7f]/.test(text)
}

/** Header values are bytes: text goes out as UTF-8 (as curl sends -H), which undici takes as a latin1 string. */
function headerBytes(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text).toString('latin1') : text
}

function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('utf8', 0, 64).trimStart()[0]
  return first === '{' || first === '['
}
