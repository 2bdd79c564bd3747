import { isEventStreamType, MAX_REDIRECTS, shownContentType } from '../engine/connection.ts'
import { contentCodings, undecodable } from '../engine/decompress.ts'
import { formatDuration as fmt } from '../engine/duration.ts'
import { clipped } from '../engine/escape.ts'
import { redactUrl } from '../engine/redact.ts'
import { credentialsHint } from '../engine/refusal.ts'
import {
  BROWSER_ACCEPT_ENCODING,
  type ConnectionSeen,
  MAX_KEPT_MIB,
  MAX_SEEN,
  type Observation,
  type ResponseSeen,
} from './observation.ts'

export type CheckId =
  | 'content-type'
  | 'cache-control'
  | 'compression'
  | 'buffering'
  | 'early-headers'
  | 'keep-alive'
  | 'http-version'
  | 'ids'
  | 'retry'
  | 'end-of-stream'
  | 'cors'

/** `skip`: the check could not be measured (no stream, too few events, no --origin). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

export interface CheckResult {
  id: CheckId
  status: CheckStatus
  /** What was seen, in one line. */
  measured: string
  /** How to fix it (or, for skip, how to measure it); absent on pass. */
  hint?: string
}

type Judgement = Omit<CheckResult, 'id'>
const pass = (measured: string): Judgement => ({ status: 'pass', measured })
const warn = (measured: string, hint: string): Judgement => ({ status: 'warn', measured, hint })
const fail = (measured: string, hint: string): Judgement => ({ status: 'fail', measured, hint })
const skip = (measured: string, hint: string): Judgement => ({ status: 'skip', measured, hint })

// A read that completes several events after this much silence looks held back on the way.
const BURST_SILENCE_MS = 250
const MIN_EVENTS_FOR_BUFFERING = 3
// A compressed first event this much later than the uncompressed one was held by the compressor;
// one that flushes every event (Express compression's res.flush(), nginx's unbuffered gzip) adds
// about nothing.
const COMPRESSED_LATE_MS = 250
// Response headers this late are noticed: EventSource's open fires late and proxies may give up.
const LATE_HEADERS_MS = 1000
// Headers and the first body bytes this close together were sent together.
const TOGETHER_MS = 50
// Idle timeouts of the proxies most streams pass through.
const NGINX_ALB_IDLE_MS = 60_000
const CLOUDFLARE_IDLE_MS = 100_000
const KEEP_ALIVE_MARGIN_MS = 30_000
// The low end of the advised ping interval (sse-starlette's default): a connection open for less
// than this may belong to a server that pings properly and has not had to yet.
const PING_INTERVAL_MS = 15_000
// A connection that breaks at the end of its longest silence, this long or more, again and again,
// is being cut by an idle timeout on the way (nginx's proxy_read_timeout), however short.
const IDLE_CUT_MIN_MS = 500
const IDLE_CUTS = 2

const LONGER_WINDOW = 'observe longer with --window'
const INTERRUPTED = 'let the check run its whole window'
const HINTS = {
  contentType: 'answer 200 with Content-Type: text/event-stream; EventSource refuses anything else',
  charset: 'SSE is always decoded as UTF-8: send UTF-8 and drop the charset (or say charset=utf-8)',
  cache:
    'send Cache-Control: no-cache (or no-store) so that proxies and CDNs neither cache nor hold the stream',
  compression:
    'do not compress text/event-stream (nginx: leave it out of gzip_types), or flush the compressor after every event',
  buffering:
    'turn buffering off between server and client: X-Accel-Buffering: no (nginx), proxy_buffering off, and flush after every event',
  headers:
    'send the headers at once (Node: res.flushHeaders(), or write a comment such as ": connected")',
  headersBuffered:
    'turn buffering off between server and client: X-Accel-Buffering: no (nginx), proxy_buffering off; a buffering proxy holds the headers with the events, whatever the server flushes',
  keepAlive:
    'send a comment (": ping") every 15-30s: nginx and AWS ALB close idle connections after 60s, Cloudflare after 100s',
  httpVersion: 'serve the stream over HTTPS with HTTP/2 (browsers use HTTP/2 only over TLS)',
  ids: 'give every event an id: so that a reconnecting client sends Last-Event-ID and resumes where it stopped',
  resume:
    'on a request with Last-Event-ID, send the events that came after that id, then continue live',
  retry: 'send "retry: <ms>" once at the start of the stream to choose how soon clients reconnect',
  end: 'send a final event (e.g. "event: end") and close the EventSource on it, or answer the reconnect with 204',
  cutOff:
    'end every event with a blank line (two line ends), the last one too: an event is dispatched only then',
  dataless:
    'give the end event a data line, even an empty one ("data:"): a block without data is no event (ServerSentEvent(event="end", data="") in sse-starlette and in fastapi.sse)',
}

