import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createEventStream, type KnownBlocks } from '../../src/engine/stream.ts'
import { cut } from '../helpers/chunks.ts'

// The data of a known block: what an LLM template's expression is like (a plain string in fixed bytes).
const DATA = '\\{"t":"d","v":"[^"\\\\\\x00-\\x1f]*"\\}'
const known = (type: string): KnownBlocks => ({ type, data: DATA, last: undefined })

/**
 * Everything the stream reports, in order, and what it discarded at each end: `blocks` is given
 * to the stream before the chunk of index `from` (never: -1). `ends`: chunks after which the
 * connection ends (a reconnect's stream goes on with the next).
 */
function parse(
  chunks: Uint8Array[],
  blocks: KnownBlocks | undefined,
  { from = 0, ends = [] as number[], maxEventSize = 1 << 20, exactComments = true } = {},
) {
  const seen: unknown[] = []
  let readAsBlocks = 0
  const stream = createEventStream(
    {
      onEvent(event, id, data, lastEventId) {
        if (blocks?.last === data) readAsBlocks++
        seen.push(['event', event, id, data, lastEventId])
      },
      onComment: (text) => seen.push(['comment', text]),
      onRetry: (ms) => seen.push(['retry', ms]),
      onInvalidRetry: (value) => seen.push(['invalid-retry', value]),
      onTooLarge: (message) => seen.push(['too-large', message]),
    },
    { lastEventId: 'start', maxEventSize, exactComments },
  )
  chunks.forEach((chunk, i) => {
    if (i === from) stream.knownBlocks(blocks)
    stream.feed(chunk)
    if (ends.includes(i)) seen.push(['end', stream.end()])
  })
  seen.push(['end', stream.end(), stream.lastEventId()])
  return { seen, readAsBlocks }
}

const bytes = (text: string) => new TextEncoder().encode(text)

const value = (v: string) => JSON.stringify({ t: 'd', v })

/**
 * A block as servers write them, near misses of the known shape among them; `cr`: CR in line ends
 * and text too (a read with a CR is the parser's alone, so most streams have none).
 */
function blockOf(cr: boolean) {
  const units = ['a', ' ', 'é', '\\', '"', '\n', 'x', ':', '😀', ...(cr ? ['\r'] : [])]
  const text = fc.string({ unit: fc.constantFrom(...units) })
  const lineEnd = fc.constantFrom(...(cr ? ['\n', '\r\n', '\r'] : ['\n']))
  const line = (l: string) => l.replace(/[\r\n]/g, '')
  return fc.oneof(
    // The known shape (escapes in `v` make it a near miss).
    fc
      .record({ type: fc.constantFrom('delta', 'message', 'other'), v: text, end: lineEnd })
      .map(
        ({ type, v, end }) =>
          `${type === 'message' ? '' : `event: ${type}${end}`}data: ${value(v)}${end}${end}`,
      ),
    {
      weight: 8,
      arbitrary: fc
        .record({ type: fc.constantFrom('delta', 'message'), v: text, end: lineEnd })
        .map(
          ({ type, v, end }) =>
            `${type === 'message' ? '' : `event: ${type}${end}`}data: ${value(v.replace(/["\\\n\r]/g, ''))}${end}${end}`,
        ),
    },
    // Near misses: no space, two spaces, data before event, an id, two data lines, trailing bytes.
    text.map((v) => `event:delta\ndata:${value(v)}\n\n`),
    text.map((v) => `event: delta\ndata:  ${value(v)}\n\n`),
    text.map((v) => `data: ${value(v)}\nevent: delta\n\n`),
    fc.tuple(text, text).map(([id, v]) => `event: delta\nid: ${line(id)}\ndata: ${value(v)}\n\n`),
    text.map((v) => `event: delta\ndata: ${value(v)}\ndata: ${value(v)}\n\n`),
    text.map((v) => `event: delta\ndata: ${value(v)}x\n\n`),
    // Everything else a stream carries.
    text.map((c) => `:${line(c)}\n`),
    fc.constantFrom('retry: 1000\n\n', 'retry: 5s\n\n', '\n', 'id: 7\n\n', 'event: delta\n\n'),
    fc.tuple(text, lineEnd).map(([t, end]) => `${t}${end}`),
  )
}
const stream = fc
  .tuple(fc.boolean(), fc.boolean(), fc.array(fc.nat(), { maxLength: 20 }))
  .chain(([bom, cr, sizes]) =>
    fc
      .array(blockOf(cr), { minLength: sizes.length, maxLength: sizes.length })
      .map((blocks) => `${bom ? '\uFEFF' : ''}${blocks.join('')}`),
  )

