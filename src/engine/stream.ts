import { constants } from 'node:buffer'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { createCommentText } from './comment-text.ts'
import { escapeRegex } from './escape.ts'
import { createUtf8Decoder } from './utf8.ts'

export interface StreamCallbacks {
  /** Positional rather than an object: this runs once per event, and the caller builds its own record. */
  onEvent(type: string, id: string | null, data: string, lastEventId: string): void
  onComment(text: string): void
  onRetry(ms: number): void
  /** A retry field that is not digits only, which the spec ignores (`retry: 5s`). */
  onInvalidRetry?(value: string): void
  /** A line or event grew past maxEventSize; says what was received. Nothing more is parsed until end(). */
  onTooLarge(message: string): void
}

/**
 * Events of one type whose data one regular expression matches, which the stream reads without
 * its line parser (see EventStream.knownBlocks).
 */
export interface KnownBlocks {
  type: string
  /** The source of an expression that matches such data exactly (one line: it must match no LF). */
  data: string
  /** The data of the event read this way that is being passed on (undefined once the read is over). */
  last: string | undefined
}

export interface EventStream {
  /** Bytes of the response body, in order; decoded as UTF-8 across chunk boundaries. */
  feed(bytes: Uint8Array): void
  /**
   * From the next feed on, blocks that are exactly such an event (an `event: type` line unless
   * the type is `message`, one `data: ` line, a blank line; LF) are read at once when the parser
   * is between blocks, in a chunk without CR, giving the same events: an LLM answer's deltas (see
   * withTemplates). Undefined: no more. Throws on a type that is no event's or a source that is
   * not an expression of its own.
   */
  knownBlocks(blocks: KnownBlocks | undefined): void
  /**
   * The body ended or broke. Returns the data and type of an event that was still incomplete,
   * which is discarded as the spec says, or the type of a last block that had no data (no event
   * either: see datalessLastType), and readies the parser for the next connection.
   */
  end(): { discardedData?: string; discardedType?: string; datalessType?: string }
  /**
   * The last-event-ID buffer: persists across events and reconnects, changed only by `id:`. A
   * method: an object literal with a getter is kept as a dictionary, and every feed() looked up.
   */
  lastEventId(): string
}

// V8's longest string is 2^29 - 24 characters: past it the parser's joining of a line, or of an
// event's data lines, throws, and so does a record or a pretty block whose escapes make an event
// up to 6 times longer (a control character is \u0001 in JSON). An eighth leaves room for all,
// whatever --max-event-size allows.
const MAX_HELD = Math.floor(constants.MAX_STRING_LENGTH / 8)
// Characters of the stream's end read for its last block: an `event: end` block is a few dozen.
const TAIL = 1024

