import { describe, expect, it } from 'vitest'
import { createEventStream } from '../../src/engine/stream.ts'

interface StreamEvent {
  event: string
  id: string | null
  lastEventId: string
  data: string
}

type Seen = ['event', StreamEvent] | ['comment', string] | ['retry', number] | ['too-large']

function parse(
  chunks: (string | Uint8Array)[],
  options: { lastEventId?: string; maxEventSize?: number } = {},
) {
  const seen: Seen[] = []
  const stream = createEventStream(
    {
      onEvent: (event, id, data, lastEventId) =>
        seen.push(['event', { event, id, lastEventId, data }]),
      onComment: (text) => seen.push(['comment', text]),
      onRetry: (ms) => seen.push(['retry', ms]),
      onTooLarge: () => seen.push(['too-large']),
    },
    { lastEventId: options.lastEventId ?? '', maxEventSize: options.maxEventSize ?? 1 << 20 },
  )
  for (const chunk of chunks)
    stream.feed(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk)
  const end = stream.end()
  return {
    seen,
    events: seen.filter((s) => s[0] === 'event').map((s) => s[1] as StreamEvent),
    end,
    stream,
  }
}

const byteByByte = (text: string) =>
  [...new TextEncoder().encode(text)].map((byte) => Uint8Array.of(byte))

