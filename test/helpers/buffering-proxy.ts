import { connect, createServer, type Socket } from 'node:net'
import { listenUntilTestEnds } from './server.ts'

/**
 * A TCP relay in front of `upstream` that holds what the server sends and passes it on
 * every `flushMs`, as a buffering proxy does: events the server wrote apart arrive together.
 */
export async function startBufferingProxy(
  upstream: string,
  flushMs: number,
): Promise<{ url: string }> {
  const target = new URL(upstream)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const origin = connect(Number(target.port), target.hostname)
    sockets.add(client).add(origin)
    let held: Buffer[] = []
    const flush = () => {
      if (held.length > 0 && !client.destroyed) client.write(Buffer.concat(held))
      held = []
    }
    const timer = setInterval(flush, flushMs)
    origin.on('data', (chunk: Buffer) => held.push(chunk))
    origin.on('end', () => {
      clearInterval(timer)
      flush()
      client.end()
    })
    client.pipe(origin)
    const destroy = () => {
      clearInterval(timer)
      client.destroy()
      origin.destroy()
    }
    client.on('error', destroy).on('close', destroy)
    origin.on('error', destroy)
  })
  const port = await listenUntilTestEnds(server, () => {
    for (const socket of sockets) socket.destroy()
  })
  return { url: `http://127.0.0.1:${port}/` }
}
