import type { ErrorRecord } from './records.ts'

/**
 * What to do about a refused response, read from its status and headers: the mistakes of a
 * first run (the wrong URL, a method, credentials, a WebSocket) that the status line alone
 * leaves to the user to work out. Undefined when the status says it all (404, 500).
 */
export function refusalHint(record: ErrorRecord): string | undefined {
  const { status, headers = {} } = record
  if (status === undefined) return undefined
  const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  // A reconnect asks the URL that streamed before: the path is right, and what came back is
  // most likely an error page (a restarting server, or a proxy in front of it).
  if (record.attempt > 1 && status === 200 && (type === 'text/html' || isJson(type))) {
    return `${type === 'text/html' ? 'an HTML page' : 'a JSON answer'} where this URL streamed before: most likely an error or maintenance page from the server or a proxy in front of it`
  }
  if (status === 200 && type === 'text/html') {
    return "an HTML page, not the stream: check the URL's path (a web app may answer every path with its page)"
  }
  if (status === 200 && isJson(type)) {
    return 'a JSON answer, not a stream: check the path, or ask for a stream in the request (LLM APIs: "stream": true in the body)'
  }
  // The commonest server-side slip: the events are right and the header is missing or wrong
  // (Starlette's StreamingResponse sends none unless given a media_type).
  if (status === 200 && SSE_BODY.test(record.body ?? '')) {
    return 'the body is an event stream: the server must send it with Content-Type: text/event-stream'
  }
  const credentials = credentialsHint(status, headers)
  if (credentials !== undefined) return credentials
  const allow = headers.allow?.trim()
  if (status === 405 && allow) {
    // Only reads allowed: the request was sent with -X or -d (a body makes it a POST).
    const readOnly = allow.split(',').every((method) => /^(GET|HEAD|OPTIONS)$/i.test(method.trim()))
    return readOnly
      ? `the endpoint allows ${allow}: leave out -X and -d (a body makes the request a POST)`
      : `the endpoint allows ${allow}: give the method with -X (and a body with -d)`
  }
  if (/\bwebsocket\b/i.test(headers.upgrade ?? '')) {
    return 'a WebSocket endpoint, not Server-Sent Events (sse-probe reads text/event-stream)'
  }
  // A server restarting (or the proxy in front of it while it is down) answers a reconnect with
  // 502/503: EventSource stops for good on it, and a page stops updating without a word.
  if (record.attempt > 1 && status >= 500) {
    return "a browser's EventSource stops here too (it retries a broken connection, never an error status): answer 200 with the stream once back, or have the page reconnect itself"
  }
  if (status === 426) {
    return `the server wants another protocol (Upgrade: ${headers.upgrade ?? 'not said'}), not an event stream over HTTP`
  }
  return undefined
}

const isJson = (type: string | undefined) =>
  type === 'application/json' || type?.endsWith('+json') === true

// A body that opens with an SSE field or a comment line.
const SSE_BODY = /^\uFEFF?\s*(?:data|event|id|retry)?:/

/** What to do about a 401 or a 403, read from the challenge the server gave; else undefined. */
export function credentialsHint(
  status: number,
  headers: Record<string, string>,
): string | undefined {
  if (status === 401) {
    const scheme = /^\s*(\w+)/.exec(headers['www-authenticate'] ?? '')?.[1]?.toLowerCase()
    return scheme === 'basic'
      ? 'the endpoint wants a user and password: put them in the URL, http://user:password@host/…'
      : 'the endpoint wants credentials: pass them with -H, e.g. -H "Authorization: Bearer …" or -H "Cookie: session=…"'
  }
  if (status === 403) {
    return 'the credentials were refused, or may not read this stream: check them (-H) and their permissions'
  }
  return undefined
}