describe('the event stream, as the WHATWG spec parses it', () => {
  it('defaults the type to message and joins data lines with LF', () => {
    const { events } = parse(['data: a\ndata:b\ndata:  c\n\n'])
    expect(events).toEqual([{ event: 'message', id: null, lastEventId: '', data: 'a\nb\n c' }])
  })

  it('gives every type as it came, also past the types it keeps as one string each', () => {
    const types = Array.from({ length: 600 }, (_, i) => `content_block_delta_${i % 300}`)
    types.push('x'.repeat(300), 'x'.repeat(300))
    const { events } = parse([types.map((type) => `event: ${type}\ndata: x\n\n`).join('')])
    expect(events.map((e) => e.event)).toEqual(types)
  })

  it('accepts CR, LF and CRLF line ends alike', () => {
    const lf = parse(['event: x\ndata: 1\n\n']).events
    expect(parse(['event: x\rdata: 1\r\r']).events).toEqual(lf)
    expect(parse(['event: x\r\ndata: 1\r\n\r\n']).events).toEqual(lf)
    expect(parse(['event: x\r', '\ndata: 1\r', '\n\r', '\n']).events).toEqual(lf)
  })

  it('drops one leading BOM and only one', () => {
    expect(parse(['\uFEFFdata: a\n\n']).events.map((e) => e.data)).toEqual(['a'])
    expect(
      parse([Uint8Array.of(0xef), Uint8Array.of(0xbb, 0xbf), 'data: b\n\n']).events.map(
        (e) => e.data,
      ),
    ).toEqual(['b'])
    // A second BOM makes the first field name "\uFEFFdata", which is unknown and ignored.
    expect(parse(['\uFEFF\uFEFFdata: a\n\ndata: c\n\n']).events.map((e) => e.data)).toEqual(['c'])
    // The BOM's bytes read as Latin-1 are text, not a BOM: "ï»¿data" is an unknown field too.
    expect(parse(['\u00EF\u00BB\u00BFdata: a\n\ndata: c\n\n']).events.map((e) => e.data)).toEqual([
      'c',
    ])
  })

  it('keeps the last-event-ID buffer across events until an id field changes it', () => {
    const { events } = parse(['id: 1\ndata: a\n\ndata: b\n\nid:\ndata: c\n\nid: 3\n\ndata: d\n\n'])
    expect(events.map((e) => [e.id, e.lastEventId])).toEqual([
      ['1', '1'],
      [null, '1'],
      ['', ''],
      [null, '3'],
    ])
  })

  it('ignores an id that contains NUL', () => {
    const { events } = parse(['id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n'])
    expect(events.map((e) => e.lastEventId)).toEqual(['1', '1'])
  })

  it('takes retry only when it is all digits', () => {
    const { seen } = parse([
      'retry: 1500\n\nretry: 1.5\n\nretry: -1\n\nretry:  20\n\nretry: 20x\n\nretry: 0\n\n',
    ])
    expect(seen).toEqual([
      ['retry', 1500],
      ['retry', 0],
    ])
  })

  it('reports comments with everything after the colon, and dispatches no event for them', () => {
    const stream = ': ping\n\n:tight\n:  two spaces\n\ndata: x\n\n'
    const expected = [
      ['comment', ' ping'],
      ['comment', 'tight'],
      ['comment', '  two spaces'],
      ['event', expect.objectContaining({ data: 'x' })],
    ]
    expect(parse([stream]).seen).toEqual(expected)
    expect(parse(byteByByte(stream)).seen).toEqual(expected)
  })

  it('does not dispatch an event without data, nor unknown fields', () => {
    expect(parse(['event: x\n\nfoo: bar\n\ndata\n\n']).events).toEqual([
      expect.objectContaining({ event: 'message', data: '' }),
    ])
  })

  it('discards an unterminated event at the end of the stream and says so', () => {
    const { events, end } = parse(['data: a\n\nid: 9\ndata: partial'])
    expect(events.map((e) => e.data)).toEqual(['a'])
    expect(end.discardedData).toBe('partial')
  })

  it('does not let an incomplete block change the last-event-ID buffer', () => {
    const { stream } = parse(['id: 1\ndata: a\n\nid: 2\ndata: b\n'])
    expect(stream.lastEventId()).toBe('1')
  })

  it('decodes UTF-8 split across chunks, and invalid bytes as U+FFFD', () => {
    const bytes = new TextEncoder().encode('data: héllo €\n\n')
    expect(parse(byteByByte(new TextDecoder().decode(bytes))).events[0]!.data).toBe('héllo €')
    expect(
      parse([Uint8Array.of(...new TextEncoder().encode('data: a'), 0xff, 0x0a, 0x0a)]).events[0]!
        .data,
    ).toBe('a\uFFFD')
  })

  it('gives the same result for one chunk and byte by byte', () => {
    const stream =
      '\uFEFF: hi\r\nretry: 10\nid: 7\r\nevent: status\rdata: {"p": 1}\n\ndata: x\r\rid\n\n:\n\ndata: y\n'
    const whole = parse([stream])
    const bytes = parse(byteByByte(stream))
    expect(bytes.seen).toEqual(whole.seen)
    expect(bytes.end).toEqual(whole.end)
    expect(whole.events.map((e) => e.lastEventId)).toEqual(['7', '7'])
  })

  it('reports an event that grows past the size limit', () => {
    const { seen } = parse([`data: ${'x'.repeat(2000)}`], { maxEventSize: 1000 })
    expect(seen).toEqual([['too-large']])
  })

  describe('cases of the cross-language SSE contract tests', () => {
    const BOM = Uint8Array.of(0xef, 0xbb, 0xbf)
    const bytes = (text: string) => new TextEncoder().encode(text)
    const data = (chunks: (string | Uint8Array)[]) => parse(chunks).events.map((e) => e.data)

    it('strips a BOM split across chunks, byte by byte too', () => {
      expect(data([BOM.subarray(0, 2), Uint8Array.of(0xbf, ...bytes('data: Hello\n\n'))])).toEqual([
        'Hello',
      ])
      expect(
        data([BOM.subarray(0, 1), BOM.subarray(1, 2), BOM.subarray(2), 'data: Hello\n\n']),
      ).toEqual(['Hello'])
    })

    it('keeps a BOM that is not at the start of the stream', () => {
      expect(
        data([
          'data: First\n\n',
          Uint8Array.of(...bytes('data: '), ...BOM, ...bytes('Second\n\n')),
        ]),
      ).toEqual(['First', '\uFEFFSecond'])
      expect(
        data([Uint8Array.of(...BOM, ...bytes('data: '), ...BOM, ...bytes('Hello\n\n'))]),
      ).toEqual(['\uFEFFHello'])
    })

    it('reports a comment after a BOM, and without a blank line after it', () => {
      expect(parse([Uint8Array.of(...BOM, ...bytes(':comment\ndata: Hello\n\n'))]).seen).toEqual([
        ['comment', 'comment'],
        ['event', expect.objectContaining({ data: 'Hello' })],
      ])
    })

    it('treats a bare field name as an empty value', () => {
      expect(data(['data\n\ndata\ndata\n\n'])).toEqual(['', '\n'])
    })

    it('keeps the extra leading space of a value', () => {
      expect(parse(['event:  greeting\ndata:  Hello\n\n']).events).toEqual([
        expect.objectContaining({ event: ' greeting', data: ' Hello' }),
      ])
    })

    it.each([1023, 4096, 8195, 65536, 1048576])('delivers a payload of %d bytes whole', (size) => {
      expect(data([`data: ${'x'.repeat(size)}\n\n`])[0]).toHaveLength(size)
    })
  })

  // The bodies of web-platform-tests' eventsource/format-*.any.js (their server adds a final LF).
  describe('the web-platform-tests format vectors, in one chunk and byte by byte', () => {
    const long = 'x'.repeat(2048)
    const vectors: [string, string, string[]][] = [
      [
        'field-parsing',
        'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n',
        ['\0\n 2\n1\n3\n\n4'],
      ],
      ['newlines', 'data:test\r\ndata\ndata:test\r\n\r\n', ['test\n\ntest']],
      [
        'comments',
        `data:1\r:\0\n:\r\ndata:2\n:${long}\rdata:3\n:data:fail\r:${long}\ndata:4\n\n`,
        ['1\n2\n3\n4'],
      ],
      ['null-character', 'data:\0\n\n\n', ['\0']],
      ['bom', '\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3\n\n\n', ['1', '3']],
      ['bom-2', '\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3\n\n\n', ['2', '3']],
      ['field-data', 'data:\n\ndata\ndata\n\ndata:test\n\n\n', ['', '\n', 'test']],
      ['field-event-empty', 'event: \ndata:data\n\n\n', ['data']],
      ['field-unknown', 'data:test\n field:x\nfield2:y\n\n', ['test']],
      ['data-before-final-empty-line', 'retry:1000\ndata:test1\n\nid:test\ndata:test2', ['test1']],
    ]
    it.each(vectors)('%s', (_, body, expected) => {
      for (const chunks of [[body], byteByByte(body)]) {
        const { events, stream } = parse(chunks)
        expect(events.map((e) => e.data)).toEqual(expected)
        expect(events.map((e) => e.event)).toEqual(expected.map(() => 'message'))
        // An id in an event the stream never finished is not kept for the reconnect.
        expect(stream.lastEventId()).toBe('')
      }
    })
  })
})

