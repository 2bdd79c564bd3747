import { isAscii } from 'node:buffer'

export interface Utf8Decoder {
  /** The text of the next bytes of the stream; a character split across chunks comes whole with the later one. */
  decode(bytes: Uint8Array): string
  /** What is left at the end of the stream (an incomplete character becomes U+FFFD). */
  end(): string
}

/**
 * A streaming UTF-8 decoder that gives what TextDecoder('utf-8') with `stream: true` gives (one
 * leading BOM dropped, invalid bytes replaced), but copies a chunk of ASCII with nothing pending
 * natively, as Latin-1: TextDecoder's per-call cost was a fifth of the parsing when `load` reads
 * thousands of streams, and SSE is mostly ASCII.
 */
export function createUtf8Decoder(): Utf8Decoder {
  let decoder = new TextDecoder('utf-8')
  // The decoder may hold the first bytes of a character: then every byte goes through it.
  let pending = false
  let started = false
  return {
    decode(bytes) {
      if (!pending && isAscii(bytes)) {
        if (bytes.length === 0) return ''
        // Past the start of the stream a BOM is an ordinary character: the decoder must not drop one.
        if (!started) decoder = new TextDecoder('utf-8', { ignoreBOM: true })
        started = true
        // Chunks come as Buffers: a view of one would cost an object per chunk.
        const buffer = Buffer.isBuffer(bytes)
          ? bytes
          : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
        return buffer.toString('latin1')
      }
      started = true
      // A character left incomplete ends with a byte of 0x80 or more; an ASCII byte completes all.
      pending = bytes.length > 0 ? bytes[bytes.length - 1]! >= 0x80 : pending
      return decoder.decode(bytes, { stream: true })
    },
    end() {
      return pending ? decoder.decode() : ''
    },
  }
}
