import { createGapStats } from './stats.ts'
import { roundMs, type EndReason, type EventRecord, type SummaryCounts } from './records.ts'

export interface SessionOptions {
  pingEvent: string
  /** Types counted by name even past MAX_EVENT_TYPES, because an expectation asks about them. */
  expectedEvents?: readonly string[]
  endEvents: readonly string[]
  endData: readonly string[]
  maxEvents?: number
  dataPatterns: readonly RegExp[]
}

/** What a session has seen, as the summary and the expectations need it. */
export interface SessionStats extends SummaryCounts {
  /** The longest silence between messages (events, pings, comments), counted from each open. */
  maxSilenceMs: number
  dataMatched: boolean[]
}

// A server that puts a unique value in `event:` must not make the summary (and memory) grow per event.
export const MAX_EVENT_TYPES = 100
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
  const gaps = createGapStats()
  const dataMatched = options.dataPatterns.map(() => false)
  let unmatchedPatterns = dataMatched.length
  let events = 0
  let pings = 0
  let comments = 0
  let reconnects = 0
  let bytes = 0
  let firstEventMs: number | null = null
  let lastEventAt: number | undefined
  // undefined while no connection is open: the wait before a reconnect is not the server's silence.
  let lastMessageAt: number | undefined
  let maxSilenceMs = 0

  function message(t: number) {
    if (lastMessageAt !== undefined) maxSilenceMs = Math.max(maxSilenceMs, t - lastMessageAt)
    lastMessageAt = t
  }

  return {
    open(t: number) {
      lastMessageAt = t
    },
    closed(t: number) {
      message(t)
      lastMessageAt = undefined
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
    /** Counts an event and fills in its `dt`; returns the end reason it triggers, if any. */
    event(record: EventRecord): EndReason | undefined {
      const { t, event, data } = record
      events++
      if (event === pingEvent) pings++
      const count = eventsByType.get(event)
      if (count !== undefined) eventsByType.set(event, count + 1)
      else if (eventsByType.size < MAX_EVENT_TYPES || expectedEvents.has(event)) eventsByType.set(event, 1)
      else eventsByType.set(OTHER_EVENT_TYPES, (eventsByType.get(OTHER_EVENT_TYPES) ?? 0) + 1)
      message(t)
      if (lastEventAt === undefined) firstEventMs = t
      else gaps.add((record.dt = roundMs(t - lastEventAt)))
      lastEventAt = t
      if (unmatchedPatterns > 0) {
        options.dataPatterns.forEach((pattern, i) => {
          if (!dataMatched[i] && pattern.test(data)) {
            dataMatched[i] = true
            unmatchedPatterns--
          }
        })
      }
      if (endEvents.has(event)) return 'end-event'
      // Compared only when the lengths match: hashing every large payload for a Set lookup is not free.
      if (endData.length > 0 && endData.some((text) => text.length === data.length && text === data)) return 'end-data'
      if (options.maxEvents !== undefined && events >= options.maxEvents) return 'max-events'
      return undefined
    },
    /** The statistics at time t; a connection still open counts its silence so far. */
    stats(t: number): SessionStats {
      if (lastMessageAt !== undefined) maxSilenceMs = Math.max(maxSilenceMs, t - lastMessageAt)
      return {
        events,
        eventsByType: Object.fromEntries(eventsByType),
        pings,
        comments,
        reconnects,
        bytes,
        firstEventMs,
        gapMs: gaps.result(),
        maxSilenceMs: roundMs(maxSilenceMs),
        dataMatched,
      }
    },
  }
}

export type Session = ReturnType<typeof createSession>
