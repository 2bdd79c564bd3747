import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Server as NetServer } from 'node:net'
import { onTestFinished } from 'vitest'

export interface TestServer {
  url: string
  server: Server
  /** Every request the server has seen, in order. */
  requests: IncomingMessage[]
  close(): Promise<void>
}

type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => unknown

/**
 * Listens on 127.0.0.1 and an ephemeral port, and returns the port. When the test ends, `drop`
 * cuts the connections still open (close() alone would wait for them) and the server closes.
 */
export async function listenUntilTestEnds(server: NetServer, drop: () => void): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        drop()
        server.close(() => resolve())
      }),
  )
  return (server.address() as AddressInfo).port
}

/** A real HTTP server on 127.0.0.1 and an ephemeral port, closed when the test ends. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: IncomingMessage[] = []
  const server = createServer((req, res) => {
    requests.push(req)
    void Promise.resolve(handler(req, res, requests.length - 1))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  onTestFinished(close)
  return { url: `http://127.0.0.1:${port}`, server, requests, close }
}

/** A server answering every request with one event-stream body (or one body per request, the last repeating). */
export function sseServer(...bodies: string[]): Promise<TestServer> {
  return startServer((_req, res, index) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.end(bodies[Math.min(index, bodies.length - 1)])
  })
}

/** Writes an event-stream body chunk by chunk, with a pause between chunks. */
export async function writeSlowly(
  res: ServerResponse,
  chunks: (string | Buffer)[],
  pauseMs = 5,
): Promise<void> {
  for (const chunk of chunks) {
    if (res.destroyed) return
    res.write(chunk)
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
}
