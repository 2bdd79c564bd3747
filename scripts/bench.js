// npm run bench: sse-probe against the floor of its own stack, side by side.
//
// A local SSE server serves fixed streams; every client reads the same stream,
// interleaved (A B C … A B C …) for several rounds so that the machine's noise
// hits all of them alike. Wall time, CPU time and peak RSS come from
// /usr/bin/time. Prints a markdown table; --update-readme also writes it into
// README.md between the bench markers.
//
// Environment: BENCH_ROUNDS (default 5), BENCH_MEMORY_ROUNDS (default 2).
import { spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:http'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/sse-probe.js')
const MINIMAL = join(root, 'scripts/bench/minimal-client.js')
const TIME = '/usr/bin/time'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const MEMORY_ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 2)
const node = process.execPath
const work = mkdtempSync(join(tmpdir(), 'sse-probe-bench-'))

if (!existsSync(TIME)) {
  console.error(`${TIME} is needed for CPU time and peak RSS: apt-get install time`)
  process.exit(2)
}
const curl = ['/usr/bin/curl', '/usr/local/bin/curl'].find((path) => existsSync(path))

// ---- streams ---------------------------------------------------------------

/** `count` events whose block (id + data lines) is `size` bytes, a comment every 1000, then `end`. */
function makeStream(count, size) {
  const parts = []
  for (let i = 1; i <= count; i++) {
    const head = `id: ${i}\ndata: `
    parts.push(head, 'x'.repeat(Math.max(1, size - head.length - 3)), '\n\n')
    if (i % 1000 === 0) parts.push(': keep-alive\n\n')
  }
  parts.push('event: end\ndata: done\n\n')
  return Buffer.from(parts.join(''))
}

const streams = {
  '200k x 64 B': makeStream(200_000, 64),
  '20k x 4 KiB': makeStream(20_000, 4096),
  '2M x 64 B': makeStream(2_000_000, 64),
}

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  if (req.url === '/first') {
    // One event at once, then silence until the client goes.
    res.write('id: 1\ndata: first\n\n')
    return
  }
  res.end(streams[decodeURIComponent(req.url.slice(1))])
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${server.address().port}`
const urlOf = (stream) => `${base}/${encodeURIComponent(stream)}`

// ---- clients ---------------------------------------------------------------

const clients = [
  {
    name: 'sse-probe --json',
    args: (url) => [node, CLI, '--json', '--no-reconnect', url],
    stdout: 'null',
  },
  {
    name: 'sse-probe pretty > file',
    args: (url) => [node, CLI, '--no-color', '--no-reconnect', url],
    stdout: 'file',
  },
  {
    name: 'sse-probe --quiet',
    args: (url) => [node, CLI, '--quiet', '--no-reconnect', url],
    stdout: 'null',
  },
  { name: 'minimal client (JSON lines)', args: (url) => [node, MINIMAL, url], stdout: 'null' },
  {
    name: 'minimal client (count only)',
    args: (url) => [node, MINIMAL, url, '--count'],
    stdout: 'null',
  },
  ...(curl ? [{ name: 'curl -sN', args: (url) => [curl, '-sN', url], stdout: 'null' }] : []),
]

/**
 * Runs one command under /usr/bin/time for CPU time and peak RSS (KiB); the wall
 * time is measured here, as /usr/bin/time rounds it to 10 ms.
 */
function measure(argv, stdoutTo) {
  const timeFile = join(work, 'time.txt')
  const outFile = join(work, 'out.txt')
  const stdout = stdoutTo === 'file' ? openSync(outFile, 'w') : 'ignore'
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(TIME, ['-f', '%U %S %M', '-o', timeFile, ...argv], {
      stdio: ['ignore', stdout, 'ignore'],
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const wallMs = performance.now() - started
      if (typeof stdout === 'number') closeSync(stdout)
      const [user, sys, rss] = readFileSync(timeFile, 'utf8')
        .trim()
        .split('\n')
        .pop()
        .split(' ')
        .map(Number)
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited ${code}`))
      resolve({ wallMs, cpuMs: (user + sys) * 1000, rssKiB: rss })
    })
  })
}

