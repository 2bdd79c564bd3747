import { createGzip } from 'node:zlib'

/** What node:http and node:http2's compatibility API have in common, as far as an endpoint needs. */
export interface EndpointRequest {
  headers: Record<string, string | string[] | undefined>
}
export interface EndpointResponse {
  writeHead(status: number, headers: Record<string, string>): unknown
  write(chunk: string | Buffer): unknown
  end(): unknown
  on(event: 'close', listener: () => void): unknown
  flushHeaders?(): void
  readonly destroyed: boolean
}

/**
 * A stream that follows every best practice unless told otherwise, so that a
 * test can break exactly one: ids 1..count that resume after Last-Event-ID,
 * retry, a greeting comment, headers flushed at once, an end event.
 */
export interface EndpointShape {
  status?: number
  /** Over the defaults (text/event-stream, no-cache); null removes one. */
  headers?: Record<string, string | null>
  /** How Last-Event-ID is honoured; 'none' sends no ids at all. */
  ids?: 'resume' | 'replay' | 'skip' | 'none'
  count?: number
  intervalMs?: number
  /** Write a keep-alive comment with every event, in the same write. */
  keepAliveWithEvents?: boolean
  /** Bytes of filler in each event's data, to fill a proxy's buffers. */
  padding?: number
  retry?: number | null
  greeting?: boolean
  /** 'close-then-204' answers a reconnect that has seen everything with 204. */
  /** 'cut-event': the end event without its blank line, so the close cuts it off (hand-written servers). */
  /** 'dataless-event': the end event without a data line, as sse-starlette writes `ServerSentEvent(event="end")`. */
  end?: 'event' | 'cut-event' | 'dataless-event' | 'close' | 'close-then-204' | 'never'
  /** Send nothing, headers included, for this long. */
  holdHeadersMs?: number
  /** Compress with gzip when the client accepts it, without flushing (as compression middleware does). */
  gzip?: boolean
  /** Echo the request's Origin in Access-Control-Allow-Origin. */
  cors?: boolean
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function sseEndpoint(shape: EndpointShape = {}) {
  const {
    count = 6,
    intervalMs = 40,
    padding = 0,
    ids = 'resume',
    end = 'event',
    greeting = true,
  } = shape
  const retry = shape.retry === undefined ? 2000 : shape.retry
  return async (req: EndpointRequest, res: EndpointResponse) => {
    const lastEventId = Number(req.headers['last-event-id'] ?? 0)
    if (end === 'close-then-204' && lastEventId >= count) {
      res.writeHead(204, {})
      return res.end()
    }
    const headers: Record<string, string> = {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
    }
    if (shape.cors && typeof req.headers.origin === 'string')
      headers['access-control-allow-origin'] = req.headers.origin
    for (const [name, value] of Object.entries(shape.headers ?? {})) {
      if (value === null) delete headers[name]
      else headers[name] = value
    }
    const gzip =
      shape.gzip && /gzip/.test(String(req.headers['accept-encoding'] ?? ''))
        ? createGzip()
        : undefined
    if (gzip) {
      headers['content-encoding'] = 'gzip'
      gzip.on('data', (chunk: Buffer) => res.write(chunk))
      gzip.on('end', () => res.end())
    }
    res.writeHead(shape.status ?? 200, headers)
    if (shape.holdHeadersMs) await pause(shape.holdHeadersMs)
    else res.flushHeaders?.()
    let closed = false
    res.on('close', () => (closed = true))
    const write = (text: string) => (gzip ? gzip.write(text) : res.write(text))
    const finish = (text = '') => {
      if (gzip) return gzip.end(text)
      if (text) res.write(text)
      res.end()
    }

    let head = greeting ? ': connected\n\n' : ''
    if (retry !== null) head += `retry: ${retry}\n\n`
    if (head) write(head)
    const first =
      ids === 'replay' ? 1 : ids === 'skip' && lastEventId > 0 ? lastEventId + 3 : lastEventId + 1
    const filler = padding > 0 ? ` ${'x'.repeat(padding)}` : ''
    for (let id = first; id <= count; id++) {
      await pause(intervalMs)
      if (closed) return
      write(
        `${ids === 'none' ? '' : `id: ${id}\n`}data: tick ${id}${filler}\n\n${shape.keepAliveWithEvents ? ': keep-alive\n\n' : ''}`,
      )
    }
    await pause(intervalMs)
    if (closed) return
    if (end === 'event') finish('event: end\ndata: bye\n\n')
    else if (end === 'cut-event') finish('event: end\ndata: bye\n')
    else if (end === 'dataless-event') finish('event: end\r\n\r\n')
    else if (end !== 'never') finish()
  }
}
