import { SCHEME_HINT } from '../engine/connection.ts'
import { type EndReason, type ProbeRecord, roundMs } from '../engine/records.ts'
import { createLatencyHistogram } from './histogram.ts'
import type { LoadSummaryRecord, StatsRecord } from './records.ts'

export interface CollectorOptions {
  target: number
  pingEvent: string
  /** --latency-field: the path to the send time (epoch ms) in each event's JSON data. */
  latencyPath?: string[]
  /** The epoch time (ms) of run time 0, to compare with send times in the data. */
  epochAtStart: number
}

// Connection states, one byte each (0: not started).
const CONNECTING = 1
const OPEN = 2
const BETWEEN = 3
const ENDED = 4
// Flags, one byte each.
const OPENED = 1
const HAD_EVENT = 2
const FANNED_OUT = 4

/**
 * The error kinds of a connection's end that the probe says only in its summary: a probe exits
 * 3 or 4 for these (204: the server told the client to stop, so the connection is not held).
 */
const ENDING_ERRORS: Partial<Record<EndReason, string>> = {
  'no-content': 'HTTP 204',
  timeout: 'timeout',
  'idle-timeout': 'idle timeout',
  'event-too-large': 'event too large',
  'reconnects-exhausted': 'reconnects exhausted',
  // An error the LLM API streamed (llm.md): the probe exits 3.
  'stream-error': 'stream error',
}

/** Beyond this many kinds, errors are counted as one more kind: a message with a port in it must not grow memory. */
const MAX_ERROR_KINDS = 50
const OTHER_ERRORS = '(other errors)'

/**
 * Everything `load` reports, from the records of all connections. Per connection
 * only a few numbers in typed arrays (about 20 bytes); latencies go into HDR
 * histograms. Times are run times in ms (since the run started), given by the caller.
 */
