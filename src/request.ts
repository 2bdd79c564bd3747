import { VERSION } from './version.ts'
import type { RequestOptions } from './options.ts'

/**
 * The request headers of one attempt: what a browser's EventSource sends,
 * the user's -H on top, and Last-Event-ID when the buffer is not empty.
 * No Accept-Encoding: a compressing server may hold events back to fill its
 * buffers, and the probe shows the stream as the server flushes it.
 */
export function requestHeaders(options: Pick<RequestOptions, 'headers'>, body: Buffer | undefined, lastEventId: string): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'cache-control': 'no-cache',
    'user-agent': `sse-probe/${VERSION}`,
  }
  if (body !== undefined) headers['content-type'] = looksLikeJson(body) ? 'application/json' : 'text/plain;charset=UTF-8'
  for (const [name, value] of options.headers) headers[name.toLowerCase()] = value
  if (lastEventId !== '') headers['last-event-id'] = lastEventId
  return headers
}

function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('utf8', 0, 64).trimStart()[0]
  return first === '{' || first === '['
}
