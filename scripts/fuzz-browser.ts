/**
 * Differential fuzzer of the SSE parser against a real browser. Random event-stream bytes (seeded)
 * are served from node:http in random write chunks to Chromium's EventSource and to the sse-probe
 * CLI (`--json --no-reconnect`); both are also checked against a reference parser written from the
 * WHATWG spec (which also pins the probe's comments, retries and `id`). Each divergence is shrunk
 * to a small stream and printed with what each side saw.
 *
 * Some streams are served compressed (gzip, zlib or raw deflate, br; flushed at each write, the
 * probe asking with Accept-Encoding as the browser does), and a share (--reconnects) is cut into
 * several connections, each closed or broken, then a 204: the events, their lastEventId and the
 * Last-Event-ID of every reconnect are compared across them (those are not shrunk).
 *
 *   npm run build && node scripts/fuzz-browser.ts [--seed 1] [--streams 1000] [--minutes 40] [--jobs 3] [--reconnects 0.3]
 *
 * Exit 1 if any divergence was found. A script, not a test: a run takes minutes.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import type { Gzip } from 'node:zlib'
import { createBrotliCompress, createDeflate, createDeflateRaw, createGzip } from 'node:zlib'
import type { Page } from 'playwright-core'
import { chromiumInstalled, launchChromium } from '../test/helpers/browser.ts'
import { NOT_STRINGIFIED, runCli } from './fuzz-cli.ts'
import { int, pick, type Rng, rng } from './fuzz-random.ts'

// ---------------------------------------------------------------- generation

const utf8 = (s: string) => [...Buffer.from(s)]

/** Pieces of field values: ASCII, multi-byte characters, and bytes that are not UTF-8. */
const ATOMS: number[][] = [
  ...['a', 'b', 'z', ' ', '  ', ':', ': ', '\t', 'data: x', '0', '9', '\0', '\uFEFF', '\u2028'].map(
    utf8,
  ),
  ...['\u00E9', '\u20AC', '\u{1F600}', '\u0800', '\uFFFD', '\uD7FF', '\u{10FFFF}'].map(utf8),
  [0xff],
  [0x80],
  [0xbf, 0x80],
  [0xc3], // a lead byte without its continuation
  [0xe2, 0x82], // 2 of 3
  [0xf0, 0x9f, 0x98], // 3 of 4
  [0xed, 0xa0, 0x80], // a surrogate
  [0xc0, 0xaf], // overlong
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xef, 0xbb, 0xbf], // a BOM inside a line
  [0xf8, 0x88, 0x80, 0x80, 0x80],
]

function value(r: Rng, max = 10): number[] {
  const out: number[] = []
  for (let n = int(r, 0, max); n > 0; n--) out.push(...pick(r, ATOMS))
  return out
}

function asciiRun(r: Rng, length: number): string {
  let s = ''
  while (s.length < length) s += String.fromCharCode(int(r, 0x21, 0x7e))
  return s.slice(0, length)
}

const TYPES = ['message', 'tick', 'error', 'open', 'a b', '\u00E9', 'end', 'x:y', ' t', 'T']
const RETRIES = [
  '0',
  '7',
  '007',
  '1000',
  '12a',
  ' 5',
  '-1',
  '1.5',
  '',
  '+3',
  '1e3',
  '99999999999',
].concat(['0000', ' ', '\t5', '5 ', '\u0665', '5\0', '\uFF15', '18446744073709551616'])
/**
 * With reconnects the browser waits each retry out: none longer than a few ms. Neither an empty
 * one nor one past 64 bits, which Chromium takes its own way (browser.test.ts pins both).
 */
const FAST_RETRIES = ['0', '3', '007', '12a', ' 5', '-1', '1.5', '+3', '1e3', '\u0665', '5 ', 'x']
const UNKNOWN = ['foo', 'Data', 'dat', 'datas', ' data', 'DATA', 'even', 'eventt', 'ids', 'retr']
const UNKNOWN_MORE = ['retryy', '\uFEFFdata', 'i d', 'da\u00E9ta', 'Event', 'ID']

interface Gen {
  r: Rng
  distinct: number
  /** Served over several connections: retries kept short. */
  fast?: boolean
}

