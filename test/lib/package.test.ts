import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createSecureServer } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { sseServer, startServer } from '../helpers/server.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

const CONSUMER_TEST = `import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ProbeRecord, probe, SseProbeUsageError, serve } from 'sse-probe'

test('probe() reads what serve() replays', async () => {
  const recorded: ProbeRecord[] = [
    { type: 'event', t: 1, attempt: 1, event: 'status', id: '1', lastEventId: '1', data: 'a', dt: null },
    { type: 'event', t: 2, attempt: 1, event: 'end', id: null, lastEventId: '1', data: 'b', dt: 1 },
  ]
  const server = await serve(recorded, { speed: 0 })
  try {
    const data: string[] = []
    for await (const record of probe(server.url, { timeout: '5s' })) {
      if (record.type === 'event') data.push(record.data)
    }
    assert.deepEqual(data, ['a', 'b'])
    assert.throws(() => probe(server.url, { timeout: 'soon' }), SseProbeUsageError)
  } finally {
    await server.close()
  }
})
`

describe('the published package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sse-probe-pack-'))
  // dist/ is already built by \`npm test\`; rebuilding here would pull it from under the other tests.
  const tarball = join(
    dir,
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!,
  )
  const bin = (name: string) => join(root, 'node_modules', '.bin', name)

  it('carries README.md and the LICENSE that package.json names', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n')
    expect(files).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md']))
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string }
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(
      new RegExp(`^${pkg.license} License\n`),
    )
  })

  it('passes publint and arethetypeswrong (ESM only)', async () => {
    const run = promisify(execFile)
    const publint = await run(bin('publint'), ['run', tarball, '--strict'], { encoding: 'utf8' })
    expect(publint.stdout).toContain('All good')
    // Exits non-zero on any problem for ESM consumers.
    await run(bin('attw'), ['--profile', 'esm-only', '--format', 'ascii', tarball])
  }, 60_000)

  it('installs into an empty project: the CLI runs with npx, the library under node:test in TypeScript', async () => {
    const app = join(dir, 'app')
    execFileSync('mkdir', [app])
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}')
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', tarball], { cwd: app })
    expect(
      execFileSync('npx', ['--no-install', 'sse-probe', '--version'], {
        cwd: app,
        encoding: 'utf8',
      }).trim(),
    ).toMatch(/^\d+\.\d+\.\d+$/)
    const server = await sseServer('event: end\ndata: packed\n\n')
    // Asynchronously: the server answers from this process.
    const { stdout } = await promisify(execFile)(
      'npx',
      ['--no-install', 'sse-probe', '--json', server.url],
      { cwd: app, encoding: 'utf8' },
    )
    expect(stdout).toContain('"data":"packed"')
    writeFileSync(join(app, 'consumer.test.ts'), CONSUMER_TEST)
    const test = await promisify(execFile)(
      process.execPath,
      ['--experimental-strip-types', '--no-warnings', '--test', 'consumer.test.ts'],
      { cwd: app, encoding: 'utf8' },
    )
    expect(test.stdout).toMatch(/# pass 1\n# fail 0/)
  }, 90_000)
})

describe('the built library', () => {
  it("takes Node's timers and TextDecoder, whatever a test environment makes of the globals", async () => {
    // As vitest's jsdom does in a vm pool: timers that are numbers, with no unref(); jest's
    // jsdom has no TextDecoder.
    const script = `
      const nodeSetTimeout = setTimeout
      globalThis.setTimeout = (...args) => Number(nodeSetTimeout(...args))
      delete globalThis.TextDecoder
      const { probe } = await import(process.argv[1])
      console.log(JSON.stringify(await probe(process.argv[2], { timeout: '5s' }).summary))`
    const server = await sseServer('event: end\ndata: x\n\n')
    // Its error would quote the bundle: the summary says enough.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, join(root, 'dist', 'index.js'), server.url],
      { encoding: 'utf8' },
    ).catch((error: { stdout: string }) => error)
    expect(JSON.parse(stdout)).toMatchObject({ reason: 'end-event', exitCode: 0 })
  })

  it("reads Node's clock when fake timers stop performance.now()", async () => {
    // As vi.useFakeTimers() does after the import: a `performance` whose clock stands still.
    const script = `
      const { check, probe, serve } = await import(process.argv[1])
      globalThis.performance = { now: () => 0, timeOrigin: 0 }
      const report = await check(process.argv[2], { window: '300ms' })
      const event = (t, data) => ({ type: 'event', t, attempt: 1, event: 'message', id: null, lastEventId: '', data, dt: null })
      const server = await serve([0, 100, 200, 300].map((t) => event(t, String(t))))
      const ts = []
      for await (const record of probe(server.url, { maxEvents: 4, timeout: '5s' }))
        if (record.type === 'event') ts.push(record.t)
      await server.close()
      console.log(JSON.stringify({ observedMs: report.summary.observedMs, replayedMs: ts[3] - ts[0] }))`
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write('id: 1\ndata: open\n\n')
    })
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, join(root, 'dist', 'index.js'), server.url],
      { encoding: 'utf8' },
    )
    const { observedMs, replayedMs } = JSON.parse(stdout)
    // A frozen clock made the window 0ms long, and stretched the replay's gaps (300ms, not 600ms).
    expect(observedMs).toBeGreaterThan(250)
    expect(replayedMs).toBeLessThan(500)
  })

  it('keeps the cookies a stream sets, loading the jar from its chunk under require() too', async () => {
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'set-cookie': `n=${index}` })
      res.end(index === 0 ? 'retry: 10\ndata: a\n\n' : 'event: end\ndata: b\n\n')
    })
    const script = `
      const { probe } = require(process.argv[1])
      probe(process.argv[2], { timeout: '5s' }).summary.then((s) => console.log(JSON.stringify(s)))`
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-e', script, join(root, 'dist', 'index.js'), server.url],
      { encoding: 'utf8' },
    )
    expect(JSON.parse(stdout)).toMatchObject({ reason: 'end-event', exitCode: 0 })
    expect(server.requests.map((r) => r.headers.cookie)).toEqual([undefined, 'n=0'])
  })

  it('a bad option left uncaught shows its message, not a line of the bundle tens of KB long', async () => {
    const script = `const { probe } = await import(process.argv[1]); probe('http://x/', { timeout: '5' })`
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, join(root, 'dist', 'index.js')],
      { encoding: 'utf8' },
    ).then(
      () => ({ stderr: 'no error' }),
      (error: { stderr: string }) => error,
    )
    expect(stderr).toContain('SseProbeUsageError: --timeout 5: add a unit')
    // Node quotes the line that threw, with a caret under the column.
    expect(Math.max(...stderr.split('\n').map((line) => line.length))).toBeLessThan(200)
  })
})

describe('HTTP/2 over TLS', () => {
  it('negotiates h2 as a browser does, and -k accepts a self-signed certificate', async () => {
    const server = createSecureServer(
      { ...selfSignedCertificate(), allowHTTP1: true },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.end('event: end\ndata: over h2\n\n')
      },
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => void server.close())
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`
    const refused = await runCli([url, '--json'])
    expect(refused.exitCode).toBe(3)
    expect(refused.summary.message).toMatch(/self-signed.*-k/)
    const run = await runCli([url, '--json', '-k'])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('open')[0]!.httpVersion).toBe('2')
    expect(run.ofType('event')[0]!.data).toBe('over h2')
  })
})
