import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { MAX_DELAY_MS } from '../engine/duration.ts'
import { SseProbeUsageError } from '../engine/errors.ts'
import { visible } from '../engine/escape.ts'
import { STOP_SIGNALS } from '../engine/exit-code.ts'

/** A local endpoint: the demo, or a replay. */
export interface LocalServer {
  /** The URL to point a client at. */
  url: string
  /** Closes the server and every connection still open. */
  close(): Promise<void>
}

/** A handler gets a signal that aborts when the client goes away or the server closes. */
export type StreamHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
) => Promise<void> | void

const HOST = '127.0.0.1'

/**
 * Listens on `host`, 127.0.0.1 unless said otherwise (port 0: any free port). A port that cannot
 * be used is a bad --port value: a SseProbeUsageError, exit 2.
 */
export async function listenLocally(
  handler: StreamHandler,
  port: number,
  path = '/',
  host = HOST,
): Promise<LocalServer> {
  const server = createServer((req, res) => {
    if (isPreflight(req)) return allowPreflight(req, res)
    const controller = new AbortController()
    res.on('close', () => controller.abort())
    void Promise.resolve(handler(req, res, controller.signal)).catch(() => res.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, port, host)))
    server.listen(port, host, resolve)
  })
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  const why =
    error.code === 'EADDRINUSE'
      ? 'is already in use: choose another --port, or 0 for any free port'
      : error.code === 'EACCES'
        ? 'needs privileges (ports below 1024): choose another --port'
        : `cannot be used: ${error.message}`
  return new SseProbeUsageError(`port ${port} on ${host} ${why}`)
}

/** The response headers of a stream; CORS is open so that a page on any origin can try the endpoint. */
export function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'access-control-allow-origin': '*',
    'x-accel-buffering': 'no',
  })
  // The client sees the connection open at once, even when the first message is a while away.
  res.flushHeaders()
}

/**
 * A browser's CORS preflight: the OPTIONS request it sends before a cross-origin fetch with a
 * JSON body or an Authorization header (an LLM client's POST), not a client of the stream.
 */
function isPreflight(req: IncomingMessage): boolean {
  return (
    req.method === 'OPTIONS' &&
    req.headers.origin !== undefined &&
    req.headers['access-control-request-method'] !== undefined
  )
}

/** Allows whatever the preflight asks, as the streams' Access-Control-Allow-Origin: * does. */
function allowPreflight(req: IncomingMessage, res: ServerResponse): void {
  req.resume()
  const headers = req.headers['access-control-request-headers']
  res
    .writeHead(204, {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': req.headers['access-control-request-method']!,
      ...(headers && { 'access-control-allow-headers': headers }),
      'access-control-max-age': '600',
    })
    .end()
}

/** Writes and waits until the text has left (or the client has gone), so a slow reader is not buried. */
export function send(res: ServerResponse, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.write(text)) return resolve()
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/**
 * A crash or a restart as the client sees it: the connection ends without the
 * end of the chunked body, after everything already written has been sent.
 */
export function drop(res: ServerResponse): void {
  res.socket?.end()
}

/** Waits, or returns false at once when the client has gone. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false
  // A Node timer fires at once past MAX_DELAY_MS (with a warning): a longer wait is made in parts.
  for (let left = ms; left > 0; left -= MAX_DELAY_MS) {
    const waited = await sleep(Math.min(left, MAX_DELAY_MS), true, { signal }).catch(() => false)
    if (!waited) return false
  }
  return true
}

/** The Last-Event-ID a client sent, or null (an empty header is the same as none). */
export function lastEventIdOf(req: IncomingMessage): string | null {
  const header = req.headers['last-event-id']
  if (typeof header !== 'string' || header === '') return null
  // Node reads header bytes as latin1; EventSource (and the probe) send the id as UTF-8.
  try {
    return UTF8.decode(Buffer.from(header, 'latin1'))
  } catch {
    return header
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** One line per client connection: when, what it asked for, and what the server does about it. */
export function createConnectionLog(write: (text: string) => void) {
  const started = performance.now()
  return (req: IncomingMessage, what: string) => {
    const t = `${((performance.now() - started) / 1000).toFixed(3)}s`.padStart(9)
    const id = lastEventIdOf(req)
    const asked = id === null ? 'no Last-Event-ID' : `Last-Event-ID: ${visible(id)}`
    // What the server does quotes the client's Last-Event-ID: escaped as well.
    write(
      `${t}  ▶ ${visible(req.method ?? '')} ${visible(req.url ?? '')}  ${asked}  → ${visible(what)}\n`,
    )
  }
}

/** Keeps a server running until Ctrl-C, SIGTERM or SIGHUP, which end it normally (exit 0). */
export async function runUntilStopped(
  server: LocalServer,
  source: { process: NodeJS.Process; heldSignal?: () => unknown },
): Promise<number> {
  const { process } = source
  let stop = () => {}
  await new Promise<void>((resolve) => {
    stop = resolve
    for (const name of STOP_SIGNALS) process.on(name, stop)
    // One held from start-up (src/cli/entry.ts) stops it as well.
    if (source.heldSignal?.()) stop()
  })
  for (const name of STOP_SIGNALS) process.off(name, stop)
  await server.close()
  return 0
}
