// Credentials, and the API keys of the model providers' streaming APIs: Anthropic's x-api-key,
// Azure OpenAI's api-key, Gemini's x-goog-api-key.
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
])

const REDACTED = '<redacted>'

// Headers whose value is a URL: a refused redirect's Location may carry credentials or an API key.
const URL_HEADERS = new Set(['location', 'content-location'])

/** Headers with credential values replaced, for anything shown or recorded. */
export function redactHeaders(
  headers: Record<string, string>,
  showSecrets: boolean,
): Record<string, string> {
  if (showSecrets) return headers
  let redacted: Record<string, string> | undefined
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    const shown = SECRET_HEADERS.has(lower)
      ? REDACTED
      : URL_HEADERS.has(lower)
        ? redactUrl(value)
        : value
    if (shown !== value) {
      redacted ??= { ...headers }
      redacted[name] = shown
    }
  }
  return redacted ?? headers
}

// The userinfo of a URL: after the scheme, up to the last '@' before the path.
const USERINFO = /\b([a-z][a-z\d+.-]*:\/\/)[^/?#\s]*@/gi
// The `user:password@` of a URL typed without a scheme, which means http:// (cli.md), or with `//`.
const BARE_USERINFO = /(^|[\s'"(]|\/\/)[^\s'"/?#@:]+:[^\s'"/?#@]*@/g
// A secret header in text: "Name: value", and as mistyped without the colon ("Name=value", and
// "Name value" as the whole of a quoted value: prose such as "cookie value must be…" keeps its
// words); commander quotes a rejected value as '…' is invalid.
const SECRET_HEADER_TEXT = new RegExp(
  `\\b(${[...SECRET_HEADERS].join('|')})(\\s*[:=]|(?<='\\1)\\s+)[\\s\\S]*?(?=' is invalid|$)`,
  'gi',
)
// A credential typed without its header name, as in -H 'Bearer …'.
const CREDENTIAL_TEXT = /\b(Bearer|Basic)\s+[^\s']+/gi

// API keys passed in the query string: Gemini's `key`, the `api_key`/`apikey` of many APIs, and
// OAuth 2.0's `access_token` (RFC 6750).
const SECRET_PARAM_NAME = 'key|api_?key|access_token'
const SECRET_PARAM = new RegExp(`([?&](?:${SECRET_PARAM_NAME})=)[^&#\\s'"]+`, 'gi')

/** A URL (the probe's, a proxy's, a redirect's) without the `user:password@` or API key it may carry. */
export function redactUrl(href: string): string {
  return href
    .replace(USERINFO, `$1${REDACTED}@`)
    .replace(BARE_USERINFO, `$1${REDACTED}@`)
    .replace(SECRET_PARAM, `$1${REDACTED}`)
}

/** Free text that may quote what the user typed (usage errors): URL credentials and secret header values replaced. */
export function redactText(text: string): string {
  return redactUrl(text)
    .replace(SECRET_HEADER_TEXT, (_, name: string, separator: string) => {
      return `${name}${separator.trim()} ${REDACTED}`
    })
    .replace(CREDENTIAL_TEXT, `$1 ${REDACTED}`)
}

// Shorter values would blank ordinary words of the text they are looked for in.
const SENT_SECRET_MIN = 4

/**
 * The credentials a request sends, as a server may quote them back in an error body (an echo
 * endpoint, a gateway's debug page): each secret header's value, its token without the scheme
 * ("Bearer …"), the user:password of Basic, each cookie's value, and the query's API keys.
 * Longest first, so that a value is replaced whole before a part of it.
 */
export function sentSecrets(url: URL, headers: Iterable<[string, string]>): string[] {
  const values: string[] = []
  for (const [name, value] of headers) {
    if (!SECRET_HEADERS.has(name.toLowerCase())) continue
    const [scheme = '', token = ''] = value.trim().split(/\s+/, 2)
    const basic = /^basic$/i.test(scheme) ? Buffer.from(token, 'base64').toString('utf8') : ''
    const cookies = value.split(';').map((pair) => pair.slice(pair.indexOf('=') + 1))
    values.push(value, token, basic, basic.slice(basic.indexOf(':') + 1), ...cookies)
  }
  const param = new RegExp(`^(?:${SECRET_PARAM_NAME})$`, 'i')
  for (const [name, value] of url.searchParams) if (param.test(name)) values.push(value)
  const secrets = new Set(values.map((value) => value.trim()))
  return [...secrets].filter((v) => v.length >= SENT_SECRET_MIN).sort((a, b) => b.length - a.length)
}

/** Text from the server (a refused response's body) with the credentials it was sent <redacted>. */
export function redactSent(text: string, secrets: readonly string[]): string {
  return secrets.reduce((shown, secret) => shown.replaceAll(secret, REDACTED), text)
}