/** One line's bytes, without its end. */
function line(g: Gen): number[] {
  const { r } = g
  const sep = () => utf8(r() < 0.7 ? ': ' : ':')
  const k = r()
  if (k < 0.3) return [...utf8('data'), ...sep(), ...value(r)]
  if (k < 0.34) return utf8('data')
  if (k < 0.5) {
    const t = r()
    const type =
      t < 0.5
        ? utf8(pick(r, TYPES))
        : t < 0.6
          ? []
          : t < 0.75
            ? utf8(asciiRun(r, int(r, 250, 300)))
            : t < 0.85
              ? utf8(`type-${g.distinct++}`)
              : value(r, 4)
    return [...utf8('event'), ...sep(), ...type]
  }
  if (k < 0.52) return utf8('event')
  if (k < 0.62)
    return [...utf8('id'), ...sep(), ...(r() < 0.5 ? utf8(`${int(r, 0, 99)}`) : value(r))]
  if (k < 0.64) return utf8('id')
  if (k < 0.71)
    return [...utf8('retry'), ...sep(), ...utf8(pick(r, g.fast ? FAST_RETRIES : RETRIES))]
  if (k < 0.82) return [...utf8(':'), ...value(r)]
  if (k < 0.9) return [...utf8(pick(r, r() < 0.7 ? UNKNOWN : UNKNOWN_MORE)), ...sep(), ...value(r)]
  if (k < 0.93) return utf8(pick(r, g.fast ? ['foo', ':', '', 'id'] : ['retry', 'foo', ':', '']))
  if (k < 0.96) {
    // A long line: a large event, or one line that spans many chunks.
    const n = int(r, 2_000, r() < 0.2 ? 300_000 : 20_000)
    return [...utf8('data: '), ...utf8(asciiRun(r, n)), ...value(r, 3)]
  }
  return value(r, 6)
}

const ENDS: Record<string, number[]> = { lf: [10], cr: [13], crlf: [13, 10] }

/** A stream as pieces of bytes: lines and blank lines, each with its line end. */
function generate(seed: number, fast = false): number[][] {
  const r = rng(seed)
  const g: Gen = { r, distinct: 0, fast }
  const mode = pick(r, ['lf', 'lf', 'cr', 'crlf', 'mixed'])
  const end = () => ENDS[mode === 'mixed' ? pick(r, ['lf', 'cr', 'crlf']) : mode]!
  const pieces: number[][] = []
  const b = r()
  if (b < 0.2) pieces.push([0xef, 0xbb, 0xbf])
  else if (b < 0.27) pieces.push([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf])
  else if (b < 0.3) pieces.push([0xef, 0xbb])
  if (r() < 0.06) {
    // Many distinct types: more than the engine's table keeps.
    for (let i = int(r, 260, 340); i > 0; i--) {
      const type = r() < 0.1 ? asciiRun(r, int(r, 250, 300)) : `t${i}-${int(r, 0, 9)}`
      pieces.push([...utf8(`event: ${type}`), ...end()], [...utf8(`data: ${i}`), ...end()], end())
    }
  }
  for (let blocks = int(r, 1, 12); blocks > 0; blocks--) {
    for (let n = int(r, 0, 5); n > 0; n--) pieces.push([...line(g), ...end()])
    if (r() < 0.85) pieces.push(end())
  }
  const tail = r()
  if (tail < 0.15) pieces.push(line(g))
  else if (tail < 0.25) pieces.push([...line(g), 13])
  return pieces
}

/** Pieces regrouped into the chunks the server writes, cut at random places (also inside characters). */
interface Chunked {
  chunks: number[][]
  delays: number[]
  /** Served compressed, flushed at each write. */
  encoding?: Encoding
}

const ENCODINGS = ['gzip', 'deflate', 'deflate-raw', 'br'] as const
type Encoding = (typeof ENCODINGS)[number]