describe("a last block without data (sse-starlette's ServerSentEvent(event='end'))", () => {
  it.each([
    [['data: a\n\nevent: end\n\n'], 'end'],
    [['data: a\r\n\r\n', 'event: end\r\n\r\n'], 'end'],
    [['data: a\n\nid: 9\nevent:end\n: note\n\n\n'], 'end'],
    [['data: a\n\n', 'event: end\n', '\n'], 'end'],
    // The last event field wins; an empty one is a message.
    [['event: x\nevent: end\n\n'], 'end'],
    [['event:\n\n'], 'message'],
  ])('%j: its type', (chunks, type) => {
    expect(parse(chunks).end).toEqual({ datalessType: type })
  })

  it.each([
    // A data line, even an empty one, makes it an event.
    [['event: end\ndata:\n\n']],
    [['event: end\ndata\n\n']],
    // Not complete: discarded instead.
    [['data: a\n\nevent: end\n']],
    // No event field.
    [['data: a\n\nid: 3\n\n']],
    [['data: a\n\n']],
  ])('%j: none', (chunks) => {
    expect(parse(chunks).end.datalessType).toBeUndefined()
  })

  it("is read from the stream's last 1,024 characters, however chunked: a block that began before them is not guessed at", () => {
    expect(parse(['data: a\n\nev', 'ent: e', 'nd\n\n']).end).toEqual({ datalessType: 'end' })
    expect(parse(['data: a\n\ndata: b\nev', 'ent: e', 'nd\n\n']).end).toEqual({})
    expect(parse(['data: a\n\n', 'data: b\n\nev', 'ent: end\n\n']).end).toEqual({
      datalessType: 'end',
    })
    expect(parse([`data: ${'x'.repeat(5000)}\n\n`, 'event: end\n\n']).end).toEqual({
      datalessType: 'end',
    })
    expect(parse([`: ${'x'.repeat(5000)}\nevent: end\n\n`]).end).toEqual({})
    // What is kept may start at the LF of its own block's CRLF: no blank line there.
    const comment = `: ${'p'.repeat(2000)}`
    const split = parse(['data: a\n\n', 'data: hello\r', `\n${comment}\r\nevent: end\r\n\r\n`])
    expect(split.events.map((e) => e.data)).toEqual(['a', 'hello'])
    expect(split.end).toEqual({})
  })
})
