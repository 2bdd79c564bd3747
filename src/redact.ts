const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])

export const REDACTED = '<redacted>'

/** Headers with credential values replaced, for anything shown or recorded. */
export function redactHeaders(headers: Record<string, string>, showSecrets: boolean): Record<string, string> {
  if (showSecrets) return headers
  let redacted: Record<string, string> | undefined
  for (const name of Object.keys(headers)) {
    if (SECRET_HEADERS.has(name.toLowerCase())) {
      redacted ??= { ...headers }
      redacted[name] = REDACTED
    }
  }
  return redacted ?? headers
}
