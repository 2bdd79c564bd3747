// The per-event cost of the LLM profile under --json, in process and without the network: a bench
// stream of 100k deltas goes through the SSE parser in 64 KiB reads, each event becomes a record,
// the profile reads it (or not, with `off`) and then each read's end, and the JSON lines of each
// read are written to /dev/null, as the CLI does. Wall time on a shared machine moves by more than the profile costs;
// instructions hardly do (±0.6 % from run to run), so this is run under cachegrind:
//
//   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//     node --single-threaded --no-memory-reducer scripts/bench/llm-hot-path.ts responses auto
//
// and compared with the same command with `off`. Usage: llm-hot-path.ts chat|anthropic|responses auto|off
import { closeSync, openSync, writeSync } from 'node:fs'
import { createJsonRenderer } from '../../src/cli/render/json.ts'
import type { ExtensionContext } from '../../src/engine/extension.ts'
import type { EventRecord } from '../../src/engine/records.ts'
import { createEventStream } from '../../src/engine/stream.ts'
import { createLlmExtension } from '../../src/llm/extension.ts'
import type { LlmSummary } from '../../src/llm/types.ts'
import { makeAnthropicStream, makeLlmStream, makeResponsesStream } from './streams.ts'

const STREAMS = {
  chat: makeLlmStream,
  anthropic: makeAnthropicStream,
  responses: makeResponsesStream,
}
const [format, mode] = process.argv.slice(2) as [keyof typeof STREAMS, string]
if (!(format in STREAMS) || (mode !== 'auto' && mode !== 'off')) {
  console.error('usage: llm-hot-path.ts chat|anthropic|responses auto|off')
  process.exit(2)
}
const body = STREAMS[format](100_000)
const READ = 64 * 1024

const llm = mode === 'auto' ? createLlmExtension({ mode: 'auto', dataJson: true }) : undefined
let ended = false
const context: ExtensionContext = {
  now: () => 0,
  emit() {},
  end() {
    ended = true
  },
  detach() {},
  knownBlocks: (blocks) => stream.knownBlocks(blocks),
  signal: new AbortController().signal,
  request: { url: new URL('http://127.0.0.1/'), method: 'GET' },
}
const render = createJsonRenderer()
let read: EventRecord[] = []
let t = 0
const stream = createEventStream(
  {
    onEvent(event, id, data, lastEventId) {
      if (ended) return
      const record: EventRecord = {
        type: 'event',
        t,
        attempt: 1,
        event,
        id,
        lastEventId,
        data,
        dt: 0,
      }
      llm?.onRecord?.(record, context)
      read.push(record)
    },
    onComment() {},
    onRetry() {},
    onTooLarge() {},
  },
  { lastEventId: '', maxEventSize: Number.MAX_SAFE_INTEGER, exactComments: true },
)

const out = openSync('/dev/null', 'w')
let written = 0
for (let at = 0; at < body.length && !ended; at += READ) {
  t += 1.5
  stream.feed(body.subarray(at, at + READ))
  llm?.afterRead?.(context)
  let lines = ''
  for (const record of read) lines += render(record)
  read = []
  written += writeSync(out, Buffer.from(lines))
}
closeSync(out)
const summary = llm?.finish?.({ reason: 'end-event', t }).summary as
  | { llm?: LlmSummary }
  | undefined
const deltas = summary?.llm?.deltas ?? 0
console.log(
  `${format} ${mode}: ${written} bytes of JSON lines, ${deltas} deltas read by the profile`,
)
