import {
  pipeline,
  type Readable,
  Transform,
  type TransformCallback,
  type Writable,
} from 'node:stream'

// node:zlib loads only for a compressed body: most streams are not, and every probe's start-up
// would pay for it.
const zlib = () => process.getBuiltinModule('node:zlib')

const DECODABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br'])
// Compressions the probe cannot undo: a body in one is refused rather than parsed as text.
const UNDECODABLE = new Set(['zstd', 'compress', 'x-compress', 'dcb', 'dcz'])

/**
 * A response's Content-Encoding as the compressions to undo, in the order the server applied
 * them, lower-cased. Anything else (`identity`, a server's misconfigured `utf-8`) is no coding
 * at all: Chromium reads such a body as it is, and so does the probe.
 */
export function contentCodings(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => DECODABLE.has(coding) || UNDECODABLE.has(coding))
}

// As curl (CVE-2022-32206): each coding costs a decoder, and a hostile server could list thousands.
const MAX_CODINGS = 5

/** Why a body in this Content-Encoding cannot be read, when the probe cannot undo it. */
export function undecodable(header: string | undefined): string | undefined {
  const codings = contentCodings(header)
  if (codings.length > MAX_CODINGS)
    return `a Content-Encoding of ${codings.length} codings: sse-probe undoes at most ${MAX_CODINGS}`
  const coding = codings.find((coding) => UNDECODABLE.has(coding))
  if (coding === undefined) return undefined
  return `Content-Encoding ${header}: sse-probe decodes gzip, deflate and br, not ${coding}`
}

/** A compressed body goes in at `input`, and comes out decoded at `output`. */
export interface Decoder {
  input: Writable
  output: Readable
}

/**
 * A decoder for a response's Content-Encoding (all its codings decodable), or undefined when the
 * body is not compressed. The last coding applied is undone first. Ending a stream that is cut
 * short fails with zlib's Z_BUF_ERROR ("unexpected end of file").
 */
export function createDecoder(header: string | undefined): Decoder | undefined {
  const decoders = contentCodings(header).reverse().map(decoderFor)
  if (decoders.length === 0) return undefined
  // pipeline destroys every decoder with the error of any, so the last one reports it.
  if (decoders.length > 1) pipeline(decoders, () => {})
  return { input: decoders[0]!, output: decoders.at(-1)! }
}

function decoderFor(coding: string): Transform {
  if (coding === 'deflate') return new Inflate()
  if (coding === 'br') {
    const flush = zlib().constants.BROTLI_OPERATION_FLUSH
    return zlib().createBrotliDecompress({ flush })
  }
  return zlib().createGunzip(syncFlush())
}

/** Flush every block as it comes, so compressed events are seen when the server sent them. */
function syncFlush() {
  return { flush: zlib().constants.Z_SYNC_FLUSH }
}

/**
 * `deflate` as browsers and curl take it: zlib-wrapped (RFC 1950) as HTTP says, or the raw deflate
 * (RFC 1951) that many servers send, told apart by the first two bytes as Firefox does (a raw
 * stream cannot start with a valid zlib header: its first block would be a stored one with
 * padding bits set).
 */
class Inflate extends Transform {
  /** The first byte, while the second has not come. */
  #head: Buffer | undefined
  #inner: Transform | undefined

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#inner) {
      this.#inner.write(chunk, done)
      return
    }
    const head = this.#head ? Buffer.concat([this.#head, chunk]) : chunk
    if (head.length < 2) {
      this.#head = head
      done()
      return
    }
    this.#head = undefined
    const inner = hasZlibHeader(head)
      ? zlib().createInflate(syncFlush())
      : zlib().createInflateRaw(syncFlush())
    // Each write waits for the one before (done), which is what holds a fast server back.
    inner.on('data', (output: Buffer) => this.push(output))
    inner.once('error', (error) => this.destroy(error))
    this.#inner = inner
    inner.write(head, done)
  }

  override _flush(done: TransformCallback): void {
    // Fewer than two bytes is no complete stream: zlib says so as it does for any cut stream.
    const inner = this.#inner ?? zlib().createInflateRaw().resume()
    inner.once('end', () => done())
    inner.once('error', done)
    inner.end(this.#head)
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#inner?.destroy()
    done(error)
  }
}

/** RFC 1950: compression method 8 (deflate), a window of at most 32 KiB, and the check bits. */
function hasZlibHeader([cmf, flg]: Buffer): boolean {
  return (cmf! & 0x0f) === 8 && cmf! >> 4 <= 7 && ((cmf! << 8) | flg!) % 31 === 0
}
