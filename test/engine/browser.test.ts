import { randomBytes } from 'node:crypto'
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, it } from 'vitest'
import {
  abbreviate,
  CHROMIUM_PATH,
  type Client,
  chromiumInstalled,
  type Entry,
  launchChromium,
  probeEntries,
  type Reply,
  reconnectDelays,
  runInBrowser,
  type Scenario,
  startDifferentialServer,
} from '../helpers/browser.ts'
import { runCli } from '../helpers/cli.ts'

/**
 * Differential tests: every scenario is served both to Chromium's EventSource
 * and to the probe, which must see the same events (type, data, lastEventId),
 * opens and errors, send the same requests (path, Last-Event-ID, Accept,
 * Cache-Control) and wait about as long before reconnecting. Where Chromium
 * departs from the WHATWG spec the probe keeps to the spec, and the scenario
 * says so (`chromium`).
 */

const END = 'event: end\ndata: done\n\n'
const SSE = { 'content-type': 'text/event-stream' }

/** A stream reply; held open unless told otherwise (both clients leave after `end`). */
const sse = (chunks: (string | Uint8Array)[], more: Omit<Reply, 'chunks'> = {}): Reply => ({
  chunks,
  ...more,
})
/** A stream reply the server finishes, so the client reconnects. */
const closes = (...chunks: (string | Uint8Array)[]): Reply => ({ chunks, then: 'end' })
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Uint8Array.from(p))))
const message = (data: string, lastEventId = ''): Entry => ({
  kind: 'event',
  type: 'message',
  data,
  lastEventId,
})
const byteByByte = (text: string | Uint8Array) =>
  [...(typeof text === 'string' ? Buffer.from(text) : text)].map((b) => Uint8Array.of(b))

const GZIP_SSE = { ...SSE, 'content-encoding': 'gzip' }
const cutInHalf = (bytes: Buffer) => bytes.subarray(0, bytes.length / 2)

type Delays = [min: number, max: number][]

interface Case extends Scenario {
  /** The data of every event the spec dispatches, in order: pins the corpus to the spec, whoever parses it. */
  data: string[]
  /** The reconnection delays the spec gives, in ms. */
  delays?: Delays
  /**
   * Where Chromium departs from the spec (or from the contract, where the spec leaves
   * a choice): why, and what it does instead. The probe keeps to the spec and contract;
   * Chromium's behaviour is checked too, so a change in it shows.
   */
  chromium?: { why: string; log?: Entry[]; delays?: Delays }
}

