import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
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
  'Intl.Segmenter', // string-width makes one as it loads: text measured in columns only
]

describe('start-up', () => {
  it('a plain-HTTP probe loads none of the built-ins it does not need', async () => {
    const server = await sseServer('data: hello\n\n')
    const { run, builtins } = await runAndListBuiltins([server.url, '--json', '-n', '1'])
    expect(run.ofType('event').map((e) => e.data)).toEqual(['hello'])
    expect(builtins).toContain('net')
    expect(builtins.filter((name) => NOT_BEFORE_NEEDED.includes(name))).toEqual([])
    // tough-cookie and its public-suffix list: only once a response sets a cookie.
    expect(builtins.filter((name) => name.startsWith('chunk:'))).toEqual([])
  })

  it('a response that sets a cookie loads the cookie jar, when it arrives', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'set-cookie': 'lb=node7' })
      res.end('data: hello\n\n')
    })
    const { run, builtins } = await runAndListBuiltins([server.url, '--json', '-n', '1'])
    expect(run.ofType('event').map((e) => e.data)).toEqual(['hello'])
    expect(builtins).toContain('chunk:cli-cookies.js')
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

describe("cli-main.cjs's code cache (src/cli/load-main.ts)", () => {
  /** The cache files of cli-main.cjs under a compile cache folder. */
  const cacheFiles = (dir: string) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((name) => /sse-probe-cli-main-[0-9a-f]+-[a-z]+$/.test(name))
      .map((name) => join(dir, name))

  it('is written by the first run, in Node’s compile cache folder, and a damaged one is replaced', async () => {
    const server = await sseServer('data: hello\n\n')
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-cache-'))
    const env = { NODE_COMPILE_CACHE: dir }
    const first = await runCli([server.url, '--json', '-n', '1'], { env })
    expect(first.ofType('event').map((e) => e.data)).toEqual(['hello'])
    const [file] = cacheFiles(dir)
    expect(file).toBeDefined()
    expect(readFileSync(file!).length).toBeGreaterThan(10_000)

    writeFileSync(file!, 'not a V8 code cache')
    const second = await runCli([server.url, '--json', '-n', '1'], { env })
    expect(second.exitCode).toBe(0)
    expect(second.ofType('event').map((e) => e.data)).toEqual(['hello'])
    // Rejected by V8, so written anew at exit.
    expect(readFileSync(file!).length).toBeGreaterThan(10_000)
  })

  it('that cannot be written leaves no partial file behind (a folder where the file goes)', async () => {
    const server = await sseServer('data: hello\n\n')
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-cache-'))
    const env = { NODE_COMPILE_CACHE: dir }
    await runCli([server.url, '--json', '-n', '1'], { env })
    const [file] = cacheFiles(dir)
    const folder = join(file!, '..')
    rmSync(file!)
    mkdirSync(file!)
    for (let i = 0; i < 2; i++) {
      const run = await runCli([server.url, '--json', '-n', '1'], { env })
      expect(run.exitCode).toBe(0)
      expect(run.stderr).toBe('')
      expect(run.ofType('event').map((e) => e.data)).toEqual(['hello'])
    }
    expect(readdirSync(folder).filter((name) => name.startsWith('sse-probe-'))).toEqual([
      file!.slice(folder.length + 1),
    ])
  })

  it('loads the heavy chunks without a warning of Node’s (--schema loads the contracts’ chunk)', async () => {
    const server = await sseServer('data: {"n":1}\n\n')
    const schema = join(mkdtempSync(join(tmpdir(), 'sse-probe-schema-')), 'event.json')
    writeFileSync(schema, '{"type":"object","required":["n"]}')
    const run = await runCli([server.url, '--json', '-n', '1', '--schema', schema])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('event').map((e) => e.data)).toEqual(['{"n":1}'])
    expect(run.stderr).toBe('')
  })

  it('names its file after a known output format only: --format cannot lead it elsewhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-cache-'))
    const escaped = join(dir, 'escaped')
    // Relative to the cache folder Node makes inside dir: up and out of it, into dir.
    const run = await runCli(['--format', '../../../escaped', 'http://127.0.0.1:9/'], {
      env: { NODE_COMPILE_CACHE: dir },
    })
    expect(run.exitCode).toBe(2)
    expect(existsSync(escaped)).toBe(false)
    expect(cacheFiles(dir).map((file) => file.replace(/.*-/, ''))).toEqual(['pretty'])
  })

  it('is not written when Node’s compile cache is off', async () => {
    const server = await sseServer('data: hello\n\n')
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-cache-'))
    const run = await runCli([server.url, '--json', '-n', '1'], {
      env: { NODE_COMPILE_CACHE: dir, NODE_DISABLE_COMPILE_CACHE: '1' },
    })
    expect(run.ofType('event').map((e) => e.data)).toEqual(['hello'])
    expect(cacheFiles(dir)).toEqual([])
  })
})
