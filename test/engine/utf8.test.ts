import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createUtf8Decoder } from '../../src/engine/utf8.ts'

const BOM = [0xef, 0xbb, 0xbf]
// ASCII, BOMs, multi-byte characters whole and cut, and bytes that are never valid UTF-8.
const piece = fc.oneof(
  fc.uint8Array({ maxLength: 8 }).map((bytes) => bytes.map((byte) => byte & 0x7f)),
  fc.constant(Uint8Array.from(BOM)),
  fc.string({ unit: 'grapheme', maxLength: 4 }).map((text) => new TextEncoder().encode(text)),
  fc.uint8Array({ minLength: 1, maxLength: 3 }).map((bytes) => bytes.map((byte) => byte | 0x80)),
)

describe('the UTF-8 decoder of the event stream', () => {
  it('gives what TextDecoder gives, however the bytes are cut into chunks, Buffers or not', () => {
    fc.assert(
      fc.property(fc.array(fc.array(piece, { maxLength: 4 }), { maxLength: 8 }), (chunks) => {
        const reference = new TextDecoder('utf-8')
        const decoder = createUtf8Decoder()
        let expected = ''
        let actual = ''
        for (const [i, pieces] of chunks.entries()) {
          const chunk = Uint8Array.from(pieces.flatMap((p) => [...p]))
          expected += reference.decode(chunk, { stream: true })
          // As the network gives them, every other chunk: a Buffer, most often a view into a pool.
          actual += decoder.decode(i % 2 ? Buffer.from(chunk) : chunk)
        }
        expect(actual + decoder.end()).toBe(expected + reference.decode())
      }),
      { numRuns: 2000 },
    )
  })

  it('drops a BOM at the start only, even after an ASCII chunk or an empty one', () => {
    const decoder = createUtf8Decoder()
    expect(decoder.decode(new Uint8Array())).toBe('')
    expect(decoder.decode(Uint8Array.from([...BOM, 0x61]))).toBe('a')
    expect(decoder.decode(Uint8Array.from([...BOM, 0x62]))).toBe('\uFEFFb')
    const afterAscii = createUtf8Decoder()
    expect(afterAscii.decode(Uint8Array.of(0x61)) + afterAscii.decode(Uint8Array.from(BOM))).toBe(
      'a\uFEFF',
    )
  })
})
