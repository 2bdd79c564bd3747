import { execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ProbeRecord } from '../../src/engine/records.ts'
import { parseTranscript } from '../../src/server/replay-plan.ts'
import { CLI, runCli } from '../helpers/cli.ts'
import { sseServer, startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }
const tempFile = (name: string) => join(mkdtempSync(join(tmpdir(), 'sse-probe-record-')), name)
const readRecords = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ProbeRecord)

/** Polls until the check passes, for something another process is doing. */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const started = performance.now(); !check(); ) {
    if (performance.now() - started > timeoutMs) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('--record <file>', () => {
  it('writes the records --json prints, credentials redacted even with --show-secrets', async () => {
    const secrets = {
      authorization: 'Bearer s1',
      'proxy-authorization': 'Basic s2',
      cookie: 'a=s3',
      'set-cookie': 'b=s4',
    }
    const server = await startServer((_req, res, index) => {
      res.writeHead(200, { ...SSE, ...secrets, 'x-kept': 'visible' })
      res.end(index === 0 ? ': hi\nretry: 10\nid: 1\ndata: a\n\n' : 'event: end\ndata: b\n\n')
    })
    const file = tempFile('session.ndjson')
    const run = await runCli([server.url, '--json', '--show-secrets', '--record', file])
    expect(run.exitCode).toBe(0)
    expect(run.ofType('open')[0]!.headers).toMatchObject(secrets)
    const recorded = readRecords(file)
    expect(recorded.map((r) => r.type)).toEqual([
      'open',
      'comment',
      'retry',
      'event',
      'close',
      'reconnect',
      'open',
      'event',
      'summary',
    ])
    const redacted = run.records.map((r) =>
      r.type === 'open'
        ? {
            ...r,
            headers: {
              ...r.headers,
              ...Object.fromEntries(Object.keys(secrets).map((k) => [k, '<redacted>'])),
            },
          }
        : r,
    )
    expect(recorded).toEqual(redacted)
    expect(readFileSync(file, 'utf8')).not.toMatch(/s[1-4]/)
    expect(recorded[0]).toMatchObject({ headers: { 'x-kept': 'visible' } })
  })

  it('redacts the headers of a refused reconnect and the URL credentials too', async () => {
    const server = await startServer((_req, res, index) => {
      if (index === 0) return res.writeHead(200, SSE).end('retry: 10\ndata: a\n\n')
      res.writeHead(401, { 'set-cookie': 'sess=ERRSECRET' }).end()
    })
    const file = tempFile('refused.ndjson')
    await runCli([
      server.url.replace('//', '//alice:pw5ecret@'),
      '--json',
      '--show-secrets',
      '--record',
      file,
    ])
    const text = readFileSync(file, 'utf8')
    expect(text).not.toMatch(/ERRSECRET|pw5ecret/)
    expect(readRecords(file).find((r) => r.type === 'error')).toMatchObject({
      status: 401,
      headers: { 'set-cookie': '<redacted>' },
    })
  })

  it('a retry: too large for a number is recorded as the largest one, which replays', async () => {
    const server = await sseServer(`retry: ${'9'.repeat(400)}\n\nevent: end\ndata: a\n\n`)
    const file = tempFile('huge-retry.ndjson')
    expect((await runCli([server.url, '-q', '--record', file])).exitCode).toBe(0)
    expect(readRecords(file)[1]).toMatchObject({ type: 'retry', ms: Number.MAX_VALUE })
    expect(parseTranscript(readFileSync(file, 'utf8'), file).events).toBe(1)
  })

  it('records whatever the output shows: pretty and -q', async () => {
    const server = await sseServer('data: a\n\nevent: end\ndata: b\n\n')
    const file = tempFile('quiet.ndjson')
    const run = await runCli([server.url, '-q', '--record', file])
    expect(run.stdout).toBe('')
    expect(readRecords(file).map((r) => r.type)).toEqual(['open', 'event', 'event', 'summary'])
  })

  it('has every record on disk as it arrives: Ctrl-C adds the summary, a crash loses nothing before it', async () => {
    const server = await startServer((_req, res) =>
      res.writeHead(200, SSE).write('id: 1\ndata: a\n\n: ping\n\nid: 2\ndata: b\n\n'),
    )
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const file = tempFile(`${signal}.ndjson`)
      let onDisk: ProbeRecord[] = []
      const run = await runCli([server.url, '--record', file], {
        onSpawn: (child) => {
          void eventually(() => existsSync(file) && (onDisk = readRecords(file)).length === 4).then(
            () => {
              // Read while the probe still runs: nothing waits for the end to be written.
              expect(child.exitCode).toBeNull()
              child.kill(signal)
            },
          )
        },
      })
      expect(onDisk.map((r) => r.type)).toEqual(['open', 'event', 'comment', 'event'])
      const after = readRecords(file)
      if (signal === 'SIGINT') {
        expect(run.exitCode).toBe(130)
        expect(after.slice(0, 4)).toEqual(onDisk)
        expect(after[4]).toMatchObject({ type: 'summary', reason: 'interrupted', events: 2 })
      } else {
        expect(run.signal).toBe('SIGKILL')
        expect(after).toEqual(onDisk)
        // What a crash leaves is still a transcript `serve` can replay.
        expect(parseTranscript(readFileSync(file, 'utf8'), file).events).toBe(2)
      }
    }
  })

  it('the demo records too', async () => {
    const file = tempFile('demo.ndjson')
    const run = await runCli(['demo', '-q', '-n', '2', '--record', file])
    expect(run.exitCode).toBe(0)
    expect(readRecords(file).map((r) => r.type)).toEqual([
      'open',
      'event',
      'comment',
      'event',
      'summary',
    ])
  })

  it('a file that cannot be written is a usage error before anything connects', async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    const run = await runCli([server.url, '--record', '/nonexistent-dir/x.ndjson'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(
      "error: option '--record <file>' cannot write '/nonexistent-dir/x.ndjson': no such directory\n",
    )
    expect(server.requests).toHaveLength(0)
  })

  it.runIf(process.platform === 'linux')(
    'a named pipe that nothing reads is a usage error, not a hang; one that is read gets the transcript',
    async () => {
      const server = await sseServer('event: end\ndata: x\n\n')
      const pipe = tempFile('pipe')
      execFileSync('mkfifo', [pipe])
      const unread = await runCli([server.url, '--record', pipe], { timeoutMs: 5000 })
      expect(unread.exitCode).toBe(2)
      expect(unread.stderr).toBe(
        `error: option '--record <file>' cannot write '${pipe}': a named pipe that nothing reads\n`,
      )
      expect(server.requests).toHaveLength(0)
      const reader = spawn('cat', [pipe])
      let read = ''
      reader.stdout.setEncoding('utf8').on('data', (chunk: string) => (read += chunk))
      const done = new Promise((resolve) => reader.on('close', resolve))
      // Once the reader has the pipe open, a writer of our own holds it open (no EOF) meanwhile.
      let writer: number | undefined
      await eventually(() => {
        try {
          writer = openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK)
          return true
        } catch {
          return false
        }
      })
      expect((await runCli([server.url, '--record', pipe, '-q'])).exitCode).toBe(0)
      closeSync(writer!)
      await done
      expect(
        read
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line).type),
      ).toEqual(['open', 'event', 'summary'])
    },
  )

  it.runIf(existsSync('/dev/full'))(
    'a write that fails (disk full) is reported once; the probe goes on, then exits 74 as tee does',
    async () => {
      const server = await sseServer('data: a\n\ndata: b\n\nevent: end\ndata: x\n\n')
      const run = await runCli([server.url, '--json', '--record', '/dev/full'])
      // A CI job recording a golden transcript must not pass with a truncated one.
      expect(run.exitCode).toBe(74)
      expect(run.ofType('event')).toHaveLength(3)
      expect(run.ofType('summary')[0]).toMatchObject({ reason: 'end-event' })
      expect(run.stderr).toBe(
        "sse-probe: --record stopped: cannot write '/dev/full': ENOSPC\n" +
          'sse-probe: the --record transcript is incomplete: exit 74\n',
      )
    },
  )

  it('a file that fills up in the middle of a record keeps the lines before it, which replay', async () => {
    const big = 'x'.repeat(1500)
    const server = await sseServer(
      `id: 1\ndata: ${big}\n\nid: 2\ndata: ${big}\n\nid: 3\ndata: ${big}\n\nevent: end\ndata: x\n\n`,
    )
    const file = tempFile('full.ndjson')
    // A file size limit (ulimit -f, 4 blocks: 2 or 4 KiB) is a disk that fills up: a write stops part way.
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('sh', [
        '-c',
        'ulimit -f 4 && exec "$@"',
        'sh',
        process.execPath,
        CLI,
        server.url,
        '-q',
        '--record',
        file,
      ])
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      child.on('close', (code) => resolve({ code, stderr }))
    })
    expect(run.code).toBe(74)
    expect(run.stderr).toContain('--record stopped')
    const text = readFileSync(file, 'utf8')
    expect(text).toMatch(/\n$/)
    expect(readRecords(file)[0]).toMatchObject({ type: 'open' })
    expect(parseTranscript(text, file).events).toBeGreaterThan(0)
  })
})
