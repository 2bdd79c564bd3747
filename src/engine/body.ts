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
  try {
    const decompressor = createDecompressor(contentEncoding)
    let chunks: AsyncIterable<Uint8Array> = body
    if (decompressor) {
      if (onBytes) body.on('data', onBytes)
      chunks = pipeline(body, decompressor, () => {})
    }
    for await (const chunk of chunks) {
      if (!decompressor) onBytes?.(chunk)
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
