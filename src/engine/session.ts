import { type EndReason, roundMs, type SummaryCounts } from './records.ts'
import { createGapStats } from './stats.ts'

export interface SessionOptions {
  pingEvent: string
  /** Types counted by name even past MAX_EVENT_TYPES, because an expectation asks about them. */
  expectedEvents?: readonly string[]
  endEvents: readonly string[]
  endData: readonly string[]
  maxEvents?: number
  dataPatterns: readonly RegExp[]
  /** false: no gap percentiles (`load` keeps only counters per connection; they take up to 32 KiB). */
  gaps?: boolean
}

/** What a session has seen, as the summary and the expectations need it. */
export interface SessionStats extends SummaryCounts {
  /** The longest silence between messages (events, pings, comments), counted from each open. */
  maxSilenceMs: number
  /** Per --expect-data pattern: how many events' data it matched. */
  dataMatches: number[]
}

// A server that puts a unique value in `event:` must not make the summary (and memory) grow per event.
export const MAX_EVENT_TYPES = 100
// Nor one that sends types of megabytes: a hundred of them, each kept as a key, took GBs and
// made the summary longer than a string can be (an internal error, exit 70).
export const MAX_COUNTED_TYPE_LENGTH = 256
export const OTHER_EVENT_TYPES = '(other types)'

/**
 * Counts, gaps and end conditions. Pure: the caller passes the time of each
 * observation, so it is tested without sockets or clocks.
 */
export function createSession(options: SessionOptions) {
  const endEvents = new Set(options.endEvents)
  const expectedEvents = new Set(options.expectedEvents)
  const { endData, pingEvent } = options
  const eventsByType = new Map<string, number>()
  const gaps = options.gaps === false ? undefined : createGapStats()
  const { dataPatterns } = options
  const dataMatches = dataPatterns.map(() => 0)
  let events = 0
  let pings = 0
  let comments = 0
  let reconnects = 0
  let connections = 0
  let bytes = 0
  let firstEventMs: number | null = null
  // The times written on every event live in a typed array: a closure variable holding a
  // fraction is boxed anew on each write, which for millions of events is measurable garbage.
  // NaN stands for "none": no event yet, or (for the last message) no connection open, as the
  // wait before a reconnect is not the server's silence.
  const clock = new Float64Array([NaN, NaN, 0, NaN])
  const LAST_EVENT_AT = 0
  const LAST_MESSAGE_AT = 1
  const MAX_SILENCE = 2
  /** The last event's dt; NaN for null. */
  const DT = 3

  function message(t: number) {
    const silence = t - clock[LAST_MESSAGE_AT]!
    if (silence > clock[MAX_SILENCE]!) clock[MAX_SILENCE] = silence
    clock[LAST_MESSAGE_AT] = t
  }

  return {
    /**
     * Milliseconds between the last event and the one before it (null for the first). A method: an
     * object literal with a getter is kept as a dictionary, and every call on it looked up.
     */
    dt() {
      const dt = clock[DT]!
      return Number.isNaN(dt) ? null : dt
    },
    open(t: number) {
      connections++
      clock[LAST_MESSAGE_AT] = t
    },
    closed(t: number) {
      message(t)
      clock[LAST_MESSAGE_AT] = NaN
    },
    reconnecting() {
      reconnects++
    },
    bytes(count: number) {
      bytes += count
    },
    comment(t: number) {
      comments++
      pings++
      message(t)
    },
    /**
     * Counts an event at time t; returns the end reason it triggers, if any. Its gap to the
     * previous event is then `dt` (arguments, not a record: with -q no record is ever made).
     */
    event(t: number, event: string, data: string): EndReason | undefined {
      events++
      if (event === pingEvent) pings++
      const count = eventsByType.get(event)
      if (count !== undefined) eventsByType.set(event, count + 1)
      else if (
        (eventsByType.size < MAX_EVENT_TYPES && event.length <= MAX_COUNTED_TYPE_LENGTH) ||
        expectedEvents.has(event)
      )
        eventsByType.set(event, 1)
      else eventsByType.set(OTHER_EVENT_TYPES, (eventsByType.get(OTHER_EVENT_TYPES) ?? 0) + 1)
      message(t)
      const lastEventAt = clock[LAST_EVENT_AT]!
      if (Number.isNaN(lastEventAt)) {
        firstEventMs = t
        clock[DT] = NaN
      } else {
        // Events of one chunk share their time: no subtraction (and no rounding) for them.
        const dt = t === lastEventAt ? 0 : roundMs(t - lastEventAt)
        clock[DT] = dt
        gaps?.add(dt)
      }
      clock[LAST_EVENT_AT] = t
      for (let i = 0; i < dataPatterns.length; i++) {
        const pattern = dataPatterns[i]!
        // Each event is tested afresh: a /g or /y pattern (the library takes a RegExp) would
        // otherwise start at the lastIndex the previous event's match left, and miss this one.
        pattern.lastIndex = 0
        if (pattern.test(data)) dataMatches[i]!++
      }
      if (endEvents.has(event)) return 'end-event'
      // Compared only when the lengths match: hashing every large payload for a Set lookup is not free.
      if (
        endData.length > 0 &&
        endData.some((text) => text.length === data.length && text === data)
      )
        return 'end-data'
      if (options.maxEvents !== undefined && events >= options.maxEvents) return 'max-events'
      return undefined
    },
    /** The statistics at time t; a connection still open counts its silence so far. */
    stats(t: number): SessionStats {
      const silence = t - clock[LAST_MESSAGE_AT]!
      return {
        events,
        eventsByType: Object.fromEntries(eventsByType),
        pings,
        comments,
        connections,
        reconnects,
        bytes,
        firstEventMs,
        gapMs: gaps?.result() ?? null,
        maxSilenceMs: roundMs(silence > clock[MAX_SILENCE]! ? silence : clock[MAX_SILENCE]!),
        dataMatches,
      }
    },
  }
}
