// tough-cookie and its public-suffix list (tldts), loaded by cookies.ts only once a response sets
// a cookie: the build keeps this module apart from a probe's start-up (HEAVY in scripts/build.js).
import { Cookie, CookieJar, MemoryCookieStore, type Store } from 'tough-cookie'

/** One probe's cookies, in memory, as RFC 6265 keeps them for the URLs they came from and go to. */
export interface CookieStore {
  /** Keeps a Set-Cookie value as a browser would, or ignores it as a browser would (invalid, another domain). */
  set(setCookie: string, url: string): void
  /** The Cookie header value for a request to `url`: '' when no cookie applies. */
  get(url: string): string
}

// Chromium's bound for one site: past 180 cookies, the least recently used go until 150 are left.
// Without one, a server that sets new names on every reconnect would grow the jar (and the Cookie
// header) for as long as the probe runs.
const MAX_COOKIES = 180
const KEEP_COOKIES = 150
// RFC 6265bis and browsers ignore a cookie whose name and value are longer (or both empty): without
// it, a server could have a probe send back a megabyte in every Cookie header (180 of them past
// 16 KiB headers).
const MAX_NAME_VALUE = 4096

export function createCookieStore(): CookieStore {
  const store: Store = new MemoryCookieStore()
  const jar = new CookieJar(store)
  return {
    set(setCookie, url) {
      // loose: `Set-Cookie: token` (no '=') is a cookie with an empty name, as browsers keep it (RFC 6265bis).
      const cookie = Cookie.parse(setCookie, { loose: true })
      if (!cookie) return
      const size = cookie.key.length + cookie.value.length
      if (size === 0 || size > MAX_NAME_VALUE) return
      jar.setCookieSync(cookie, url, { ignoreError: true })
      // The memory store calls back at once.
      store.getAllCookies((_error, cookies) => {
        if (!cookies || cookies.length <= MAX_COOKIES) return
        for (const cookie of cookies.sort(leastRecentlyUsed).slice(0, -KEEP_COOKIES)) {
          store.removeCookie(cookie.domain, cookie.path, cookie.key, () => {})
        }
      })
    },
    get: (url) => jar.getCookieStringSync(url),
  }
}

function leastRecentlyUsed(a: Cookie, b: Cookie): number {
  const used = (cookie: Cookie) =>
    cookie.lastAccessed instanceof Date ? cookie.lastAccessed.getTime() : 0
  return used(a) - used(b) || a.creationIndex - b.creationIndex
}
