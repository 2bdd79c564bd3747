import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

/** What one sse.open of xk6-sse sees: its status, the blocks it passes on, how the stream stops. */
interface Stream {
  /**
   * 'throws': sse.open throws, as for a connection that cannot be made with k6's throw option;
   * 0: without it, sse.open returns a response without a status, and no client is set up.
   */
  status: number | 'throws'
  blocks?: { name?: string; data?: string; comment?: string }[]
  /** 'eof': the server closed it; 'error': a read error; 'hold': it stays open until closed. */
  then?: 'eof' | 'error' | 'hold'
  /** Errors xk6-sse reports without stopping (a line it does not know). */
  warnings?: string[]
}

interface Iteration {
  events: number
  closedByScript: boolean
  sleptMs: number
}

/**
 * Runs the default function of an exported script once per stream, with the k6 modules as
 * xk6-sse behaves (sse.go): every blank line passes on a block, data or not, with `name` ''
 * when it had no `event:` field; open() returns once the client is closed or the stream ended.
 * A clock that only sleep() moves stands for time.
 */
function runScript(
  script: string,
  streams: Stream[],
): Iteration[] & { samples: Record<string, number[]> } {
  const body = script
    .replace(/^import .*$/gm, '')
    .replace('export const options', 'const options')
    .replace('export default function', 'function iteration')
  let now = 1_000_000
  const clock = { now: () => now }
  const iterations: Iteration[] = []
  let current: Iteration
  const sse = {
    open(_url: string, _params: unknown, setup: (client: unknown) => void) {
      const stream = streams[iterations.length - 1]!
      const handlers: Record<string, ((value: unknown) => void)[]> = {}
      let closed = false
      const client = {
        on: (name: string, handler: (value: unknown) => void) =>
          (handlers[name] ??= []).push(handler),
        close: () => {
          closed = true
          current.closedByScript = true
        },
      }
      const emit = (name: string, value: unknown) => {
        for (const handler of handlers[name] ?? []) handler(value)
      }
      if (stream.status === 'throws') throw new Error('dial tcp: connection refused')
      if (stream.status === 0) return { status: 0, error: 'dial tcp: connection refused' }
      setup(client)
      if (stream.status !== 200) return { status: stream.status }
      for (const message of stream.warnings ?? []) emit('error', { error: () => message })
      for (const block of stream.blocks ?? []) {
        if (closed) break
        emit('event', { id: '', name: '', data: '', comment: '', ...block })
      }
      if (!closed && stream.then === 'error')
        emit('error', { error: () => 'read tcp: connection reset by peer' })
      if (!closed && stream.then === 'hold') throw new Error('the script never closed the stream')
      return { status: 200 }
    },
  }
  const k6 = {
    check: (value: unknown, checks: Record<string, (v: unknown) => boolean>) =>
      Object.values(checks).every((check) => check(value)),
    sleep: (seconds: number) => {
      current.sleptMs += seconds * 1000
      now += seconds * 1000
    },
  }
  const samples: Record<string, number[]> = {}
  const metric = class {
    name: string
    constructor(name: string) {
      this.name = name
    }
    add(value: number | boolean) {
      ;(samples[this.name] ??= []).push(Number(value))
      if (this.name === 'sse_events') current.events += Number(value)
    }
  }
  const exec = { scenario: { startTime: now } }
  const run = new Function(
    'sse',
    'check',
    'sleep',
    'exec',
    'Counter',
    'Trend',
    'Rate',
    'Date',
    'console',
    `${body}\nreturn iteration`,
  )(sse, k6.check, k6.sleep, exec, metric, metric, metric, clock, {
    error: () => {},
  }) as () => void
  for (const _ of streams) {
    current = { events: 0, closedByScript: false, sleptMs: 0 }
    iterations.push(current)
    run()
  }
  return Object.assign(iterations, { samples })
}

