// Shared by the comparison clients of the load benchmark: the send time of an event
// is in its data, the latency is receipt minus it, reported on SIGINT as one JSON line.
export const clock = () => performance.timeOrigin + performance.now()

export function reportOnSigint(latencies, open) {
  process.on('SIGINT', () => {
    latencies.sort((a, b) => a - b)
    const at = (p) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? null
    const summary = {
      open: open(),
      samples: latencies.length,
      p50: at(0.5),
      p95: at(0.95),
      max: at(1),
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    process.exit(0)
  })
}
