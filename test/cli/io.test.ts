import { type StdioOptions, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync } from 'node:fs'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CLI } from '../helpers/cli.ts'
import { sseServer, startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }
const STACK_TRACE = /\n\s+at |internal error/

/** Runs the CLI with its stdio as given; `closeStdout` closes the reading end of a stdout pipe at once. */
function run(args: string[], stdio: StdioOptions, closeStdout = false) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined },
    stdio,
  })
  onTestFinished(() => void child.kill('SIGKILL'))
  if (closeStdout) child.stdout!.destroy()
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise<{ exitCode: number | null; stderr: string }>((resolve) =>
    child.on('close', (exitCode) => resolve({ exitCode, stderr })),
  )
}

/** An endless stream: an event every 20 ms until the client goes. */
function endlessServer() {
  return startServer((req, res) => {
    res.writeHead(200, SSE)
    let n = 0
    const timer = setInterval(() => res.write(`data: event ${++n}\n\n`), 20)
    req.socket.on('close', () => clearInterval(timer))
  })
}

describe('stdout whose reader has gone (EPIPE)', () => {
  it.each(['--version', '--help', 'check --help', 'help'])(
    '`sse-probe %s | <closed>` exits 0 quietly, not 70',
    async (command) => {
      const { exitCode, stderr } = await run(command.split(' '), ['ignore', 'pipe', 'pipe'], true)
      expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' })
    },
  )

  it('`sse-probe load … --json | <closed>` stops at the next stats record, quietly with 0, not after --duration', async () => {
    const server = await endlessServer()
    const started = performance.now()
    const { exitCode, stderr } = await run(
      ['load', server.url, '-c', '2', '--json', '--interval', '100ms', '--duration', '60s'],
      ['ignore', 'pipe', 'pipe'],
      true,
    )
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' })
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})

// /dev/full: every write fails with ENOSPC, as on a full disk.
describe.runIf(existsSync('/dev/full'))('stdout on a full disk (ENOSPC)', () => {
  function toFullDisk(args: string[]) {
    const full = openSync('/dev/full', 'w')
    onTestFinished(() => closeSync(full))
    return run(args, ['ignore', full, 'pipe'])
  }
  const NO_SPACE = /^sse-probe: cannot write to stdout: ENOSPC: no space left on device/m

  it.each([
    ['--version', () => ['--version']],
    ['--help', () => ['--help']],
    ['a finished probe, pretty', (url: string) => [url, '--no-reconnect']],
    ['a finished probe, --json', (url: string) => [url, '--no-reconnect', '--json']],
    ['check', (url: string) => ['check', url, '--window', '200ms']],
  ])('%s: one line on stderr and exit 74, not 0 with the output lost', async (_name, args) => {
    const server = await sseServer('data: a\n\ndata: b\n\n')
    const { exitCode, stderr } = await toFullDisk(args(server.url))
    expect(exitCode).toBe(74)
    expect(stderr).toMatch(NO_SPACE)
    expect(stderr).not.toMatch(STACK_TRACE)
  })

  it('load --json stops at once too: exit 74, not after --duration', async () => {
    const server = await endlessServer()
    const started = performance.now()
    const { exitCode, stderr } = await toFullDisk([
      'load',
      server.url,
      '-c',
      '2',
      '--json',
      '--interval',
      '100ms',
      '--duration',
      '60s',
    ])
    expect(exitCode).toBe(74)
    expect(stderr).toMatch(NO_SPACE)
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it.each([
    ['pretty', []],
    ['raw', ['--format', 'raw']],
  ])(
    'an endless probe (%s) stops at once: exit 74, not "interrupted" 130',
    async (_name, flags) => {
      const server = await endlessServer()
      const { exitCode, stderr } = await toFullDisk([server.url, ...flags])
      expect(exitCode).toBe(74)
      expect(stderr).toMatch(NO_SPACE)
      expect(stderr).not.toMatch(/interrupted/)
    },
  )
})