/** The checks after content-type, in report order. */
const CHECKS: [CheckId, (o: Observation) => Judgement][] = [
  ['cache-control', checkCacheControl],
  ['compression', checkCompression],
  ['buffering', checkBuffering],
  ['early-headers', checkEarlyHeaders],
  ['keep-alive', checkKeepAlive],
  ['http-version', checkHttpVersion],
  ['ids', checkIds],
  ['retry', checkRetry],
  ['end-of-stream', checkEndOfStream],
  ['cors', checkCors],
]

/** Every check, in report order. The first connection's response is the one judged. */
export function runChecks(o: Observation): CheckResult[] {
  const response = o.connections[0]?.response
  if (!response) return unansweredChecks(o)
  const notStream =
    response.verdict === 'ok'
      ? undefined
      : skip(
          `no event stream to observe (${statusLine(response)})`,
          'fix the content-type failure above first',
        )
  return [
    { id: 'content-type', ...checkContentType(o) },
    ...CHECKS.map(([id, check]) => ({ id, ...(notStream ?? check(o)) })),
  ]
}

/**
 * A connection made but never answered within --connect-timeout (or before Ctrl-C): headers held back until the
 * stream has brought enough (a buffering proxy in front of a live stream) or forever.
 */
function unansweredChecks(o: Observation): CheckResult[] {
  const error = o.connections[0]!.error!
  const ids: CheckId[] = ['content-type', ...CHECKS.map(([id]) => id)]
  if (o.interrupted) {
    const none = skip(
      `the check was interrupted after ${fmt(o.observedMs)}, before the server answered`,
      INTERRUPTED,
    )
    return ids.map((id) => ({ id, ...none }))
  }
  const none = skip('no response to observe: its headers never came', 'fix early-headers first')
  return ids.map((id) =>
    id === 'early-headers'
      ? {
          id,
          ...fail(
            // The probe's message names buffering already; the other cause is the server's own.
            `${error} (or the server sends its headers only with its first event)`,
            `${HINTS.headers}; turn buffering off on the way: X-Accel-Buffering: no (nginx), proxy_buffering off (a longer --connect-timeout waits for them)`,
          ),
        }
      : { id, ...none },
  )
}

/** 1 when a check failed, or warned with --strict; skipped checks never count. */
export function checkExitCode(results: readonly CheckResult[], strict: boolean): number {
  return results.some((r) => r.status === 'fail' || (strict && r.status === 'warn')) ? 1 : 0
}

export function checkContentType(o: Observation): Judgement {
  const r = firstResponse(o)
  const type = r.headers['content-type']
  if (r.verdict === 'too-many-redirects')
    return fail(
      `${statusLine(r)}, the last to ${redactUrl(r.headers.location ?? '')}`,
      'the redirects go round in a loop: fix them, or check the URL the stream is really at',
    )
  // What came back instead (an API's JSON error, a login page) says more than its status.
  const body = r.body ? `: ${r.body}` : ''
  if (r.status !== 200) return fail(`${statusLine(r)}${body}`, statusHint(r.status, r.headers))
  const why = unreadableStream(r)
  if (why !== undefined) return fail(`200, ${type}, with ${why}`, HINTS.compression)
  if (r.verdict !== 'ok')
    return fail(`200 with Content-Type ${shownContentType(type)}${body}`, HINTS.contentType)
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type ?? '')?.[1]
  if (charset && !/^utf-?8$/i.test(charset))
    return warn(`200, ${type}: SSE is decoded as UTF-8 whatever the charset says`, HINTS.charset)
  return pass(`200, ${type}`)
}

