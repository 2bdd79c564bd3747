import type { Writable } from 'node:stream'

/**
 * Resolves once everything written to `stream` is out, or the stream is gone. Waiting for
 * 'drain' is not enough: it comes only after the buffer went over its high-water mark, so a last
 * short line held by a full pipe left nothing to wait for, and Node exited with 13 ("unsettled
 * top-level await") instead of the probe's code.
 */
export function written(stream: Writable): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    // A write's callback runs once it, and so every write before it, is out (or has failed).
    stream.write('', () => resolve())
    stream.once('close', resolve)
  })
}
