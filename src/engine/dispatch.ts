import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from './undici-lite.ts'

interface BodyReader {
  /** What one network read brought, as one chunk: the pieces of a chunked body that came together are joined. */
  onData(chunk: Buffer): void
  /** The body ended (no error) or broke. Once; nothing is delivered after it. */
  onEnd(error?: Error): void
}

/** A response body that undici hands straight to its reader. */
export interface Body {
  /** Starts delivering to the reader, beginning with what arrived before. Once. */
  read(reader: BodyReader): void
  /** Delivers nothing more (and reads no more from the socket, holding the server back) until resume(). */
  pause(): void
  resume(): void
  /**
   * Closes the connection. Given an error, a reader still reading ends with it: a stream dropped
   * from outside (inspect's `r`) ends as a broken one does.
   */
  destroy(error?: Error): void
}

export interface Response {
  statusCode: number
  statusText: string
  headers: IncomingHttpHeaders
  body: Body
}

export type RequestOptions = Omit<Dispatcher.DispatchOptions, 'signal'>

const ABORTED = 'the request was aborted'
// A microtask through a settled promise: queueMicrotask makes an AsyncResource for each.
const resolved = Promise.resolve()

/**
 * One request through undici's `dispatch` rather than `request`: the body is not a Readable read
 * through an async iterator but callbacks, which with thousands of streams in `load` saves a stream,
 * a promise and a few ticks per chunk, most of the client's CPU per event beyond parsing.
 * Rejects when no response comes (transport error, abort).
 */
export function sendRequest(
  dispatcher: Dispatcher,
  options: RequestOptions,
  signal?: AbortSignal,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const handler = new StreamHandler(resolve, reject, signal)
    try {
      dispatcher.dispatch(options, handler)
    } catch (error) {
      handler.onResponseError(undefined, error as Error)
    }
  })
}

/**
 * The handler of one request and then its body. Chunks are delivered in a microtask, all those of
 * one network read together (undici calls onResponseData once per piece of a chunked body): one
 * read is one chunk with one timestamp, which batching detection (check, LLM timing) relies on.
 */
class StreamHandler implements Dispatcher.DispatchHandler, Body {
  #resolve: ((response: Response) => void) | undefined
  #reject: (error: Error) => void
  #signal: AbortSignal | undefined
  #controller: Dispatcher.DispatchController | undefined
  #reader: BodyReader | undefined
  /** What arrived since the last delivery: most reads bring one piece, kept without an array. */
  #chunk: Buffer | undefined
  #moreChunks: Buffer[] | undefined
  /** How the body ended, once it has: null for a complete body. */
  #end: Error | null | undefined
  #paused = false
  #scheduled = false
  #done = false

  constructor(
    resolve: (response: Response) => void,
    reject: (error: Error) => void,
    signal: AbortSignal | undefined,
  ) {
    this.#resolve = resolve
    this.#reject = reject
    this.#signal = signal
    signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  #onAbort = () => {
    const reason = this.#signal!.reason ?? new Error(ABORTED)
    if (!this.#resolve) this.destroy(reason)
    else if (this.#controller) this.#controller.abort(reason)
    // Not started: undici is still connecting (a TLS handshake that never ends), which an abort
    // does not end. The request fails now; onRequestStart aborts it if it ever starts.
    else this.onResponseError(undefined, reason)
  }

  #deliver = () => {
    this.#scheduled = false
    const reader = this.#reader
    if (!reader || this.#paused || this.#done) return
    const first = this.#chunk
    if (first) {
      const more = this.#moreChunks
      this.#chunk = undefined
      this.#moreChunks = undefined
      reader.onData(more ? Buffer.concat([first, ...more]) : first)
      if (this.#paused || this.#done) return
    }
    if (this.#end !== undefined) {
      this.#finish()
      reader.onEnd(this.#end ?? undefined)
    }
  }

  #schedule() {
    if (this.#scheduled || !this.#reader || this.#paused || this.#done) return
    this.#scheduled = true
    resolved.then(this.#deliver)
  }

  #finish() {
    this.#done = true
    this.#chunk = undefined
    this.#moreChunks = undefined
    this.#signal?.removeEventListener('abort', this.#onAbort)
  }

  onRequestStart(controller: Dispatcher.DispatchController) {
    this.#controller = controller
    if (this.#signal?.aborted) controller.abort(this.#signal.reason ?? new Error(ABORTED))
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ) {
    if (!this.#resolve) return
    // llhttp reads any three digits; undici takes a status below 100 for an interim one, then
    // fails an assertion at its end (an internal error whose message is a line of its source).
    // As in Chromium it is a final answer, and not 200: it is refused, its body unread.
    const bogus = statusCode < 100
    // 1xx: informational, the response is still to come.
    if (statusCode < 200 && !bogus) return
    this.#controller = controller
    const resolve = this.#resolve
    this.#resolve = undefined
    if (bogus) {
      this.#end = null
      controller.abort(new Error(`status ${statusCode}: no HTTP status`))
    }
    resolve({ statusCode, statusText: statusMessage ?? '', headers, body: this })
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer) {
    if (this.#done) return
    if (!this.#chunk) this.#chunk = chunk
    else if (this.#moreChunks) this.#moreChunks.push(chunk)
    else this.#moreChunks = [chunk]
    this.#schedule()
  }

  onResponseEnd() {
    this.#end = null
    this.#schedule()
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error) {
    if (this.#resolve) {
      this.#resolve = undefined
      this.#finish()
      this.#reject(error)
      return
    }
    this.#end ??= error
    this.#schedule()
  }

  read(reader: BodyReader) {
    this.#reader = reader
    this.#schedule()
  }

  pause() {
    if (this.#paused) return
    this.#paused = true
    if (this.#end === undefined) this.#controller?.pause()
  }

  resume() {
    if (!this.#paused) return
    this.#paused = false
    // undici reads on at once, and may call onResponseData from within resume().
    if (this.#end === undefined) this.#controller?.resume()
    this.#schedule()
  }

  destroy(error?: Error) {
    if (this.#done) return
    const reader = this.#reader
    this.#finish()
    // Past the end, the connection is undici's again (kept alive): nothing to abort.
    if (this.#end === undefined) this.#controller?.abort(error ?? new Error(ABORTED))
    if (error) reader?.onEnd(error)
  }
}