export function checkCacheControl(o: Observation): Judgement {
  const value = firstResponse(o).headers['cache-control']
  if (value === undefined) return warn('no Cache-Control header', HINTS.cache)
  const directives = value
    .toLowerCase()
    .split(',')
    .map((d) => d.trim())
  if (directives.some((d) => d === 'no-cache' || d === 'no-store'))
    return pass(`Cache-Control: ${value}`)
  if (directives.some((d) => d === 'public' || /^(max-age|s-maxage)\s*=\s*"?0*[1-9]/.test(d))) {
    return fail(
      `Cache-Control: ${value}: a cache may keep the stream and serve it again`,
      HINTS.cache,
    )
  }
  return warn(`Cache-Control: ${value}, without no-cache or no-store`, HINTS.cache)
}

export function checkCompression(o: Observation): Judgement {
  const c = o.compressed
  if (c.error)
    return skip(
      `the request with Accept-Encoding: ${BROWSER_ACCEPT_ENCODING} failed: ${c.error}`,
      'retry the check',
    )
  if (c.response?.verdict !== 'ok') {
    // A stream in a coding the request did not offer: a browser that asked as it did cannot read it.
    const why = unreadableStream(c.response)
    if (why !== undefined)
      return warn(
        `asked with Accept-Encoding: ${BROWSER_ACCEPT_ENCODING}, the stream came with ${why}`,
        HINTS.compression,
      )
    return skip(
      `the request with Accept-Encoding: ${BROWSER_ACCEPT_ENCODING} got ${statusLine(c.response)}`,
      'retry the check',
    )
  }
  const plain = o.connections[0]!
  const unasked = contentEncoding(plain)
  // Compressed without being asked (HTTP allows it): there is no uncompressed stream to compare.
  if (unasked !== undefined) {
    const firstMs = firstEventMs(plain)
    const first = firstMs === undefined ? 'no event' : `first event after ${fmt(firstMs)}`
    // Unless the user asked for it (-H Accept-Encoding): then it is no fault of the server's.
    const asked = plain.request?.headers['accept-encoding']
    if (asked !== undefined)
      return skip(
        `${unasked}-compressed, as -H Accept-Encoding: ${asked} asked: no uncompressed stream to compare (${first})`,
        'leave Accept-Encoding out of -H: check asks for a compressed stream alongside',
      )
    return warn(`${unasked}-compressed even without Accept-Encoding: ${first}`, HINTS.compression)
  }
  const encoding = contentEncoding(c)
  if (encoding === undefined)
    return pass(`not compressed, also with Accept-Encoding: ${BROWSER_ACCEPT_ENCODING}`)
  const compressedMs = firstEventMs(c)
  const plainMs = firstEventMs(plain)
  if (plainMs === undefined)
    return warn(
      `${encoding}-compressed (no event in the window to compare first-event times)`,
      HINTS.compression,
    )
  if (compressedMs === undefined)
    return warn(
      `${encoding}-compressed: no event within the window, against ${fmt(plainMs)} uncompressed`,
      HINTS.compression,
    )
  const later = compressedMs - plainMs
  // Only a stream still going well after it tells a compressor that flushes every event from one
  // that held the event until the stream ended.
  const plainEndMs = plain.end!.t - plain.requestAt
  if (later < COMPRESSED_LATE_MS && compressedMs + COMPRESSED_LATE_MS <= plainEndMs)
    return pass(
      `${encoding}-compressed, without holding events back: first event after ${fmt(compressedMs)}, uncompressed ${fmt(plainMs)}`,
    )
  const comparison =
    later > 0
      ? `${fmt(later)} later than uncompressed (${fmt(plainMs)})`
      : `uncompressed ${fmt(plainMs)}`
  return warn(
    `${encoding}-compressed: first event after ${fmt(compressedMs)}, ${comparison}`,
    HINTS.compression,
  )
}

export function checkBuffering(o: Observation): Judgement {
  const connections = readConnections(o)
  const reads = connections.flatMap((c) => c.reads)
  const events = sum(reads.map((r) => r.events))
  if (events < MIN_EVENTS_FOR_BUFFERING)
    return skip(
      `${events} event${plural(events)} (pings aside) in ${fmt(o.observedMs)}: too few to tell`,
      LONGER_WINDOW,
    )
  // Only events count: a server that writes each event with its keep-alive comment sends one chunk.
  const bursts = connections.flatMap(burstsOf)
  const inBursts = sum(bursts.map((r) => r.events))
  if (bursts.length > 0 && inBursts * 2 >= events) {
    const largest = bursts.reduce((a, b) => (b.events > a.events ? b : a))
    return warn(
      `${inBursts} of ${events} events arrived together in ${bursts.length} burst${plural(bursts.length)} (up to ${largest.events} in one read after ${fmt(largest.silenceMs)} of silence): held back on the way, e.g. by a proxy, unless the server writes them in one go`,
      HINTS.buffering,
    )
  }
  // Not spread into Math.max's arguments: 10,000 reads on each of a dozen connections overflow the stack.
  const most = reads.reduce((max, r) => Math.max(max, r.events), 0)
  return pass(
    `${events} events in ${reads.length} read${plural(reads.length)}, at most ${most} per read`,
  )
}

/**
 * Reads that completed several events after a silence. The end event does not count: servers
 * write it right after the last event (`yield status; yield end`), so sharing that read is not
 * being held back. Reading stops at the end event, so it is in the connection's last read.
 */
function burstsOf(c: ConnectionSeen): ConnectionSeen['reads'] {
  const last = c.reads.length - 1
  const ended = c.end?.cause === 'end-event'
  return c.reads.filter(
    (r, i) => r.events - (ended && i === last ? 1 : 0) >= 2 && r.silenceMs >= BURST_SILENCE_MS,
  )
}

export function checkEarlyHeaders(o: Observation): Judgement {
  const c = o.connections[0]!
  const headersMs = c.headersAt! - c.requestAt
  const eventMs = firstEventMs(c)
  const event =
    eventMs === undefined ? `no event in ${fmt(o.observedMs)}` : `first event after ${fmt(eventMs)}`
  if (headersMs < LATE_HEADERS_MS) return pass(`headers after ${fmt(headersMs)}, ${event}`)
  const first = c.reads[0]
  const together = first !== undefined && first.t - c.headersAt! < TOGETHER_MS
  // Headers that came with a burst of events were held with them on the way (nginx's
  // proxy_buffering): flushing them in the server changes nothing.
  const burst = together && burstsOf(c)[0] === first ? first : undefined
  const held = burst
    ? `, held back with a burst of ${burst.events} events`
    : together
      ? ', held back until the first data'
      : ''
  return warn(
    `headers after ${fmt(headersMs)}${held}; ${event}`,
    burst ? HINTS.headersBuffered : HINTS.headers,
  )
}

export function checkKeepAlive(o: Observation): Judgement {
  const connections = readConnections(o)
  const pings = sum(connections.map((c) => c.comments + c.events.filter((e) => e.ping).length))
  const longest = Math.max(0, ...connections.map(longestSilence))
  const openMs = sum(connections.map((c) => c.end!.t - c.requestAt))
  const silence = `longest silence ${fmt(longest)}`
  if (longest >= CLOUDFLARE_IDLE_MS)
    return fail(
      `${silence}: longer than the idle timeouts of nginx and AWS ALB (60s) and Cloudflare (100s)`,
      HINTS.keepAlive,
    )
  if (longest >= NGINX_ALB_IDLE_MS)
    return fail(
      `${silence}: longer than the 60s idle timeout of nginx and AWS ALB`,
      HINTS.keepAlive,
    )
  const cuts = idleCuts(o).map(trailingSilence)
  if (cuts.length > 0) {
    const [shortest, longestCut] = [fmt(Math.min(...cuts)), fmt(Math.max(...cuts))]
    return warn(
      `${cuts.length} connections broke after ${shortest}${longestCut !== shortest ? ` to ${longestCut}` : ''} of silence (${pings} ping${plural(pings)} or comment${plural(pings)} in all): an idle timeout on the way cuts quiet connections`,
      `send a comment (": ping") more often than every ${shortest}, or raise the idle timeout on the way (nginx: proxy_read_timeout)`,
    )
  }
  if (pings === 0 && !streamEnded(o)) {
    const measured = `no ping or comment in ${fmt(openMs)} of streaming; ${silence}`
    const longestOpen = Math.max(0, ...connections.map((c) => c.end!.t - c.requestAt))
    if (longestOpen < PING_INTERVAL_MS)
      return skip(
        `${measured}: too short to tell, a ping every 15s need not have come yet`,
        'observe a connection for 15s or more with --window',
      )
    return warn(measured, HINTS.keepAlive)
  }
  if (longest >= KEEP_ALIVE_MARGIN_MS)
    return warn(`${silence}: close to the 60s idle timeout of nginx and AWS ALB`, HINTS.keepAlive)
  return pass(
    pings === 0
      ? `${silence}, no pings needed: the stream ended`
      : `${silence}, ${pings} ping${plural(pings)} or comment${plural(pings)}`,
  )
}

function checkHttpVersion(o: Observation): Judgement {
  const version = firstResponse(o).httpVersion
  if (version === '2') return pass('HTTP/2')
  return warn(
    `HTTP/${version}: browsers open at most 6 connections per origin, so a user with 6 tabs open stalls`,
    HINTS.httpVersion,
  )
}

// An id quoted in a message: a server's may be megabytes long.
const shownId = (id: string) => clipped(id, 80)

export function checkIds(o: Observation): Judgement {
  const events = o.connections
    .flatMap((c) => c.events)
    .filter((e) => !e.ping && !o.endEvents.includes(e.event))
  if (events.length === 0) return skip(`no events in ${fmt(o.observedMs)}`, LONGER_WINDOW)
  const withoutId = events.filter((e) => !e.id).length
  if (withoutId > 0)
    return warn(
      `${withoutId} of ${events.length} event${plural(events.length)} without an id: ${withoutId === events.length ? 'clients cannot resume' : 'a client that drops after one of them resumes from an earlier id'}`,
      HINTS.ids,
    )
  const r = o.resume
  if (!r && o.interrupted)
    return skip(
      `${events.length} event${plural(events.length)} with ids; resuming not tested: the check was interrupted`,
      INTERRUPTED,
    )
  if (!r)
    return skip(
      `one id (${shownId(events[0]!.id!)}) in ${events.length} event${plural(events.length)}: two are needed to test resuming`,
      LONGER_WINDOW,
    )
  const c = r.connection
  const mid = r.ids.indexOf(r.lastEventId)
  const expected = shownId(r.ids[mid + 1]!)
  const sent = `Last-Event-ID: ${shownId(r.lastEventId)}`
  const got = c.events.find((e) => !e.ping)
  // Ctrl-C during the resume, before its first event: the server was not given the time to answer.
  if (o.interrupted && !got && (c.error !== undefined || c.response?.verdict === 'ok'))
    return skip(
      `${events.length} event${plural(events.length)} with ids; the check was interrupted before the reconnect with ${sent} brought an event`,
      INTERRUPTED,
    )
  if (c.error) return warn(`could not reconnect with ${sent}: ${c.error}`, 'retry the check')
  if (c.response!.status === 204)
    return fail(
      `a reconnect with ${sent} got 204, though id ${expected} and more followed it`,
      HINTS.resume,
    )
  if (c.response!.verdict !== 'ok')
    return fail(`a reconnect with ${sent} got ${statusLine(c.response)}`, HINTS.resume)
  if (!got)
    return warn(
      `no event within ${fmt(c.end!.t - c.requestAt)} of reconnecting with ${sent}`,
      HINTS.resume,
    )
  const gotId = got.id === null ? '(none)' : shownId(got.id)
  if (got.id === r.ids[mid + 1])
    return pass(
      `${events.length} events with ids; a reconnect with ${sent} resumed right after it, at id ${expected}`,
    )
  const index = got.id ? r.ids.indexOf(got.id) : -1
  if (index === 0)
    return fail(
      `a reconnect with ${sent} replayed from the start (id ${gotId}) instead of resuming at id ${expected}`,
      HINTS.resume,
    )
  if (index !== -1 && index <= mid)
    return fail(
      `a reconnect with ${sent} replayed from id ${gotId} instead of resuming at id ${expected}`,
      HINTS.resume,
    )
  if (index > mid + 1)
    return fail(
      `a reconnect with ${sent} skipped to id ${gotId}: ${index - mid - 1} event${plural(index - mid - 1)} lost`,
      HINTS.resume,
    )
  return fail(
    `a reconnect with ${sent} went on with id ${gotId}, not ${expected}, which had followed it`,
    HINTS.resume,
  )
}

export function checkRetry(o: Observation): Judgement {
  const retries = o.connections.flatMap((c) => c.retries)
  const invalid = o.connections.find((c) => c.invalidRetry !== undefined)?.invalidRetry
  if (retries.length === 0 && invalid !== undefined)
    return warn(
      `retry: ${clipped(invalid, 40)} is not a number of milliseconds: clients ignore it and pick their own reconnection time`,
      'send the reconnection time in milliseconds, digits only (e.g. "retry: 3000")',
    )
  if (retries.length === 0)
    return warn(
      'no retry: field; browsers pick their own reconnection time (a few seconds)',
      HINTS.retry,
    )
  const ms = retries.at(-1)!
  return pass(`retry: ${ms} (clients reconnect after ${fmt(ms)})`)
}

export function checkEndOfStream(o: Observation): Judgement {
  const endName = o.endEvents[0] ?? 'end'
  const ended = o.connections.findIndex((c) => c.end?.cause === 'end-event')
  // A connection an idle timeout cut (keep-alive says so) is not the server ending the stream.
  const cuts = idleCuts(o)
  const closed = o.connections.findIndex(
    (c) =>
      (c.end?.cause === 'server-closed' || c.end?.cause === 'network-error') && !cuts.includes(c),
  )
  // A stream that dropped and resumed but then ended properly ends properly: the drop is not the end.
  if (ended !== -1) {
    const c = o.connections[ended]!
    const resumed =
      ended > 0
        ? `, on connection ${ended + 1} after ${ended === 1 ? 'a reconnect' : `${ended} reconnects`}`
        : ''
    return pass(
      `ended with an "${c.events.at(-1)!.event}" event after ${fmt(c.end!.t - c.requestAt)}${resumed}`,
    )
  }
  // The connection that closed or broke (none: -1 reads as undefined), and the reconnect after it.
  const c = o.connections[closed]
  const after = o.connections[closed + 1]
  // Only fetch-based clients send another method, and they stop at a clean close.
  if (o.method !== 'GET' && c?.end?.cause === 'server-closed')
    return pass(
      `the stream closed after ${fmt(c.end.t - c.requestAt)}: a ${o.method} stream is read with fetch, which does not reconnect after a clean close`,
    )
  if (!c || (!after && !o.interrupted)) {
    if (o.interrupted)
      return skip(
        `the stream stayed open for the ${fmt(o.observedMs)} observed before the check was interrupted`,
        INTERRUPTED,
      )
    if (cuts.length > 0)
      return skip(
        `the connections broke when idle (see keep-alive): how the stream ends was not seen`,
        'fix keep-alive first, then observe how the stream ends',
      )
    // A fast stream fills what the check keeps before the window is over.
    if (o.connections.at(-1)?.end?.cause === 'full')
      return skip(
        `the stream stayed open for the ${fmt(o.observedMs)} observed, when the check had read all it keeps (${MAX_SEEN.toLocaleString('en-US')} events or reads, ${MAX_KEPT_MIB} MiB of event types and ids)`,
        'watch how it ends with sse-probe <url>, which reads without that limit',
      )
    return skip(
      `the stream stayed open for the whole ${fmt(o.windowMs)} window`,
      'observe longer with --window to see how it ends',
    )
  }
  // An end event the close cut off was sent without the blank line that completes it, or without
  // a data line: no client sees it.
  const clean = c.end!.cause === 'server-closed'
  const cutOff = clean && c.cutOff !== undefined && o.endEvents.includes(c.cutOff)
  const dataless = clean && c.dataless !== undefined && o.endEvents.includes(c.dataless)
  const how = `the stream ${clean ? 'closed' : 'broke'} after ${fmt(c.end!.t - c.requestAt)} ${
    cutOff
      ? `in the middle of its "${c.cutOff}" event (no blank line after it), which clients discard`
      : dataless
        ? `with an "${c.dataless}" block that had no data line, which is no event: clients drop it`
        : `without an "${endName}" event`
  }`
  const hint = cutOff ? HINTS.cutOff : dataless ? HINTS.dataless : HINTS.end
  // Ctrl-C came before the reconnect was made or answered: how the server ends is not known.
  if (!after || (o.interrupted && !after.response && after === o.connections.at(-1)))
    return skip(`${how}; the check was interrupted before the reconnect`, INTERRUPTED)
  if (after.response?.status === 204) return pass(`${how}, and the reconnect got 204: clients stop`)
  // A redirect loop is fetch's network error, which a browser retries as it retries a refusal.
  const failed =
    after.error ??
    (after.response?.verdict === 'too-many-redirects' ? statusLine(after.response) : undefined)
  if (failed) return warn(`${how}; the reconnect failed: ${failed}`, hint)
  if (after.response!.verdict === 'ok')
    return warn(
      `${how}, and the reconnect got a new stream: a browser reconnects (and replays) forever`,
      hint,
    )
  return warn(
    `${how}; the reconnect got ${statusLine(after.response)}: a browser stops with an error`,
    hint,
  )
}

export function checkCors(o: Observation): Judgement {
  if (o.origin === undefined)
    return skip(
      'not checked without --origin',
      "give --origin with your page's origin (e.g. --origin https://app.example)",
    )
  const { headers, url } = firstResponse(o)
  // A page may read a stream of its own origin whatever these headers say: CORS does not apply
  // (unless a redirect went through another origin, after which the browser sends Origin: null).
  if (URL.parse(o.url)?.origin === o.origin && URL.parse(url)?.origin === o.origin)
    return pass(`${o.origin} is the stream's own origin: CORS does not apply`)
  const allowed = headers['access-control-allow-origin']?.trim()
  // Byte for byte, as the Fetch standard compares it: browsers refuse "True".
  const allowCredentials = headers['access-control-allow-credentials']?.trim()
  const credentials = allowCredentials === 'true'
  const sent = `Origin: ${o.origin}`
  if (allowed === undefined)
    return fail(
      `no Access-Control-Allow-Origin for ${sent}: a page there cannot open the stream`,
      corsHint(o),
    )
  if (allowed !== '*' && allowed !== o.origin)
    return fail(`Access-Control-Allow-Origin: ${allowed}, not ${o.origin}`, corsHint(o))
  if (o.credentials && allowed === '*')
    return fail(
      `Access-Control-Allow-Origin: * with cookies: browsers refuse * for withCredentials`,
      corsHint(o),
    )
  if (o.credentials && !credentials) {
    const seen =
      allowCredentials === undefined
        ? 'no Access-Control-Allow-Credentials: true'
        : `Access-Control-Allow-Credentials: ${allowCredentials}, which browsers take only as "true"`
    return fail(
      `allows ${o.origin} but not credentials (${seen}), and the request carries cookies`,
      corsHint(o),
    )
  }
  if (allowed === '*')
    return pass(
      'Access-Control-Allow-Origin: * (without credentials: withCredentials needs the exact origin)',
    )
  return pass(`Access-Control-Allow-Origin: ${allowed}${credentials ? ', with credentials' : ''}`)
}

/** The headers to send, with the origin checked: exact, to be copied into the server's code. */
function corsHint(o: Observation): string {
  const allow = `answer with Access-Control-Allow-Origin: ${o.origin}`
  // Without cookies in the check a page may still use withCredentials; with them, it needs both.
  return o.credentials
    ? `${allow} and Access-Control-Allow-Credentials: true, as withCredentials needs`
    : `${allow} (and Access-Control-Allow-Credentials: true for withCredentials)`
}

/** What to do about a refused request: most statuses are not about the stream's headers. */
function statusHint(status: number, headers: Record<string, string>): string {
  if (status === 204)
    return '204 tells EventSource to stop for good: answer 200 while there is something to stream'
  const credentials = credentialsHint(status, headers)
  // A browser's EventSource sends no header of its own: only cookies reach such an endpoint.
  if (status === 401 && credentials)
    return `${credentials} (a browser's EventSource can send only cookies)`
  if (credentials) return credentials
  if (status === 404 || status === 410) return 'nothing at this URL: check the path'
  if (status === 405)
    return 'the endpoint does not take this method: EventSource sends GET; for a POST stream give -d (and -X)'
  if (status === 429) return 'rate limited: wait (see Retry-After) and check again'
  if (status >= 500) return 'the server failed: its logs say why'
  return HINTS.contentType
}

function firstResponse(o: Observation): ResponseSeen {
  return o.connections[0]!.response!
}

/** The connections of the stream that were read (not a refused response or the answer after the window). */
function readConnections(o: Observation): ConnectionSeen[] {
  return o.connections.filter((c) => c.end !== undefined)
}

function streamEnded(o: Observation): boolean {
  return o.connections.some((c) => c.end?.cause === 'end-event' || c.response?.status === 204)
}

/** The longest stretch without a byte, from the request (a proxy's idle timer runs while headers are held too) to the end of reading. */
function longestSilence(c: ConnectionSeen): number {
  const times = [c.requestAt, ...c.reads.map((r) => r.t), c.end!.t]
  let longest = 0
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!)
  return longest
}

