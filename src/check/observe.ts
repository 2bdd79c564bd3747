import { setTimeout as sleep } from 'node:timers/promises'
import { readBody } from '../engine/body.ts'
import { openStream, SCHEME_HINT } from '../engine/connection.ts'
import { type CookieJar, createCookieJar } from '../engine/cookies.ts'
import type { Body } from '../engine/dispatch.ts'
import type { HttpOptions } from '../engine/http.ts'
import { type ConnInput, type Effect, initialState, step } from '../engine/reconnect.ts'
import { roundMs } from '../engine/records.ts'
import { firstRequest, type StreamRequest, withLastEventId } from '../engine/request.ts'
import { createEventStream } from '../engine/stream.ts'
import {
  BROWSER_ACCEPT_ENCODING,
  type ConnectionSeen,
  type EventSeen,
  idsSeen,
  MAX_KEPT_MIB,
  MAX_SEEN,
  type Observation,
  type ReadEnd,
  type ResumeSeen,
} from './observation.ts'
import type { CheckOptions } from './options.ts'

const PING_EVENT = 'ping'
const MAX_EVENT_SIZE = 16 * 1024 ** 2
// Browsers' default reconnection time is a few seconds; a server's retry: replaces it.
const DEFAULT_RETRY_MS = 3000
// A server that answers retry: 0 and closes at once must not turn the check into a flood.
const MIN_RECONNECT_DELAY_MS = 100
const MAX_RESUME_WAIT_MS = 10_000
// Characters of event types and ids a watcher keeps: 10,000 events whose type or id is megabytes
// long must not fill memory either.
const MAX_KEPT_CHARS = MAX_KEPT_MIB * 1024 ** 2
/**
 * EventSource's rules for GET; a request with another method is read with fetch, whose clients
 * reconnect after an error but not after a clean close (as the probe's default): re-sending a
 * POST to a model's API after its answer would cost money.
 */
const reconnectPolicy = (method: string) =>
  ({ when: method === 'GET' ? 'always' : 'on-error', maxReconnects: Infinity }) as const

type Clock = () => number

/**
 * Observes an endpoint for the window: the stream as a browser follows it, a compressed
 * twin of the first request, then a resume with Last-Event-ID. The only I/O of `check`.
 */
