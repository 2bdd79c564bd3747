import { Agent } from 'undici'
import { clock, reportOnSigint } from './latencies.js'
const url = new URL(process.argv[2])
const count = Number(process.argv[3])
const SENT_AT = /"sentAt":([\d.]+)/g
const latencies = []
let open = 0
const agent = new Agent({ bodyTimeout: 0, headersTimeout: 0, connections: null })
for (let i = 0; i < count; i++) {
  agent.dispatch({ origin: url.origin, path: url.pathname, method: 'GET', headers: { accept: 'text/event-stream' } }, {
    onRequestStart() {},
    onResponseStart() { if (++open === count) process.stdout.write(`open ${open}\n`) },
    onResponseData(_c, chunk) {
      const now = clock()
      for (const m of chunk.latin1Slice(0, chunk.length).matchAll(SENT_AT)) latencies.push(now - Number(m[1]))
    },
    onResponseEnd() {},
    onResponseError(_c, e) { console.error(e.message) },
  })
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
}
reportOnSigint(latencies, () => open)
