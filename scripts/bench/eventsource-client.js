// The comparison for `sse-probe load`: N instances of the `eventsource` npm package
// in one process, each counting its events and the latency of broadcasts (receipt
// minus the send time in the data). Prints `open N` once all are open, and the
// latency percentiles on SIGINT.
import { EventSource } from 'eventsource'

const [url, count] = [process.argv[2], Number(process.argv[3])]
const latencies = []
let open = 0
const clock = () => performance.timeOrigin + performance.now()

for (let i = 0; i < count; i++) {
  const source = new EventSource(url)
  source.onopen = () => {
    if (++open === count) process.stdout.write(`open ${open}\n`)
  }
  source.onmessage = (event) => latencies.push(clock() - JSON.parse(event.data).sentAt)
  // Connections are opened in batches, as sse-probe does, so that the event loop keeps up.
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
}

process.on('SIGINT', () => {
  latencies.sort((a, b) => a - b)
  const at = (p) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? null
  process.stdout.write(
    `${JSON.stringify({ open, samples: latencies.length, p50: at(0.5), p95: at(0.95), max: at(1) })}\n`,
  )
  process.exit(0)
})