/** Wall time of a short command, spawned directly: start-up is too short for a wrapper's overhead. */
function wallTime(argv) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' })
    child.on('error', reject)
    child.on('close', () => resolve(performance.now() - started))
  })
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function benchStream(stream, rounds, only) {
  const url = urlOf(stream)
  const selected = clients.filter((c) => !only || only.includes(c.name))
  const results = new Map(selected.map((c) => [c.name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const client of selected)
      results.get(client.name).push(await measure(client.args(url), client.stdout))
  }
  const bytes = streams[stream].length
  const events = Number(
    stream
      .match(/^(\d+)([kM])/)
      .slice(1)
      .reduce((n, unit) => n * (unit === 'k' ? 1e3 : 1e6)),
  )
  return selected.map((client) => {
    const runs = results.get(client.name)
    const wall = median(runs.map((r) => r.wallMs))
    return {
      client: client.name,
      wall,
      best: Math.min(...runs.map((r) => r.wallMs)),
      eventsPerSec: events / (wall / 1000),
      mbPerSec: bytes / 1e6 / (wall / 1000),
      cpu: median(runs.map((r) => r.cpuMs)),
      rssMiB: Math.max(...runs.map((r) => r.rssKiB)) / 1024,
    }
  })
}

/** Milliseconds from spawn to the first event on stdout; the server then idles. */
function timeToFirstEvent(argv) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] })
    child.on('error', reject)
    child.stdout.on('data', (chunk) => {
      if (chunk.includes('first')) {
        resolve(performance.now() - started)
        child.kill()
      }
    })
  })
}

async function startup() {
  const commands = {
    'node -e 0': [node, '-e', '0'],
    'sse-probe --version': [node, CLI, '--version'],
    'sse-probe --help': [node, CLI, '--help'],
  }
  const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]))
  for (let round = 0; round < ROUNDS * 4; round++) {
    for (const [name, argv] of Object.entries(commands)) times[name].push(await wallTime(argv))
  }
  const first = { 'sse-probe --json': [], 'minimal client (JSON lines)': [] }
  for (let round = 0; round < ROUNDS * 2; round++) {
    first['sse-probe --json'].push(await timeToFirstEvent([node, CLI, '--json', `${base}/first`]))
    first['minimal client (JSON lines)'].push(
      await timeToFirstEvent([node, MINIMAL, `${base}/first`]),
    )
  }
  return {
    cold: Object.entries(times).map(([name, t]) => [name, median(t)]),
    first: Object.entries(first).map(([name, t]) => [name, median(t)]),
  }
}

// ---- report ----------------------------------------------------------------

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const lines = []
const out = (line = '') => {
  lines.push(line)
  console.log(line)
}
const nodeVersion = process.version
out(
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${nodeVersion}, ${ROUNDS} interleaved rounds (memory stream: ${MEMORY_ROUNDS}).`,
)
out()

const ratios = []
const byStream = {}
for (const [stream, rounds] of [
  ['200k x 64 B', ROUNDS],
  ['20k x 4 KiB', ROUNDS],
  ['2M x 64 B', MEMORY_ROUNDS],
]) {
  const only = stream.startsWith('2M')
    ? clients.map((c) => c.name).filter((n) => n !== 'curl -sN')
    : undefined
  const rows = await benchStream(stream, rounds, only)
  byStream[stream] = rows
  const get = (name) => rows.find((r) => r.client === name)
  out(`### ${stream}`)
  out()
  out(
    '| client | median wall ms | best ms | events/s | MB/s | CPU ms | peak RSS MiB | wall vs minimal |',
  )
  out('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of rows) {
    const reference =
      r.client === 'sse-probe --quiet'
        ? get('minimal client (count only)')
        : get('minimal client (JSON lines)')
    out(
      `| ${r.client} | ${fmt(r.wall)} | ${fmt(r.best)} | ${fmt(r.eventsPerSec)} | ${fmt(r.mbPerSec, 1)} | ${fmt(r.cpu)} | ${fmt(r.rssMiB, 1)} | ${r.client.startsWith('sse-probe') ? `${fmt(r.wall / reference.wall, 2)}×` : ''} |`,
    )
  }
  out()
  for (const [name, reference, goal] of [
    ['sse-probe --json', 'minimal client (JSON lines)', 1.25],
    ['sse-probe --quiet', 'minimal client (count only)', 1.2],
    ['sse-probe pretty > file', 'minimal client (JSON lines)', 2],
  ]) {
    ratios.push({ stream, name, reference, ratio: get(name).wall / get(reference).wall, goal })
  }
}

