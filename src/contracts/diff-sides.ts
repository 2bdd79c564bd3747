import { constants } from 'node:buffer'
import { type DiffOptions, type Side, type StreamEvent, sideFromRecords } from './diff.ts'
import {
  createEventStream,
  fileName,
  fileProblem,
  type ProbeRecord,
  readFileOrStdin,
  readTranscript,
  type SummaryRecord,
  UsageError,
} from './engine.ts'

/** A side that could not be read or probed: exit 3, as for a probe that cannot connect. */
export class SideUnreadable extends Error {
  override name = 'SideUnreadable'
}

/**
 * Whether a probe (live, or the one a transcript recorded) could not read the stream: exit 3
 * (no connection, a refused response), except for a provider's streamed error, which was read and
 * is an event to compare like any other.
 */
export const probeFailed = (summary: Pick<SummaryRecord, 'exitCode' | 'reason'>) =>
  summary.exitCode === 3 && summary.reason !== 'stream-error'

/**
 * A file side: a transcript (`--record`, JSON lines) or a raw capture
 * (`--format raw`, `.sse`), told apart as `serve` does, by a first `{`.
 */
export async function readSideFile(
  argument: string,
  options: Pick<DiffOptions, 'pings' | 'pingEvent'>,
  /** Aborted by Ctrl-C: a pipe or stdin whose writer has not finished is not waited for. */
  signal?: AbortSignal,
): Promise<Side> {
  const file = fileName(argument)
  let bytes: Buffer
  // Its text (a transcript), or its longest event (a capture), must fit in one string.
  const tooLarge = (size: number) =>
    new SideUnreadable(
      `cannot read ${file}: ${size} bytes, more than the ${constants.MAX_STRING_LENGTH} diff can compare`,
    )
  try {
    // `diff <(command) golden.ndjson` and `-` are read in the event loop, so Ctrl-C still works.
    bytes = await unlessAborted(
      readFileOrStdin(argument, constants.MAX_STRING_LENGTH, tooLarge),
      file,
      signal,
    )
  } catch (error) {
    // A usage error (stdin a terminal) is exit 2.
    if (error instanceof SideUnreadable || error instanceof UsageError) throw error
    throw new SideUnreadable(`cannot read ${file}: ${fileProblem(error)}`)
  }
  const text = bytes.toString('utf8')
  if (
    text
      .replace(/^\uFEFF/, '')
      .trimStart()
      .startsWith('{')
  ) {
    let records: ProbeRecord[]
    try {
      records = readTranscript(text, file)
    } catch (error) {
      if (error instanceof UsageError) throw new SideUnreadable(error.message)
      throw error
    }
    const summary = records.findLast((r) => r.type === 'summary')
    if (summary && probeFailed(summary))
      throw new SideUnreadable(
        `${file}: the recorded probe failed (${summary.reason}, exit 3): ${summary.message ?? summary.reason}`,
      )
    return sideFromRecords(file, records, options)
  }
  const events = readCapture(bytes, options)
  if (!events)
    throw new SideUnreadable(
      text.trim() === ''
        ? `${file}: the file is empty`
        : `${file}: neither a transcript (--record) nor a raw capture (--format raw): no event or comment in it`,
    )
  return { label: file, events, timing: null }
}

/** What `reading` resolves to, unless the signal aborts first. */
function unlessAborted<T>(reading: Promise<T>, file: string, signal?: AbortSignal): Promise<T> {
  if (!signal) return reading
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new SideUnreadable(`${file}: interrupted before it was read`))
    if (signal.aborted) return abort()
    signal.addEventListener('abort', abort, { once: true })
    reading.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}

/**
 * The events of a raw capture, without timing: what a browser would dispatch, the end of the file
 * ending the last one. Undefined when nothing in it is an event stream's (no event, no comment, no
 * retry): an empty file, or not a capture at all, rather than a stream that sent nothing.
 */
function readCapture(
  bytes: Uint8Array,
  options: Pick<DiffOptions, 'pings' | 'pingEvent'>,
): StreamEvent[] | undefined {
  const events: StreamEvent[] = []
  let sse = false
  const stream = createEventStream(
    {
      onEvent(event, id, data) {
        sse = true
        if (options.pings || event !== options.pingEvent)
          events.push({ event, id, data, t: null, attempt: 1 })
      },
      onComment(text) {
        sse = true
        if (options.pings)
          events.push({ event: '(comment)', id: null, data: text, t: null, attempt: 1 })
      },
      onRetry() {
        sse = true
      },
      onTooLarge() {},
    },
    { lastEventId: '', maxEventSize: Number.POSITIVE_INFINITY },
  )
  stream.feed(bytes)
  stream.feed(new TextEncoder().encode('\n\n'))
  stream.end()
  return sse ? events : undefined
}
