import { createBrotliDecompress, createGunzip, createInflate, constants as zlib } from 'node:zlib'

/** A decompressor for a response's Content-Encoding, or undefined when the body is not compressed. */
export function createDecompressor(encoding: string | undefined) {
  // Flush every block as it comes, so compressed events are seen when the server sent them.
  const flush = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH }
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip(flush)
    case 'deflate':
      return createInflate(flush)
    case 'br':
      return createBrotliDecompress({
        flush: zlib.BROTLI_OPERATION_FLUSH,
        finishFlush: zlib.BROTLI_OPERATION_FLUSH,
      })
    default:
      return undefined
  }
}
