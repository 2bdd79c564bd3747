// node:zlib loads only for a compressed body: most streams are not, and every probe's start-up
// would pay for it.
const zlib = () => process.getBuiltinModule('node:zlib')

/** A decompressor for a response's Content-Encoding, or undefined when the body is not compressed. */
export function createDecompressor(encoding: string | undefined) {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib().createGunzip(syncFlush())
    case 'deflate':
      return zlib().createInflate(syncFlush())
    case 'br': {
      const flush = zlib().constants.BROTLI_OPERATION_FLUSH
      return zlib().createBrotliDecompress({ flush, finishFlush: flush })
    }
    default:
      return undefined
  }
}

/** Flush every block as it comes, so compressed events are seen when the server sent them. */
function syncFlush() {
  const flush = zlib().constants.Z_SYNC_FLUSH
  return { flush, finishFlush: flush }
}
