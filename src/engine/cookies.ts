import type { CookieStore } from './cookie-store.ts'

/**
 * The cookies of one probe (an EventSource: its first connection, its reconnects, the redirects
 * they follow), as a browser keeps them: sticky-session load balancers rely on them to send a
 * reconnect to the node that served the stream. Nothing is loaded until a response sets one.
 */
export interface CookieJar {
  /** The headers with the jar's cookies for `url` after the Cookie header the user gave (-H). */
  headersFor(url: URL, headers: Record<string, string>): Record<string, string>
  /** Keeps the cookies of a response's Set-Cookie (one value per header line) from `url`. */
  store(url: URL, setCookie: string | string[]): Promise<void>
}

export function createCookieJar(): CookieJar {
  let loading: Promise<CookieStore> | undefined
  let store: CookieStore | undefined
  return {
    headersFor(url, headers) {
      const cookies = store?.get(url.href)
      if (!cookies) return headers
      const given = headers.cookie
      return { ...headers, cookie: given === undefined ? cookies : `${given}; ${cookies}` }
    },
    async store(url, setCookie) {
      loading ??= import('./cookie-store.ts').then((module) => module.createCookieStore())
      store = await loading
      for (const value of Array.isArray(setCookie) ? setCookie : [setCookie]) {
        store.set(value, url.href)
      }
    },
  }
}