async function exportK6(...args: string[]): Promise<string> {
  const run = await runCli(['load', 'http://127.0.0.1:9/stream', '--export', 'k6', ...args])
  expect(run.exitCode, run.stderr).toBe(0)
  return run.stdout
}

describe('load --export k6, run as xk6-sse runs it', () => {
  it('counts events, not comments or a lone retry:, and ends on an unnamed end event', async () => {
    const script = await exportK6('-c', '10', '--duration', '10s', '--end-event', 'message')
    const [iteration] = runScript(script, [
      { status: 200, blocks: [{ comment: 'ping' }, {}, { data: 'x' }], then: 'hold' },
    ])
    expect(iteration).toEqual({ events: 1, closedByScript: true, sleptMs: 10_000 })
  })

  it('does not open a refused stream again, and opens an ended one after --retry', async () => {
    const script = await exportK6('-c', '10', '--duration', '10s', '--retry', '500ms')
    const iterations = runScript(script, [
      { status: 200, blocks: [{ data: 'a' }], then: 'eof' },
      { status: 503 },
    ])
    expect(iterations.map((i) => i.sleptMs)).toEqual([500, 9500])
  })

  it('opens a stream again while the server cannot be reached, as a reconnect retries network errors', async () => {
    const script = await exportK6('-c', '10', '--duration', '10s', '--retry', '1s')
    const restart = runScript(script, [
      { status: 200, blocks: [{ data: 'a' }], then: 'eof' },
      { status: 0 },
      { status: 'throws' },
      { status: 200, blocks: [{ data: 'b' }], then: 'eof' },
      { status: 503 },
    ])
    expect(restart.map((i) => i.sleptMs)).toEqual([1000, 1000, 1000, 1000, 6000])
    // The first connection that cannot be made is not tried again, as sse-probe's is not.
    expect(runScript(script, [{ status: 0 }])[0]!.sleptMs).toBe(10_000)
  })

  it('ends a stream that broke, to open it again, and reads on past a line it does not know', async () => {
    const script = await exportK6('-c', '10', '--duration', '10s', '--retry', '1s')
    const [broken] = runScript(script, [
      { status: 200, warnings: ['unknown event: foo'], blocks: [{ data: 'a' }], then: 'error' },
    ])
    expect(broken).toEqual({ events: 1, closedByScript: true, sleptMs: 1000 })
    const never = await exportK6('-c', '10', '--duration', '10s', '--reconnect', 'never')
    expect(runScript(never, [{ status: 200, then: 'eof' }])[0]!.sleptMs).toBe(10_000)
  })

  it('holds for the ramp and the duration to the millisecond, and passes on --insecure', async () => {
    const script = await exportK6('-c', '10', '--ramp', '1500ms', '--duration', '2005ms', '-k')
    expect(script).toMatch(/"duration": "1500ms",\s*"target": 10\s*\},\s*\{\s*"duration": "2005ms"/)
    expect(script).toContain('const HOLD_MS = 3505')
    // The command as it reads back: 2005ms, not a rounded 2.01s.
    expect(script).toContain(
      'from `sse-probe load http://127.0.0.1:9/stream -c 10 --ramp 1.5s --duration 2.005s`.',
    )
    expect(script).toContain('insecureSkipTLSVerify: true')
  })

  it('ends a stream on --end-data and --max-events, and does not open it again', async () => {
    const script = await exportK6(
      '-c',
      '10',
      '--duration',
      '10s',
      '--end-data',
      '[DONE]',
      '-n',
      '3',
    )
    const [endData] = runScript(script, [
      { status: 200, blocks: [{ data: 'a' }, { data: '[DONE]' }, { data: 'b' }], then: 'hold' },
    ])
    expect(endData).toEqual({ events: 2, closedByScript: true, sleptMs: 10_000 })
    // -n counts the events of every stream of the connection.
    const maxEvents = runScript(script, [
      { status: 200, blocks: [{ data: 'a' }, { data: 'b' }], then: 'eof' },
      { status: 200, blocks: [{ data: 'c' }, { data: 'd' }], then: 'hold' },
    ])
    expect(maxEvents[1]).toEqual({ events: 1, closedByScript: true, sleptMs: 7_000 })
  })

  it('counts whether the first stream opened once, and every refused or broken stream', async () => {
    const script = await exportK6('-c', '10', '--duration', '10s', '--retry', '1s')
    const { samples } = runScript(script, [
      { status: 200, blocks: [{ data: 'a' }], then: 'error' },
      { status: 'throws' },
    ])
    expect(samples.sse_connected).toEqual([1])
    expect(samples.sse_errors).toEqual([1, 1])
    const refused = runScript(script, [{ status: 503 }])
    expect(refused.samples.sse_connected).toEqual([0])
  })

  it('turns the load expectations into thresholds and names those it cannot export', async () => {
    const script = await exportK6(
      ...['-c', '200', '--expect-connected', '150', '--expect-max-errors', '5'],
      ...['--expect-min-events', '3', '--expect-event', 'tick'],
    )
    expect(script).toMatch(/"sse_connected": \[\s*"rate>=0.75"\s*\]/)
    expect(script).toMatch(/"sse_errors": \[\s*"count<=5"\s*\]/)
    expect(script).not.toContain('checks')
    expect(script).toContain('// Not exported: --expect-event tick, --expect-min-events 3.')
    expect(await exportK6('-c', '2')).toMatch(/"sse_connected": \[\s*"rate>0"\s*\]/)
    const limits = ['-t', '30s', '--idle-timeout', '5s', '--proxy', 'http://127.0.0.1:9']
    expect(await exportK6('-c', '1', ...limits)).toContain(
      '// Not exported: -t 30s, --idle-timeout 5s, --proxy (set HTTPS_PROXY for k6).',
    )
    expect(await exportK6('-c', '1', '--llm', 'anthropic', '--expect-llm')).toContain(
      '// Not exported: --llm anthropic (give its end marker as --end-event or --end-data), --expect-llm.',
    )
  })

  it('keeps a line break in an expectation it names inside the comment', async () => {
    const script = await exportK6(
      ...['-c', '1', '--expect-data', 'a\nthrow new Error("ran")', '--expect-event', 'x\u2028y'],
    )
    expect(script).toContain(
      '// Not exported: --expect-event x\\u2028y, --expect-data a\\nthrow new Error("ran").',
    )
    expect(runScript(script, [{ status: 200, blocks: [{ data: 'a' }], then: 'eof' }])).toHaveLength(
      1,
    )
  })
})

