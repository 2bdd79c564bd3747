// The `eventsource` package, Node's own fetch underneath: what a Node developer reaches for
// first. One JSON line per event's data; it ends with the stream instead of reconnecting.
import { EventSource } from 'eventsource'

const source = new EventSource(process.argv[2])
source.onmessage = (event) => process.stdout.write(`${JSON.stringify({ data: event.data })}\n`)
source.onerror = () => source.close()
