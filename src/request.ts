import { VERSION } from './version.ts'
import type { RequestOptions } from './options.ts'

/**
 * The request headers: what a browser's EventSource sends, the user's -H on top.
 * No Accept-Encoding: a compressing server may hold events back to fill its
 * buffers, and the probe shows the stream as the server flushes it.
 */
export function requestHeaders(options: Pick<RequestOptions, 'headers'>, body: Buffer | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'cache-control': 'no-cache',
    'user-agent': `sse-probe/${VERSION}`,
  }
  if (body !== undefined) headers['content-type'] = looksLikeJson(body) ? 'application/json' : 'text/plain;charset=UTF-8'
  for (const [name, value] of options.headers) headers[name.toLowerCase()] = value
  return headers
}

/** The headers of one attempt: Last-Event-ID when the buffer is not empty, none when it is. */
export function withLastEventId(headers: Record<string, string>, lastEventId: string): Record<string, string> {
  const withId = { ...headers }
  delete withId['last-event-id']
  // [spec] the ID goes as UTF-8; undici writes header strings as Latin-1, so one character per byte.
  if (lastEventId !== '') withId['last-event-id'] = Buffer.from(lastEventId, 'utf8').toString('latin1')
  return withId
}

function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('utf8', 0, 64).trimStart()[0]
  return first === '{' || first === '['
}
