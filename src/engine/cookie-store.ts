// tough-cookie and its public-suffix list (tldts), loaded by cookies.ts only once a response sets
// a cookie: the build keeps this module apart from a probe's start-up (HEAVY in scripts/build.js).
import { CookieJar } from 'tough-cookie'

/** One probe's cookies, in memory, as RFC 6265 keeps them for the URLs they came from and go to. */
export interface CookieStore {
  /** Keeps a Set-Cookie value as a browser would, or ignores it as a browser would (invalid, another domain). */
  set(setCookie: string, url: string): void
  /** The Cookie header value for a request to `url`: '' when no cookie applies. */
  get(url: string): string
}

export function createCookieStore(): CookieStore {
  const jar = new CookieJar()
  return {
    set(setCookie, url) {
      // loose: `Set-Cookie: token` (no '=') is a cookie with an empty name, as browsers keep it (RFC 6265bis).
      jar.setCookieSync(setCookie, url, { ignoreError: true, loose: true })
    },
    get: (url) => jar.getCookieStringSync(url),
  }
}
