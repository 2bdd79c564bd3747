import { describe, expect, it } from 'vitest'
import { MAX_DELAY_MS } from '../../src/engine/duration.ts'
import {
  checkProxyVariables,
  proxyVariables,
  requestHeaders,
  toRequestOptions,
  withLastEventId,
} from '../../src/engine/request.ts'
import {
  countArg,
  durationArg,
  headerArg,
  lastEventIdArg,
  positiveCountArg,
  retryArg,
} from '../../src/engine/validate.ts'
import { runCli } from '../helpers/cli.ts'
import { runMain } from '../helpers/main.ts'
import { startServer } from '../helpers/server.ts'

describe('every flag given a bad value exits 2, names the flag and the value, and sends nothing', () => {
  // [arguments after the URL, the flag as the message names it, the value as the message shows it]
  const cases: [string[], string, string][] = [
    [['-X', 'GE T'], '-X, --method', 'GE T'],
    [['-X', 'trace'], '-X, --method', 'fetch refuses to send'],
    [['--trigger', 'CONNECT http://127.0.0.1:9/'], '--trigger', 'fetch refuses to send'],
    [['-H', 'NoColon'], '-H, --header', 'NoColon'],
    [['-H', 'Bad Name: x'], '-H, --header', 'Bad Name: x'],
    [['-H', 'X-A: b\r\nX-B: c'], '-H, --header', 'X-A: b\\r\\nX-B: c'],
    [['-H', 'X-A: \x01'], '-H, --header', 'X-A: \\x01'],
    [['-H', 'Transfer-Encoding: chunked'], '-H, --header', 'Transfer-Encoding: chunked'],
    [['-H', 'expect: 100-continue'], '-H, --header', 'expect: 100-continue'],
    [['-H', 'Keep-Alive: 5'], '-H, --header', 'Keep-Alive: 5'],
    [['-H', 'UPGRADE: h2c'], '-H, --header', 'UPGRADE: h2c'],
    [['-H', 'Connection: keep alive'], '-H, --header', 'Connection: keep alive'],
    [['-H', 'Content-Length: five'], '-H, --header', 'Content-Length: five'],
    [['-H', 'Content-Length: 1', '-H', 'content-length: 1'], '-H, --header', 'content-length: 1'],
    [['-d', '@/nonexistent/body.json'], '-d, --data', '/nonexistent/body.json'],
    [['--last-event-id', 'a\nb'], '--last-event-id', 'a\\nb'],
    [['--connect-timeout', '0'], '--connect-timeout', '0'],
    [['--connect-timeout', 'soon'], '--connect-timeout', 'soon'],
    [['--connect-timeout', '-1s'], '--connect-timeout', '-1s'],
    [['--proxy', 'socks4://proxy:1080'], '--proxy', 'socks4://proxy:1080'],
    [['--proxy', 'not a url'], '--proxy', 'not a url'],
    [['--retry', '-5'], '--retry', '-5'],
    [['--retry', '5x'], '--retry', '5x'],
    [['--max-reconnects', '-1'], '--max-reconnects', '-1'],
    [['--max-reconnects', 'many'], '--max-reconnects', 'many'],
    [['--max-reconnects', '1.5'], '--max-reconnects', '1.5'],
    [['--max-event-size', '0'], '--max-event-size', '0'],
    [['--max-event-size', 'huge'], '--max-event-size', 'huge'],
    [['--max-event-size', '-1'], '--max-event-size', '-1'],
    [['--max-event-size', '10XB'], '--max-event-size', '10XB'],
    [['-n', '0'], '-n, --max-events', '0'],
    [['-n', '-1'], '-n, --max-events', '-1'],
    [['-n', 'ten'], '-n, --max-events', 'ten'],
    [['--duration', '5 s'], '--duration', '5 s'],
    [['--duration', '0'], '--duration', '0'],
    [['-t', '1e3'], '-t, --timeout', '1e3'],
    [['-t', '1000h'], '-t, --timeout', '1000h'],
    [['--idle-timeout', '-5ms'], '--idle-timeout', '-5ms'],
    [['--expect-data', '('], '--expect-data', '('],
    [['--expect-min-events', '-2'], '--expect-min-events', '-2'],
    [['--expect-min-events', '0'], '--expect-min-events', 'of at least 1'],
    [['--expect-max-gap', 'long'], '--expect-max-gap', 'long'],
    [['--format', 'xml'], '--format', 'xml'],
    [['--json', '--format', 'raw'], '--json', '--format raw'],
    [['--end-event', ''], '--end-event', 'name one'],
    [['--expect-event', 'end', '--expect-event', ''], '--expect-event', 'name one'],
    [['--record', '-'], '--record', "not '-'"],
    [['--record', ''], '--record', 'takes a file name'],
    [['--retry'], '--retry', 'argument missing'],
    [['--bogus'], "unknown option '--bogus'", '--bogus'],
  ]

  it.each(cases)('%j', async (args, flag, value) => {
    const server = await startServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: end\ndata: x\n\n'),
    )
    const run = await runMain([server.url, ...args])
    expect(run.exitCode).toBe(2)
    const [message, ...rest] = run.stderr.trimEnd().split('\n')
    expect(message).toMatch(/^error: /)
    expect(message).toContain(flag)
    expect(message).toContain(value)
    // At most a hint to --help after the one-line message; never a stack trace.
    expect(rest.join('\n')).toMatch(/^(\(run sse-probe --help for usage\))?$/)
    expect(run.stdout).toBe('')
    expect(server.requests).toHaveLength(0)
  })

  it('check names an empty --end-event too', async () => {
    const server = await startServer((_req, res) => res.end())
    const run = await runMain(['check', server.url, '--end-event', ''])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/^error: option '--end-event <type>' argument '' is invalid/)
    expect(server.requests).toHaveLength(0)
  })

  it.each([['ftp://example.com/'], ['not a url'], ['http://'], ['//example.com/x']])(
    'the URL %j',
    async (url) => {
      const run = await runMain([url])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toMatch(
        new RegExp(
          `^error: command-argument value '${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is invalid for argument 'url'\\. expected an http:// or https:// URL`,
        ),
      )
    },
  )

  it.each([['https://'], ['http://:8000/stream']])(
    'the URL %j says it has no host',
    async (url) => {
      const run = await runMain([url])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toMatch(/ URL: this one has no host\n$/)
    },
  )

  it.each([
    ['https//localhost:8000/stream', 'did you mean https://localhost:8000/stream?'],
    ['http//127.0.0.1:8000/', 'did you mean http://127.0.0.1:8000/?'],
    ['::1:8000/stream', 'an IPv6 address goes in brackets, e.g. [::1]:8000'],
    ["'localhost:8000/stream'", 'leave out the quotes around it (cmd.exe passes them on)'],
    ['"http://127.0.0.1:8000/"', 'leave out the quotes around it (cmd.exe passes them on)'],
    ['http://fe80::1:8000/', 'an IPv6 address goes in brackets, e.g. [::1]:8000'],
  ])('the URL %j says what is wrong with it, before any lookup', async (url, hint) => {
    const run = await runMain([url])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(` URL: ${hint}\n`)
  })

  it.each([['localhost:99999/stream'], ['http://127.0.0.1:123456/']])(
    'the URL %j names its port as the problem',
    async (url) => {
      const run = await runMain([url])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toMatch(/ port \d+ is out of range \(0 to 65535\)\n$/)
    },
  )

  it('a malformed proxy variable', async () => {
    const server = await startServer(() => {})
    const run = await runCli([server.url], {
      env: { HTTP_PROXY: 'garbage', http_proxy: undefined },
    })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(
      "error: environment variable HTTP_PROXY 'garbage' is not a proxy URL such as http://proxy.example:3128\n",
    )
    expect(server.requests).toHaveLength(0)
  })
})

