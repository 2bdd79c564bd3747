import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import type { ProbeRecord } from '../../src/engine/records.ts'

/** Debian's chromium; never a downloaded browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH)
}

/** One headless Chromium with a fresh profile, and one page in it. */
export async function launchChromium(): Promise<{ page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'sse-probe-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  })
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    page,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** One response of a scenario's server: written chunk by chunk, then held open, ended, or cut. */
export interface Reply {
  status?: number
  headers?: Record<string, string | string[]>
  chunks?: (string | Uint8Array)[]
  pauseMs?: number
  /** hold (default): keep the stream open until the client leaves; end: finish the body; destroy: cut the connection. */
  then?: 'hold' | 'end' | 'destroy'
  /** No response: reset the connection (a network error), or answer with bytes that are not HTTP. */
  noResponse?: 'reset' | 'not-http'
  /** Informational responses written before it, each on its own (the client asked for none). */
  interim?: ('100 Continue' | '102 Processing')[]
}

export interface Scenario {
  name: string
  /** Replies to a client's 1st, 2nd, … request; the last one repeats. */
  replies: Reply[]
  /** Replies at paths below the scenario's URL (redirect targets, relative to it). */
  below?: Record<string, Reply[]>
  /** Event types the page listens to, besides message and end (browsers dispatch only to listeners of a type). */
  types?: string[]
  /** Observe for this long instead of until an `end` event or a fatal error. */
  durationMs?: number
}

export type Client = 'browser' | 'probe'

export interface SeenRequest {
  /** '' for the scenario's URL, else the path below it. */
  below: string
  lastEventId: string | undefined
  accept: string | undefined
  cacheControl: string | undefined
  cookie: string | undefined
  at: number
  /** When the server finished or cut this response (undefined while held open). */
  endedAt?: number
}

/** What either client saw, in the same shape: connection opens, dispatched events, errors. */
export type Entry =
  | { kind: 'open' }
  | { kind: 'event'; type: string; data: string; lastEventId: string }
  | { kind: 'error'; closed: boolean }

const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>sse-probe differential</title>
<script>
// Records what an EventSource dispatches until an "end" event, a fatal error, or the time is up.
window.runScenario = ({ url, types, durationMs, maxMs }) => new Promise((resolve) => {
  const log = []
  const source = new EventSource(url)
  let timer
  const finish = (how) => { source.close(); clearTimeout(timer); resolve({ log, how }) }
  for (const type of types) {
    source.addEventListener(type, (e) => {
      if (!(e instanceof MessageEvent)) return
      log.push({ kind: 'event', type: e.type, data: e.data, lastEventId: e.lastEventId })
      if (e.type === 'end' && durationMs === undefined) finish('end')
    })
  }
  source.addEventListener('open', (e) => { if (!(e instanceof MessageEvent)) log.push({ kind: 'open' }) })
  source.addEventListener('error', (e) => {
    if (e instanceof MessageEvent) return
    const closed = source.readyState === EventSource.CLOSED
    log.push({ kind: 'error', closed })
    if (closed && durationMs === undefined) finish('closed')
  })
  timer = setTimeout(() => finish(durationMs === undefined ? 'timeout' : 'duration'), durationMs ?? maxMs)
})
</script>`

/**
 * A node:http server for a corpus of scenarios: serves the page at /, and each
 * scenario at /s/<name>/<client>, counting requests per scenario and client so
 * the browser and the probe each see the same sequence of replies. A cookie a scenario sets
 * without a Path stays below its scenario and client (its default path), in the browser's
 * profile too.
 */
export async function startDifferentialServer(scenarios: Scenario[]) {
  const byName = new Map(scenarios.map((s) => [s.name, s]))
  const seen = new Map<string, SeenRequest[]>()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    // No keep-alive: Chromium silently retries a request that fails on a reused idle connection,
    // which would hide the network errors some scenarios make on purpose.
    res.shouldKeepAlive = false
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
      return
    }
    const [, prefix, name, client, ...rest] = url.pathname.split('/').map(decodeURIComponent)
    const scenario = prefix === 's' ? byName.get(name ?? '') : undefined
    const below = rest.join('/')
    const replies = below === '' ? scenario?.replies : scenario?.below?.[below]
    if (!scenario || !replies || (client !== 'browser' && client !== 'probe')) {
      res.writeHead(404).end()
      return
    }
    const key = `${scenario.name}/${client}`
    const requests = seen.get(key) ?? []
    seen.set(key, requests)
    const header = (name: string) => req.headers[name]?.toString()
    const request: SeenRequest = {
      below,
      lastEventId: header('last-event-id'),
      accept: header('accept'),
      cacheControl: header('cache-control'),
      cookie: header('cookie'),
      at: performance.now(),
    }
    const index = requests.filter((r) => r.below === below).length
    requests.push(request)
    void serve(
      res,
      replies[Math.min(index, replies.length - 1)]!,
      () => (request.endedAt = performance.now()),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    // The trailing slash lets a redirect's relative Location stay below the scenario and client.
    streamUrl: (name: string, client: Client) => `${url}/s/${encodeURIComponent(name)}/${client}/`,
    requests: (name: string, client: Client) => seen.get(`${name}/${client}`) ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function serve(res: ServerResponse, reply: Reply, ended: () => void) {
  res.socket?.setNoDelay(true)
  if (reply.noResponse) {
    if (reply.noResponse === 'reset') res.socket?.resetAndDestroy()
    else res.socket?.end('not http\r\n\r\n')
    ended()
    return
  }
  for (const status of reply.interim ?? []) {
    if (status === '100 Continue') res.writeContinue()
    else res.writeProcessing()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  res.writeHead(
    reply.status ?? 200,
    reply.headers ?? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  )
  const ends = reply.then === 'end' || (reply.status !== undefined && reply.status !== 200)
  // A reply that ends sends its headers with the end: flushHeaders() writes them as UTF-8, not
  // byte for byte, which changes a Location of raw UTF-8 bytes.
  if (!reply.chunks?.length && !ends) res.flushHeaders()
  for (const chunk of reply.chunks ?? []) {
    if (res.destroyed) return
    res.write(chunk)
    if (reply.pauseMs) await new Promise((resolve) => setTimeout(resolve, reply.pauseMs))
  }
  if (ends) {
    res.end(ended)
  } else if (reply.then === 'destroy') {
    // After the last chunk is on the wire, so the client has it before the reset.
    await new Promise((resolve) => setTimeout(resolve, 20))
    res.destroy()
    ended()
  }
}

const MAX_MS = 8000

/** Runs a scenario in the page; `how` tells whether it ended by `end`, a fatal error, its duration, or a timeout. */
export async function runInBrowser(
  page: Page,
  url: string,
  scenario: Scenario,
): Promise<{ log: Entry[]; how: string }> {
  const types = [...new Set(['message', 'end', ...(scenario.types ?? [])])]
  const args = { url, types, durationMs: scenario.durationMs, maxMs: MAX_MS }
  return page.evaluate(`runScenario(${JSON.stringify(args)})`)
}

/** The probe's JSON records as the browser would have seen them. */
export function probeEntries(records: ProbeRecord[]): Entry[] {
  const entries: Entry[] = []
  for (const record of records) {
    if (record.type === 'open') entries.push({ kind: 'open' })
    else if (record.type === 'event')
      entries.push({
        kind: 'event',
        type: record.event,
        data: record.data,
        lastEventId: record.lastEventId,
      })
    // A close or a failed reconnect is the browser's error event while it reconnects.
    else if (record.type === 'close' || record.type === 'error')
      entries.push({ kind: 'error', closed: false })
    else if (
      record.type === 'summary' &&
      ['http-error', 'not-event-stream', 'no-content'].includes(record.reason)
    ) {
      // A refused response is the browser's last error, with the connection closed (a 204 has no error record).
      if (record.reason !== 'no-content') entries.pop()
      entries.push({ kind: 'error', closed: true })
    }
  }
  return entries
}

/** Long data as length and hash, so a difference reads in one line. */
export function abbreviate(entries: Entry[]): Entry[] {
  return entries.map((e) =>
    e.kind === 'event' && e.data.length > 200
      ? {
          ...e,
          data: `${e.data.length} chars, sha1 ${createHash('sha1').update(e.data).digest('hex')}`,
        }
      : e,
  )
}

/** Milliseconds from the end of each response to the next request: the reconnection delay as the server saw it. */
export function reconnectDelays(requests: SeenRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - (requests[i]!.endedAt ?? Number.NaN))
}
