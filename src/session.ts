import { createGapStats } from './stats.ts'
import { roundMs, type EndReason, type GapStats } from './records.ts'
import type { StreamEvent } from './stream.ts'

export interface SessionOptions {
  /** Types counted by name even past MAX_EVENT_TYPES, because an expectation asks about them. */
  expectedEvents?: readonly string[]
  endEvents: readonly string[]
  endData: readonly string[]
  maxEvents?: number
  dataPatterns: readonly RegExp[]
}

/** What a session has seen, as the summary and the expectations need it. */
export interface SessionStats {
  events: number
  eventsByType: Record<string, number>
  pings: number
  comments: number
  reconnects: number
  bytes: number
  firstEventMs: number | null
  gapMs: GapStats | null
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
  const endData = new Set(options.endData)
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
    /** Records an event; returns its gap to the previous one and the end reason it triggers, if any. */
    event(e: StreamEvent, t: number): { dt: number | null; end?: EndReason } {
      events++
      if (e.ping) pings++
      const count = eventsByType.get(e.event)
      if (count !== undefined) eventsByType.set(e.event, count + 1)
      else if (eventsByType.size < MAX_EVENT_TYPES || expectedEvents.has(e.event)) eventsByType.set(e.event, 1)
      else eventsByType.set(OTHER_EVENT_TYPES, (eventsByType.get(OTHER_EVENT_TYPES) ?? 0) + 1)
      message(t)
      const dt = lastEventAt === undefined ? null : roundMs(t - lastEventAt)
      if (dt === null) firstEventMs = roundMs(t)
      else gaps.add(dt)
      lastEventAt = t
      if (unmatchedPatterns > 0) {
        options.dataPatterns.forEach((pattern, i) => {
          if (!dataMatched[i] && pattern.test(e.data)) {
            dataMatched[i] = true
            unmatchedPatterns--
          }
        })
      }
      const end: EndReason | undefined = endEvents.has(e.event)
        ? 'end-event'
        : endData.has(e.data)
          ? 'end-data'
          : options.maxEvents !== undefined && events >= options.maxEvents
            ? 'max-events'
            : undefined
      return { dt, end }
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
