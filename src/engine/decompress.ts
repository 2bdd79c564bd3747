import {
  finished,
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
  return new Gunzip()
}

/** Flush every block as it comes, so compressed events are seen when the server sent them. */
function syncFlush() {
  return { flush: zlib().constants.Z_SYNC_FLUSH }
}

/**
 * A decoder that reads the first bytes of a body itself (a format's header), then hands the rest
 * to one of zlib's.
 */
abstract class HeadFirst extends Transform {
  /** The first bytes, while they do not say how to go on. */
  #head: Buffer | undefined
  #inner: Transform | undefined

  /** zlib's decoder for what follows the head, and where that starts; undefined while more bytes are needed. */
  protected abstract start(head: Buffer): { inner: Transform; at: number } | undefined | Error

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#inner) {
      this.#inner.write(chunk, done)
      return
    }
    const head = this.#head ? Buffer.concat([this.#head, chunk]) : chunk
    const started = this.start(head)
    if (started === undefined) this.#head = head
    if (started === undefined || started instanceof Error) {
      done(started)
      return
    }
    this.#head = undefined
    const { inner, at } = started
    // Each write waits for the one before (done), which is what holds a fast server back.
    inner.on('data', (output: Buffer) => this.push(output))
    inner.once('error', (error) => this.destroy(error))
    this.#inner = inner
    inner.write(head.subarray(at), done)
  }

  override _flush(done: TransformCallback): void {
    // A body that ends within its head is cut short: zlib says so as it does of any cut stream.
    const inner = this.#inner ?? zlib().createInflateRaw().resume()
    // zlib ends its output at the end of the compressed data, before it is told to (bytes after
    // it are ignored): waiting for an `end` then would wait for ever.
    finished(inner, (error) => done(error))
    inner.end()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#inner?.destroy()
    done(error)
  }
}

/**
 * `deflate` as browsers and curl take it: zlib-wrapped (RFC 1950) as HTTP says, or the raw deflate
 * (RFC 1951) that many servers send, told apart by the first two bytes as Firefox does (a raw
 * stream cannot start with a valid zlib header: its first block would be a stored one with
 * padding bits set).
 */
class Inflate extends HeadFirst {
  protected start(head: Buffer) {
    if (head.length < 2) return undefined
    const inner = hasZlibHeader(head)
      ? zlib().createInflate(syncFlush())
      : zlib().createInflateRaw(syncFlush())
    return { inner, at: 0 }
  }
}

// RFC 1952's header flags: a header CRC, an extra field, a file name, a comment.
const FHCRC = 2
const FEXTRA = 4
const FNAME = 8
const FCOMMENT = 16
// Past this, a header (its name and comment have no length limit) is no header.
const MAX_GZIP_HEADER = 64 * 1024

/**
 * `gzip` as Chromium reads it (gzip_source_stream.cc): the header, then the deflate data of the
 * first member; its trailer and whatever follows (a newline a script printed after the body,
 * padding, another member) are ignored. zlib's gunzip reads what follows as another member and
 * fails on anything else, so a stream that browsers read whole ended as one cut off.
 */
class Gunzip extends HeadFirst {
  protected start(head: Buffer) {
    const at = gzipHeaderLength(head)
    if (at === undefined || at instanceof Error) return at
    // Raw deflate ignores what comes after its end: the trailer, and the rest.
    return { inner: zlib().createInflateRaw(syncFlush()), at }
  }
}

/** The length of the gzip header these bytes start with; undefined while it is incomplete. */
function gzipHeaderLength(bytes: Buffer): number | undefined | Error {
  const wrong = (what: string) => Object.assign(new Error(what), { code: 'Z_DATA_ERROR' })
  if (bytes.length > MAX_GZIP_HEADER) return wrong('gzip header longer than 64 KiB')
  // ID1, ID2, CM (8: deflate), FLG, then MTIME, XFL and OS.
  if ((bytes.length > 0 && bytes[0] !== 0x1f) || (bytes.length > 1 && bytes[1] !== 0x8b))
    return wrong('incorrect header check')
  if (bytes.length > 2 && bytes[2] !== 8) return wrong('unknown compression method')
  if (bytes.length < 10) return undefined
  const flags = bytes[3]!
  let at = 10
  if (flags & FEXTRA) {
    if (bytes.length < at + 2) return undefined
    at += 2 + bytes.readUInt16LE(at)
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue
    const end = bytes.indexOf(0, at)
    if (end === -1) return undefined
    at = end + 1
  }
  if (flags & FHCRC) at += 2
  return bytes.length < at ? undefined : at
}

/** RFC 1950: compression method 8 (deflate), a window of at most 32 KiB, and the check bits. */
function hasZlibHeader([cmf, flg]: Buffer): boolean {
  return (cmf! & 0x0f) === 8 && cmf! >> 4 <= 7 && ((cmf! << 8) | flg!) % 31 === 0
}
