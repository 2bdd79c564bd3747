import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { sseServer, startServer } from '../helpers/server.ts'

const PRELOAD = fileURLToPath(new URL('../helpers/loaded-modules.cjs', import.meta.url))

/** Runs the CLI and returns, with the run, the Node built-ins it loaded. */
async function runAndListBuiltins(args: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'sse-probe-startup-')), 'modules.txt')
  const run = await runCli(args, {
    env: { NODE_OPTIONS: `--require ${PRELOAD}`, LOADED_MODULES_FILE: file },
  })
  return { run, builtins: readFileSync(file, 'utf8').trim().split('\n') }
}

// What a probe of a plain-HTTP stream does not need before its first event, and so must not load
// (docs/performance.md): each costs every run start-up time.
const NOT_BEFORE_NEEDED = [
  'http2', // HTTP/2 only once a TLS origin agrees to it
  'tls',
  'crypto',
  'child_process', // commander's executable subcommands, which sse-probe has none of
  'assert', // undici's invariants, loaded when one fails
  'zlib', // a compressed body only
  'worker_threads', // the ES module facade of node:util reads every lazy export
]

describe('start-up', () => {
  it('a plain-HTTP probe loads none of the built-ins it does not need', async () => {
    const server = await sseServer('data: hello\n\n')
    const { run, builtins } = await runAndListBuiltins([server.url, '--json', '-n', '1'])
    expect(run.ofType('event').map((e) => e.data)).toEqual(['hello'])
    expect(builtins).toContain('net')
    expect(builtins.filter((name) => NOT_BEFORE_NEEDED.includes(name))).toEqual([])
  })

  it('a compressed stream still loads node:zlib, when it arrives', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' })
      res.end(gzipSync('data: packed\n\n'))
    })
    const { run, builtins } = await runAndListBuiltins([server.url, '--json', '-n', '1'])
    expect(run.ofType('event').map((e) => e.data)).toEqual(['packed'])
    expect(builtins).toContain('zlib')
  })
})
