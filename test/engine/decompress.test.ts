import { randomBytes } from 'node:crypto'
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
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

  it('ends at the end of the compressed data, whatever comes after it', async () => {
    for (const bytes of [deflateSync(text), deflateRawSync(text)]) {
      const after = Buffer.concat([bytes, Buffer.from('\nmore')])
      expect(await decode('deflate', after)).toBe(text)
      expect(await decode('deflate', after, 1)).toBe(text)
    }
  })

  it('a body of one byte is cut short, as zlib says of any cut stream', async () => {
    await expect(decode('deflate', Buffer.of(0x78))).rejects.toMatchObject({ code: 'Z_BUF_ERROR' })
  })
})

describe('gzip: the first member, as Chromium reads it', () => {
  const text = `data: ${randomBytes(500).toString('hex')}\n\n`
  const member = gzipSync(text)

  it.each([
    ['a newline', Buffer.from('\n')],
    ['garbage', Buffer.from('<!-- served by X -->')],
    ['zeros', Buffer.alloc(16)],
    ['another member', gzipSync('data: second\n\n')],
  ])('ignores %s after it, also when the bytes come one at a time', async (_, after) => {
    const bytes = Buffer.concat([member, after])
    expect(await decode('gzip', bytes)).toBe(text)
    expect(await decode('gzip', bytes, 1)).toBe(text)
  })

  it('reads the optional header fields (extra, name, comment, header CRC)', async () => {
    const deflated = deflateRawSync(text)
    const header = Buffer.concat([
      Buffer.of(0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3),
      Buffer.of(3, 0, 1, 2, 3),
      Buffer.from('name\0comment\0'),
      Buffer.of(0xab, 0xcd),
    ])
    const bytes = Buffer.concat([header, deflated, Buffer.alloc(8)])
    expect(await decode('gzip', bytes)).toBe(text)
    expect(await decode('gzip', bytes, 1)).toBe(text)
  })

  it('a body that is not gzip, or cut short in the header or the data, fails as zlib says', async () => {
    await expect(decode('gzip', Buffer.from('data: a\n\n'))).rejects.toMatchObject({
      code: 'Z_DATA_ERROR',
    })
    for (const cut of [member.subarray(0, 5), member.subarray(0, member.length - 20)])
      await expect(decode('gzip', cut)).rejects.toMatchObject({ code: 'Z_BUF_ERROR' })
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