const scenarios: Case[] = [
  // Byte order marks
  { name: 'one BOM', replies: [sse([`\uFEFFdata: a\n\n${END}`])], data: ['a', 'done'] },
  {
    name: 'two BOMs',
    replies: [sse([`\uFEFF\uFEFFdata: a\n\ndata: b\n\n${END}`])],
    data: ['b', 'done'],
  },
  {
    name: 'BOM split across chunks',
    replies: [sse([bytes([0xef]), bytes([0xbb, 0xbf]), `data: a\n\n${END}`], { pauseMs: 15 })],
    data: ['a', 'done'],
  },
  {
    name: 'BOM after the start',
    replies: [sse([`data: a\n\n\uFEFFdata: b\n\n${END}`])],
    data: ['a', 'done'],
  },
  {
    name: 'BOM bytes as Latin-1 characters',
    replies: [sse([`\u00EF\u00BB\u00BFdata: a\n\ndata: b\n\n${END}`])],
    data: ['b', 'done'],
  },
  {
    name: 'BOM dropped on every connection',
    replies: [closes('\uFEFFretry: 20\ndata: a\n\n'), sse([`\uFEFFdata: b\n\n${END}`])],
    data: ['a', 'b', 'done'],
  },
  // Found by scripts/fuzz-browser.ts.
  ...[
    { name: 'BOM then LF', chunks: [`\uFEFF\ndata: a\n\ndata: b\n\n${END}`] },
    { name: 'BOM then CR', chunks: [`\uFEFF\rdata: a\n\ndata: b\n\n${END}`] },
    {
      name: 'BOM split across chunks, then LF',
      chunks: [bytes([0xef, 0xbb]), bytes([0xbf], `\ndata: a\n\ndata: b\n\n${END}`)],
    },
  ].map(
    ({ name, chunks }): Case => ({
      name,
      replies: [sse(chunks, { pauseMs: 15 })],
      data: ['a', 'b', 'done'],
      chromium: {
        why: 'never reads the byte after a leading BOM as a line end (event_source_parser.cc skips it), so its first line is "\\ndata: a" or "\\rdata: a", an unknown field; the spec drops the BOM and then reads every line end',
        log: [
          { kind: 'open' },
          message('b'),
          { kind: 'event', type: 'end', data: 'done', lastEventId: '' },
        ],
      },
    }),
  ),

  // Line ends
  {
    name: 'CR line ends',
    replies: [sse(['data: a\rdata: b\r\revent: end\rdata: done\r\r'])],
    data: ['a\nb', 'done'],
  },
  {
    name: 'CRLF line ends',
    replies: [sse(['data: a\r\ndata: b\r\n\r\nevent: end\r\ndata: done\r\n\r\n'])],
    data: ['a\nb', 'done'],
  },
  {
    name: 'mixed line ends',
    replies: [sse([`data: a\r\ndata: b\n\rdata: c\r\r\ndata: d\n\r\n${END}`])],
    data: ['a\nb', 'c', 'd', 'done'],
  },
  {
    name: 'LF then CR is two line ends',
    replies: [sse([`data: a\n\rdata: b\n\n${END}`])],
    data: ['a', 'b', 'done'],
  },
  {
    name: 'CRLF split across chunks',
    replies: [sse(['data: a\r', '\ndata: b\r', '\n\r', `\n${END}`], { pauseMs: 15 })],
    data: ['a\nb', 'done'],
  },
  {
    name: 'bare CR at a chunk end',
    replies: [sse(['data: a\r', 'data: b\r', '\r', END], { pauseMs: 15 })],
    data: ['a\nb', 'done'],
  },
  {
    name: 'CR at a chunk end, then CR',
    replies: [sse(['data: a\r', '\r', `\ndata: b\n\n${END}`], { pauseMs: 15 })],
    data: ['a', 'b', 'done'],
  },
  {
    // launchdarkly/sse-contract-tests' "CRLF where CR is end of 1 chunk".
    name: 'CRLF split after every CR, blank lines too',
    replies: [
      sse(['data: Hello\r', '\ndata: World\r', '\n\r\ndata: OK\r', '\n', '\r', '\n', END], {
        pauseMs: 15,
      }),
    ],
    data: ['Hello\nWorld', 'OK', 'done'],
  },
  {
    name: 'runs of CR blank lines, and CR then CRLF across chunks',
    replies: [
      sse(['data: a\r\r\r\rdata: b\r\r', 'data: c\r', '\r\n', 'data: d\r\n\r\n', END], {
        pauseMs: 15,
      }),
    ],
    data: ['a', 'b', 'c', 'd', 'done'],
  },
  {
    name: 'byte by byte',
    replies: [
      sse(
        byteByByte(
          `\uFEFFid: 1\r\nevent: tick\r\ndata: h\u00E9llo \u20AC \u{1F600}\r\n\r\n: note\rdata:x\r\r${END}`,
        ),
        { pauseMs: 2 },
      ),
    ],
    types: ['tick'],
    data: ['h\u00E9llo \u20AC \u{1F600}', 'x', 'done'],
  },

  // Fields
  {
    name: 'multi-line data',
    replies: [sse([`data: a\ndata: b\ndata\ndata: c\n\n${END}`])],
    data: ['a\nb\n\nc', 'done'],
  },
  {
    name: 'data without a colon',
    replies: [sse([`data\n\ndata\ndata\n\n${END}`])],
    data: ['', '\n', 'done'],
  },
  {
    name: 'leading space',
    replies: [sse([`data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\ndata: \n\n${END}`])],
    data: ['x', 'x', ' x', '\tx', '', 'done'],
  },
  {
    name: 'colons in the value',
    replies: [sse([`data: a:b: c\n\ndata::\n\n${END}`])],
    data: ['a:b: c', ':', 'done'],
  },
  {
    name: 'empty data',
    replies: [sse([`data:\n\ndata:\ndata:\n\n${END}`])],
    data: ['', '\n', 'done'],
  },
  {
    name: 'event without data is not dispatched',
    replies: [sse([`event: foo\n\nid: 1\n\nevent: foo\nretry: 5000\n\ndata: a\n\n${END}`])],
    types: ['foo'],
    data: ['a', 'done'],
  },
  {
    name: 'unknown fields',
    replies: [
      sse([`foo: bar\ndata: a\nData: b\n DATA: c\n data: d\nevent : x\ndata:e\nid : 9\n\n${END}`]),
    ],
    types: ['x'],
    data: ['a\ne', 'done'],
  },
  {
    name: 'comments',
    replies: [sse([`: hi\n:\n:: x\ndata: a\n: mid\ndata: b\n\n:last\n\n${END}`])],
    data: ['a\nb', 'done'],
  },
  {
    name: 'only blank lines and comments',
    replies: [sse([`\n\n\r\n\r: x\n\n${END}`])],
    data: ['done'],
  },
  {
    name: 'empty event resets the type to message',
    replies: [
      sse([
        `event: foo\ndata: a\n\nevent: foo\nevent:\ndata: b\n\nevent: foo\nevent\ndata: c\n\nevent: foo\n\ndata: d\n\n${END}`,
      ]),
    ],
    types: ['foo'],
    data: ['a', 'b', 'c', 'd', 'done'],
  },
  {
    name: 'event types that name EventSource events',
    replies: [
      sse([
        `event: open\ndata: o\n\nevent: error\ndata: e\n\nevent: message\ndata: m\n\nevent: Foo Bar\ndata: f\n\nevent:  sp\ndata: s\n\n${END}`,
      ]),
    ],
    types: ['open', 'error', 'Foo Bar', ' sp'],
    data: ['o', 'e', 'm', 'f', 's', 'done'],
  },
  {
    name: 'Unicode line separators are data',
    replies: [sse([`event: a:b\ndata: a\u2028b\u2029c\u0085d\u000Be\u000Cf\n\n${END}`])],
    types: ['a:b'],
    data: ['a\u2028b\u2029c\u0085d\u000Be\u000Cf', 'done'],
  },
  {
    name: 'NUL and controls in data',
    replies: [sse([`data: a\0b\u0001\u007f\n\n${END}`])],
    data: ['a\0b\u0001\u007f', 'done'],
  },

  // The last-event-ID buffer
  {
    name: 'id persists across events',
    replies: [
      sse([`id: 1\ndata: a\n\ndata: b\n\nid: 2\nid: 3\ndata: c\n\nid: 4\n\ndata: d\n\n${END}`]),
    ],
    data: ['a', 'b', 'c', 'd', 'done'],
  },
  {
    name: 'empty id resets',
    replies: [sse([`id: 1\ndata: a\n\nid:\ndata: b\n\nid: 2\ndata: c\n\nid\ndata: d\n\n${END}`])],
    data: ['a', 'b', 'c', 'd', 'done'],
  },
  {
    name: 'id with NUL is ignored',
    replies: [sse([`id: 1\ndata: a\n\nid: 2\0\ndata: b\n\nid: \0\ndata: c\n\n${END}`])],
    data: ['a', 'b', 'c', 'done'],
  },
  { name: 'id with spaces', replies: [sse([`id:  x y \ndata: a\n\n${END}`])], data: ['a', 'done'] },
  {
    name: 'id-only block, then reconnect',
    replies: [closes('retry: 20\ndata: a\n\nid: 7\n\n'), sse([`data: b\n\n${END}`])],
    data: ['a', 'b', 'done'],
  },
  {
    name: 'id of a discarded event is not sent',
    replies: [closes('retry: 20\nid: 1\ndata: a\n\nid: 2\ndata: b\n'), sse([`data: c\n\n${END}`])],
    data: ['a', 'c', 'done'],
  },
  {
    name: 'non-ASCII id sent as UTF-8',
    replies: [
      closes('retry: 20\nid: \u00E9\u65E5\u672C\u{1F600}\ndata: a\n\n'),
      sse([`data: b\n\n${END}`]),
    ],
    data: ['a', 'b', 'done'],
  },
  {
    name: 'reconnect after close with Last-Event-ID',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      closes('id: 2\ndata: b\n\n'),
      closes('data: c\n\n'),
      sse([END]),
    ],
    data: ['a', 'b', 'c', 'done'],
  },
  {
    name: 'reconnect after a broken connection',
    replies: [
      sse(['retry: 20\nid: 4\ndata: a\n\ndata: part'], { then: 'destroy' }),
      sse([`data: b\n\n${END}`]),
    ],
    data: ['a', 'b', 'done'],
  },
  {
    name: 'network errors while reconnecting',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      { noResponse: 'reset' },
      { noResponse: 'reset' },
      sse([`data: b\n\n${END}`]),
    ],
    data: ['a', 'b', 'done'],
    delays: [
      [0, 1000],
      [0, 1000],
      [0, 1000],
    ],
  },
  {
    name: 'network error, then a refusal, while reconnecting',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      { noResponse: 'reset' },
      { status: 503, headers: SSE },
    ],
    data: ['a'],
  },
  {
    name: 'a response that is not HTTP while reconnecting',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      { noResponse: 'not-http' },
      sse([`data: b\n\n${END}`]),
    ],
    data: ['a', 'b', 'done'],
    chromium: {
      why: 'fails the connection; the spec lets a user agent do so when it knows reconnecting to be futile, but the probe retries every network error',
      log: [
        { kind: 'open' },
        message('a', '1'),
        { kind: 'error', closed: false },
        { kind: 'error', closed: true },
      ],
    },
  },
  {
    name: 'event type does not survive a reconnect',
    replies: [closes('retry: 20\nevent: foo\n'), sse([`data: b\n\n${END}`])],
    types: ['foo'],
    data: ['b', 'done'],
  },

  // Reconnection time
  {
    name: 'valid retry values set the delay',
    replies: [
      closes('retry: 20\ndata: a\n\n'),
      closes('retry:700\ndata: b\n\n'),
      closes('retry: 0\ndata: c\n\n'),
      sse([END]),
    ],
    data: ['a', 'b', 'c', 'done'],
    delays: [
      [0, 400],
      [600, 2500],
      [0, 400],
    ],
  },
  {
    name: 'invalid retry values are ignored',
    replies: [
      closes(
        'retry: 20\nretry: 2000x\nretry: 1.5\nretry: -1\nretry:  2000\nretry: 2e3\nretry: \u0662\u0660\u0660\u0660\nretry: +2000\ndata: a\n\n',
      ),
      sse([END]),
    ],
    data: ['a', 'done'],
    delays: [[0, 1000]],
  },
  {
    name: 'retry in an unfinished event still counts',
    replies: [closes('retry: 20\ndata: a\n\nretry: 700\ndata: part'), sse([END])],
    data: ['a', 'done'],
    delays: [[600, 2500]],
  },
  {
    name: 'retry on an unfinished line does not',
    replies: [closes('retry: 20\ndata: a\n\nretry: 700'), sse([END])],
    data: ['a', 'done'],
    delays: [[0, 500]],
  },
  {
    name: 'retry with leading zeros is decimal',
    replies: [closes('retry: 0700\ndata: a\n\n'), sse([END])],
    data: ['a', 'done'],
    delays: [[600, 2500]],
  },
  {
    name: 'empty retry is ignored',
    replies: [closes('retry: 20\nretry:\ndata: a\n\n'), sse([END])],
    data: ['a', 'done'],
    delays: [[0, 1000]],
    chromium: {
      why: "an empty retry resets the reconnection time to its default of 3s (the spec wants digits; undici's EventSource ignores it too)",
      delays: [[2500, 6000]],
    },
  },
  {
    name: 'retry beyond 64 bits',
    replies: [closes('retry: 20\nretry: 99999999999999999999999\ndata: a\n\n'), sse([END])],
    durationMs: 1500,
    data: ['a'],
    chromium: {
      why: 'a retry that overflows 64 bits is ignored (the spec sets any all-digit value)',
      log: [
        { kind: 'open' },
        message('a'),
        { kind: 'error', closed: false },
        { kind: 'open' },
        { kind: 'event', type: 'end', data: 'done', lastEventId: '' },
      ],
    },
  },
  {
    name: 'huge retry value',
    replies: [closes('retry: 20\nretry: 99999999999\ndata: a\n\n'), sse([END])],
    durationMs: 1500,
    data: ['a'],
  },

  // End of stream
  {
    name: 'stream ends mid-event',
    replies: [closes('retry: 20\ndata: a\n\ndata: partial\n'), sse([END])],
    data: ['a', 'done'],
  },
  {
    name: 'stream ends mid-line',
    replies: [closes('retry: 20\ndata: a\n\ndata: part'), sse([END])],
    data: ['a', 'done'],
  },
  {
    name: 'stream ends after a bare CR',
    replies: [closes('retry: 20\ndata: a\r'), sse([END])],
    data: ['done'],
  },
  {
    name: 'stream ends after a blank CR line',
    replies: [closes('retry: 20\ndata: a\r\r'), sse([END])],
    data: ['a', 'done'],
  },

  // Decoding
  {
    name: 'invalid UTF-8',
    replies: [
      sse([
        bytes(
          'data: a',
          [0xff],
          'b',
          [0xc3],
          'c',
          [0xe2, 0x82],
          'd',
          [0xed, 0xa0, 0x80],
          'e',
          [0xf4, 0x90, 0x80, 0x80],
          'f',
          [0xc0, 0xaf],
          'g',
          [0xf0, 0x9f, 0x98],
          '\n\n',
          END,
        ),
      ]),
    ],
    data: [
      'a\uFFFDb\uFFFDc\uFFFDd\uFFFD\uFFFD\uFFFDe\uFFFD\uFFFD\uFFFD\uFFFDf\uFFFD\uFFFDg\uFFFD',
      'done',
    ],
  },
  {
    name: 'UTF-8 split across chunks',
    replies: [
      sse(
        [
          'data: ',
          bytes([0xe2]),
          bytes([0x82, 0xac]),
          bytes(' ', [0xf0, 0x9f]),
          bytes([0x98, 0x80], '\n\n'),
          'data: ',
          bytes([0xe2, 0x82]),
          `\n\n${END}`,
        ],
        { pauseMs: 15 },
      ),
    ],
    data: ['\u20AC \u{1F600}', '\uFFFD', 'done'],
  },
  {
    // A field name with invalid UTF-8 is no known field; an id with it is sent back as UTF-8 of U+FFFD.
    name: 'invalid UTF-8 in field names, a type and an id',
    replies: [
      closes(
        bytes(
          'retry: 20\ndat',
          [0xff],
          'a: x\ndata',
          [0xc3],
          ': y\nid: q',
          [0xff],
          'r\nevent: t',
          [0xe2, 0x82],
          '\ndata: z\n\n',
        ),
      ),
      sse([END]),
    ],
    types: ['t\uFFFD'],
    data: ['z', 'done'],
  },
  {
    name: 'a body shorter than its Content-Length is a broken connection',
    replies: [
      {
        headers: { ...SSE, 'content-length': '100' },
        chunks: ['retry: 20\nid: 7\ndata: a\n\n'],
        then: 'destroy',
      },
      sse([END]),
    ],
    data: ['a', 'done'],
  },
  {
    name: 'bytes past the Content-Length are not the stream',
    replies: [
      {
        headers: { ...SSE, 'content-length': '23' },
        chunks: ['retry: 20\ndata: a\n\ndata: b\n\n'],
        then: 'end',
      },
      sse([END]),
    ],
    data: ['a', 'done'],
  },
  {
    name: 'large data',
    replies: [sse([`data: ${'x'.repeat(300_000)}\ndata: ${'y'.repeat(70_000)}\n\n`, END])],
    data: [`${'x'.repeat(300_000)}\n${'y'.repeat(70_000)}`, 'done'],
  },
  {
    name: 'many events in one chunk',
    replies: [
      sse([Array.from({ length: 500 }, (_, i) => `id: ${i}\ndata: ${i}\n\n`).join('') + END]),
    ],
    data: [...Array.from({ length: 500 }, (_, i) => String(i)), 'done'],
  },
  {
    name: 'gzip-encoded stream',
    replies: [
      sse([gzipSync(`id: 3\ndata: zipped\n\n${END}`)], {
        headers: { ...SSE, 'content-encoding': 'gzip' },
      }),
    ],
    data: ['zipped', 'done'],
  },
  {
    name: 'deflate-encoded stream, zlib-wrapped as HTTP says',
    replies: [
      sse([deflateSync(`data: zipped\n\n${END}`)], {
        headers: { ...SSE, 'content-encoding': 'deflate' },
      }),
    ],
    data: ['zipped', 'done'],
  },
  {
    name: 'deflate-encoded stream, raw deflate as many servers send it',
    replies: [
      sse([deflateRawSync(`data: zipped\n\n${END}`)], {
        headers: { ...SSE, 'content-encoding': 'deflate' },
      }),
    ],
    data: ['zipped', 'done'],
  },
  {
    name: 'Content-Encoding as a list, in any case: the last coding is undone first',
    replies: [
      sse([gzipSync(deflateSync(`data: zipped\n\n${END}`))], {
        headers: { ...SSE, 'content-encoding': 'Deflate , GZIP' },
      }),
    ],
    data: ['zipped', 'done'],
  },
  {
    name: 'identity in a Content-Encoding list',
    replies: [
      sse([gzipSync(`data: zipped\n\n${END}`)], {
        headers: { ...SSE, 'content-encoding': 'gzip, identity' },
      }),
    ],
    data: ['zipped', 'done'],
    durationMs: 500,
    chromium: {
      why: 'passes the whole body through undecoded when a coding in the list is one it does not know, identity included (url_request_http_job.cc), so it parses gzip bytes as text; identity means no coding (RFC 9110) and Firefox skips it',
      log: [{ kind: 'open' }],
    },
  },
  {
    // What was decoded before the cut is read; the rest of the event is lost, and both reconnect.
    name: 'gzip-encoded stream cut in the middle',
    replies: [
      {
        headers: GZIP_SSE,
        chunks: [
          cutInHalf(
            gzipSync(`retry: 20\ndata: a\n\ndata: ${randomBytes(3000).toString('base64')}\n\n`),
          ),
        ],
        then: 'end',
      },
      sse([gzipSync(`data: c\n\n${END}`)], { headers: GZIP_SSE }),
    ],
    data: ['a', 'c', 'done'],
  },

  // Responses
  { name: '204 on the first request', replies: [{ status: 204 }], data: [] },
  {
    name: '204 on reconnect stops',
    replies: [closes('retry: 20\nid: 9\ndata: a\n\n'), { status: 204 }],
    data: ['a'],
  },
  {
    // HTTP lets a server send them unasked; undici refused a 100 Continue ('bad response').
    name: 'informational responses before the response are skipped',
    replies: [sse([`data: a\n\n${END}`], { interim: ['100 Continue', '102 Processing'] })],
    data: ['a', 'done'],
  },
  {
    name: 'a 100 Continue before a reconnect',
    replies: [closes('retry: 20\nid: 1\ndata: a\n\n'), sse([END], { interim: ['100 Continue'] })],
    data: ['a', 'done'],
  },
  {
    name: '404 is fatal',
    replies: [{ status: 404, headers: SSE, chunks: [`data: a\n\n${END}`] }],
    data: [],
  },
  {
    name: '500 is fatal',
    replies: [{ status: 500, headers: { 'content-type': 'text/plain' }, chunks: ['oops'] }],
    data: [],
  },
  {
    name: '201 is fatal',
    replies: [{ status: 201, headers: SSE, chunks: [`data: a\n\n${END}`] }],
    data: [],
  },
  {
    name: '503 on reconnect is fatal',
    replies: [
      closes('retry: 20\ndata: a\n\n'),
      { status: 503, headers: SSE, chunks: ['retry: 20\n\n'] },
    ],
    data: ['a'],
  },
  // Ended: Chromium sniffs text/plain and untyped bodies, holding the response back until 1024 bytes or the end.
  {
    name: 'wrong content type is fatal',
    replies: [{ ...closes(`data: a\n\n${END}`), headers: { 'content-type': 'text/plain' } }],
    data: [],
  },
  {
    name: 'missing content type is fatal',
    replies: [{ ...closes(`data: a\n\n${END}`), headers: {} }],
    data: [],
  },
  {
    name: 'wrong content type on reconnect is fatal',
    replies: [
      closes('retry: 20\ndata: a\n\n'),
      sse([`data: b\n\n${END}`], { headers: { 'content-type': 'text/html' } }),
    ],
    data: ['a'],
  },
  {
    name: 'content type with charset',
    replies: [
      sse([`data: a\n\n${END}`], {
        headers: { 'content-type': 'text/event-stream; charset=utf-8' },
      }),
    ],
    data: ['a', 'done'],
  },
  {
    name: 'content type with a trailing semicolon',
    replies: [sse([`data: a\n\n${END}`], { headers: { 'content-type': 'text/event-stream;' } })],
    data: ['a', 'done'],
  },
  {
    name: 'content type with a quoted charset',
    replies: [
      sse([`data: a\n\n${END}`], {
        headers: { 'content-type': 'text/event-stream; charset="utf-8"' },
      }),
    ],
    data: ['a', 'done'],
  },
  {
    name: 'content type with a longer subtype is fatal',
    replies: [
      { ...closes(`data: a\n\n${END}`), headers: { 'content-type': 'text/event-stream-foobar' } },
    ],
    data: [],
  },
  {
    name: 'two Content-Type headers',
    replies: [
      sse([`data: a\n\n${END}`], {
        headers: { 'content-type': ['text/html', 'text/event-stream'] },
      }),
    ],
    data: ['a', 'done'],
  },
  {
    name: 'Content-Type list, the last valid one counts',
    replies: [
      sse([`data: a\n\n${END}`], {
        headers: { 'content-type': 'text/plain;a=",", text/event-stream, nonsense' },
      }),
    ],
    data: ['a', 'done'],
  },
  {
    name: 'Content-Type list ending in another type is fatal',
    replies: [
      {
        ...closes(`data: a\n\n${END}`),
        headers: { 'content-type': 'text/event-stream, text/html' },
      },
    ],
    data: [],
  },
  {
    name: 'content type in capitals',
    replies: [
      sse([`data: a\n\n${END}`], {
        headers: { 'content-type': 'Text/Event-Stream;Charset=UTF-8' },
      }),
    ],
    data: ['a', 'done'],
  },
  {
    name: 'charset other than UTF-8 is ignored',
    replies: [
      sse([`data: \u00E9\n\n${END}`], {
        headers: { 'content-type': 'text/event-stream; charset=windows-1252' },
      }),
    ],
    data: ['\u00E9', 'done'],
    chromium: {
      why: 'fails the connection when charset is not utf-8; the spec decodes every stream as UTF-8 whatever the charset (WPT eventsource/format-utf-8)',
      log: [{ kind: 'error', closed: true }],
    },
  },
  {
    // whatwg/html#503: redirects change the request's URL, and a reconnect fetches that request again.
    name: 'redirect, and reconnect to the final URL',
    replies: [{ status: 307, headers: { location: 'next' } }],
    below: { next: [closes('retry: 20\nid: 1\ndata: a\n\n'), sse([END])] },
    data: ['a', 'done'],
  },
  {
    // Servers write a Location as UTF-8 bytes, not percent-encoded.
    name: 'redirect to a path in UTF-8',
    replies: [
      { status: 302, headers: { location: Buffer.from('caf\u00E9?q=\u00E9').toString('latin1') } },
    ],
    below: { 'caf\u00E9': [closes('retry: 20\ndata: a\n\n'), sse([END])] },
    data: ['a', 'done'],
  },
  {
    // Fetch gives up after 20 redirects with a network error, which a reconnect retries.
    name: 'redirect loop while reconnecting is retried',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      { status: 302, headers: { location: 'loop' } },
      sse([`data: b\n\n${END}`]),
    ],
    below: { loop: [{ status: 302, headers: { location: 'loop' } }] },
    data: ['a', 'b', 'done'],
    delays: [
      [0, 1000],
      [0, 1000],
    ],
  },
  {
    // Sticky sessions (a load balancer's cookie) rely on it: the reconnect goes to the same node.
    name: 'cookies a stream sets are sent on the reconnect, until deleted',
    replies: [
      {
        headers: { ...SSE, 'set-cookie': ['lb=node7', 'gone=1', 'elsewhere=1; Path=/other'] },
        chunks: ['retry: 20\ndata: a\n\n'],
        then: 'end',
      },
      {
        headers: { ...SSE, 'set-cookie': 'gone=; Max-Age=0' },
        chunks: ['data: b\n\n'],
        then: 'end',
      },
      sse([END]),
    ],
    data: ['a', 'b', 'done'],
  },
  {
    name: "a redirect's cookie is sent to its target and on the reconnect",
    replies: [{ status: 302, headers: { location: 'next', 'set-cookie': 'hop=1' } }],
    below: { next: [closes('retry: 20\ndata: a\n\n'), sse([END])] },
    data: ['a', 'done'],
  },
  // Reconnects: what the last-event-ID buffer, retry and the response of a reconnect do to the next one
  {
    name: 'an empty id clears the Last-Event-ID of the reconnect',
    replies: [closes('retry: 20\nid: 1\ndata: a\n\nid\ndata: b\n\n'), sse([`data: c\n\n${END}`])],
    data: ['a', 'b', 'c', 'done'],
  },
  {
    name: 'an id with NUL leaves the Last-Event-ID of the reconnect',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\nid: 2\0\ndata: b\n\n'),
      sse([`data: c\n\n${END}`]),
    ],
    data: ['a', 'b', 'c', 'done'],
  },
  {
    name: 'the last retry of a stream sets the delay',
    replies: [
      closes('retry: 900\ndata: a\n\nretry: 20\ndata: b\n\n'),
      closes('retry: 700\ndata: c\n\n'),
      sse([END]),
    ],
    data: ['a', 'b', 'c', 'done'],
    delays: [
      [0, 400],
      [600, 2500],
    ],
  },
  {
    name: 'a redirect on the reconnect only, and the next reconnect to its target',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      { status: 307, headers: { location: 'next' } },
    ],
    below: { next: [closes('id: 2\ndata: b\n\n'), sse([END])] },
    data: ['a', 'b', 'done'],
  },
  {
    name: 'a reconnect answered with headers, then silence',
    replies: [closes('retry: 20\nid: 1\ndata: a\n\n'), sse([])],
    durationMs: 1000,
    data: ['a'],
  },
  {
    name: '503 with Retry-After on reconnect is fatal',
    replies: [
      closes('retry: 20\ndata: a\n\n'),
      { status: 503, headers: { ...SSE, 'retry-after': '0' } },
    ],
    data: ['a'],
  },
  {
    // Fetch makes it a network error, which a reconnect retries as any other.
    name: 'a redirect to a URL that is not http(s) while reconnecting is retried',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      { status: 302, headers: { location: 'ftp://127.0.0.1/x' } },
      sse([`data: b\n\n${END}`]),
    ],
    data: ['a', 'b', 'done'],
    chromium: {
      why: 'fails the connection, as for a response that is not HTTP: the spec lets a user agent do so when it knows reconnecting to be futile, but the probe retries every network error',
      log: [
        { kind: 'open' },
        message('a', '1'),
        { kind: 'error', closed: false },
        { kind: 'error', closed: true },
      ],
    },
  },
  {
    name: 'a redirect with an empty Location',
    replies: [{ status: 307, headers: { location: '' } }],
    data: [],
    chromium: {
      why: 'takes a redirect with an empty Location for a refusal; fetch follows it to the same URL, round and round until its limit: a network error, which on the first connection ends the probe (connect-failed)',
      log: [{ kind: 'error', closed: true }],
    },
  },
  {
    name: 'a redirect without a Location while reconnecting is fatal',
    replies: [
      closes('retry: 20\nid: 1\ndata: a\n\n'),
      { status: 302, headers: {} },
      sse([`data: b\n\n${END}`]),
    ],
    data: ['a'],
  },
  {
    name: 'permanent redirect, twice',
    replies: [{ status: 301, headers: { location: 'one' } }],
    below: {
      one: [{ status: 308, headers: { location: 'two' } }],
      two: [closes('retry: 20\ndata: a\n\n'), sse([END])],
    },
    data: ['a', 'done'],
  },
]

