import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileProblem, SseProbeUsageError } from '../engine/errors.ts'
import { fileName, readFileOrStdin } from '../engine/pipe.ts'
import {
  createConnectionLog,
  drop,
  type LocalServer,
  lastEventIdOf,
  listenLocally,
  pause,
  send,
  startStream,
} from './local-server.ts'
import {
  asReceived,
  parseReplayFile,
  type ReplayPlan,
  recordedTimeAt,
  resolveStart,
} from './replay-plan.ts'

export interface ReplayOptions {
  port: number
  /** 127.0.0.1 unless said otherwise. */
  host?: string
  /** 1 plays the recorded timing, 2 twice as fast, 0 as fast as possible. */
  speed: number
  /** Start again from the beginning after the last record, for ever. */
  loop: boolean
  log?: (text: string) => void
}

// How late a reconnect may come and still be answered on its client's timeline (the recorded
// server's time to answer shortened by as much): the tolerance the round trip promises.
const KEEP_TIMELINE_MS = 50

// A client reconnects after its reconnection time (the recorded retry, or a few seconds).
const RECONNECT_WITHIN_MS = 60_000

/**
 * Serves a replay plan on 127.0.0.1, on every path and method (a recorded POST
 * stream is replayed for a POST too). Steps are scheduled from the connection's
 * start, so timing does not drift over a long recording.
 */
export function startReplay(plan: ReplayPlan, options: ReplayOptions): Promise<LocalServer> {
  const log = options.log && createConnectionLog(options.log)
  const scaled = (ms: number) => (options.speed === 0 ? 0 : ms / options.speed)
  // The connections the recording went on to after the closes and refusals served, oldest first:
  // one for each client that is to reconnect, so that clients served side by side (tests run in
  // parallel) each get their own; a client that has not come back in time is gone.
  // Each carries the replay's origin: the moment that maps to the recording's t = 0.
  const pending: { connection: number; until: number; origin: number }[] = []
  const expect = (c: number, origin: number) => {
    if (c + 1 < plan.connections.length)
      pending.push({ connection: c + 1, until: performance.now() + RECONNECT_WITHIN_MS, origin })
  }
  const take = (lastEventId: string | null) => {
    while (pending[0] && pending[0].until < performance.now()) pending.shift()
    const i = pending.findIndex(
      (p) => asReceived(plan.connections[p.connection]!.lastEventId ?? null) === lastEventId,
    )
    return i === -1 ? undefined : pending.splice(i, 1)[0]!
  }

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal) {
    // Chromium silently retries a request that fails on a reused idle connection: a recorded
    // failed reconnect (no response) must reach the client on a fresh one to fail again.
    res.shouldKeepAlive = false
    const lastEventId = lastEventIdOf(req)
    const arrived = performance.now()
    const expected = take(lastEventId)
    const start = resolveStart(plan, lastEventId, expected?.connection, options.loop)
    const first = plan.connections[start.connection]
    // A reconnect the recording shows is answered at its recorded time since the first request,
    // not a recorded delay after it arrives: each reconnect's own overhead (the client noticing
    // the close, connecting again) would otherwise add up over a recording with many of them.
    // A client later than that (another retry, --speed), or early, starts a timeline of its own.
    const onTime = arrived - scaled(recordedTimeAt(plan, start))
    const late = expected ? onTime - expected.origin : Number.NaN
    let origin =
      expected?.connection === start.connection && late >= 0 && late <= KEEP_TIMELINE_MS
        ? expected.origin
        : onTime
    // Logged as the request arrives, before the recorded server's time to answer.
    log?.(
      req,
      first?.type === 'refuse'
        ? `${start.note}: refused as recorded (${first.status ?? 'no response'})`
        : first?.type === 'no-content'
          ? `${start.note}: 204 as recorded`
          : start.note,
    )
    // The recorded server took this long to answer (an LLM API thinks first); a client resuming
    // in the middle of a connection gets the rest of it at once.
    const answerAt = first && start.step === 0 ? origin + scaled(first.at) : arrived
    if (!(await pause(answerAt - performance.now(), signal))) return
    if (first?.type === 'refuse') {
      expect(start.connection, origin)
      if (first.status === undefined) res.destroy()
      else
        res
          .writeHead(first.status, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`${first.message}\n`)
      return
    }
    if (first?.type === 'no-content') {
      expect(start.connection, origin)
      res.writeHead(204).end()
      return
    }
    startStream(res)
    let due = answerAt
    const wait = (ms: number) => {
      due += scaled(ms)
      return pause(due - performance.now(), signal)
    }
    let { connection: c, step: s } = start
    for (;;) {
      const stream = plan.connections[c]
      // Past the end: the recording ended with its connection open, and so does this one.
      if (stream?.type !== 'stream') return
      for (const step of stream.steps.slice(s)) {
        if (!(await wait(step.delayMs))) return
        await send(res, step.text)
      }
      if (stream.close) {
        if (!(await wait(stream.close.delayMs))) return
        expect(c, origin)
        if (stream.close.cause === 'server-closed') res.end()
        else drop(res)
        return
      }
      if (!options.loop)
        return // Only the last connection can end open; the first is always a stream.
      ;[c, s] = [0, 0]
      await new Promise(setImmediate)
      if (!(await wait(plan.loopGapMs))) return
      // The recording starts again here, its first answer now.
      origin = due - scaled(plan.connections[0]!.at)
    }
  }

  return listenLocally(handle, options.port, '/', options.host)
}

// A replay is held in memory whole: past this a file is refused, not a crash.
const MAX_FILE_BYTES = 256 * 1024 ** 2

/** Reads a transcript or an event-stream file; a bad one is a usage error naming it. */
export async function readReplayFile(
  file: string,
  intervalMs: number | undefined,
): Promise<ReplayPlan> {
  const name = fileName(file)
  const tooLarge = (size: number) => tooLargeError(name, size)
  let bytes: Buffer
  try {
    bytes = await readFileOrStdin(file, MAX_FILE_BYTES, tooLarge)
  } catch (error) {
    if (error instanceof SseProbeUsageError) throw error
    throw new SseProbeUsageError(`cannot read '${name}': ${fileProblem(error)}`)
  }
  return parseReplayFile(bytes, name, intervalMs)
}

function tooLargeError(file: string, size: number): SseProbeUsageError {
  return new SseProbeUsageError(
    `'${file}' is too large to replay (${Math.ceil(size / 1024 ** 2)} MiB; at most 256 MiB)`,
  )
}
