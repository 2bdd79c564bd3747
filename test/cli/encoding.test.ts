import { once } from 'node:events'
import type { OutgoingHttpHeaders } from 'node:http'
import {
  brotliCompressSync,
  createBrotliCompress,
  createDeflate,
  createGzip,
  deflateRawSync,
  deflateSync,
  gzipSync,
} from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }
const STREAM = 'id: 1\ndata: one\n\nevent: end\ndata: two\n\n'
/** A server answering every request with these headers and body bytes. */
function serve(headers: OutgoingHttpHeaders, body: Uint8Array | string) {
  return startServer((_req, res) => {
    res.writeHead(200, { ...SSE, ...headers })
    res.end(body)
  })
}

/** An event, flushed, then the first bytes of a second one: a compressed stream cut in its middle. */
async function cutCompressed(encoding: string): Promise<Buffer> {
  const compressor =
    encoding === 'gzip'
      ? createGzip()
      : encoding === 'br'
        ? createBrotliCompress()
        : createDeflate()
  const chunks: Buffer[] = []
  compressor.on('data', (chunk: Buffer) => chunks.push(chunk))
  compressor.write('retry: 10\ndata: one\n\n')
  await new Promise<void>((resolve) => compressor.flush(() => resolve()))
  const flushed = Buffer.concat(chunks).length
  compressor.end(`data: ${'x'.repeat(1000)}\n\n`)
  await once(compressor, 'end')
  return Buffer.concat(chunks).subarray(0, flushed + 4)
}

const probe = (url: string, ...args: string[]) =>
  runCli([url, '--json', '-H', 'Accept-Encoding: gzip, deflate, br', ...args])

describe('Content-Encoding, decoded as browsers do', () => {
  it.each([
    ['deflate, zlib-wrapped', 'deflate', deflateSync(STREAM)],
    ['deflate, raw (no zlib header)', 'deflate', deflateRawSync(STREAM)],
    ['a list: the last coding is undone first', 'deflate, gzip', gzipSync(deflateSync(STREAM))],
    ['identity in a list', 'gzip, identity', gzipSync(STREAM)],
    ['identity alone', 'identity', STREAM],
    ['a coding that is no compression, read as it is (as Chromium)', 'UTF-8', STREAM],
    ['any case and spacing', ' GZip ,Br', brotliCompressSync(gzipSync(STREAM))],
  ])('%s', async (_name, encoding, body) => {
    const server = await serve({ 'content-encoding': encoding }, body)
    const run = await probe(server.url)
    expect(run.stderr).toBe('')
    expect(run.ofType('event').map((e) => e.data)).toEqual(['one', 'two'])
    expect(run.summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
  })

  it('a coding it cannot decode is refused: one clear error, exit 3, no garbage as events', async () => {
    const server = await serve({ 'content-encoding': 'gzip, zstd' }, gzipSync(STREAM))
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stdout).not.toContain('one')
    const why =
      'HTTP 200 OK with Content-Encoding gzip, zstd: sse-probe decodes gzip, deflate and br, not zstd'
    expect(run.stderr).toContain(`✗ ${why}\n`)
    expect(run.stderr).toContain(`── summary  not-event-stream: ${why}  exit 3`)
    expect(server.requests).toHaveLength(1)
  })

  it('a Content-Encoding of more codings than curl undoes is refused, not decoded layer by layer', async () => {
    const server = await serve({ 'content-encoding': Array(6).fill('gzip').join(', ') }, STREAM)
    const run = await probe(server.url)
    expect(run.exitCode).toBe(3)
    expect(run.summary).toMatchObject({
      reason: 'not-event-stream',
      message: 'HTTP 200 OK with a Content-Encoding of 6 codings: sse-probe undoes at most 5',
    })
  })

  it.each(['gzip', 'br', 'deflate'])(
    'a %s body cut in its middle is a broken stream, not a clean close',
    async (encoding) => {
      // The HTTP body ends cleanly (Content-Length is met): only the compressed stream is cut.
      const server = await serve({ 'content-encoding': encoding }, await cutCompressed(encoding))
      // on-error reconnects after a broken stream only.
      const run = await probe(server.url, '--reconnect', 'on-error', '-n', '2')
      expect(run.ofType('close')[0]).toMatchObject({
        cause: 'network-error',
        message: `the compressed body (${encoding}) was cut off: the connection ended in the middle of it`,
      })
      expect(run.ofType('event').map((e) => e.data)).toEqual(['one', 'one'])
      expect(run.summary).toMatchObject({ reason: 'max-events', exitCode: 0 })
    },
  )

  it('a corrupt compressed body is a broken stream that says why', async () => {
    const server = await serve({ 'content-encoding': 'gzip' }, 'data: not gzip\n\n')
    const run = await probe(server.url, '--max-reconnects', '0')
    expect(run.ofType('close')[0]).toMatchObject({
      cause: 'network-error',
      message: 'the compressed body (gzip) could not be decoded: incorrect header check',
    })
    expect(run.exitCode).toBe(3)
  })

  it.each([
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
    ['deflate', deflateSync],
  ] as const)(
    'a %s stream that breaks right after a large read: every event that arrived is read, then the break',
    async (encoding, compress) => {
      // Decoding takes a while: the break comes before the decoder has put it all out.
      const events = `${'data: x\n\n'.repeat(50_000)}data: last\n\n`
      const server = await startServer((_req, res) => {
        res.writeHead(200, { ...SSE, 'content-encoding': encoding })
        res.write(compress(events), () => res.destroy())
      })
      const run = await probe(server.url, '--no-reconnect')
      expect(run.ofType('close')).toMatchObject([{ cause: 'network-error' }])
      expect(run.summary.events).toBe(50_001)
      expect(run.ofType('event').at(-1)!.data).toBe('last')
    },
  )

  it('an empty compressed body is a clean close: there was no stream to cut', async () => {
    const server = await serve({ 'content-encoding': 'gzip' }, '')
    const run = await probe(server.url, '--reconnect', 'on-error')
    expect(run.ofType('close')).toEqual([expect.objectContaining({ cause: 'server-closed' })])
    expect(run.summary).toMatchObject({ reason: 'server-closed', exitCode: 0 })
  })
})

describe('response headers larger than the probe reads', () => {
  const bigHeaders = () =>
    startServer((_req, res) => {
      res.writeHead(200, { ...SSE, 'x-padding': 'p'.repeat(20 * 1024) })
      res.end(STREAM)
    })
  const message = 'the response headers are larger than 16 KiB, more than sse-probe reads'

  it('probe: one line in its own words, exit 3', async () => {
    const server = await bigHeaders()
    const run = await runCli([server.url, '--no-color'])
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain(`✗ ${message}\n`)
    expect(run.stderr).toContain(`connect-failed: ${message}`)
  })

  it('check: the same words', async () => {
    const server = await bigHeaders()
    const run = await runCli(['check', server.url, '--no-color'])
    expect(run.exitCode).not.toBe(70)
    expect(run.stdout + run.stderr).toContain(message)
    expect(run.stdout + run.stderr).not.toContain('Headers Overflow')
  })
})