const available = chromiumInstalled()
// In CI a missing browser is a broken setup, not a reason to skip.
const inCi = ![undefined, '', '0', 'false'].includes(process.env.CI)
if (!available && !inCi)
  console.warn(
    `browser differential tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or run .ci/run)`,
  )

it.runIf(!available && inCi)('finds Chromium (CI must have it)', () => {
  throw new Error(
    `CI is set but there is no Chromium at ${CHROMIUM_PATH}: .ci/run installs it with apt-get`,
  )
})

describe.skipIf(!available)(
  "sse-probe and Chromium's EventSource see the same stream",
  { concurrent: true },
  () => {
    let browser: Awaited<ReturnType<typeof launchChromium>>
    let server: Awaited<ReturnType<typeof startDifferentialServer>>

    // A browser that will not start fails every scenario: an error in a hook alone reads as "0 failed".
    let setupError: unknown
    beforeAll(async () => {
      try {
        server = await startDifferentialServer(scenarios)
        browser = await launchChromium()
        await browser.page.goto(`${server.url}/`)
      } catch (error) {
        setupError = error
      }
    }, 60_000)

    afterAll(async () => {
      await browser?.close()
      await server?.close()
    })

    for (const scenario of scenarios) {
      it(scenario.name, async ({ expect }) => {
        if (setupError) throw setupError
        const probeArgs = [
          '--json',
          '--timeout',
          '10s',
          ...(scenario.durationMs ? ['--duration', `${scenario.durationMs}ms`] : []),
        ]
        const [seen, run] = await Promise.all([
          runInBrowser(browser.page, server.streamUrl(scenario.name, 'browser'), scenario),
          runCli([server.streamUrl(scenario.name, 'probe'), ...probeArgs]),
        ])
        expect(seen.how, 'the page timed out').not.toBe('timeout')
        expect(run.summary.reason, run.stderr).not.toBe('timeout')
        const probe = probeEntries(run.records)
        const dataOf = (entries: Entry[]) =>
          abbreviate(entries).flatMap((e) => (e.kind === 'event' ? [e.data] : []))
        expect(dataOf(probe), "the probe's events against the spec").toEqual(
          dataOf(scenario.data.map((data) => message(data))),
        )
        const delays = (client: Client) => reconnectDelays(server.requests(scenario.name, client))
        expectDelays(delays('probe'), scenario.delays, 'probe')

        if (scenario.chromium) {
          if (scenario.chromium.log)
            expect(abbreviate(seen.log), `Chromium ${scenario.chromium.why}`).toEqual(
              scenario.chromium.log,
            )
          expectDelays(
            delays('browser'),
            scenario.chromium.delays,
            `Chromium ${scenario.chromium.why}`,
          )
          return
        }
        expect(abbreviate(probe), 'the probe against Chromium').toEqual(abbreviate(seen.log))
        const requests = (client: Client) =>
          server.requests(scenario.name, client).map(({ at, endedAt, ...request }) => request)
        expect(requests('probe'), 'requests').toEqual(requests('browser'))
        expectDelays(delays('browser'), scenario.delays, 'Chromium')

        function expectDelays(measured: number[], expected: Delays | undefined, who: string) {
          for (const [i, [min, max]] of (expected ?? []).entries()) {
            expect(measured[i], `${who}: reconnect ${i + 1} delay`).toBeGreaterThanOrEqual(min)
            expect(measured[i], `${who}: reconnect ${i + 1} delay`).toBeLessThanOrEqual(max)
          }
        }
      })
    }
  },
)