/** The silence between a connection's last read (or its request) and the end of reading. */
function trailingSilence(c: ConnectionSeen): number {
  return c.end!.t - (c.reads.at(-1)?.t ?? c.requestAt)
}

/**
 * The connections that broke at the end of their longest silence, when IDLE_CUTS or more did:
 * an idle timeout on the way, not the server, ended them.
 */
function idleCuts(o: Observation): ConnectionSeen[] {
  const cuts = readConnections(o).filter((c) => {
    const silence = trailingSilence(c)
    return (
      c.end!.cause === 'network-error' && silence >= IDLE_CUT_MIN_MS && silence >= longestSilence(c)
    )
  })
  return cuts.length >= IDLE_CUTS ? cuts : []
}

function firstEventMs(c: ConnectionSeen): number | undefined {
  const first = c.events[0]
  return first === undefined ? undefined : first.t - c.requestAt
}

/** The codings of a compressed response (`gzip`, `deflate, gzip`), undefined for an uncompressed one. */
function contentEncoding(c: ConnectionSeen): string | undefined {
  return contentCodings(c.response?.headers['content-encoding']).join(', ') || undefined
}

/** Why a 200 of the right type was refused: a body the probe cannot decode (connection.ts). */
function unreadableStream(r: ResponseSeen | undefined): string | undefined {
  if (r?.status !== 200 || r.verdict === 'ok' || !isEventStreamType(r.headers['content-type']))
    return undefined
  return undecodable(r.headers['content-encoding'])
}

function statusLine(r: ResponseSeen | undefined): string {
  if (!r) return 'no response'
  const line = `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}`
  // The last of too many redirects: the loop is what went wrong, not that status.
  if (r.verdict === 'too-many-redirects')
    return `${line}: too many redirects (more than ${MAX_REDIRECTS})`
  // A 200 that is no event stream: its status alone reads as a success.
  if (r.status === 200 && r.verdict === 'not-event-stream')
    return `${line} with ${unreadableStream(r) ?? `Content-Type ${shownContentType(r.headers['content-type'])}`}`
  return line
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

function plural(n: number): string {
  return n === 1 ? '' : 's'
}
