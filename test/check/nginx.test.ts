import { describe, expect, it } from 'vitest'
import { runCheck } from '../helpers/check.ts'
import { findNginx, startNginx } from '../helpers/nginx.ts'
import { startServer } from '../helpers/server.ts'
import { type EndpointShape, sseEndpoint } from '../helpers/sse-endpoint.ts'

// Behind a real nginx (Debian's package; .ci/run installs it). In CI a missing nginx
// fails these tests; elsewhere they are skipped, and say so.
const nginx = findNginx()
const inCi = Boolean(process.env.CI)
if (!nginx && !inCi)
  console.warn(
    'check-nginx: skipped, nginx is not installed (apt-get install nginx, as .ci/run does)',
  )

// About 6 KB over 1.2s: more than one 4 KB proxy buffer, so a buffering nginx sends it in bursts.
const STREAM: EndpointShape = { count: 40, intervalMs: 30, padding: 120 }
// nginx's defaults upstream: HTTP/1.0, proxy_buffering on.
const BUFFERING = 'proxy_buffering on;'
const GZIP = 'proxy_http_version 1.1; gzip on; gzip_types text/event-stream;'

describe.skipIf(!nginx && !inCi)('check behind nginx', () => {
  async function behindNginx(shape: EndpointShape, directives: string, window = '4s') {
    // Each test fails on its own, so that CI's pass/fail count shows it.
    if (!nginx)
      throw new Error(
        'nginx is not installed, but CI is set: .ci/run should have installed it (apt-get install nginx)',
      )
    const upstream = await startServer(sseEndpoint(shape))
    const proxy = await startNginx(nginx, upstream.url, directives)
    return runCheck(proxy.url, ['--window', window])
  }

  it('catches proxy_buffering on: events arrive in bursts', async () => {
    const { checks } = await behindNginx(STREAM, BUFFERING)
    expect(checks.buffering).toMatchObject({
      status: 'warn',
      hint: expect.stringContaining('X-Accel-Buffering: no'),
    })
    expect(checks.buffering.measured).toMatch(
      /^(\d+) of 41 events arrived together in \d+ bursts? \(up to \d+ in one read after \d+(\.\d+)?m?s of silence\): held back on the way/,
    )
  })

  it('passes the same nginx when the upstream says X-Accel-Buffering: no', async () => {
    const { checks } = await behindNginx(
      { ...STREAM, headers: { 'x-accel-buffering': 'no' } },
      BUFFERING,
    )
    expect(checks.buffering).toMatchObject({
      status: 'pass',
      measured: expect.stringMatching(/^41 events in \d+ reads, at most \d+ per read$/),
    })
    expect(checks.compression.status).toBe('pass')
  })

  it('catches gzip on for text/event-stream, with how much later the first event came', async () => {
    const { checks } = await behindNginx(STREAM, GZIP)
    expect(checks.compression).toMatchObject({
      status: 'warn',
      measured: expect.stringMatching(/^gzip-compressed: first event after /),
    })
    const [, later, unit] =
      /, ([\d.]+)(ms|s) later than uncompressed/.exec(checks.compression.measured) ?? []
    // nginx's gzip holds the whole 1.2s stream; uncompressed, events pass at once.
    expect(Number(later) * (unit === 's' ? 1000 : 1)).toBeGreaterThan(500)
  })

  it('catches a short proxy_read_timeout cutting a quiet stream, and does not blame its end', async () => {
    // An event every 2.5s through a 1s idle timeout: every connection breaks after 1s of silence.
    const { checks, summary } = await behindNginx(
      { count: 10, intervalMs: 2500, retry: 100, greeting: false },
      'proxy_buffering off; proxy_http_version 1.1; proxy_read_timeout 1s;',
      '6s',
    )
    expect(summary.connections).toBeGreaterThanOrEqual(2)
    expect(checks['keep-alive']).toEqual({
      type: 'check',
      id: 'keep-alive',
      status: 'warn',
      measured: expect.stringMatching(
        /^\d+ connections broke after (9\d\dms|1(\.\d+)?s)( to [\d.]+m?s)? of silence \(0 pings or comments in all\): an idle timeout on the way cuts quiet connections$/,
      ),
      hint: expect.stringMatching(
        /^send a comment \(": ping"\) more often than every (9\d\dms|1(\.\d+)?s), or raise the idle timeout on the way \(nginx: proxy_read_timeout\)$/,
      ),
    })
    expect(checks['end-of-stream']).toMatchObject({
      status: 'skip',
      measured:
        'the connections broke when idle (see keep-alive): how the stream ends was not seen',
    })
  })

  it('blames the proxy, not the server, for headers held back with a buffered burst', async () => {
    // Under one proxy buffer over 1.6s: nginx holds the headers with the whole stream.
    const { checks } = await behindNginx({ count: 8, intervalMs: 200 }, BUFFERING)
    expect(checks.buffering.status).toBe('warn')
    expect(checks['early-headers']).toMatchObject({
      status: 'warn',
      measured: expect.stringMatching(
        /^headers after [12](\.\d+)?s, held back with a burst of 9 events; first event after [12](\.\d+)?s$/,
      ),
      hint: expect.stringMatching(
        /^turn buffering off between server and client: .*proxy_buffering off/,
      ),
    })
    expect(checks['early-headers'].hint).not.toContain('flushHeaders')
  })

  it('catches proxy_buffering on in front of a live stream: the headers wait for the buffer', async () => {
    const upstream = await startServer(sseEndpoint({ count: 1000, intervalMs: 200 }))
    const proxy = await startNginx(nginx!, upstream.url, BUFFERING)
    const { run, checks } = await runCheck(proxy.url, ['--connect-timeout', '2s'])
    expect(checks['early-headers']).toMatchObject({
      status: 'fail',
      measured: expect.stringMatching(
        /^the server took the connection but sent no response headers within 2000ms/,
      ),
    })
    expect(run.exitCode).toBe(1)
  })
})