describe('validators', () => {
  it('durations are limited to what a timer can wait', () => {
    expect(durationArg('24h')).toBe(86_400_000)
    expect(durationArg(`${MAX_DELAY_MS}ms`)).toBe(MAX_DELAY_MS)
    expect(() => durationArg(`${MAX_DELAY_MS + 1}ms`)).toThrow('at most 24 days')
    expect(() => durationArg(`${'9'.repeat(400)}ms`)).toThrow('at most 24 days')
  })

  it('a count that must be at least 1 says so for every bad value, not "0 or more"', () => {
    for (const bad of ['0', '-1', '1.5', 'ten'])
      expect(() => positiveCountArg(bad)).toThrow(/^expected a whole number of at least 1$/)
    expect(() => countArg('-1')).toThrow(/^expected a whole number \(0 or more\)$/)
    expect([countArg('0'), positiveCountArg(' 7 ')]).toEqual([0, 7])
  })

  it('a count past 2^53, which would no longer be the number typed, is refused', async () => {
    expect(countArg(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER)
    for (const parse of [countArg, positiveCountArg])
      expect(() => parse('99999999999999999999')).toThrow(/, at most 9007199254740991$/)
    const run = await runMain([
      '--expect-min-events',
      '99999999999999999999',
      'http://127.0.0.1:1/',
    ])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('at most 9007199254740991')
  })

  it('--retry is milliseconds, and a bad value is told so rather than "expected a duration"', () => {
    expect([retryArg('250'), retryArg('3s')]).toEqual([250, 3000])
    for (const bad of ['-1', '1.5', 'soon'])
      expect(() => retryArg(bad)).toThrow(/^expected milliseconds \(0 or more\), e\.g\. 3000/)
  })

  it('headers and ids allow tabs and any Unicode, no other control character', () => {
    expect(headerArg('X-A: a\tb é 🚀')).toEqual([['X-A', 'a\tb é 🚀']])
    for (const bad of ['X: a\rb', 'X: a\nb', 'X: a\0b', 'X: a\x1bb', 'X: a\x7fb'])
      expect(() => headerArg(bad)).toThrow('control characters')
    expect(lastEventIdArg('é 7')).toBe('é 7')
    expect(() => lastEventIdArg('7\r\nX-Injected: 1')).toThrow('control characters')
  })

  it('non-ASCII header values and Last-Event-ID go out as UTF-8 bytes', () => {
    const options = toRequestOptions({ url: new URL('http://x/'), headers: [['X-Name', 'é🚀']] })
    const headers = withLastEventId(requestHeaders(options, undefined), 'id-é')
    expect(Buffer.from(headers['x-name']!, 'latin1').toString('utf8')).toBe('é🚀')
    expect(Buffer.from(headers['last-event-id']!, 'latin1').toString('utf8')).toBe('id-é')
  })

  it('proxy variables: the one undici reads must be a proxy URL', () => {
    expect(() =>
      checkProxyVariables({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' }),
    ).not.toThrow()
    expect(() => checkProxyVariables({ http_proxy: 'socks5://proxy:1080' })).not.toThrow()
    expect(() => checkProxyVariables({ http_proxy: '', HTTP_PROXY: 'garbage' })).not.toThrow() // the empty lower-case one wins
    expect(() => checkProxyVariables({ https_proxy: 'proxy:3128/x' })).toThrow('https_proxy')
  })

  it('a proxy variable without a scheme is http://, as curl reads it', () => {
    expect(
      proxyVariables({ https_proxy: 'proxy.corp:3128', HTTP_PROXY: 'u:p@10.0.0.1:8080' }),
    ).toEqual({
      https: { url: 'http://proxy.corp:3128', name: 'https_proxy' },
      http: { url: 'http://u:p@10.0.0.1:8080', name: 'HTTP_PROXY' },
    })
    expect(proxyVariables({ HTTPS_PROXY: '[::1]:3128', HTTP_PROXY: 'https://proxy:443' })).toEqual({
      https: { url: 'http://[::1]:3128', name: 'HTTPS_PROXY' },
      http: { url: 'https://proxy:443', name: 'HTTP_PROXY' },
    })
  })

  it('framing headers undici takes from a caller stay allowed', () => {
    expect(headerArg('connection: close')).toEqual([['connection', 'close']])
    expect(headerArg('Content-Length: 3')).toEqual([['Content-Length', '3']])
  })
})
