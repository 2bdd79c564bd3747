/**
 * [RFC 6901] A JSON pointer's reference tokens, `~1` read as '/' and `~0` as '~': none for ''
 * (the whole value), ['a/b', '0'] for '/a~1b/0'. The caller has checked that it starts with '/'.
 * `decode` is applied to each token first: a URI fragment's percent-encoding, as Ajv decodes it.
 */
export function pointerTokens(pointer: string, decode = (token: string) => token): string[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((token) => decode(token).replaceAll('~1', '/').replaceAll('~0', '~'))
}