export function createCollector(options: CollectorOptions) {
  const { target, pingEvent } = options
  const sentAtOf = options.latencyPath && numberReader(options.latencyPath)
  const state = new Uint8Array(target)
  const flags = new Uint8Array(target)
  const startedAt = new Float64Array(target)
  const requestAt = new Float64Array(target)
  const eventsOf = new Uint32Array(target)
  const connect = createLatencyHistogram()
  const firstEvent = createLatencyHistogram()
  const reconnectDelay = createLatencyHistogram()
  const fanout = createLatencyHistogram()
  const errors = new Map<string, number>()
  let started = 0
  let connecting = 0
  let open = 0
  let peakOpen = 0
  let opened = 0
  let failed = 0
  let ended = 0
  let events = 0
  let reconnects = 0
  // The reconnect times of the last second, oldest at `recentStart`: the most in any one second is
  // the storm. A window, not clock seconds: a storm across a second's end would count in halves.
  const recent: number[] = []
  let recentStart = 0
  let maxPerSecond = 0
  let triggerAt: number | undefined
  /** The URL answered some connection over HTTP: a silent close is then no sign of a TLS port. */
  let answered = false
  let lastStats = { t: 0, events: 0 }

  function setState(i: number, next: number) {
    const previous = state[i]!
    if (previous === next) return
    if (previous === OPEN) open--
    if (previous === CONNECTING) connecting--
    if (next === OPEN) {
      open++
      if (open > peakOpen) peakOpen = open
    }
    if (next === CONNECTING) connecting++
    state[i] = next
  }

  function countError(kind: string) {
    const count = errors.get(kind)
    if (count !== undefined) errors.set(kind, count + 1)
    else if (errors.size < MAX_ERROR_KINDS) errors.set(kind, 1)
    else errors.set(OTHER_ERRORS, (errors.get(OTHER_ERRORS) ?? 0) + 1)
  }

  /**
   * The errors by kind. Each connection's first attempt that met a silent close says
   * SCHEME_HINT, as the probe does; once the URL has answered another connection, that guess is
   * wrong (a server shedding load), and those closes are counted with the reconnects' alike.
   */
  function shownErrors(): Record<string, number> {
    if (!answered) return Object.fromEntries(errors)
    const shown: Record<string, number> = {}
    for (const [kind, count] of errors) {
      const plain = kind.endsWith(SCHEME_HINT) ? kind.slice(0, -SCHEME_HINT.length) : kind
      shown[plain] = (shown[plain] ?? 0) + count
    }
    return shown
  }

  function countStorm(at: number) {
    recent.push(at)
    while (recent[recentStart]! <= at - 1000) recentStart++
    // What left the window is dropped once it is half the array, not at every reconnect.
    if (recentStart > 1024 && recentStart * 2 > recent.length) {
      recent.splice(0, recentStart)
      recentStart = 0
    }
    maxPerSecond = Math.max(maxPerSecond, recent.length - recentStart)
  }

  function onEvent(i: number, type: string, data: string, at: number) {
    events++
    eventsOf[i]!++
    if (!(flags[i]! & HAD_EVENT)) {
      flags[i]! |= HAD_EVENT
      firstEvent.record(at - startedAt[i]!)
    }
    if (triggerAt !== undefined && !(flags[i]! & FANNED_OUT) && type !== pingEvent) {
      flags[i]! |= FANNED_OUT
      fanout.record(at - triggerAt)
    }
    if (sentAtOf) {
      const sentAt = sentAtOf(data)
      if (sentAt !== undefined) fanout.record(options.epochAtStart + at - sentAt)
    }
  }

  // Methods, no getters: V8 keeps an object literal with a getter as a dictionary, and `event`
  // is called on it for every event of every connection.
  return {
    /** Connection i sends its first request at run time `at`. */
    start(i: number, at: number) {
      started++
      startedAt[i] = at
      requestAt[i] = at
      setState(i, CONNECTING)
    },
    /** An event of connection i, received at run time `at`. */
    event: onEvent,
    record(i: number, record: ProbeRecord, at: number) {
      switch (record.type) {
        case 'event':
          return onEvent(i, record.event, record.data, at)
        case 'open':
          answered = true
          connect.record(at - requestAt[i]!)
          if (!(flags[i]! & OPENED)) {
            flags[i]! |= OPENED
            opened++
          }
          return setState(i, OPEN)
        case 'reconnect': {
          reconnects++
          requestAt[i] = at
          reconnectDelay.record(record.delayMs)
          countStorm(at)
          return setState(i, BETWEEN)
        }
        case 'close':
          if (record.cause === 'network-error')
            countError(errorKind(record.message ?? 'network error'))
          return setState(i, BETWEEN)
        case 'error':
          if (record.status !== undefined) answered = true
          countError(errorKind(record.message, record.status))
          return setState(i, BETWEEN)
      }
    },
    /**
     * Connection i ended for `reason`. One interrupted before its first answer was not refused,
     * only not measured; an ending that no error record told of is counted as an error here.
     */
    ended(i: number, reason: EndReason) {
      if (!(flags[i]! & OPENED) && !(reason === 'interrupted' && state[i] === CONNECTING)) failed++
      const kind = ENDING_ERRORS[reason]
      if (kind !== undefined) countError(kind)
      setState(i, ENDED)
      ended++
    },
    triggerSent(at: number) {
      triggerAt = at
    },
    started() {
      return started
    },
    /** Started connections still waiting for their first answer. */
    connecting() {
      return connecting
    },
    running() {
      return started - ended
    },
    opened() {
      return opened
    },
    errorCount() {
      let total = 0
      for (const count of errors.values()) total += count
      return total
    },
    /** The counters now, for the status line. */
    counts() {
      return { open, opened, failed, events, reconnects }
    },
    stats(t: number): StatsRecord {
      const seconds = (t - lastStats.t) / 1000
      const perSecond = seconds > 0 ? (events - lastStats.events) / seconds : 0
      lastStats = { t, events }
      return {
        type: 'stats',
        t: roundMs(t),
        open,
        opened,
        failed,
        events,
        eventsPerSecond: Math.round(perSecond * 10) / 10,
        reconnects,
        errors: shownErrors(),
      }
    },
    /** The measured part of the summary, at run time t. */
    summary(
      t: number,
    ): Pick<
      LoadSummaryRecord,
      'connections' | 'connectMs' | 'firstEventMs' | 'events' | 'reconnects' | 'fanoutMs' | 'errors'
    > {
      const perConnection = eventsOf.slice(0, started).sort()
      const rank = (p: number) =>
        perConnection[Math.max(0, Math.ceil(p * perConnection.length) - 1)] ?? 0
      const first = firstEvent.percentiles()
      const delay = reconnectDelay.percentiles()
      return {
        connections: { target, opened, peakOpen, failed },
        connectMs: connect.percentiles(),
        firstEventMs: first && { p50: first.p50, p95: first.p95, max: first.max },
        events: {
          total: events,
          perSecond: t > 0 ? Math.round((events / t) * 10_000) / 10 : 0,
          perConnection: {
            min: perConnection[0] ?? 0,
            p50: rank(0.5),
            max: perConnection[perConnection.length - 1] ?? 0,
          },
        },
        reconnects: {
          total: reconnects,
          delayMs: delay && { p50: delay.p50, p95: delay.p95 },
          maxPerSecond,
        },
        fanoutMs: fanout.percentiles(),
        errors: shownErrors(),
      }
    },
  }
}