out('### Memory: peak RSS, 2M events vs 200k events')
out()
out('| client | 200k MiB | 2M MiB | growth MiB | allowed MiB | ok |')
out('| --- | ---: | ---: | ---: | ---: | :---: |')
const memoryOk = []
for (const name of ['sse-probe --json', 'sse-probe pretty > file', 'sse-probe --quiet']) {
  const small = byStream['200k x 64 B'].find((r) => r.client === name).rssMiB
  const large = byStream['2M x 64 B'].find((r) => r.client === name).rssMiB
  const allowed = Math.max(16, small * 0.25)
  memoryOk.push(large - small <= allowed)
  out(
    `| ${name} | ${fmt(small, 1)} | ${fmt(large, 1)} | ${fmt(large - small, 1)} | ${fmt(allowed, 1)} | ${large - small <= allowed ? '✓' : '✗'} |`,
  )
}
out()

const { cold, first } = await startup()
out('### Start-up')
out()
out('| command | median ms | vs node -e 0 |')
out('| --- | ---: | ---: |')
const nodeStart = cold[0][1]
for (const [name, ms] of cold) out(`| ${name} | ${fmt(ms)} | ${fmt(ms / nodeStart, 2)}× |`)
for (const [name, ms] of first) out(`| time to first event: ${name} | ${fmt(ms)} | |`)
out()

out('### Goals')
out()
out('| stream | sse-probe | vs | ratio | goal | ok |')
out('| --- | --- | --- | ---: | ---: | :---: |')
for (const r of ratios)
  out(
    `| ${r.stream} | ${r.name} | ${r.reference} | ${fmt(r.ratio, 2)}× | ≤ ${r.goal}× | ${r.ratio <= r.goal ? '✓' : '✗'} |`,
  )
for (const [name, ms] of cold.slice(1))
  out(
    `| start-up | ${name} | node -e 0 | ${fmt(ms / nodeStart, 2)}× | ≤ 1.5× | ${ms / nodeStart <= 1.5 ? '✓' : '✗'} |`,
  )
out(
  `| first event | sse-probe --json | minimal client | ${fmt(first[0][1] / first[1][1], 2)}× | ≤ 1× | ${first[0][1] <= first[1][1] ? '✓' : '✗'} |`,
)
out(
  `| memory | every format | 2M vs 200k | | ≤ max(16 MiB, 25 %) | ${memoryOk.every(Boolean) ? '✓' : '✗'} |`,
)

server.closeAllConnections()
server.close()
rmSync(work, { recursive: true, force: true })

if (process.argv.includes('--update-readme')) {
  const readme = join(root, 'README.md')
  const text = readFileSync(readme, 'utf8')
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const at = text.indexOf(start)
  const until = text.indexOf(end)
  if (at === -1 || until === -1) throw new Error('README.md has no bench markers')
  writeFileSync(
    readme,
    `${text.slice(0, at + start.length)}\n${lines.join('\n')}\n${text.slice(until)}`,
  )
  console.log('\nREADME.md updated.')
}
