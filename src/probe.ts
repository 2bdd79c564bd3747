import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { discardBody, openStream, type StreamRequest } from './connection.ts'
import { createDecompressor } from './decompress.ts'
import { describeError } from './errors.ts'
import type { ProbeOptions } from './options.ts'
import { type ConnInput, type ConnState, type Effect, initialState, step } from './reconnect.ts'
import { type CloseRecord, type EndReason, type ProbeRecord, roundMs } from './records.ts'
import { redactHeaders, redactUrl } from './redact.ts'
import { hasHeaderControl, requestHeaders, withLastEventId } from './request.ts'
import { createSession, type SessionStats } from './session.ts'
import { createEventStream } from './stream.ts'

export interface ProbeIo {
  emit(record: ProbeRecord): void
  /**
   * Called once a network chunk has been handled: the moment to write what it produced.
   * Returns a promise while the output is backed up (a slow reader of stdout).
   */
  flush(): Promise<void> | undefined
  /** The body bytes exactly as received, for --format raw. */
  raw?(chunk: Uint8Array): void
  /** Whether event records are shown, counted or kept: millions of them are not made for nothing. */
  events: boolean
  /** Whether comment records are shown or kept: only then is their exact text worth recovering. */
  commentText: boolean
}

export interface ProbeResult {
  reason: EndReason
  message?: string
  stats: SessionStats
  t: number
}

export interface Probe {
  done: Promise<ProbeResult>
  /** Ends the probe from outside (signals, a closed pipe); the first reason given wins. */
  stop(reason: EndReason, message?: string): void
  /**
   * Drops the open connection as a network failure would (inspect's `r`): the probe then
   * reconnects with Last-Event-ID as usual. While it waits to reconnect, the wait is cut short.
   */
  reconnect(): void
}

export const DROPPED_MESSAGE = 'dropped on request (reconnect now)'

/**
 * The probe loop: the only code that connects, reads and sleeps. It performs
 * the effects reconnect.ts decides and reports everything as records.
 */