export type Collector = ReturnType<typeof createCollector>

// connection.ts's words for a body in a Content-Encoding it cannot undo, after the status.
const UNDECODABLE = / with ((?:a )?Content-Encoding .*)$/

/**
 * What kind of error a message is, to count alike errors together: the status
 * of a refused response, else the system error code (ECONNRESET, EMFILE), else
 * the message without numbers (ports, byte counts and times differ between connections), a
 * limit's size aside (`larger than 16 KiB`).
 */
export function errorKind(message: string, status?: number): string {
  // A 200 refused for its type, or (the right type) for a coding the probe cannot decode.
  if (status === 200) return UNDECODABLE.exec(message)?.[1]?.slice(0, 80) ?? 'not text/event-stream'
  // A redirect loop: its last 3xx alone would read as a redirect not followed.
  if (message.includes('too many redirects')) return 'too many redirects'
  if (status !== undefined) return `HTTP ${status}`
  // The failure at another origin a redirect led to: its kind, after where (the same for all).
  const elsewhere = /^after a redirect to \S+: /.exec(message)
  if (elsewhere) return elsewhere[0] + errorKind(message.slice(elsewhere[0].length))
  // Without the Location, which differs between connections.
  const redirect = /^(HTTP 3\d\d redirect to [^,]+), not followed/.exec(message)
  if (redirect) return redirect[1]!
  // A proxy's refusal is the same for every connection: its status stays, and whose it is.
  const refused =
    /^the proxy (?:refused the (?:tunnel|request): HTTP \d+[^(]*|(?:closed|reset) the connection without answering the tunnel request \(CONNECT\))/.exec(
      message,
    )
  if (refused) return refused[0].trimEnd().slice(0, 80)
  const code = /\b(E[A-Z]{3,}|UND_ERR_[A-Z_]+)\b/.exec(message)
  // An unreachable proxy, named: ECONNREFUSED alone reads as the stream's server's.
  const proxy = /^cannot reach the proxy \S+ \([^)]+\)/.exec(message)
  if (proxy) return `${proxy[0]}: ${code?.[1] ?? 'unreachable'}`.slice(0, 80)
  if (code) return code[1]!
  if (message.includes('--connect-timeout')) return 'connect timeout'
  // Digits within a name (NGHTTP2_…, HTTP/1.1) are part of it, not a count.
  return message.replace(/(?<!\w|HTTP\/[\d.]*)\d+(\.\d+)?(?![\d.]| ?[KMG]iB\b)/g, 'N').slice(0, 80)
}

/** A number as JSON writes one: Number() alone would also take hex, `Infinity` and blanks. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
/** A key that JSON writes as it is, without escapes. */
const PLAIN_KEY = /^[^"\\\u0000-\u001f]*$/

/**
 * numberAt() for one path, read once per event. Data that is exactly `{"key":number}` (the usual
 * send-time event) is read without JSON.parse and the object it builds: the same answer, cheaper
 * at thousands of events a second. Anything else is parsed.
 */
export function numberReader(path: readonly string[]): (data: string) => number | undefined {
  const key = path[0]
  if (path.length !== 1 || !PLAIN_KEY.test(key!)) return (data) => numberAt(data, path)
  const prefix = `{"${key}":`
  return (data) => {
    if (data.startsWith(prefix) && data.endsWith('}')) {
      const text = data.slice(prefix.length, -1)
      if (JSON_NUMBER.test(text)) {
        const value = Number(text)
        return Number.isFinite(value) ? value : undefined
      }
    }
    return numberAt(data, path)
  }
}

/** The number at a JSON pointer in an event's data; undefined when the data is not JSON or has none there. */
export function numberAt(data: string, path: readonly string[]): number | undefined {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return undefined
  }
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}
