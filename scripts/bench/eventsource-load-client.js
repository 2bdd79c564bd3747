// The comparison for `sse-probe load`: N instances of the `eventsource` npm package
// in one process, each counting its events and the latency of broadcasts (receipt
// minus the send time in the data). Prints `open N` once all are open, and the
// latency percentiles on SIGINT.
import { EventSource } from 'eventsource'
import { clock, reportOnSigint } from './latencies.js'

const [url, count] = [process.argv[2], Number(process.argv[3])]
const latencies = []
let open = 0

for (let i = 0; i < count; i++) {
  const source = new EventSource(url)
  source.onopen = () => {
    if (++open === count) process.stdout.write(`open ${open}\n`)
  }
  source.onmessage = (event) => latencies.push(clock() - JSON.parse(event.data).sentAt)
  // Connections are opened in batches, as sse-probe does, so that the event loop keeps up.
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
}

reportOnSigint(latencies, () => open)
