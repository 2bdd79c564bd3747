import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fastifySSE } from '@fastify/sse'
import { serve } from '@hono/node-server'
import { createSession } from 'better-sse'
import compression from 'compression'
import express from 'express'
import fastify from 'fastify'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { onTestFinished } from 'vitest'

/**
 * The seed's `status/stream` on real SSE libraries: `status` events with ids 1..STATUS_COUNT and
 * JSON data, a keep-alive ping after each, a final `end`, a short `retry:` first. A request
 * without Last-Event-ID to `?drop=N` is dropped after event N (a server restart); Last-Event-ID
 * resumes after that id.
 */
export const STATUS_COUNT = 3
const STATUS_PATH = '/status/stream'
export const RETRY_MS = 50
export const statusData = (id: number) => `{"progress":${Math.round((id * 100) / STATUS_COUNT)}}`
export const END_DATA = '{"result":"ok"}'

/** What the scenario needs from one library: each call writes through the library's own API. */
interface StatusSink {
  status(id: number, data: string): Promise<void>
  /** A keep-alive ping, the library's own where it has one (resolves once it was written). */
  ping(): Promise<void>
  end(data: string): Promise<void>
  /** Ends the response (the server "restarting" or done). */
  close(): void
  readonly closed: boolean
}

async function statusStream(sink: StatusSink, lastEventId: string | undefined, drop: number) {
  const resume = Number(lastEventId ?? 0) || 0
  for (let id = resume + 1; id <= STATUS_COUNT; id++) {
    if (sink.closed) return
    await sink.status(id, statusData(id))
    await sink.ping()
    if (!lastEventId && id === drop) return sink.close()
  }
  if (!sink.closed) await sink.end(END_DATA)
  sink.close()
}

const requestShape = (url: string | undefined, headers: IncomingMessage['headers']) => ({
  lastEventId: headers['last-event-id'] as string | undefined,
  drop: Number(new URL(url ?? '/', 'http://x').searchParams.get('drop') ?? 0),
})

/** Resolves at the next write to `res` of a comment: the library's keep-alive timer fired. */
function nextCommentWrite(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const write = res.write
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      const result = (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
      if (String(chunk).startsWith(':')) {
        res.write = write
        resolve()
      }
      return result
    } as typeof res.write
    res.once('close', resolve)
  })
}

export interface FrameworkServer {
  name: string
  /** The status stream's URL. */
  url: string
  /** Every request's headers, in order. */
  requests: IncomingMessage['headers'][]
}

async function listen(server: Server): Promise<string> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${port}${STATUS_PATH}`
}

/** better-sse: its session writes retry, `:` keep-alives on a timer, events with `push`. */
export async function startBetterSse(): Promise<FrameworkServer> {
  const requests: IncomingMessage['headers'][] = []
  const { createServer } = await import('node:http')
  const server = createServer(async (req, res) => {
    requests.push(req.headers)
    const session = await createSession(req, res, { retry: RETRY_MS, keepAlive: 5 })
    const { lastEventId, drop } = requestShape(req.url, req.headers)
    await statusStream(
      {
        status: async (id, data) => void session.push(JSON.parse(data), 'status', String(id)),
        ping: () => nextCommentWrite(res),
        end: async (data) => void session.push(JSON.parse(data), 'end', 'done'),
        close: () => res.end(),
        get closed() {
          return !session.isConnected
        },
      },
      lastEventId,
      drop,
    )
  }).listen(0, '127.0.0.1')
  return { name: 'better-sse', url: await listen(server), requests }
}

/** Hono's streamSSE on @hono/node-server: no keep-alive of its own, so a ping event as its docs do. */
export async function startHono(): Promise<FrameworkServer> {
  const requests: IncomingMessage['headers'][] = []
  const app = new Hono()
  app.get(STATUS_PATH, (c) => {
    const { lastEventId, drop } = requestShape(c.req.url, c.req.header())
    return streamSSE(c, async (stream) => {
      await stream.write(`retry: ${RETRY_MS}\n\n`)
      await statusStream(
        {
          status: (id, data) => stream.writeSSE({ event: 'status', id: String(id), data }),
          ping: () => stream.write(': ping\n\n').then(() => undefined),
          end: (data) => stream.writeSSE({ event: 'end', data }),
          close: () => void stream.close(),
          get closed() {
            return stream.aborted || stream.closed
          },
        },
        lastEventId,
        drop,
      )
    })
  })
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
  server.on('request', (req: IncomingMessage) => requests.push(req.headers))
  return { name: 'hono', url: await listen(server), requests }
}

/** @fastify/sse (Fastify's own plugin): its heartbeat comments on a timer, `reply.sse.send`. */
export async function startFastify(): Promise<FrameworkServer> {
  const requests: IncomingMessage['headers'][] = []
  const app = fastify()
  await app.register(fastifySSE, { heartbeatInterval: 5 })
  app.get(STATUS_PATH, { sse: 'only' }, async (request, reply) => {
    requests.push(request.headers)
    const { lastEventId, drop } = requestShape(request.url, request.headers)
    await statusStream(
      {
        status: (id, data) =>
          reply.sse.send({
            event: 'status',
            id: String(id),
            data: JSON.parse(data),
            retry: RETRY_MS,
          }),
        ping: () => nextCommentWrite(reply.raw),
        end: (data) => reply.sse.send({ event: 'end', data: JSON.parse(data) }),
        close: () => reply.sse.close(),
        get closed() {
          return !reply.sse.isConnected
        },
      },
      lastEventId,
      drop,
    )
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  onTestFinished(() => app.close())
  const { port } = app.server.address() as AddressInfo
  return { name: 'fastify', url: `http://127.0.0.1:${port}${STATUS_PATH}`, requests }
}