function chunk(pieces: number[][], seed: number): Chunked {
  const r = rng(seed ^ 0x5eed)
  const bytes = pieces.flat()
  const cuts = new Set<number>()
  const wanted = int(r, 0, Math.min(40, bytes.length - 1))
  for (let i = 0; i < wanted * 4 && cuts.size < wanted; i++) {
    const at = int(r, 1, bytes.length - 1)
    const k = r()
    // Prefer cuts just after a CR, and inside a multi-byte sequence.
    if (k < 0.3 && bytes[at - 1] !== 13) continue
    if (k >= 0.3 && k < 0.6 && (bytes[at]! & 0xc0) !== 0x80) continue
    cuts.add(at)
  }
  const sorted = [...cuts].sort((x, y) => x - y)
  const chunks: number[][] = []
  let from = 0
  for (const at of [...sorted, bytes.length]) {
    chunks.push(bytes.slice(from, at))
    from = at
  }
  const delays = chunks.map(() => pick(r, [0, 1, 2, 5]))
  return r() < 0.2 ? { chunks, delays, encoding: pick(r, ENCODINGS) } : { chunks, delays }
}

/** A stream over several connections: how each ends (a clean close, or a break), then a 204. */
interface Connections {
  connections: (Chunked & { then: 'end' | 'destroy' })[]
}

function connections(seed: number): Connections {
  const r = rng(seed ^ 0xc0ffee)
  const bytes = generate(seed, true).flat()
  const cuts = new Set<number>()
  for (let n = int(r, 1, 3); n > 0; n--) cuts.add(int(r, 0, bytes.length))
  const all: Connections['connections'] = []
  let from = 0
  for (const at of [...[...cuts].sort((x, y) => x - y), bytes.length]) {
    // Each connection says how long to wait before the next (a leading BOM, now and then).
    const start = [...(r() < 0.3 ? [0xef, 0xbb, 0xbf] : []), ...utf8('retry: 1\n')]
    const own = chunk([start, bytes.slice(from, at)], seed + all.length)
    all.push({ ...own, then: r() < 0.7 ? 'end' : 'destroy' })
    from = at
  }
  return { connections: all }
}

// ---------------------------------------------------------------- the spec's parser

interface Seen {
  events: [type: string, data: string, lastEventId: string][]
  /** The probe and the reference only: */
  ids?: (string | null)[]
  comments?: string[]
  retries?: number[]
}

/**
 * The WHATWG "interpreting an event stream" rules, over the whole body at once. With `chromium`,
 * also Chromium's one known departure from them: the byte right after a leading BOM is never a
 * line end (event_source_parser.cc `continue`s past it), so "BOM LF data: a" is one line, an
 * unknown field "\ndata".
 */
