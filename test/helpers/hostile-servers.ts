import { createServer, type Socket } from 'node:net'
import type { Writable } from 'node:stream'
import { listenUntilTestEnds, startServer } from './server.ts'

export interface RawServer {
  url: string
  /** Connections accepted so far. */
  connections: Socket[]
}

/**
 * A TCP server that speaks HTTP only as far as the test wants: each connection
 * gets the handler, with its index, once the request has arrived. For responses
 * node:http refuses to produce (bad header bytes, silence after accepting).
 */
export async function startRawServer(
  handler: (socket: Socket, index: number) => void,
): Promise<RawServer> {
  const connections: Socket[] = []
  const server = createServer((socket) => {
    const index = connections.push(socket) - 1
    socket.on('error', () => {})
    socket.once('data', () => handler(socket, index))
  })
  const port = await listenUntilTestEnds(server, () => {
    for (const socket of connections) socket.destroy()
  })
  return { url: `http://127.0.0.1:${port}/`, connections }
}

/** A complete HTTP/1.1 response that closes the connection after the body. */
export function rawResponse(
  body: string | Buffer,
  headers = 'content-type: text/event-stream\r\n',
): Buffer {
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\n${headers}connection: close\r\n\r\n`, 'latin1'),
    Buffer.from(body),
  ])
}

/** Resolves when a response (or any writable) can take more, or has closed: for servers that write as fast as they may. */
export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done)
      resolve()
    }
    stream.on('drain', done).on('close', done)
  })
}

/** An event stream that is one endless `data:` line, up to `limit` bytes unless the client hangs up; `sent()` says how much went out. */
export async function endlessLineServer(limit = 800 * 2 ** 20) {
  let sent = 0
  const server = await startServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: ')
    const chunk = Buffer.alloc(256 * 1024, 'x')
    while (!res.destroyed && sent < limit) {
      sent += chunk.length
      if (!res.write(chunk)) await drained(res)
    }
  })
  return { url: server.url, sent: () => sent }
}
