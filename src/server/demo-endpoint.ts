import type { IncomingMessage, ServerResponse } from 'node:http'
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
import { type SseMessage, sseComment, sseEvent, sseRetry } from './sse-text.ts'

export const DEMO_PATH = '/status/stream'

/** The demo's messages: a job's progress as `status` events, then `end`. Event n has id n. */
const PROGRESS: [number, string][] = [
  [0, 'queued'],
  [20, 'running'],
  [40, 'running'],
  [60, 'running'],
  [80, 'running'],
  [100, 'done'],
]
export const DEMO_EVENTS: SseMessage[] = [
  ...PROGRESS.map(([progress, state], i) => ({
    event: 'status',
    id: String(i + 1),
    data: `{"progress": ${progress}, "state": "${state}"}`,
  })),
  { event: 'end', id: String(PROGRESS.length + 1), data: '{"result": "ok"}' },
]
/** The "server restart" comes after this event: the connection drops and the client must resume. */
export const DEMO_RESTART_AFTER = 3

export interface DemoOptions {
  port: number
  /** Between events; a ping comment comes halfway. */
  intervalMs?: number
  /** The `retry:` sent before the restart, i.e. how long the client waits to reconnect. */
  retryMs?: number
  log?: (text: string) => void
}

/**
 * The classic FastAPI / sse-starlette `status/stream` example, with a server
 * restart part way: a connection that starts before event DEMO_RESTART_AFTER
 * is dropped after it (with a short `retry:` first), and a client that
 * reconnects with Last-Event-ID resumes right after that id. Stateless, so any
 * number of clients (a browser, curl, another probe) can use it at once.
 */
export function startDemoEndpoint(options: DemoOptions): Promise<LocalServer> {
  const intervalMs = options.intervalMs ?? 700
  const retryMs = options.retryMs ?? 1000
  const log = options.log && createConnectionLog(options.log)
  const last = DEMO_EVENTS.length

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal) {
    if (new URL(req.url ?? '/', 'http://x').pathname !== DEMO_PATH) {
      log?.(req, '404')
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`Not found: the demo stream is at ${DEMO_PATH}\n`)
      return
    }
    const resumeAfter = resumePoint(lastEventIdOf(req), last)
    if (resumeAfter === last) {
      // [spec] 204 tells an EventSource to stop reconnecting: the job is over.
      log?.(req, '204, the stream has ended')
      res.writeHead(204).end()
      return
    }
    log?.(req, resumeAfter === 0 ? 'from the start' : `resuming after id ${resumeAfter}`)
    startStream(res)
    for (let id = resumeAfter + 1; id <= last; id++) {
      if (id > resumeAfter + 1) {
        if (!(await pause(intervalMs / 2, signal))) return
        await send(res, sseComment(' ping'))
        if (!(await pause(intervalMs / 2, signal))) return
      }
      await send(res, sseEvent(DEMO_EVENTS[id - 1]!))
      if (id === DEMO_RESTART_AFTER && resumeAfter < DEMO_RESTART_AFTER) {
        if (!(await pause(intervalMs / 2, signal))) return
        await send(res, sseRetry(retryMs))
        return drop(res)
      }
    }
    res.end()
  }

  return listenLocally(handle, options.port, DEMO_PATH)
}

/** The id to resume after: 0 (from the start) for no Last-Event-ID or one that is not a demo id. */
function resumePoint(lastEventId: string | null, last: number): number {
  if (lastEventId === null || !/^\d+$/.test(lastEventId)) return 0
  const id = Number(lastEventId)
  return id <= last ? id : 0
}
