// The server side of the load benchmark, in a process of its own so that the
// client's memory and CPU are measured alone. Holds every event stream open and,
// on `broadcast` from the parent (IPC), writes one event to each; the event
// carries the epoch time (ms, fractional) at which that very socket was written,
// so that receipt minus it is what the client adds (kernel and client), not the
// time the server's loop takes to reach the 10,000th socket.
import { createServer } from 'node:http'

const clients = new Set()
const clock = () => performance.timeOrigin + performance.now()
let id = 0

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write('retry: 1000\n\n')
  clients.add(res)
  res.on('close', () => clients.delete(res))
})
server.keepAliveTimeout = 0
server.headersTimeout = 0
server.requestTimeout = 0
server.maxConnections = Infinity

process.on('message', (message) => {
  if (message === 'broadcast') {
    id++
    for (const res of clients) {
      res.write(`id: ${id}\ndata: {"sentAt":${clock()}}\n\n`)
      // http corks a response's socket until the next tick: without this, every socket would be
      // written after the loop, later than its stamp by the rest of the loop.
      res.socket?.uncork()
    }
    process.send({ type: 'broadcast', clients: clients.size })
  } else if (message === 'count') {
    process.send({ type: 'count', clients: clients.size })
  }
})

server.listen(0, '127.0.0.1', () =>
  process.send({ type: 'listening', port: server.address().port }),
)