export async function observe(
  options: CheckOptions,
  interrupted?: AbortSignal,
): Promise<Observation> {
  const started = performance.now()
  const clock: Clock = () => roundMs(performance.now() - started)
  const window = new AbortController()
  const timer = setTimeout(() => window.abort(), options.windowMs)
  // Ctrl-C ends the window early: the report covers what was seen so far.
  interrupted?.addEventListener('abort', () => window.abort(), { once: true })
  const first = firstRequest(options)
  const open = (lastEventId: string, extraHeaders: Record<string, string> = {}): StreamRequest => ({
    ...first,
    headers: { ...withLastEventId(first.headers, lastEventId), ...extraHeaders },
  })
  try {
    const isEnd = (e: EventSeen) => (options.endEvents.includes(e.event) ? 'end-event' : undefined)
    // The stream's cookies, as its browser keeps them: its reconnects and the resume send them.
    // The compressed twin is another client, with a jar of its own.
    const cookies = createCookieJar()
    const main = createWatcher(options, clock, options.lastEventId, isEnd, interrupted, cookies)
    const compressed = createWatcher(
      options,
      clock,
      options.lastEventId,
      () => 'first-event',
      interrupted,
      createCookieJar(),
    )
    let observedMs = 0
    const [connections, compressedConnection] = await Promise.all([
      followStream(main, first, window.signal, interrupted).finally(() => (observedMs = clock())),
      compressed.watch(
        open(options.lastEventId, { 'accept-encoding': BROWSER_ACCEPT_ENCODING }),
        window.signal,
      ),
    ])
    const ids = idsSeen(connections, options.endEvents)
    let resume: ResumeSeen | undefined
    if (ids.length >= 2 && !interrupted?.aborted) {
      // The middle, so that the server has events both before and after it to get wrong.
      const lastEventId = ids[Math.floor((ids.length - 1) / 2)]!
      const resumer = createWatcher(
        options,
        clock,
        lastEventId,
        (e) => (e.ping ? undefined : 'first-event'),
        interrupted,
        cookies,
      )
      const wait = AbortSignal.timeout(Math.min(options.windowMs, MAX_RESUME_WAIT_MS))
      resume = { ids, lastEventId, connection: await resumer.watch(open(lastEventId), wait) }
    }
    const credentials = options.headers.some(([name]) => name.toLowerCase() === 'cookie')
    return {
      url: first.url.href,
      windowMs: options.windowMs,
      interrupted: interrupted?.aborted ?? false,
      observedMs,
      method: first.method,
      endEvents: options.endEvents,
      origin: options.origin,
      credentials,
      connections,
      compressed: compressedConnection,
      resume,
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Follows the stream as EventSource does (reconnect.ts decides) until it ends or the window
 * does. A reconnect that falls due after the window is still made, for its answer only: a 204
 * there is how a server says "no more"; not after Ctrl-C, which would abort it unanswered.
 */
async function followStream(
  watcher: Watcher,
  first: StreamRequest,
  window: AbortSignal,
  interrupted: AbortSignal | undefined,
): Promise<ConnectionSeen[]> {
  const connections: ConnectionSeen[] = []
  const RECONNECT = reconnectPolicy(first.method)
  let state = initialState(DEFAULT_RETRY_MS, first)
  let effect: Effect
  for (;;) {
    ;[state, effect] = step(state, { type: 'connect', lastEventId: watcher.lastEventId }, RECONNECT)
    // The first request is made even when interrupted already: it fails at once and says so, and
    // the report always has a connection to speak of.
    if (effect.type !== 'connect' || (interrupted?.aborted && connections.length > 0)) {
      return connections
    }
    const reading = !window.aborted
    const connection = await watcher.watch(effect.request, window, reading)
    connections.push(connection)
    if (!reading) return connections
    const input: ConnInput = connection.response
      ? {
          type: 'response',
          verdict: connection.response.verdict,
          request: connection.request!,
        }
      : { type: 'network-error', message: connection.error ?? '' }
    ;[state, effect] = step(state, input, RECONNECT)
    for (const ms of connection.retries) [state] = step(state, { type: 'retry', ms }, RECONNECT)
    if (effect.type === 'read') {
      const cause = connection.end?.cause
      if (cause !== 'server-closed' && cause !== 'network-error') return connections
      ;[state, effect] = step(state, { type: 'closed', cause }, RECONNECT)
    }
    if (effect.type !== 'wait') return connections
    const delay = Math.max(effect.ms, MIN_RECONNECT_DELAY_MS)
    await sleep(delay, undefined, { signal: window }).catch(() => {})
  }
}

interface Watcher {
  /** One request; `until` ends reading (never the wait for the response: --connect-timeout governs that). */
  watch(request: StreamRequest, until: AbortSignal, read?: boolean): Promise<ConnectionSeen>
  /** The last-event-ID buffer, kept across this watcher's connections as a browser keeps it. */
  readonly lastEventId: string
}

/**
 * Opens and reads connections, timing every network read. `stopAt` ends reading
 * at an event (the end event, or the first event when that is all a probe needs).
 */
function createWatcher(
  http: HttpOptions,
  clock: Clock,
  lastEventId: string,
  stopAt: (e: EventSeen) => ReadEnd | undefined,
  interrupted: AbortSignal | undefined,
  cookies: CookieJar,
): Watcher {
  let connection: ConnectionSeen | undefined
  let stopped: ReadEnd | undefined
  let readAt = 0
  let events = 0
  // What this watcher keeps, over all its connections: a server that sends 9,999 events and closes
  // with retry: 0 is reconnected to ten times a second, for the whole window.
  let keptEvents = 0
  let keptReads = 0
  let keptChars = 0
  const full = () => keptEvents >= MAX_SEEN || keptReads >= MAX_SEEN || keptChars > MAX_KEPT_CHARS
  const stream = createEventStream(
    {
      onEvent(event, id) {
        if (!connection || stopped) return
        const seen = { t: readAt, event, id, ping: event === PING_EVENT }
        connection.events.push(seen)
        if (!seen.ping) events++
        keptEvents++
        keptChars += event.length + (id?.length ?? 0)
        stopped = stopAt(seen) ?? (full() ? 'full' : undefined)
      },
      onComment() {
        if (!connection || stopped) return
        connection.comments++
      },
      onRetry(ms) {
        if (!connection || stopped) return
        // What is judged is the last one (and whether there was one), the reconnect waits it: a
        // server may send millions, so at most MAX_SEEN are kept, the last always in place.
        if (connection.retries.length < MAX_SEEN) connection.retries.push(ms)
        else connection.retries[MAX_SEEN - 1] = ms
      },
      onInvalidRetry(value) {
        if (connection && !stopped) connection.invalidRetry ??= value
      },
      // Past 16 MiB the parser stops for the rest of that connection, which is still timed.
      onTooLarge() {},
    },
    { lastEventId, maxEventSize: MAX_EVENT_SIZE },
  )

  async function read(
    seen: ConnectionSeen,
    body: Body,
    contentEncoding: string | undefined,
    signal: AbortSignal,
  ): Promise<ReadEnd> {
    let lastReadAt = seen.requestAt
    const end = await readBody(body, contentEncoding, {
      onData(chunk) {
        readAt = clock()
        events = 0
        stream.feed(chunk)
        seen.reads.push({ t: readAt, silenceMs: roundMs(readAt - lastReadAt), events })
        keptReads++
        if (full()) stopped ??= 'full'
        lastReadAt = readAt
        return stopped !== undefined
      },
    })
    const { discardedType, datalessType } = stream.end()
    if (discardedType !== undefined) {
      seen.cutOff = discardedType
      keptChars += discardedType.length
    }
    if (datalessType !== undefined) seen.dataless = datalessType
    if (stopped) return stopped
    if (signal.aborted) return 'window'
    return end.cause === 'network-error' ? 'network-error' : 'server-closed'
  }

  return {
    async watch(request, until, reading = true) {
      const seen: ConnectionSeen = {
        requestAt: clock(),
        reads: [],
        events: [],
        comments: 0,
        retries: [],
      }
      connection = seen
      stopped = undefined
      const own = new AbortController()
      // Ctrl-C also ends the wait for a response, which the window's end does not.
      const signal = interrupted ? AbortSignal.any([own.signal, interrupted]) : own.signal
      const attempt = await openStream(request, http, signal, undefined, cookies)
      if (attempt.type === 'network-error') {
        seen.error = interrupted?.aborted
          ? 'interrupted before it answered'
          : attempt.message + (attempt.silent ? SCHEME_HINT : '')
        if (attempt.connected && !interrupted?.aborted) seen.unanswered = true
        return seen
      }
      seen.headersAt = clock()
      seen.request = attempt.request
      seen.response = {
        url: attempt.url,
        status: attempt.status,
        statusText: attempt.statusText,
        headers: attempt.headers,
        verdict: attempt.verdict,
        httpVersion: attempt.httpVersion,
        ...(attempt.excerpt !== undefined && { body: attempt.excerpt }),
      }
      if (attempt.verdict !== 'ok' || !reading) {
        attempt.release()
        return seen
      }
      const stop = () => own.abort()
      if (until.aborted) stop()
      else until.addEventListener('abort', stop, { once: true })
      try {
        const cause = await read(
          seen,
          attempt.body,
          attempt.headers['content-encoding'],
          own.signal,
        )
        seen.end = { t: clock(), cause }
      } finally {
        until.removeEventListener('abort', stop)
        attempt.release()
      }
      return seen
    },
    get lastEventId() {
      return stream.lastEventId()
    },
  }
}