describe('load --export k6, the request', () => {
  it('writes a header that is not ASCII as the text given, which k6 sends as UTF-8', async () => {
    const script = await exportK6('-c', '1', '-H', 'X-Name: café ☕', '--last-event-id', 'é')
    expect(script).toContain('"x-name": "café ☕"')
    expect(script).toContain('"last-event-id": "é"')
  })

  it("names a Host header as not exported: xk6-sse (Go) sends the URL's host instead", async () => {
    const script = await exportK6('-c', '1', '-H', 'Host: app.example')
    expect(script).not.toContain('"host"')
    expect(script).toContain(
      "// Not exported: -H 'Host: app.example' (put that name in the URL, its address in k6's hosts option).",
    )
  })

  it('names --max-reconnects as not exported: a virtual user reconnects until the hold is over', async () => {
    expect(await exportK6('-c', '1', '--max-reconnects', '3')).toContain(
      '// Not exported: --max-reconnects 3.',
    )
    expect(await exportK6('-c', '1')).not.toContain('Not exported')
  })

  it("keeps a User-Agent the user gave, and leaves sse-probe's own to k6", async () => {
    expect(await exportK6('-c', '1', '-H', 'User-Agent: MyApp/1.0')).toContain(
      '"user-agent": "MyApp/1.0"',
    )
    expect(await exportK6('-c', '1')).not.toContain('user-agent')
  })
})
