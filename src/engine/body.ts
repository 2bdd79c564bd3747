import { contentCodings, createDecoder, type Decoder } from './decompress.ts'
import type { Body } from './dispatch.ts'
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
 * whatever happens. An error thrown by a handler rejects: it is a bug (or an extension's own
 * error), which no close cause may disguise.
 */
export function readBody(
  body: Body,
  contentEncoding: string | undefined,
  handlers: BodyHandlers,
): Promise<BodyEnd> {
  const decoder = createDecoder(contentEncoding)
  return decoder
    ? readCompressed(body, decoder, contentEncoding!, handlers)
    : readPlain(body, handlers)
}

const networkError = (error: unknown): BodyEnd => ({
  cause: 'network-error',
  message: describeError(error, undefined, true),
})

/** The common case, with a callback per network read and no promise unless the consumer is backed up. */
function readPlain(body: Body, { onBytes, onData }: BodyHandlers): Promise<BodyEnd> {
  return new Promise((resolve, reject) => {
    let ended = false
    const finish = (end: BodyEnd | { bug: unknown }) => {
      if (ended) return
      ended = true
      body.destroy()
      if ('bug' in end) reject(end.bug)
      else resolve(end)
    }
    const failed = (bug: unknown) => finish({ bug })
    body.read({
      onData(chunk) {
        let stop: boolean | Promise<boolean>
        try {
          onBytes?.(chunk)
          stop = onData(chunk)
        } catch (error) {
          return failed(error)
        }
        if (stop === true) return finish({ cause: 'stopped' })
        if (stop === false) return
        // A backed-up consumer: no more reads (TCP holds the server back) until it has caught up.
        body.pause()
        stop.then((stopped) => (stopped ? finish({ cause: 'stopped' }) : body.resume()), failed)
      },
      onEnd: (error) => finish(error ? networkError(error) : { cause: 'server-closed' }),
    })
  })
}

/**
 * A compressed body goes through zlib's stream, and is read from it as before. A body that ends
 * cleanly in the middle of its compressed stream was cut (a proxy, a crashed server's close): the
 * stream broke, as cli.md has a body closed in its middle.
 */
async function readCompressed(
  body: Body,
  { input, output }: Decoder,
  contentEncoding: string,
  { onBytes, onData }: BodyHandlers,
): Promise<BodyEnd> {
  let received = false
  let broken: Error | undefined
  body.read({
    onData(chunk) {
      received = true
      onBytes?.(chunk)
      if (input.write(chunk)) return
      body.pause()
      input.once('drain', () => body.resume())
    },
    onEnd(error) {
      // What arrived before a break is still decoded and read, as a browser reads it: destroying
      // the decoder dropped the events it had not put out yet (all of a large read's).
      broken = error
      input.end()
    },
  })
  let handling = false
  try {
    for await (const chunk of output) {
      handling = true
      const stop = onData(chunk)
      if (stop === true || (stop !== false && (await stop))) return { cause: 'stopped' }
      handling = false
    }
    return broken ? networkError(broken) : { cause: 'server-closed' }
  } catch (error) {
    if (handling) throw error
    // The break, not what it did to the compressed data (cut it short).
    if (broken) return networkError(broken)
    // No byte at all was no stream to cut: an empty body, as an uncompressed one may be.
    if (!received) return { cause: 'server-closed' }
    return { cause: 'network-error', message: decodingProblem(error, contentEncoding) }
  } finally {
    body.destroy()
    input.destroy()
    output.destroy()
  }
}

/** Why a compressed body that arrived whole could not be decoded, in words. */
function decodingProblem(error: unknown, contentEncoding: string): string {
  const codings = contentCodings(contentEncoding).join(', ')
  // zlib's "unexpected end of file": the input ended before the compressed stream did.
  if ((error as { code?: string }).code === 'Z_BUF_ERROR')
    return `the compressed body (${codings}) was cut off: the connection ended in the middle of it`
  return `the compressed body (${codings}) could not be decoded: ${describeError(error)}`
}
