import { randomBytes } from 'node:crypto'
import { deflateRawSync, deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { contentCodings, createDecoder, undecodable } from '../../src/engine/decompress.ts'

/** Writes the bytes into a decoder, `pieceSize` at a time, and resolves with what came out. */
async function decode(encoding: string, bytes: Buffer, pieceSize = bytes.length): Promise<string> {
  const { input, output } = createDecoder(encoding)!
  const chunks: Buffer[] = []
  const read = (async () => {
    for await (const chunk of output) chunks.push(chunk)
  })()
  for (let i = 0; i < bytes.length; i += pieceSize) input.write(bytes.subarray(i, i + pieceSize))
  input.end()
  await read
  return Buffer.concat(chunks).toString()
}

describe('deflate: zlib-wrapped or raw, told apart by the first two bytes', () => {
  const text = `data: ${randomBytes(2000).toString('hex')}\n\n`

  it.each([0, 1, 6, 9])('at level %i, also when the bytes come one at a time', async (level) => {
    for (const bytes of [deflateSync(text, { level }), deflateRawSync(text, { level })]) {
      expect(await decode('deflate', bytes)).toBe(text)
      expect(await decode('deflate', bytes, 1)).toBe(text)
    }
  })

  it('a body of one byte is cut short, as zlib says of any cut stream', async () => {
    await expect(decode('deflate', Buffer.of(0x78))).rejects.toMatchObject({ code: 'Z_BUF_ERROR' })
  })
})

describe('Content-Encoding lists', () => {
  it('reads the codings in order, lower-cased, without identity or empty items', () => {
    expect(contentCodings(' Deflate,, identity ,GZIP ')).toEqual(['deflate', 'gzip'])
    expect(contentCodings('identity')).toEqual([])
    // As Chromium: a coding that is no compression (a misconfigured charset) leaves the body as it is.
    expect(contentCodings('utf-8')).toEqual([])
    expect(contentCodings('gzip, zstd')).toEqual(['gzip', 'zstd'])
    expect(contentCodings(undefined)).toEqual([])
    expect(createDecoder('identity')).toBeUndefined()
  })

  it('says why a coding cannot be undone, or undefined when all can', () => {
    expect(undecodable('x-gzip, br, deflate')).toBeUndefined()
    expect(undecodable('gzip, compress')).toBe(
      'Content-Encoding gzip, compress: sse-probe decodes gzip, deflate and br, not compress',
    )
  })
})