export function startProbe(
  options: ProbeOptions,
  requestBody: Buffer | undefined,
  io: ProbeIo,
): Probe {
  const startedAt = performance.now()
  const now = () => roundMs(performance.now() - startedAt)
  const controller = new AbortController()
  const session = createSession({
    pingEvent: options.pingEvent,
    expectedEvents: options.expect.events,
    endEvents: options.endEvents,
    endData: options.endData,
    maxEvents: options.maxEvents,
    dataPatterns: options.expect.dataPatterns.map((pattern) => pattern.regex),
  })
  let ending: { reason: EndReason; message?: string } | undefined
  let state: ConnState = initialState(options.retryMs)
  // One clock reading per network chunk: what arrived together is stamped together.
  let chunkAt = 0
  // Only a connection's first event can change the reconnect state (it ends a run of barren reconnects).
  let connectionHadEvent = false
  const stopped = new Promise<void>((resolve) =>
    controller.signal.addEventListener('abort', () => resolve(), { once: true }),
  )

  // Cuts the current read or reconnect wait short, for reconnect().
  let interrupt: (() => void) | undefined

  function stop(reason: EndReason, message?: string) {
    if (ending) return
    ending = { reason, message }
    controller.abort()
  }

  const stream = createEventStream(
    {
      onEvent(event, id, data, lastEventId) {
        if (ending) return
        if (!connectionHadEvent) {
          connectionHadEvent = true
          state = step(state, { type: 'event' }, options)[0]
        }
        const end = session.event(chunkAt, event, data)
        if (io.events)
          io.emit({
            type: 'event',
            t: chunkAt,
            attempt: state.attempt,
            event,
            id,
            lastEventId,
            data,
            dt: session.dt,
          })
        if (end) stop(end)
      },
      onComment(text) {
        if (ending) return
        session.comment(chunkAt)
        io.emit({ type: 'comment', t: chunkAt, attempt: state.attempt, text })
      },
      onRetry(ms) {
        if (ending) return
        state = step(state, { type: 'retry', ms }, options)[0]
        io.emit({ type: 'retry', t: chunkAt, attempt: state.attempt, ms })
      },
      onTooLarge(message) {
        stop('event-too-large', message)
      },
    },
    {
      lastEventId: options.lastEventId,
      maxEventSize: options.maxEventSize,
      exactComments: io.commentText,
    },
  )

  function onBytes(chunk: Uint8Array) {
    chunkAt = now()
    session.bytes(chunk.length)
    idleTimer?.refresh()
    io.raw?.(chunk)
  }

  // "No bytes at all": it runs from the start, through connection attempts and reconnect waits too.
  const startIdleTimer = () =>
    options.idleTimeoutMs
      ? setTimeout(
          () => stop('idle-timeout', `no data for ${options.idleTimeoutMs}ms (--idle-timeout)`),
          options.idleTimeoutMs,
        )
      : undefined
  let idleTimer = startIdleTimer()

  /**
   * Reads no more while the output is backed up, so that a slow reader of stdout
   * keeps memory flat (the server is held back by TCP instead); that wait is not the server's silence.
   */
  async function outputDrained(backlog: Promise<void>) {
    clearTimeout(idleTimer)
    await Promise.race([backlog, stopped])
    idleTimer = startIdleTimer()
  }

  const timers = [
    options.timeoutMs &&
      setTimeout(
        () => stop('timeout', `no end after ${options.timeoutMs}ms (--timeout)`),
        options.timeoutMs,
      ),
    options.durationMs && setTimeout(() => stop('duration'), options.durationMs),
  ]

  /** Reads one established stream to its end; returns how it ended, or undefined when the probe stopped it. */
  async function read(
    body: Readable,
    contentEncoding: string | undefined,
  ): Promise<Omit<CloseRecord, 't' | 'attempt' | 'type'> | undefined> {
    connectionHadEvent = false
    interrupt = () => body.destroy(new Error(DROPPED_MESSAGE))
    let cause: CloseRecord['cause'] = 'server-closed'
    let message: string | undefined
    try {
      const decompressor = createDecompressor(contentEncoding)
      if (decompressor) {
        body.on('data', onBytes)
        for await (const chunk of pipeline(body, decompressor, () => {})) {
          chunkAt = now()
          stream.feed(chunk as Buffer)
          const backlog = io.flush()
          if (backlog) await outputDrained(backlog)
          if (ending) break
        }
      } else {
        for await (const chunk of body) {
          onBytes(chunk as Buffer)
          stream.feed(chunk as Buffer)
          const backlog = io.flush()
          if (backlog) await outputDrained(backlog)
          if (ending) break
        }
      }
    } catch (error) {
      cause = 'network-error'
      message = describeError(error)
    } finally {
      interrupt = undefined
      discardBody(body)
    }
    const { discardedData } = stream.end()
    if (ending) return undefined
    return {
      cause,
      ...(message !== undefined && { message }),
      ...(discardedData !== undefined && { discardedBytes: Buffer.byteLength(discardedData) }),
    }
  }

  async function run(): Promise<void> {
    let delayMs = 0
    // [spec] a reconnect fetches the same request again, as redirects changed it (whatwg/html#503).
    let request: StreamRequest = {
      url: options.url,
      method: options.method,
      headers: requestHeaders(options, requestBody),
      body: requestBody,
    }
    for (;;) {
      const lastEventId = stream.lastEventId
      if (state.attempt > 1) {
        session.reconnecting()
        io.emit({
          type: 'reconnect',
          t: now(),
          attempt: state.attempt,
          delayMs,
          lastEventId: lastEventId === '' ? null : lastEventId,
        })
        io.flush()
      }
      // A browser sends such an id raw; undici refuses it on every attempt, so say so once and stop.
      if (hasHeaderControl(lastEventId))
        return stop(
          'connect-failed',
          `cannot reconnect: the last event ID ${JSON.stringify(lastEventId)} has control characters that an HTTP header cannot carry`,
        )
      const attempt = await openStream(
        { ...request, headers: withLastEventId(request.headers, lastEventId) },
        options,
        controller.signal,
      )
      if (ending) return
      if (attempt.type === 'response') request = attempt.request
      let input: ConnInput
      if (attempt.type === 'network-error') {
        input = attempt
        io.emit({ type: 'error', t: now(), attempt: state.attempt, message: attempt.message })
      } else {
        input = { type: 'response', verdict: attempt.verdict }
        if (attempt.verdict === 'ok') {
          io.emit({
            type: 'open',
            t: now(),
            attempt: state.attempt,
            url: options.showSecrets ? attempt.url : redactUrl(attempt.url),
            status: attempt.status,
            httpVersion: attempt.httpVersion,
            headers: redactHeaders(attempt.headers, options.showSecrets),
          })
        } else if (attempt.verdict !== 'no-content') {
          const headers = redactHeaders(attempt.headers, options.showSecrets)
          io.emit({
            type: 'error',
            t: now(),
            attempt: state.attempt,
            message: attempt.message!,
            status: attempt.status,
            headers,
            ...(attempt.excerpt !== undefined && { body: attempt.excerpt }),
          })
        }
      }
      io.flush()
      let effect: Effect
      ;[state, effect] = step(state, input, options)
      if (effect.type === 'end') return stop(effect.reason, attempt.message)
      if (effect.type === 'read' && attempt.type === 'response') {
        session.open(now())
        const closed = await read(attempt.body, attempt.headers['content-encoding'])
        attempt.release()
        if (!closed) return
        const t = now()
        session.closed(t)
        io.emit({ type: 'close', t, attempt: state.attempt, ...closed })
        io.flush()
        ;[state, effect] = step(state, { type: 'closed' }, options)
        if (effect.type === 'end') return stop(effect.reason)
      }
      if (effect.type === 'wait') {
        delayMs = effect.ms
        const wait = new AbortController()
        interrupt = () => wait.abort()
        await sleep(effect.ms, undefined, {
          signal: AbortSignal.any([controller.signal, wait.signal]),
        }).catch(() => {})
        interrupt = undefined
        if (ending) return
      }
    }
  }

  const done = run()
    .catch((error: unknown) => stop('connect-failed', (error as Error).message))
    .then(() => {
      for (const timer of [...timers, idleTimer]) if (timer) clearTimeout(timer)
      const t = now()
      const { reason, message } = ending!
      return { reason, ...(message !== undefined && { message }), stats: session.stats(t), t }
    })
  return { done, stop, reconnect: () => interrupt?.() }
}
