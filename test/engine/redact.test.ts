import { describe, expect, it } from 'vitest'
import { internalErrorLine } from '../../src/engine/escape.ts'
import {
  redactHeaders,
  redactSent,
  redactText,
  redactUrl,
  sentSecrets,
} from '../../src/engine/redact.ts'

// Redaction, in one place: what the screen, records and transcripts show of secrets is tested
// end to end in test/cli/secrets.test.ts.
describe('redaction', () => {
  it('redacts credentials unless asked', () => {
    const headers = { 'set-cookie': 'a=b', Authorization: 'Bearer x', accept: '*/*' }
    expect(redactHeaders(headers, false)).toEqual({
      'set-cookie': '<redacted>',
      Authorization: '<redacted>',
      accept: '*/*',
    })
    expect(redactHeaders(headers, true)).toBe(headers)
  })

  it('redactHeaders hides the credentials in a Location URL', () => {
    const headers = { Location: 'https://u:p@h/s?key=k&a=1', 'x-trace': 'https://u:p@h/' }
    expect(redactHeaders(headers, false)).toEqual({
      Location: 'https://<redacted>@h/s?key=<redacted>&a=1',
      'x-trace': 'https://u:p@h/',
    })
    expect(redactHeaders(headers, true)).toBe(headers)
  })
  it('redactUrl hides the whole userinfo and leaves other URLs alone', () => {
    expect(redactUrl('https://user:pa%40ss@host:8443/p?q#h')).toBe(
      'https://<redacted>@host:8443/p?q#h',
    )
    expect(redactUrl('https://token@host/')).toBe('https://<redacted>@host/')
    expect(redactUrl('https://host/path@not-userinfo')).toBe('https://host/path@not-userinfo')
  })

  it('redactUrl hides API keys in the query string', () => {
    expect(redactUrl('https://g.example/v1:streamGenerateContent?alt=sse&key=AIzaSy-x_1')).toBe(
      'https://g.example/v1:streamGenerateContent?alt=sse&key=<redacted>',
    )
    expect(redactUrl('https://h/s?API_KEY=k1&apikey=k2&access_token=t#f')).toBe(
      'https://h/s?API_KEY=<redacted>&apikey=<redacted>&access_token=<redacted>#f',
    )
    expect(redactUrl('https://h/s?monkey=1&keys=2&key=')).toBe('https://h/s?monkey=1&keys=2&key=')
  })

  it('redactText hides secret header values and URL credentials in a message', () => {
    expect(redactText("argument 'Authorization: Bearer x' is invalid. why")).toBe(
      "argument 'Authorization: <redacted>' is invalid. why",
    )
    expect(redactText("argument 'set-cookie:a=1' is invalid")).toBe(
      "argument 'set-cookie: <redacted>' is invalid",
    )
    expect(redactText("value 'ftp://u:p@h/' is invalid")).toBe(
      "value 'ftp://<redacted>@h/' is invalid",
    )
    expect(redactText("argument 'X-Trace: t' is invalid")).toBe("argument 'X-Trace: t' is invalid")
    expect(redactText("argument 'Authorization Bearer x y' is invalid. why")).toBe(
      "argument 'Authorization <redacted>' is invalid. why",
    )
    expect(redactText("argument 'Api-Key=k' is invalid")).toBe(
      "argument 'Api-Key= <redacted>' is invalid",
    )
    expect(redactText("argument 'Bearer x' is invalid")).toBe(
      "argument 'Bearer <redacted>' is invalid",
    )
    expect(redactText("argument 'X-Trace t' is invalid")).toBe("argument 'X-Trace t' is invalid")
    expect(redactText('the cookie value must be a string')).toBe(
      'the cookie value must be a string',
    )
    expect(redactText("value 'u:p@h:99999/' is invalid")).toBe(
      "value '<redacted>@h:99999/' is invalid",
    )
    expect(redactText("value 'POST //u:p@h/' is invalid")).toBe(
      "value 'POST //<redacted>@h/' is invalid",
    )
    // An address without a password is no URL's userinfo.
    expect(redactText("value 'me@example.com' is invalid")).toBe(
      "value 'me@example.com' is invalid",
    )
  })

  it('sentSecrets lists what a request sends that an error body may quote back', () => {
    const basic = `Basic ${Buffer.from('me:pass-1').toString('base64')}`
    const headers: [string, string][] = [
      ['Authorization', basic],
      ['cookie', 'sid=abcd-2; lb=n7'],
      ['X-Api-Key', 'key-3'],
      ['accept', 'text/event-stream'],
    ]
    const secrets = sentSecrets(new URL('https://h/s?key=qk-4&a=plain'), headers)
    expect(new Set(secrets)).toEqual(
      new Set([
        basic,
        basic.slice(6),
        'me:pass-1',
        'pass-1',
        'sid=abcd-2; lb=n7',
        'abcd-2',
        'lb=n7',
        'key-3',
        'qk-4',
      ]),
    )
    expect(secrets[0]).toBe(basic)
    expect(
      redactSent(`who: me:pass-1, sid=abcd-2; lb=n7, accept text/event-stream plain n7`, secrets),
    ).toBe('who: <redacted>, <redacted>, accept text/event-stream plain n7')
  })

  it('an internal error line redacts the credentials its message quotes', () => {
    const error = new TypeError(
      'fetch failed for https://u:s3cret@h/?key=k1 with Authorization: Bearer t',
    )
    expect(internalErrorLine(error)).toBe(
      'sse-probe: internal error: fetch failed for https://<redacted>@h/?key=<redacted> with Authorization: <redacted>\n',
    )
  })
})