export function createEventStream(
  callbacks: StreamCallbacks,
  /** exactComments: recover the space after a comment's colon (costs a scan of each chunk with a comment). */
  options: { lastEventId: string; maxEventSize: number; exactComments?: boolean },
): EventStream {
  let lastEventId = options.lastEventId
  // Set while end() flushes the parser: what it dispatches then was never complete.
  let discarding: EventSourceMessage | undefined | false = false
  // [spec] the stream is UTF-8, and the decoder drops one leading BOM (also split across chunks).
  let decoder = createUtf8Decoder()
  let tooLarge = false
  const commentText = options.exactComments === false ? undefined : createCommentText()
  const types = createTypeTable()
  // The stream's last characters, TAIL to twice as many, where its last block is (datalessLastType;
  // read from its last TAIL whatever the chunks, so that the chunking never changes a result), and
  // how many it had. A long chunk replaces them; short ones are joined, cut back to TAIL only past
  // twice as many: a copy per chunk cost ~0.5 µs (+60 % on a stream of small chunks).
  let recent = ''
  let received = 0

  const held = Math.min(options.maxEventSize, MAX_HELD)
  const parser = createParser({
    maxBufferSize: held,
    // [spec] an id field sets the last-event-ID buffer, even in a block without data.
    onId(id) {
      if (reading()) lastEventId = id
    },
    onEvent(message) {
      if (discarding !== false) {
        discarding = message
        return
      }
      const type = message.event === undefined ? 'message' : types.of(message.event)
      dispatch(type, message.id ?? null, message.data)
    },
    // [spec] at the end of the stream an incomplete line is discarded, whatever its field.
    onComment(text) {
      if (reading()) callbacks.onComment(commentText ? commentText.text(text) : text)
    },
    onRetry(ms) {
      // Over 308 digits parse as Infinity, which JSON cannot hold (a record would say null): the
      // largest number waits as long.
      if (reading()) callbacks.onRetry(Math.min(ms, Number.MAX_VALUE))
    },
    onError(error) {
      if (error.type === 'invalid-retry' && reading()) callbacks.onInvalidRetry?.(error.value ?? '')
      if (error.type === 'max-buffer-size-exceeded')
        reportTooLarge(
          held < options.maxEventSize
            ? `more than ${held} characters of a line or event that had not ended, the most sse-probe can hold`
            : `more than ${options.maxEventSize} bytes of a line or event that had not ended`,
        )
    },
  })

  // Nothing more is passed on after a too-large event until end(), whatever the parser still
  // reads of the same chunk (so that it does not depend on where the chunk ends); nor while end()
  // flushes the parser.
  const reading = () => discarding === false && !tooLarge

  function dispatch(type: string, id: string | null, data: string) {
    if (tooLarge) return
    // The parser's limit counts UTF-16 units; an event of multi-byte characters may pass it and still be too large.
    if (data.length * 3 > options.maxEventSize) {
      const bytes = Buffer.byteLength(data)
      if (bytes > options.maxEventSize) return reportTooLarge(`an event of ${bytes} bytes`)
    }
    callbacks.onEvent(type, id, data, lastEventId)
  }

  /** Text for the parser, with what recovers comments' exact text around it. */
  function parse(text: string) {
    commentText?.beforeFeed(text)
    parser.feed(text)
    commentText?.afterFeed()
  }

  // Known blocks: the expression of a whole block (sticky), the type as the parser's events have
  // it, where a block's data starts, and whether the parser is between blocks (what it was fed
  // ended with a blank line).
  let known: { blocks: KnownBlocks; block: RegExp; type: string; dataFrom: number } | undefined
  let betweenBlocks = true

  /**
   * Reads the known blocks of a text without CR where the parser is between blocks, and gives it
   * the rest, each time up to a blank line (where it is between blocks again) or the end.
   */
  function readKnown(text: string, { blocks, block, type, dataFrom }: NonNullable<typeof known>) {
    let at = 0
    if (!betweenBlocks) {
      at = blockEnd(text, 0)
      if (at === -1) return parse(text)
      parse(text.slice(0, at))
    }
    let misses = 0
    while (at < text.length && !tooLarge) {
      block.lastIndex = at
      if (test(block, text)) {
        const end = block.lastIndex
        const from = at + dataFrom
        // One line of data, as the expression must match (a caller's might match an LF).
        if (text.indexOf('\n', from) === end - 2) {
          misses = 0
          const data = text.slice(from, end - 2)
          blocks.last = data
          dispatch(type, null, data)
          at = end
          continue
        }
      }
      // Blocks of other shapes in a row (deltas with escapes, say): the parser reads the rest.
      if (++misses === MISSES_IN_A_ROW) break
      const next = blockEnd(text, at)
      if (next === -1) break
      parse(text.slice(at, next))
      at = next
    }
    if (at < text.length && !tooLarge) parse(at === 0 ? text : text.slice(at))
    betweenBlocks = at >= text.length || text.endsWith('\n\n')
    // A slice of the read: kept, it would keep the whole read (`load` holds thousands of streams).
    blocks.last = undefined
  }

  // The parser strips a leading BOM itself, but also the characters "ï»¿" (a BOM read as Latin-1),
  // which are ordinary text in a decoded stream: giving it a BOM first disarms that check.
  const startStream = () => parser.feed('\uFEFF')
  startStream()

  function reportTooLarge(received: string) {
    if (tooLarge) return
    tooLarge = true
    callbacks.onTooLarge(`received ${received} (--max-event-size ${options.maxEventSize})`)
  }

  return {
    feed(bytes) {
      if (tooLarge) return
      const text = decoder.decode(bytes)
      received += text.length
      if (text.length >= TAIL) recent = text
      else recent = (recent.length > 2 * TAIL ? recent.slice(-TAIL) : recent) + text
      if (known === undefined) parse(text)
      else if (!text.includes('\r')) readKnown(text, known)
      else {
        // The parser's alone: with a CR in its input, it checks the size of each data line it
        // reads (and says "more than N bytes … not ended" where it would else say "an event of").
        parse(text)
        betweenBlocks = false
      }
    },
    knownBlocks(blocks) {
      // What the parser was fed before is unknown here: it is between blocks after a blank line.
      betweenBlocks = false
      if (blocks === undefined) {
        known = undefined
        return
      }
      if (blocks.type === '' || /[\r\n]/.test(blocks.type))
        throw new TypeError(`knownBlocks: not an event type: ${JSON.stringify(blocks.type)}`)
      // A source that is not an expression of its own (unbalanced) would change the block's.
      new RegExp(blocks.data)
      const typeLine = blocks.type === 'message' ? '' : `event: ${blocks.type}\n`
      known = {
        blocks,
        block: new RegExp(`${escapeRegex(typeLine)}data: (?:${blocks.data})\\n\\n`, 'y'),
        type: types.of(blocks.type),
        dataFrom: typeLine.length + 'data: '.length,
      }
    },
    end() {
      let discarded: EventSourceMessage | undefined
      let datalessType: string | undefined
      if (!tooLarge) {
        const rest = decoder.end()
        discarding = undefined
        // Two line ends complete whatever block was pending, so the parser shows it to us.
        parser.feed(`${rest}\n\n`)
        discarded = discarding as EventSourceMessage | undefined
        if (!discarded) {
          const end = recent + rest
          const fromStart = received + rest.length <= TAIL
          datalessType = datalessLastType(fromStart ? end : end.slice(-TAIL), fromStart)
        }
      }
      recent = ''
      received = 0
      betweenBlocks = true
      discarding = false
      tooLarge = false
      parser.reset()
      startStream()
      commentText?.reset()
      decoder = createUtf8Decoder()
      if (!discarded) return datalessType === undefined ? {} : { datalessType }
      return { discardedData: discarded.data, discardedType: discarded.event ?? 'message' }
    },
    lastEventId() {
      return lastEventId
    },
  }
}

