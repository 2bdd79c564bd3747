// The baseline: what a competent engineer writes with the same stack in a few
// lines. undici `request` + eventsource-parser, one JSON line per event with the
// fields of sse-probe's `event` record, the lines of one network chunk written
// together. With --count it only counts events.
import { createParser } from 'eventsource-parser'
import { request } from 'undici'

const [url, mode] = process.argv.slice(2)
const countOnly = mode === '--count'
const startedAt = performance.now()
const round = (ms) => Math.round(ms * 1000) / 1000
let lastEventId = ''
let previousAt = null
let events = 0
let ended = false
let lines = ''

const parser = createParser({
  onId(id) {
    lastEventId = id
  },
  onEvent(message) {
    events++
    const type = message.event ?? 'message'
    if (type === 'end') ended = true
    if (countOnly) return
    const t = performance.now() - startedAt
    lines += `${JSON.stringify({ type: 'event', t: round(t), attempt: 1, event: type, id: message.id ?? null, lastEventId, data: message.data, dt: previousAt === null ? null : round(t - previousAt) })}\n`
    previousAt = t
  },
})

const { body } = await request(url, { headers: { accept: 'text/event-stream' }, bodyTimeout: 0 })
const decoder = new TextDecoder()
for await (const chunk of body) {
  parser.feed(decoder.decode(chunk, { stream: true }))
  if (lines !== '') {
    process.stdout.write(lines)
    lines = ''
  }
  if (ended) break
}
if (countOnly) process.stdout.write(`${events}\n`)