describe('known blocks', () => {
  it('give exactly the events, comments, retries and ends that the parser gives, however the bytes are cut', () => {
    let readAsBlocks = 0
    fc.assert(
      fc.property(
        stream,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom('delta', 'message'),
        fc.nat(4),
        fc.array(fc.nat(8), { maxLength: 2 }),
        // Small limits too: events, lines and a read's pending bytes past them (too-large).
        fc.constantFrom(1 << 20, 1 << 20, 30, 60),
        (text, positions, type, from, ends, maxEventSize) => {
          const chunks = cut(bytes(text), positions)
          const blocks = known(type)
          const withBlocks = parse(chunks, blocks, { from, ends, maxEventSize })
          expect(withBlocks.seen).toEqual(parse(chunks, undefined, { ends, maxEventSize }).seen)
          readAsBlocks += withBlocks.readAsBlocks
        },
      ),
      { numRuns: 6000 },
    )
    // Not vacuous: blocks were read as such.
    expect(readAsBlocks).toBeGreaterThan(500)
  })

  it('read the blocks that follow a cut block, once a blank line ends it', () => {
    const one = (v: string) => `event: delta\ndata: ${value(v)}\n\n`
    const all = bytes(`${one('a')}${one('b')}${one('c')}${one('d')}`)
    const half = Math.floor(one('a').length / 2)
    const blocks = known('delta')
    const { seen, readAsBlocks } = parse([all.subarray(0, half), all.subarray(half)], blocks)
    expect(seen).toEqual(parse([all], undefined).seen)
    // The first block is the parser's (it had begun); the next three are read as blocks.
    expect(readAsBlocks).toBe(3)
  })

  it('keep --max-event-size: a known block past it ends the stream as one parsed would, and nothing is passed on after', () => {
    const one = (v: string) => `event: delta\ndata: ${value(v)}\n\n`
    const chunks = [bytes(`${one('a')}${one('x'.repeat(100))}${one('b')}: c\nretry: 5\nid: 9\n\n`)]
    const blocks = known('delta')
    const { seen } = parse(chunks, blocks, { maxEventSize: 64 })
    expect(seen).toEqual(parse(chunks, undefined, { maxEventSize: 64 }).seen)
    expect(seen).toEqual([
      ['event', 'delta', null, value('a'), 'start'],
      ['too-large', 'received an event of 116 bytes (--max-event-size 64)'],
      ['end', {}, 'start'],
    ])
  })

  it('are read again by the parser alone once unset, and not kept past a read', () => {
    const one = (v: string) => `event: delta\ndata: ${value(v)}\n\n`
    const blocks = known('delta')
    const readAsBlocks: string[] = []
    const stream = createEventStream(
      {
        onEvent: (_type, _id, data) => void (blocks.last === data && readAsBlocks.push(data)),
        onComment: () => {},
        onRetry: () => {},
        onTooLarge: () => {},
      },
      { lastEventId: '', maxEventSize: 1 << 20 },
    )
    stream.knownBlocks(blocks)
    stream.feed(bytes(`${one('a')}${one('b')}`))
    stream.feed(bytes(`${one('c')}${one('d')}`))
    expect(blocks.last).toBeUndefined()
    stream.knownBlocks(undefined)
    stream.feed(bytes(one('e')))
    // The first read's first block is the parser's: what it was fed before is unknown.
    expect(readAsBlocks).toEqual([value('b'), value('c'), value('d')])
  })

  it('are only what an event can be: a type of one line, a source that is an expression of its own', () => {
    const stream = createEventStream(
      { onEvent: () => {}, onComment: () => {}, onRetry: () => {}, onTooLarge: () => {} },
      { lastEventId: '', maxEventSize: 1 << 20 },
    )
    expect(() => stream.knownBlocks({ type: '', data: 'x', last: undefined })).toThrow(TypeError)
    expect(() => stream.knownBlocks({ type: 'a\nid: 9', data: 'x', last: undefined })).toThrow(
      'knownBlocks: not an event type: "a\\nid: 9"',
    )
    expect(() => stream.knownBlocks({ type: 'a', data: 'x)|(y', last: undefined })).toThrow(
      SyntaxError,
    )
  })

  it("give the same events when a caller's expression matches more than a line", () => {
    const chunks = [
      bytes('data: x\n\ndata: x\ndata: y\n\n'),
      bytes('data: x\n\ndata: x\ndata: y\n\n'),
    ]
    const blocks: KnownBlocks = { type: 'message', data: '[\\s\\S]*?', last: undefined }
    const { seen, readAsBlocks } = parse(chunks, blocks)
    expect(seen).toEqual(parse(chunks, undefined).seen)
    expect(readAsBlocks).toBeGreaterThan(0)
  })

  it('leave a read with a CR to the parser', () => {
    const one = (v: string) => `event: delta\r\ndata: ${value(v)}\r\n\r\n`
    const chunks = [bytes(`${one('a')}${one('b')}`), bytes(`${one('c')}${one('d')}`)]
    const { seen, readAsBlocks } = parse(chunks, known('delta'))
    expect(seen).toEqual(parse(chunks, undefined).seen)
    expect(readAsBlocks).toBe(0)
  })
})