// Known blocks missed in a row after which the parser reads the rest of a network read: each costs
// a test, a search for its end and a call of the parser of its own.
const MISSES_IN_A_ROW = 2

/** A known block's test, false where V8 gives up (a caller's expression that backtracks too much throws). */
function test(block: RegExp, text: string): boolean {
  try {
    return block.test(text)
  } catch {
    return false
  }
}

/** Where the first blank line from `from` of a text without CR ends, or -1. */
function blockEnd(text: string, from: number): number {
  const at = text.indexOf('\n\n', from)
  return at === -1 ? -1 : at + 2
}

/**
 * The type of the stream's last block when it was complete and had an `event` field but no
 * `data` (sse-starlette's `ServerSentEvent(event="end")`): no event, for the spec and for
 * browsers, which whoever sent it would not guess. `text`: the stream's end; `fromStart`: all of it.
 */
export function datalessLastType(text: string, fromStart: boolean): string | undefined {
  const lines = text.split(/\r\n|\r|\n/)
  let last = lines.length - 1
  while (last >= 0 && lines[last] === '') last--
  // Complete: a blank line after it (the split gives one '' per line end past the last line).
  if (last < 0 || lines.length - 1 - last < 2) return undefined
  let first = last
  while (first > 0 && lines[first - 1] !== '') first--
  // Without the stream's start, the text's first line may be the end of an earlier one (even of
  // the block's own: the LF of a CRLF), so only a blank line after it shows where the block began.
  if (first < 2 && !fromStart) return undefined
  let type: string | undefined
  for (const line of lines.slice(first, last + 1)) {
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    if (field === 'data') return undefined
    if (field === 'event') type = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
  }
  return type === '' ? 'message' : type
}

// Types kept, past which a type is passed on as it came (a server may send a new one each
// event), and the longest kept (a server may send megabytes of one).
const MAX_TYPES = 256
const MAX_TYPE_LENGTH = 256

/**
 * One string for each event type. The parser slices a type from the stream (a string of its own
 * for each event, which V8 compares by a call into its runtime, character by character); each
 * event's type is counted by name in a map and compared by the LLM profile's templates. One
 * lookup here makes those compare by identity.
 */
function createTypeTable() {
  const types = new Map<string, string>()
  return {
    of(type: string): string {
      if (type.length > MAX_TYPE_LENGTH) return type
      const known = types.get(type)
      if (known !== undefined || types.size >= MAX_TYPES) return known ?? type
      // A copy, not the slice: it would keep the whole decoded chunk it came from.
      const kept: string = JSON.parse(JSON.stringify(type))
      types.set(kept, kept)
      return kept
    },
  }
}