function reference(
  bytes: Uint8Array,
  chromium = false,
  /** The last event ID string the connection starts with. */
  lastEventId = '',
): Seen & { lastEventId: string } {
  const text = new TextDecoder('utf-8').decode(bytes)
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  let from = chromium && bom ? 1 : 0
  const seen: Required<Seen> = { events: [], ids: [], comments: [], retries: [] }
  let data = ''
  let type = ''
  let idBuffer = lastEventId
  // [spec] the event source's last event ID string: the buffer as the last blank line left it.
  let idString = lastEventId
  let blockId: string | null = null
  let i = 0
  for (;;) {
    const cr = text.indexOf('\r', from)
    const lf = text.indexOf('\n', from)
    const lineEnd = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
    // At the end of the stream an incomplete line and an incomplete event are discarded.
    if (lineEnd === -1) break
    const line = text.slice(i, lineEnd)
    i = from = lineEnd + (text[lineEnd] === '\r' && text[lineEnd + 1] === '\n' ? 2 : 1)
    if (line === '') {
      idString = idBuffer
      if (data !== '') {
        seen.events.push([type || 'message', data.slice(0, -1), idBuffer])
        seen.ids.push(blockId)
      }
      data = ''
      type = ''
      blockId = null
      continue
    }
    if (line[0] === ':') {
      seen.comments.push(line.slice(1))
      continue
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let val = colon === -1 ? '' : line.slice(colon + 1)
    if (val[0] === ' ') val = val.slice(1)
    if (field === 'event') type = val
    else if (field === 'data') data += `${val}\n`
    else if (field === 'id' && !val.includes('\0')) idBuffer = blockId = val
    else if (field === 'retry' && /^[0-9]+$/.test(val)) seen.retries.push(Number(val))
  }
  return { ...seen, lastEventId: idString }
}

// ---------------------------------------------------------------- the server and the clients

const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>fuzz</title>
<script>
// What an EventSource dispatches until its first error (the end of the stream), or with
// \`all\`, until it gives up (a 204 after the reconnects).
window.run = ({ url, types, maxMs, all }) => new Promise((resolve) => {
  const events = []
  const source = new EventSource(url)
  let timer
  const finish = (how) => { source.close(); clearTimeout(timer); resolve({ events, how }) }
  for (const type of new Set(types)) {
    source.addEventListener(type, (e) => {
      if (e instanceof MessageEvent) events.push([e.type, e.data, e.lastEventId])
    })
  }
  source.addEventListener('error', (e) => {
    if (!(e instanceof MessageEvent) && (!all || source.readyState === EventSource.CLOSED)) finish('error')
  })
  timer = setTimeout(() => finish('timeout'), maxMs)
})
</script>`

const streams = new Map<string, Chunked>()
/** Streams over several connections, with the Last-Event-ID of each request, by client. */
const multi = new Map<string, Connections & { requests: Record<string, (string | null)[]> }>()

/** Any of zlib's compressors: each can flush what it holds. */
function compressor(encoding: Encoding): Pick<Gzip, 'write' | 'flush' | 'end' | 'on'> {
  if (encoding === 'gzip') return createGzip()
  if (encoding === 'deflate') return createDeflate()
  if (encoding === 'deflate-raw') return createDeflateRaw()
  return createBrotliCompress()
}

async function serve(res: ServerResponse, stream: Chunked, then: 'end' | 'destroy' = 'end') {
  res.socket?.setNoDelay(true)
  const { encoding } = stream
  const headers = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
  const coding = encoding === 'deflate-raw' ? 'deflate' : encoding
  res.writeHead(200, coding ? { ...headers, 'content-encoding': coding } : headers)
  res.flushHeaders()
  // Each write is flushed through the compressor, so the client can decode it as it comes.
  const zip = encoding && compressor(encoding)
  zip?.on('data', (out: Buffer) => res.destroyed || res.write(out))
  for (const [i, c] of stream.chunks.entries()) {
    if (res.destroyed) return
    if (zip) {
      zip.write(Uint8Array.from(c))
      await new Promise<void>((resolve) => zip.flush(() => resolve()))
    } else res.write(Uint8Array.from(c))
    const delay = stream.delays[i]!
    await new Promise((resolve) => (delay ? setTimeout(resolve, delay) : setImmediate(resolve)))
  }
  if (zip) await new Promise<void>((resolve) => zip.end(() => resolve()))
  await new Promise((resolve) => setTimeout(resolve, 5))
  if (then === 'destroy') res.destroy()
  else res.end()
}

const server = createServer((req, res) => {
  res.shouldKeepAlive = false
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
    return
  }
  const [, kind, key = '', client = ''] = req.url?.split('/') ?? []
  const several = kind === 'm' ? multi.get(key) : undefined
  if (several) {
    const requests = (several.requests[client] ??= [])
    const id = req.headers['last-event-id']
    requests.push(typeof id === 'string' ? Buffer.from(id, 'latin1').toString('utf8') : null)
    const connection = several.connections[requests.length - 1]
    if (!connection) res.writeHead(204).end()
    else void serve(res, connection, connection.then)
    return
  }
  const stream = streams.get(key)
  if (!stream) res.writeHead(404).end()
  else void serve(res, stream)
})

const ACCEPT_ENCODING = ['-H', 'Accept-Encoding: gzip, deflate, br']

async function runProbe(url: string, reconnect = false): Promise<Seen & { how: string }> {
  const args = [url, '--json', '--no-end-event', '--timeout', '60s', ...ACCEPT_ENCODING]
  if (!reconnect) args.push('--no-reconnect')
  const { records, code, stderr, notStringified } = await runCli(args)
  const seen: Required<Seen> & { how: string } = {
    events: [],
    ids: [],
    comments: [],
    retries: [],
    how: `exit ${code}${notStringified ? `; ${NOT_STRINGIFIED}: ${notStringified.slice(0, 300)}` : ''}`,
  }
  for (const record of records) {
    if (record.type === 'event') {
      seen.events.push([record.event, record.data, record.lastEventId])
      seen.ids.push(record.id)
    } else if (record.type === 'error' && reconnect) seen.how += `; error: ${record.message}`
    else if (record.type === 'comment') seen.comments.push(record.text)
    else if (record.type === 'retry') seen.retries.push(record.ms)
    else if (record.type === 'summary') seen.how = `${record.reason}, exit ${code}`
  }
  if (stderr.trim()) seen.how += `; stderr: ${stderr.trim()}`
  return seen
}

let page: Page
let base = ''
let served = 0

interface Outcome {
  browser: Seen & { how: string }
  probe: Seen & { how: string }
  spec: Seen
  /**
   * Which pairs differ: 'probe-browser', 'probe-spec', 'browser-spec'; empty when all agree. The
   * browser is taken to agree with the spec where it does what Chromium's known departure gives.
   */
  differ: string[]
  /** The browser departed from the spec as Chromium is known to (the probe is checked against the spec). */
  quirk: boolean
  /** A side timed out: nothing to conclude. */
  inconclusive: boolean
}

async function run(stream: Chunked): Promise<Outcome> {
  const key = `${served++}`
  streams.set(key, stream)
  const bytes = Uint8Array.from(stream.chunks.flat())
  const { lastEventId: _id, ...spec } = reference(bytes)
  const chromium = reference(bytes, true)
  const types = ['message', ...[...spec.events, ...chromium.events].map((e) => e[0])]
  try {
    const [browser, probe] = await Promise.all([
      page.evaluate(
        `run(${JSON.stringify({ url: `${base}/s/${key}/browser`, types, maxMs: 60_000 })})`,
      ) as Promise<Seen & { how: string }>,
      runProbe(`${base}/s/${key}/probe`),
    ])
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
    const { how: _, ...probeAll } = probe
    const quirk = !same(browser.events, spec.events) && same(browser.events, chromium.events)
    const differ = [
      ...(quirk || same(probe.events, browser.events) ? [] : ['probe-browser']),
      ...(same(probeAll, spec) ? [] : ['probe-spec']),
      ...(quirk || same(browser.events, spec.events) ? [] : ['browser-spec']),
      ...(probe.how.includes(NOT_STRINGIFIED) ? ['probe-json'] : []),
    ]
    const inconclusive = browser.how === 'timeout' || !/server-closed/.test(probe.how)
    return { browser, probe, spec, differ, quirk, inconclusive }
  } finally {
    streams.delete(key)
  }
}

/** The stream's connections served to both clients; the Last-Event-ID of each request is compared too. */
async function runMulti(stream: Connections): Promise<Outcome> {
  const key = `${served++}`
  multi.set(key, { ...stream, requests: {} })
  const spec: Required<Seen> & { lastEventIds: (string | null)[] } = {
    events: [],
    ids: [],
    comments: [],
    retries: [],
    lastEventIds: [null],
  }
  let lastEventId = ''
  for (const connection of stream.connections) {
    const seen = reference(Uint8Array.from(connection.chunks.flat()), false, lastEventId)
    spec.events.push(...seen.events)
    lastEventId = seen.lastEventId
    // A header value as the server reads it: without the spaces and tabs around it.
    spec.lastEventIds.push(lastEventId === '' ? null : lastEventId.replace(/^[ \t]+|[ \t]+$/g, ''))
  }
  const types = ['message', ...spec.events.map((e) => e[0])]
  try {
    const run = { url: `${base}/m/${key}/browser`, types, maxMs: 60_000, all: true }
    const [browser, probe] = await Promise.all([
      page.evaluate(`run(${JSON.stringify(run)})`) as Promise<Seen & { how: string }>,
      runProbe(`${base}/m/${key}/probe`, true),
    ])
    const requests = multi.get(key)!.requests
    const sent = (client: string) => ({ lastEventIds: requests[client] ?? [] })
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
    const mine = { events: spec.events, lastEventIds: spec.lastEventIds }
    const probeSaw = { events: probe.events, ...sent('probe') }
    const browserSaw = { events: browser.events, ...sent('browser') }
    const differ = [
      ...(same(probeSaw, browserSaw) ? [] : ['probe-browser']),
      ...(same(probeSaw, mine) ? [] : ['probe-spec']),
      ...(same(browserSaw, mine) ? [] : ['browser-spec']),
    ]
    const inconclusive = browser.how === 'timeout' || !/no-content/.test(probe.how)
    return {
      browser: { ...browser, ...sent('browser') },
      probe: { ...probe, ...sent('probe') },
      spec: mine,
      differ,
      quirk: false,
      inconclusive,
    }
  } finally {
    multi.delete(key)
  }
}

// ---------------------------------------------------------------- shrinking and printing

/** Pieces, each marked with whether a new write starts before it. */
type Cut = { bytes: number[]; write: boolean; delay: number }[]

function fromCut(cut: Cut, encoding?: Encoding): Chunked {
  const chunks: number[][] = []
  const delays: number[] = []
  for (const piece of cut) {
    if (piece.write || chunks.length === 0) {
      chunks.push([...piece.bytes])
      delays.push(piece.delay)
    } else chunks[chunks.length - 1]!.push(...piece.bytes)
  }
  const kept = chunks.filter((c) => c.length > 0)
  return encoding ? { chunks: kept, delays, encoding } : { chunks: kept, delays }
}

/** Splits a stream's chunks further at line ends, so that shrinking can drop whole lines. */
function byLine(stream: Chunked): Cut {
  const cut: Cut = []
  for (const [i, c] of stream.chunks.entries()) {
    let start = 0
    for (let j = 0; j < c.length; j++) {
      const end = c[j] === 10 || (c[j] === 13 && c[j + 1] !== 10)
      if (end) {
        cut.push({ bytes: c.slice(start, j + 1), write: start === 0, delay: stream.delays[i]! })
        start = j + 1
      }
    }
    if (start < c.length)
      cut.push({ bytes: c.slice(start), write: start === 0, delay: stream.delays[i]! })
  }
  return cut
}

async function stillDiffers(stream: Chunked, differ: string[]): Promise<boolean> {
  // Twice: a divergence that shows once may be the machine's timing, not the parser.
  for (let i = 0; i < 2; i++) {
    const o = await run(stream)
    if (o.inconclusive || !differ.every((d) => o.differ.includes(d))) return false
  }
  return true
}

async function shrink(stream: Chunked, differ: string[], budget = 200): Promise<Chunked> {
  let cut = byLine(stream)
  let tries = 0
  // Drop ranges of pieces, halving the range size down to single pieces.
  for (let size = Math.max(1, cut.length >> 1); size >= 1 && tries < budget; size >>= 1) {
    for (let at = 0; at + size <= cut.length && tries < budget; ) {
      const candidate = [...cut.slice(0, at), ...cut.slice(at + size)]
      tries++
      if (candidate.length > 0 && (await stillDiffers(fromCut(candidate, stream.encoding), differ)))
        cut = candidate
      else at += size
    }
  }
  // Join writes where the cut does not matter.
  for (let i = 1; i < cut.length && tries < budget; i++) {
    if (!cut[i]!.write) continue
    const candidate = cut.map((p, j) => (j === i ? { ...p, write: false } : p))
    tries++
    if (await stillDiffers(fromCut(candidate, stream.encoding), differ)) cut = candidate
  }
  // Shorten long pieces (a long line that does not matter).
  for (let i = 0; i < cut.length && tries < budget; i++) {
    const bytes = cut[i]!.bytes
    if (bytes.length < 64) continue
    const keep = bytes.slice(0, 24).concat(bytes.slice(-8))
    const candidate = cut.map((p, j) => (j === i ? { ...p, bytes: keep } : p))
    tries++
    if (await stillDiffers(fromCut(candidate, stream.encoding), differ)) cut = candidate
  }
  return fromCut(cut, stream.encoding)
}

/** A chunk as a readable JS string of bytes: printable ASCII as is, the rest as \xNN. */
function show(bytes: number[]): string {
  let s = ''
  for (const b of bytes) {
    if (b === 10) s += '\\n'
    else if (b === 13) s += '\\r'
    else if (b === 0x27 || b === 0x5c) s += `\\${String.fromCharCode(b)}`
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b)
    else s += `\\x${b.toString(16).padStart(2, '0')}`
  }
  return `'${s.length > 300 ? `${s.slice(0, 200)}…(${bytes.length} bytes)…${s.slice(-40)}` : s}'`
}

function abbreviate(seen: Seen): Seen {
  const cap = (s: string) => (s.length > 120 ? `${s.slice(0, 80)}…(${s.length} chars)` : s)
  return {
    ...seen,
    events: seen.events.map(([t, d, l]) => [cap(t), cap(d), cap(l)]),
    ...(seen.comments && { comments: seen.comments.map(cap) }),
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      streams: { type: 'string', default: '1000000' },
      minutes: { type: 'string', default: '40' },
      jobs: { type: 'string', default: '3' },
      reconnects: { type: 'string', default: '0.3' },
    },
  })
  if (!chromiumInstalled()) throw new Error('no Chromium at /usr/bin/chromium')
  const seed = Number(values.seed)
  const total = Number(values.streams)
  const deadline = Date.now() + Number(values.minutes) * 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const browser = await launchChromium()
  page = browser.page
  await page.goto(`${base}/`)

  const share = Number(values.reconnects)
  const found = new Map<
    string,
    { index: number; stream: Chunked | Connections; outcome: Outcome }
  >()
  let next = 0
  let done = 0
  let inconclusive = 0
  let diverged = 0
  let quirks = 0
  let events = 0
  let comments = 0
  const started = Date.now()
  async function worker() {
    while (next < total && Date.now() < deadline) {
      const index = next++
      const several = rng((seed + index) ^ 0x7ec0)() < share
      const stream = several
        ? connections(seed + index)
        : chunk(generate(seed + index), seed + index)
      const outcome = 'connections' in stream ? await runMulti(stream) : await run(stream)
      done++
      events += outcome.browser.events.length
      comments += outcome.spec.comments?.length ?? 0
      if (outcome.quirk) quirks++
      if (outcome.inconclusive) inconclusive++
      else if (outcome.differ.length > 0) {
        diverged++
        // One shrunk case per kind of divergence; the rest are counted.
        const kind = `${several ? 'reconnects: ' : ''}${outcome.differ.join('+')}`
        if (!found.has(kind)) {
          found.set(kind, { index, stream, outcome })
          console.log(`stream ${seed + index}: ${kind}`)
        }
      }
      if (done % 50 === 0) {
        const rate = done / ((Date.now() - started) / 1000)
        console.log(
          `${done} streams, ${diverged} divergent, ${quirks} Chromium BOM quirk, ${inconclusive} inconclusive, ${rate.toFixed(2)}/s`,
        )
      }
    }
  }
  await Promise.all(Array.from({ length: Number(values.jobs) }, worker))
  console.log(
    `\n${done} streams run (seed ${seed}), ${events} events and ${comments} comments compared, ` +
      `${diverged} divergent, ${quirks} with Chromium's BOM quirk, ${inconclusive} inconclusive`,
  )

  for (const [kind, { index, stream, outcome: first }] of found) {
    if ('connections' in stream) {
      console.log(`\n== ${kind} (stream ${seed + index}), not shrunk:`)
      for (const { chunks, encoding, then } of stream.connections)
        console.log(`  [${chunks.map(show).join(', ')}] ${encoding ?? ''} then ${then}`)
      console.log(`  spec:    ${JSON.stringify(abbreviate(first.spec))}`)
      console.log(`  probe:   ${JSON.stringify(abbreviate(first.probe))}`)
      console.log(`  browser: ${JSON.stringify(abbreviate(first.browser))}`)
      continue
    }
    const small = await shrink(stream, kind.split('+'))
    const outcome = await run(small)
    console.log(`\n== ${kind} (stream ${seed + index}), shrunk to ${small.chunks.length} writes:`)
    console.log(`  [${small.chunks.map(show).join(', ')}] ${small.encoding ?? ''}`)
    console.log(`  spec:    ${JSON.stringify(abbreviate(outcome.spec))}`)
    console.log(`  probe:   ${JSON.stringify(abbreviate(outcome.probe))}`)
    console.log(`  browser: ${JSON.stringify(abbreviate(outcome.browser))}`)
  }
  await browser.close()
  server.close()
  server.closeAllConnections()
  process.exitCode = found.size > 0 ? 1 : 0
}

await main()
