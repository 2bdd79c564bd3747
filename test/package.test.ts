import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createSecureServer } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runCli } from './helpers/cli.ts'
import { sseServer } from './helpers/server.ts'
import { selfSignedCertificate } from './helpers/tls.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('the published package', () => {
  it('installs from its tarball into an empty folder and runs with npx', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-pack-'))
    // dist/ is already built by `npm test`; rebuilding here would pull it from under the other tests.
    const tarball = execFileSync(
      'npm',
      ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir],
      { cwd: root, encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .pop()!
    const app = join(dir, 'app')
    execFileSync('mkdir', [app])
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}')
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', join(dir, tarball)], {
      cwd: app,
    })
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
