import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CLI, runCli } from '../helpers/cli.ts'
import { drained, startRawServer } from '../helpers/hostile-servers.ts'
import { chatTokens, serveLlmStreams } from '../helpers/llm-streams.ts'
import { startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }

/** A server that sends an event every 20 ms until the client goes; `closed` resolves with the time it went. */
async function endlessServer() {
  let markClosed: (at: number) => void = () => {}
  const closed = new Promise<number>((resolve) => (markClosed = resolve))
  const server = await startServer((req, res) => {
    res.writeHead(200, SSE)
    let n = 0
    const timer = setInterval(() => res.write(`id: ${++n}\ndata: event ${n}\n\n`), 20)
    req.socket.on('close', () => {
      clearInterval(timer)
      markClosed(performance.now())
    })
  })
  return { ...server, closed }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'late'> {
  return Promise.race([
    promise,
    new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ms)),
  ])
}

async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  for (
    const started = performance.now();
    performance.now() - started < ms;
    await new Promise((resolve) => setTimeout(resolve, 20))
  ) {
    if (condition()) return true
  }
  return condition()
}

/** A raw capture (.sse) of one event: a side of `diff` that is read, not probed. */
function oneEventCapture(): string {
  const capture = join(mkdtempSync(join(tmpdir(), 'sse-probe-signals-')), 'one.sse')
  writeFileSync(capture, 'data: one\n\n')
  return capture
}

const STACK_TRACE = /\n\s+at |internal error|EPIPE/

