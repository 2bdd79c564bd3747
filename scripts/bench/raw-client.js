// The floor for the load benchmark: N raw TCP sockets sending a bare GET and
// reading the send time out of the bytes with a regular expression: no HTTP
// parser, no SSE parser, no reconnects. What is left of the fan-out latency here is
// the kernel, the event loop and the server sharing the machine. Prints `open N`
// once all have their response headers, and the latency percentiles on SIGINT.
import { connect } from 'node:net'
import { clock, reportOnSigint } from './latencies.js'

const url = new URL(process.argv[2])
const count = Number(process.argv[3])
const request = `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`
const SENT_AT = /"sentAt":([\d.]+)/g
const latencies = []
let open = 0

for (let i = 0; i < count; i++) {
  const socket = connect(Number(url.port), url.hostname, () => socket.write(request))
  let headers = false
  socket.setEncoding('latin1').on('data', (text) => {
    if (!headers) {
      headers = true
      if (++open === count) process.stdout.write(`open ${open}\n`)
    }
    const now = clock()
    for (const match of text.matchAll(SENT_AT)) latencies.push(now - Number(match[1]))
  })
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
}

reportOnSigint(latencies, () => open)
