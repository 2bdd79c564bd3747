import { pipeline, type Readable } from 'node:stream'
import { discardBody } from './connection.ts'
import { createDecompressor } from './decompress.ts'
import { describeError } from './errors.ts'

export interface BodyHandlers {
  /** The bytes as they came off the network (still compressed, if they were). */
  onBytes?(chunk: Uint8Array): void
  /**
   * The body's bytes, decompressed. Returns true (or a promise of true) to stop reading; a
   * promise also holds the next read back, which is how a slow consumer slows the server down.
   */
  onData(chunk: Uint8Array): boolean | Promise<boolean>
}

export interface BodyEnd {
  /** `stopped`: onData asked to stop. */
  cause: 'server-closed' | 'network-error' | 'stopped'
  message?: string
}

/**
 * Reads one response body to its end: the probe's and check's one reader. The body is released
 * whatever happens.
 */
export async function readBody(
  body: Readable,
  contentEncoding: string | undefined,
  handlers: BodyHandlers,
): Promise<BodyEnd> {
  const { onBytes, onData } = handlers
  const decompressor = createDecompressor(contentEncoding)
  if (!decompressor) return readPlainBody(body, handlers)
  try {
    if (onBytes) body.on('data', onBytes)
    for await (const chunk of pipeline(body, decompressor, () => {})) {
      const stop = onData(chunk)
      if (stop === true || (stop !== false && (await stop))) return { cause: 'stopped' }
    }
    return { cause: 'server-closed' }
  } catch (error) {
    return { cause: 'network-error', message: describeError(error) }
  } finally {
    discardBody(body)
  }
}

/**
 * The common case, an uncompressed body, read with 'data' events: an async iterator costs a
 * promise and a generator step per chunk, about a quarter of the CPU per event when `load` holds
 * thousands of streams (27 → 20 µs per event at 2,000 connections).
 */
function readPlainBody(body: Readable, { onBytes, onData }: BodyHandlers): Promise<BodyEnd> {
  return new Promise((resolve) => {
    let ended = false
    const finish = (end: BodyEnd) => {
      if (ended) return
      ended = true
      body.off('data', onChunk)
      discardBody(body)
      resolve(end)
    }
    const failed = (error: unknown) =>
      finish({ cause: 'network-error', message: describeError(error) })
    function onChunk(chunk: Uint8Array) {
      onBytes?.(chunk)
      const stop = onData(chunk)
      if (stop === true) return finish({ cause: 'stopped' })
      if (stop === false) return
      // A backed-up consumer: no more reads (TCP holds the server back) until it has caught up.
      body.pause()
      stop.then((stopped) => (stopped ? finish({ cause: 'stopped' }) : body.resume()), failed)
    }
    body.on('data', onChunk)
    body.once('end', () => finish({ cause: 'server-closed' }))
    body.once('error', failed)
    // Destroyed without an error: what the async iterator reported as a premature close.
    body.once('close', () => failed(new Error('Premature close')))
  })
}
