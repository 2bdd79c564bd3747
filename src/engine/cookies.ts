import type { CookieStore } from './cookie-store.ts'

/**
 * The cookies of one probe (an EventSource: its first connection, its reconnects, the redirects
 * they follow), as a browser keeps them: sticky-session load balancers rely on them to send a
 * reconnect to the node that served the stream. Nothing is loaded until a response sets one.
 */
export interface CookieJar {
  /** The headers with the jar's cookies for `url` after the Cookie header the user gave (-H). */
  headersFor(url: URL, headers: Record<string, string>): Record<string, string>
  /**
   * Keeps the cookies of a response's Set-Cookie (one value per header line) from `url`. The first
   * loads the jar in the background: the response is read at once (a time to first event or
   * token counts on the wire, and API gateways set cookies on every response).
   */
  store(url: URL, setCookie: string | string[]): void
  /** Resolves once every cookie given to store() is kept: the next request waits for it. */
  settled(): Promise<void> | undefined
}

export function createCookieJar(): CookieJar {
  let store: CookieStore | undefined
  let loading: Promise<void> | undefined
  const keep = (url: URL, values: string[]) => {
    for (const value of values) store!.set(value, url.href)
  }
  return {
    headersFor(url, headers) {
      const cookies = store?.get(url.href)
      if (!cookies) return headers
      const given = headers.cookie
      return { ...headers, cookie: given === undefined ? cookies : `${given}; ${cookies}` }
    },
    store(url, setCookie) {
      const values = Array.isArray(setCookie) ? setCookie : [setCookie]
      if (store) return keep(url, values)
      // In order: a later response's cookies after the first's, once the jar has loaded. Never a
      // rejection: the probe may end before anything awaits it (an unhandled one ends the process),
      // and a cookie that could not be kept is not the stream's failure.
      loading = (
        loading ??
        import('./cookie-store.ts').then((module) => {
          store = module.createCookieStore()
        })
      )
        .then(() => keep(url, values))
        .catch(() => {})
    },
    settled: () => loading,
  }
}