describe('pipes', () => {
  async function pipedIntoHead(args: string[], redirection: string) {
    const probe = [process.execPath, CLI, ...args].map((word) => `'${word}'`).join(' ')
    const script = `${probe} ${redirection} | head -n 3; echo "probe exit $\{PIPESTATUS[0]}" >&2`
    const child = spawn('bash', ['-c', script], {
      env: { ...process.env, FORCE_COLOR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    await new Promise((resolve) => child.on('close', resolve))
    return { stdout, stderr }
  }

  it.each([
    ['pretty', [], ''],
    ['json', ['--json'], ''],
    ['pretty, stderr into the pipe too', [], '2>&1'],
  ] as const)(
    '`sse-probe URL | head -n 3` (%s) exits quietly and closes the connection',
    async (_name, flags, redirection) => {
      const server = await endlessServer()
      const { stdout, stderr } = await pipedIntoHead(
        [server.url, '--no-color', ...flags],
        redirection,
      )
      expect(stdout.split('\n')).toHaveLength(4) // three lines and the final newline
      expect(stderr).toMatch(/probe exit 0\n$/)
      expect(stderr).not.toMatch(STACK_TRACE)
      expect(await within(server.closed, 2000)).not.toBe('late')
    },
  )

  it("a reader slower than the stream: every line arrives and the exit code is the probe's", async () => {
    // A last short line held by the full pipe made Node exit 13 ("unsettled top-level await") in
    // about one run of ten; four at once, each reading in small bites.
    const events = Array.from({ length: 20_000 }, (_, i) => `id: ${i}\ndata: {"n":${i}}\n\n`)
    const server = await startServer((_req, res) => res.writeHead(200, SSE).end(events.join('')))
    const slowlyRead = async () => {
      const child = spawn(process.execPath, [CLI, '--json', '--no-reconnect', server.url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      onTestFinished(() => void child.kill('SIGKILL'))
      let lines = 0
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      child.stdout.on('data', (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 10) lines++
        child.stdout.pause()
        setTimeout(() => child.stdout.resume(), 1)
      })
      const exitCode = await new Promise((resolve) => child.on('close', resolve))
      return { exitCode, lines, stderr }
    }
    const runs = await Promise.all([slowlyRead(), slowlyRead(), slowlyRead(), slowlyRead()])
    // connected, the events, closed, the summary
    expect(runs).toEqual(Array(4).fill({ exitCode: 0, lines: 20_003, stderr: '' }))
  })

  it('only the status lines into `head`: exits quietly when the next one fails', async () => {
    const server = await startServer((_req, res, index) =>
      res.writeHead(200, SSE).end(`retry: 20\nid: ${index}\ndata: x\n\n`),
    )
    const { stdout, stderr } = await pipedIntoHead([server.url, '--no-color'], '2>&1 >/dev/null')
    expect(stdout).toMatch(/^.*connected.*\n.*retry: 20ms\n.*server closed the stream\n$/)
    expect(stderr).toMatch(/probe exit 0\n$/)
    expect(stderr).not.toMatch(STACK_TRACE)
    const requests = server.requests.length
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(server.requests).toHaveLength(requests)
  })
})

/** A probe (or another command) whose body comes from `-d @-`: stdin stays open until the test ends or writes it. */
function probeReadingStdin(...args: string[]) {
  return started(...args, '--no-color', '-d', '@-')
}

/** The CLI, running: its stdin stays open until the test ends or writes it. */
function started(...args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  onTestFinished(() => void child.kill('SIGKILL'))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdout.resume()
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (code, signal) => resolve([code, signal])),
  )
  return { child, exited, stderr: () => stderr }
}

describe('signals', () => {
  it('a bad contract flag is refused before -d @- waits on stdin', async () => {
    const { exited, stderr } = probeReadingStdin('http://127.0.0.1:9/', '--trigger', 'POST')
    // stdin stays open: only a check before the read lets the command end.
    expect(await exited).toEqual([2, null])
    expect(stderr()).toMatch(/--trigger .*'POST' is invalid/)
  })

  it('a signal before the command listens (start-up, reading -d @-) is held for it: summary and 130', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE).end('data: one\n\n')
    })
    const { child, exited, stderr } = probeReadingStdin(server.url)
    // Still reading its body from stdin: no command has listened for signals yet.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    child.kill('SIGINT')
    child.stdin.end('{"a":1}')
    expect(await exited).toEqual([130, null])
    expect(stderr()).toMatch(/summary {2}interrupted {2}exit 130/)
  })

  it('Ctrl-C while -d @- reads a stdin that never ends (a terminal) stops the reading: summary and 130', async () => {
    let requests = 0
    const server = await startServer((_req, res) => {
      requests++
      res.writeHead(200, SSE).end('data: one\n\n')
    })
    const { child, exited, stderr } = probeReadingStdin(server.url)
    child.stdin.write('{"a":')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    child.kill('SIGINT')
    expect(await within(exited, 5000)).toEqual([130, null])
    expect(stderr()).toMatch(/summary {2}interrupted {2}exit 130/)
    expect(requests).toBe(0)
  })

  /** A named pipe that no writer opens: reading it waits for ever, as `<(a command that hangs)` does. */
  function writerlessPipe(): string {
    const pipe = join(mkdtempSync(join(tmpdir(), 'sse-probe-signals-')), 'body.fifo')
    execFileSync('mkfifo', [pipe])
    return pipe
  }

  it('Ctrl-C while -d @<named pipe> waits for its writer stops the waiting: summary and 130', async () => {
    // The pipe was opened on the main thread (readFileSync): no signal but SIGKILL ended it.
    const { child, exited, stderr } = started('http://127.0.0.1:9/', '-d', `@${writerlessPipe()}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
    child.kill('SIGINT')
    expect(await within(exited, 5000)).toEqual([130, null])
    expect(stderr()).toMatch(/summary {2}interrupted {2}exit 130/)
  })

  it('Ctrl-C while --schema or --openapi <named pipe> waits for its writer: summary and 130', async () => {
    // Read on the main thread (readFileSync): no signal but SIGKILL ended it.
    for (const flag of ['--schema', '--openapi']) {
      const { child, exited, stderr } = started('http://127.0.0.1:9/', flag, writerlessPipe())
      await new Promise((resolve) => setTimeout(resolve, 500))
      child.kill('SIGINT')
      expect(await within(exited, 5000)).toEqual([130, null])
      expect(stderr()).toMatch(/summary {2}interrupted {2}exit 130/)
    }
  })

  it('diff of a named pipe whose writer never comes: a second SIGTERM exits at once, 143', async () => {
    // Opened in libuv's thread pool, the pipe held even process.exit(): only SIGKILL ended it.
    const { child, exited } = started('diff', writerlessPipe(), oneEventCapture())
    await new Promise((resolve) => setTimeout(resolve, 500))
    child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 100))
    child.kill('SIGTERM')
    expect(await within(exited, 5000)).toEqual([143, null])
  })

  it('diff: Ctrl-C while -d @- reads stdin stops the command before a URL side is probed, 130', async () => {
    let requests = 0
    const server = await startServer((_req, res) => {
      requests++
      res.writeHead(200, SSE).end('data: one\n\n')
    })
    // The URL side used to be probed to the end after the Ctrl-C, and a verdict printed.
    const run = probeReadingStdin('diff', '-n', '1', server.url, oneEventCapture())
    let stdout = ''
    run.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    run.child.kill('SIGINT')
    expect(await within(run.exited, 5000)).toEqual([130, null])
    // Nothing is read or probed after the Ctrl-C: the file side comes first.
    expect(run.stderr()).toMatch(/one\.sse: interrupted before it was read\n$/)
    expect(stdout).toBe('')
    expect(requests).toBe(0)
  })

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s: the server sees the connection close at once, the summary is printed, exit %d',
    async (signal, code) => {
      const server = await endlessServer()
      let killedAt = 0
      const run = await runCli([server.url, '--no-color'], {
        onSpawn: (child) =>
          child.stdout!.once('data', () => {
            killedAt = performance.now()
            child.kill(signal)
          }),
      })
      expect(run.exitCode).toBe(code)
      expect(run.stderr).toMatch(new RegExp(`summary {2}interrupted {2}exit ${code}`))
      expect(run.stderr).not.toMatch(STACK_TRACE)
      const closedAt = await within(server.closed, 2000)
      expect(closedAt).not.toBe('late')
      expect((closedAt as number) - killedAt).toBeLessThan(1000)
    },
  )

  it('SIGHUP (the terminal has gone): the summary still ends the --record transcript, exit 129', async () => {
    const server = await endlessServer()
    const transcript = join(mkdtempSync(join(tmpdir(), 'sse-probe-signals-')), 'run.ndjson')
    const run = await runCli([server.url, '--no-color', '--record', transcript], {
      onSpawn: (child) => child.stdout!.once('data', () => child.kill('SIGHUP')),
    })
    expect(run.exitCode).toBe(129)
    expect(run.stderr).toMatch(/summary {2}interrupted {2}exit 129/)
    const last = JSON.parse(readFileSync(transcript, 'utf8').trimEnd().split('\n').at(-1)!)
    expect(last).toMatchObject({ type: 'summary', reason: 'interrupted', exitCode: 129 })
  })

  it.each([
    ['the probe', [], /summary {2}interrupted {2}exit 143/],
    // Its report (stdout), not "could not connect": the server took the connection.
    ['check', ['check'], /interrupted after .*before the server answered[\s\S]* {2}exit 143\n$/],
    // Named as a host that never answered, not a bare "interrupted" (-n 1: without an end, the
    // message says how to give a side one).
    ['diff', ['diff', oneEventCapture(), '-n', '1'], /: interrupted before it answered\n$/],
  ])(
    'SIGTERM while a host has not answered: %s exits 143 at once, not after --connect-timeout',
    async (_name, command, said) => {
      let child: import('node:child_process').ChildProcess | undefined
      // Accepts, reads the request, never answers; one signal, once the first request is there
      // (check sends two: a second signal would exit at once, without the report).
      const server = await startRawServer((_socket, index) => index === 0 && child!.kill('SIGTERM'))
      const run = await runCli([...command, server.url, '--connect-timeout', '30s'], {
        onSpawn: (spawned) => (child = spawned),
        timeoutMs: 5000,
      })
      expect(run.exitCode).toBe(143)
      expect(command[0] === 'check' ? run.stdout : run.stderr).toMatch(said)
      expect(run.stderr).not.toMatch(STACK_TRACE)
    },
  )

  /** A server that writes as fast as it may, and a probe whose stdout (the events) is a pipe nobody reads. */
  async function stalledProbe(flags: string[]) {
    const state = { written: 0 }
    let markClosed: () => void = () => {}
    const closed = new Promise<void>((resolve) => (markClosed = resolve))
    const block = Buffer.from('data: a line of output that nobody reads\n\n'.repeat(1000))
    const server = await startServer(async (req, res) => {
      req.socket.on('close', () => markClosed())
      res.writeHead(200, SSE)
      while (!res.destroyed && state.written < 500 * 2 ** 20) {
        state.written += block.length
        if (!res.write(block)) await drained(res)
      }
    })
    const child = spawn(process.execPath, [CLI, server.url, '--no-color', ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    onTestFinished(() => void child.kill('SIGKILL'))
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (code, signal) => resolve([code, signal])),
    )
    return { state, closed, child, exited, stderr: () => stderr }
  }

  it('with stdout stalled, the probe stops reading; Ctrl-C still ends it with the summary, and a second Ctrl-C exits at once', async () => {
    const { state, closed, child, exited, stderr } = await stalledProbe([])
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const writtenWhileStalled = state.written
    await new Promise((resolve) => setTimeout(resolve, 500))
    // Held back by TCP: the kernel's buffers, not hundreds of MB in the probe.
    expect(state.written).toBeGreaterThan(0)
    expect(state.written).toBeLessThan(32 * 2 ** 20)
    expect(state.written).toBe(writtenWhileStalled)

    child.kill('SIGINT')
    expect(await within(closed, 2000)).not.toBe('late')
    expect(await eventually(() => /summary {2}interrupted {2}exit 130/.test(stderr()), 2000)).toBe(
      true,
    )
    // The events before it cannot all reach the stalled pipe, so the process waits for them...
    expect(await within(exited, 300)).toBe('late')
    // ...until the user presses Ctrl-C again.
    child.kill('SIGINT')
    const ended = await within(exited, 2000)
    expect(ended).not.toBe('late')
    const [code, signal] = ended as [number | null, NodeJS.Signals | null]
    expect(code === 130 || signal === 'SIGINT').toBe(true)
  })

  it('a Ctrl-C after the summary, while it waits for stdout, exits with the code the summary gave', async () => {
    // A model's answer of 300 KB: the summary that holds it is more than a pipe takes at once.
    const url = await serveLlmStreams({ big: chatTokens(300, 50, 1, () => 'x'.repeat(1000)) })
    const child = spawn(process.execPath, [CLI, `${url}/big`, '--json', '-q'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    onTestFinished(() => void child.kill('SIGKILL'))
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (code, signal) => resolve([code, signal])),
    )
    let stdout = ''
    await new Promise<void>((resolve) =>
      child.stdout.setEncoding('utf8').once('data', (chunk: string) => {
        stdout = chunk
        child.stdout.pause()
        resolve()
      }),
    )
    expect(stdout).toMatch(
      /^\{"type":"summary","t":[\d.]+,"startedAt":"[^"]+","reason":"end-data","exitCode":0,/,
    )
    // The command has ended; the process waits for the pipe to take the rest of the summary.
    await new Promise((resolve) => setTimeout(resolve, 500))
    child.kill('SIGINT')
    child.stdout.resume()
    expect(await exited).toEqual([0, null])
  })

  it("waiting for a slow reader of stdout is not the server's silence (--idle-timeout)", async () => {
    const { stderr } = await stalledProbe(['--idle-timeout', '300ms', '--duration', '1500ms'])
    expect(await eventually(() => /summary {2}[a-z-]+/.test(stderr()), 5000)).toBe(true)
    expect(stderr()).toMatch(/summary {2}duration {2}exit 0/)
  })
})
