// The test service of LaunchDarkly's cross-language SSE contract tests
// (github.com/launchdarkly/sse-contract-tests, docs/service_spec.md), over the library:
//
//   npm run build && PORT=8000 node scripts/sse-contract-service.js &
//   sse-contract-tests -url http://localhost:8000
//
// The harness asks for a client (POST /) with a stream URL and a callback URL, serves the stream,
// and checks what the client reports: each event (its type, data and last event ID), comment and
// error, POSTed to <callbackUrl>/1, /2, … in order. Capabilities: all but `read-timeout`
// (--idle-timeout ends a probe, where the harness wants the client to reconnect) and
// `event-type-listeners` (the probe reports every type).
import { createServer } from 'node:http'
import { probe } from '../dist/index.js'

const CAPABILITIES = ['comments', 'headers', 'post', 'report', 'last-event-id', 'bom', 'restart']
/** The close record of a connection that reconnect() dropped: a `restart`, no error of the stream. */
const DROPPED = 'dropped on request'

/** @type {Map<string, ReturnType<typeof probe>>} */
const clients = new Map()
let created = 0

async function readJson(request) {
  let text = ''
  for await (const chunk of request) text += chunk
  return text === '' ? {} : JSON.parse(text)
}

function startClient(params) {
  const run = probe(params.streamUrl, {
    endEvent: false,
    // EventSource's rules, for a POST or REPORT stream too: the harness breaks it and awaits the reconnect.
    reconnect: 'always',
    ...(params.initialDelayMs != null && { retry: params.initialDelayMs }),
    ...(params.headers && { header: params.headers }),
    ...(params.method && { method: params.method }),
    ...(params.body != null && { data: params.body }),
    ...(params.lastEventId && { lastEventId: params.lastEventId }),
  })
  let sent = 0
  let posting = Promise.resolve()
  // One at a time, numbered: the harness reads them in the order of their numbers.
  const callback = (message) => {
    const url = `${params.callbackUrl}/${++sent}`
    const body = JSON.stringify(message)
    posting = posting.then(() =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
        (response) => response.arrayBuffer(),
        () => {},
      ),
    )
  }
  void (async () => {
    for await (const record of run) {
      if (record.type === 'event') {
        const { event: type, data, lastEventId: id } = record
        callback({ kind: 'event', event: { type, data, id } })
      } else if (record.type === 'comment') callback({ kind: 'comment', comment: record.text })
      else if (record.type === 'error') callback({ kind: 'error', comment: record.message })
      else if (
        record.type === 'close' &&
        record.cause === 'network-error' &&
        !record.message?.startsWith(DROPPED)
      )
        callback({ kind: 'error', comment: record.message ?? record.cause })
      // A refusal (an HTTP error, a redirect to nowhere) has its error record already; the rest end here.
      else if (
        record.type === 'summary' &&
        record.exitCode !== 0 &&
        record.reason !== 'interrupted'
      )
        callback({ kind: 'error', comment: record.message ?? record.reason })
    }
  })()
  return run
}

async function handle(request, response) {
  const { pathname } = new URL(request.url ?? '/', 'http://service')
  if (pathname === '/') {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' })
      return response.end(JSON.stringify({ capabilities: CAPABILITIES }))
    }
    if (request.method === 'DELETE') {
      // Not server.close(), which would wait for the harness's kept-alive connections.
      return response.end(() => process.exit(0))
    }
    if (request.method === 'POST') {
      const id = String(++created)
      clients.set(id, startClient(await readJson(request)))
      return response.writeHead(201, { location: `/clients/${id}` }).end()
    }
  }
  const id = /^\/clients\/(\d+)$/.exec(pathname)?.[1]
  const run = id === undefined ? undefined : clients.get(id)
  if (!run) return response.writeHead(404).end()
  if (request.method === 'DELETE') {
    clients.delete(id)
    run.abort()
    return response.end()
  }
  const { command } = await readJson(request)
  if (command !== 'restart') return response.writeHead(400).end()
  run.reconnect()
  response.end()
}

const server = createServer((request, response) => {
  handle(request, response).catch((error) => {
    // A bad option is the library's SseProbeUsageError: the harness's parameters were invalid.
    if (!response.headersSent) response.writeHead(400)
    response.end(String(error?.message ?? error))
  })
})
server.listen(Number(process.env.PORT ?? 8000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