/**
 * Express writing SSE by hand as its tutorials do, optionally behind the `compression` middleware
 * (which compresses text/event-stream for a client that offers gzip), with or without the
 * `res.flush()` after each write that compression's README tells SSE servers to call.
 */
export async function startExpress(
  options: { compression?: 'flush' | 'no-flush' } = {},
): Promise<FrameworkServer> {
  const requests: IncomingMessage['headers'][] = []
  const app = express()
  if (options.compression) app.use(compression())
  app.get(STATUS_PATH, async (req, res) => {
    requests.push(req.headers)
    res.setHeader('Content-Type', 'text/event-stream')
    res.setHeader('Cache-Control', 'no-cache')
    res.setHeader('Connection', 'keep-alive')
    res.flushHeaders()
    // compression's res.write drops the callback, so a write cannot be awaited.
    const write = async (text: string) => {
      res.write(text)
      if (options.compression === 'flush') res.flush()
      await new Promise(setImmediate)
    }
    await write(`retry: ${RETRY_MS}\n\n`)
    const { lastEventId, drop } = requestShape(req.url, req.headers)
    await statusStream(
      {
        status: (id, data) => write(`event: status\nid: ${id}\ndata: ${data}\n\n`),
        ping: () => write(':\n\n'),
        end: (data) => write(`event: end\ndata: ${data}\n\n`),
        close: () => res.end(),
        get closed() {
          return res.destroyed || res.writableEnded
        },
      },
      lastEventId,
      drop,
    )
  })
  const server = app.listen(0, '127.0.0.1')
  return { name: 'express', url: await listen(server), requests }
}

const PYTHON = '/usr/bin/python3'

/** Whether Debian's python3 has Starlette and uvicorn (no pip network here). */
export const hasStarlette =
  spawnSync(PYTHON, ['-c', 'import starlette, uvicorn'], { stdio: 'ignore' }).status === 0

/**
 * Starlette's StreamingResponse on uvicorn, written as sse-starlette writes it: CRLF line ends,
 * `charset=utf-8`, `: ping` comments, an `end` event. Listens on a port the OS picks and prints it.
 */
const STARLETTE_APP = String.raw`
import asyncio, json, socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

COUNT, RETRY = int(sys.argv[1]), int(sys.argv[2])

def frame(event=None, id=None, data=None, retry=None):
    lines = []
    if id is not None: lines.append(f"id: {id}")
    if event is not None: lines.append(f"event: {event}")
    if data is not None: lines.append(f"data: {data}")
    if retry is not None: lines.append(f"retry: {retry}")
    return "\r\n".join(lines) + "\r\n\r\n"

async def status_stream(request):
    last = request.headers.get("last-event-id")
    drop = int(request.query_params.get("drop", "0"))
    resume = int(last) if last and last.isdigit() else 0
    async def body():
        yield frame(retry=RETRY)
        for i in range(resume + 1, COUNT + 1):
            yield frame(event="status", id=i, data=json.dumps({"progress": round(i * 100 / COUNT)}, separators=(",", ":")))
            await asyncio.sleep(0)
            yield ": ping\r\n\r\n"
            if not last and i == drop: return
        yield frame(event="end", data='{"result":"ok"}')
    return StreamingResponse(body(), media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

app = Starlette(routes=[Route("/status/stream", status_stream)])
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
`

export async function startStarlette(): Promise<FrameworkServer> {
  const child: ChildProcess = spawn(
    PYTHON,
    ['-c', STARLETTE_APP, String(STATUS_COUNT), String(RETRY_MS)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  onTestFinished(() => void child.kill('SIGKILL'))
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const port = await new Promise<string>((resolve, reject) => {
    let stdout = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.includes('\n')) resolve(stdout.trim())
    })
    child.on('close', (code) => reject(new Error(`starlette exited ${code}:\n${stderr}`)))
  })
  return { name: 'starlette', url: `http://127.0.0.1:${port}${STATUS_PATH}`, requests: [] }
}
