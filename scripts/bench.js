// npm run bench: sse-probe against the floor of its own stack, side by side.
//
// A local SSE server serves fixed streams; every client reads the same stream,
// interleaved (A B C … A B C …) for several rounds so that the machine's noise
// hits all of them alike. Wall time, CPU time and peak RSS come from
// /usr/bin/time. Start-up is timed from spawn to exit (--version, --help) or to
// the first event on stdout, also for sse-probe installed from its packed tarball
// as users get it. Prints markdown tables; --update-docs also writes them into
// docs/performance.md between the bench markers.
//
// Environment: BENCH_ROUNDS (default 5), BENCH_MEMORY_ROUNDS (default 2).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  makeAnthropicStream,
  makeJsonStream,
  makeLlmStream,
  makeResponsesStream,
  makeStream,
} from './bench/streams.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/sse-probe.js')
const MINIMAL = join(root, 'scripts/bench/minimal-client.js')
const EVENTSOURCE = join(root, 'scripts/bench/eventsource-client.js')
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

// Each LLM format, and what ends --llm off where the profile ends by itself.
const LLM_STREAMS = {
  '100k LLM chunks': { format: 'openai-chat', end: ['--end-data', '[DONE]'] },
  '100k LLM chunks, id, time and usage each': {
    format: 'openai-chat',
    end: ['--end-data', '[DONE]'],
  },
  '100k Anthropic deltas': { format: 'anthropic', end: ['--end-event', 'message_stop'] },
  '100k Responses deltas': {
    format: 'openai-responses',
    end: ['--end-event', 'response.completed'],
  },
}
const streams = {
  '100k LLM chunks': makeLlmStream(100_000),
  '100k LLM chunks, id, time and usage each': makeLlmStream(100_000, true),
  '100k Anthropic deltas': makeAnthropicStream(100_000),
  '100k Responses deltas': makeResponsesStream(100_000),
  '200k x 64 B': makeStream(200_000, 64),
  '200k x 64 B JSON': makeJsonStream(200_000),
  '20k x 4 KiB': makeStream(20_000, 4096),
  '2M x 64 B': makeStream(2_000_000, 64),
}

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  if (req.url === '/first') {
    // One event at once, then silence until the client goes.
    res.write('id: 1\ndata: data-first\n\n')
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
function wallTime({ argv, cwd }) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', cwd })
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

/**
 * Milliseconds from spawn to the first event on stdout; the server then idles. Returns once the
 * process has ended, so that the next run does not share the machine with its shutdown.
 */
function timeToFirstEvent({ argv, cwd }) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let firstEventMs
    // A group of its own: `npx` runs sse-probe as its child, which must end with it.
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', 'pipe', 'ignore'],
      cwd,
      detached: true,
    })
    child.on('error', reject)
    child.stdout.on('data', (chunk) => {
      // The event's data, not the URL (`/first`) that the open record and pretty's first line show.
      if (firstEventMs === undefined && chunk.includes('data-first')) {
        firstEventMs = performance.now() - started
        process.kill(-child.pid)
      }
    })
    child.on('close', () =>
      firstEventMs === undefined
        ? reject(new Error(`${argv.join(' ')} ended before the first event`))
        : resolve(firstEventMs),
    )
  })
}

/** sse-probe as users get it: `npm pack`, installed into an empty project. */
function installFromTarball() {
  const project = join(work, 'installed')
  mkdirSync(project)
  const npm = (args, cwd) =>
    execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  // The bench has just built dist/; prepack would build it again.
  const tarball = npm(['pack', '--ignore-scripts', '--pack-destination', work], root)
    .trim()
    .split('\n')
    .pop()
  writeFileSync(join(project, 'package.json'), '{ "private": true }')
  npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', join(work, tarball)], project)
  return project
}

/**
 * Interleaved rounds of `measure` over the commands; the median of each. Each round runs them in
 * another order (shuffled, the same every time the bench runs): with a fixed order, anything on
 * the machine that recurs at about the length of a round hit the same command in every round.
 */
async function medians(commands, rounds, measure) {
  const entries = Object.entries(commands)
  const times = Object.fromEntries(entries.map(([name]) => [name, []]))
  let seed = 1
  const random = () => ((seed = (seed * 48271) % 2147483647) - 1) / 2147483646
  for (let round = 0; round < rounds; round++) {
    const order = [...entries]
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    for (const [name, command] of order) times[name].push(await measure(command))
  }
  return Object.entries(times).map(([name, t]) => [name, median(t)])
}

async function startup() {
  const project = installFromTarball()
  const installed = join(project, 'node_modules/.bin/sse-probe')
  const npx = (args) => ({ argv: ['npx', '--no-install', 'sse-probe', ...args], cwd: project })
  const cold = await medians(
    {
      'node -e 0': { argv: [node, '-e', '0'] },
      'sse-probe --version': { argv: [node, CLI, '--version'] },
      'sse-probe --help': { argv: [node, CLI, '--help'] },
      'installed: sse-probe --version': { argv: [installed, '--version'] },
      'installed: npx --no-install sse-probe --version': npx(['--version']),
    },
    ROUNDS * 4,
    wallTime,
  )
  const url = `${base}/first`
  const first = await medians(
    {
      'sse-probe --json': { argv: [node, CLI, '--json', url] },
      'sse-probe --format raw': { argv: [node, CLI, '--format', 'raw', url] },
      'sse-probe (pretty)': { argv: [node, CLI, '--no-color', url] },
      'eventsource package': { argv: [node, EVENTSOURCE, url] },
      'minimal client (JSON lines)': { argv: [node, MINIMAL, url] },
      'installed: sse-probe --json': { argv: [installed, '--json', url] },
      'installed: npx --no-install sse-probe --json': npx(['--json', url]),
    },
    // Twice the rounds of the others: a difference of a few per cent between ~150 ms runs.
    ROUNDS * 8,
    timeToFirstEvent,
  )
  return { cold, first }
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
const load = () =>
  loadavg()
    .map((n) => fmt(n, 2))
    .join(', ')
out(
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${nodeVersion}, ${ROUNDS} interleaved rounds (LLM profile: ${ROUNDS * 4}; memory stream: ${MEMORY_ROUNDS}); load average ${load()} at the start.`,
)
out()

const ratios = []

// The LLM profile's cost: --json on a stream of each LLM format with the profile on (auto) vs
// --llm off, both ending at the format's end marker. The two alternate in order round by round.
for (const [stream, { format, end }] of Object.entries(LLM_STREAMS)) {
  const url = urlOf(stream)
  const variants = {
    'sse-probe --json (llm auto)': [node, CLI, '--json', '--no-reconnect', url],
    'sse-probe --json --llm off': [
      node,
      CLI,
      '--json',
      '--no-reconnect',
      '--llm',
      'off',
      ...end,
      url,
    ],
  }
  const runs = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
  // Four times the rounds of the stream rows: the goal's margin is a few per cent of ~200 ms runs,
  // and ten rounds' medians moved by ±4 % from run to run on a 2-core machine.
  for (let round = 0; round < ROUNDS * 4; round++) {
    const order = Object.entries(variants)
    for (const [name, argv] of round % 2 ? order.reverse() : order)
      runs[name].push(await measure(argv, 'null'))
  }
  out(`### ${stream} (${format})`)
  out()
  out('| client | median wall ms | best ms | deltas/s | CPU ms | peak RSS MiB |')
  out('| --- | ---: | ---: | ---: | ---: | ---: |')
  const wall = {}
  for (const [name, rs] of Object.entries(runs)) {
    wall[name] = median(rs.map((r) => r.wallMs))
    const row = [
      fmt(wall[name]),
      fmt(Math.min(...rs.map((r) => r.wallMs))),
      fmt(100_000 / (wall[name] / 1000)),
    ]
    out(
      `| ${name} | ${row.join(' | ')} | ${fmt(median(rs.map((r) => r.cpuMs)))} | ${fmt(Math.max(...rs.map((r) => r.rssKiB)) / 1024, 1)} |`,
    )
  }
  out()
  const [on, off] = Object.keys(variants)
  ratios.push({ stream, name: on, reference: off, ratio: wall[on] / wall[off], goal: 1.15 })
  if (process.argv.includes('--llm-only'))
    out(`${on} vs ${off}: ${fmt(wall[on] / wall[off], 2)}× (goal ≤ 1.15×)`)
}
// The live text view (pretty, the profile on; issue 11: it keeps up with 10,000 deltas a second):
// deltas a second from the network to the screen on the Chat stream, into a file and into a
// terminal (a pty that `script` drains, stderr's status lines and spinner in it too). Start-up
// counts in: a floor, not a best case.
const liveViewArgs = [node, CLI, '--no-color', '--no-reconnect', urlOf('100k LLM chunks')]
const quoted = (argv) => argv.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ')
const SCRIPT = existsSync('/usr/bin/script') ? '/usr/bin/script' : undefined
const liveViews = {
  'pretty live view > file': { argv: liveViewArgs, stdout: 'file' },
  ...(SCRIPT && {
    'pretty live view on a terminal (pty)': {
      argv: [SCRIPT, '-qec', quoted(liveViewArgs), '/dev/null'],
      stdout: 'null',
    },
  }),
}
const liveRuns = Object.fromEntries(Object.keys(liveViews).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++)
  for (const [name, { argv, stdout }] of Object.entries(liveViews))
    liveRuns[name].push(await measure(argv, stdout))
out('### Live LLM text view on 100k Chat chunks')
out()
out('| view | median wall ms | deltas/s |')
out('| --- | ---: | ---: |')
const liveRates = []
for (const [name, runs] of Object.entries(liveRuns)) {
  const wall = median(runs.map((r) => r.wallMs))
  liveRates.push({ name, rate: 100_000 / (wall / 1000) })
  out(`| ${name} | ${fmt(wall)} | ${fmt(100_000 / (wall / 1000))} |`)
}
out()

// npm run bench -- --llm-only: these cases alone.
if (process.argv.includes('--llm-only')) {
  server.closeAllConnections()
  server.close()
  rmSync(work, { recursive: true, force: true })
  process.exit(0)
}

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

// --schema compiles once and validates every event: its cost against the same probe without it.
const schemaFile = join(work, 'event.schema.json')
writeFileSync(
  schemaFile,
  JSON.stringify({
    type: 'object',
    required: ['n', 'state'],
    properties: {
      n: { type: 'integer', minimum: 0 },
      state: { enum: ['queued', 'running', 'done'] },
      ok: { type: 'boolean' },
    },
  }),
)
const schemaClients = [
  { name: 'sse-probe --json', args: (url) => [node, CLI, '--json', '--no-reconnect', url] },
  {
    name: 'sse-probe --json --schema',
    args: (url) => [node, CLI, '--json', '--no-reconnect', '--schema', schemaFile, url],
  },
]
const schemaRuns = new Map(schemaClients.map((c) => [c.name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const client of schemaClients) {
    const run = await measure(client.args(urlOf('200k x 64 B JSON')), 'null')
    schemaRuns.get(client.name).push(run)
  }
}
out('### --schema on 200k JSON events')
out()
out('| client | median wall ms | CPU ms | peak RSS MiB |')
out('| --- | ---: | ---: | ---: |')
for (const [name, runs] of schemaRuns) {
  const rss = Math.max(...runs.map((r) => r.rssKiB)) / 1024
  out(
    `| ${name} | ${fmt(median(runs.map((r) => r.wallMs)))} | ${fmt(median(runs.map((r) => r.cpuMs)))} | ${fmt(rss, 1)} |`,
  )
}
out()
const schemaWall = (name) => median(schemaRuns.get(name).map((r) => r.wallMs))
ratios.push({
  stream: '200k x 64 B JSON',
  name: 'sse-probe --json --schema',
  reference: 'sse-probe --json',
  ratio: schemaWall('sse-probe --json --schema') / schemaWall('sse-probe --json'),
  goal: 1.3,
})

const { cold, first } = await startup()
out(`### Start-up (load average ${load()})`)
out()
out('| command | median ms | vs node -e 0 |')
out('| --- | ---: | ---: |')
const nodeStart = cold[0][1]
for (const [name, ms] of cold) out(`| ${name} | ${fmt(ms)} | ${fmt(ms / nodeStart, 2)}× |`)
out()
out('| time to first event | median ms | vs eventsource package |')
out('| --- | ---: | ---: |')
const firstOf = Object.fromEntries(first)
const eventSource = firstOf['eventsource package']
for (const [name, ms] of first) out(`| ${name} | ${fmt(ms)} | ${fmt(ms / eventSource, 2)}× |`)
out()

out('### Goals')
out()
out('| stream | sse-probe | vs | ratio | goal | ok |')
out('| --- | --- | --- | ---: | ---: | :---: |')
for (const r of ratios)
  out(
    `| ${r.stream} | ${r.name} | ${r.reference} | ${fmt(r.ratio, 2)}× | ≤ ${r.goal}× | ${r.ratio <= r.goal ? '✓' : '✗'} |`,
  )
for (const name of ['sse-probe --version', 'sse-probe --help']) {
  const ratio = Object.fromEntries(cold)[name] / nodeStart
  out(
    `| start-up | ${name} | node -e 0 | ${fmt(ratio, 2)}× | ≤ 1.3× | ${ratio <= 1.3 ? '✓' : '✗'} |`,
  )
}
for (const name of ['sse-probe --json', 'sse-probe --format raw', 'sse-probe (pretty)']) {
  const ratio = firstOf[name] / eventSource
  out(
    `| first event | ${name} | eventsource package | ${fmt(ratio, 2)}× | ≤ 1× (aim 0.8×) | ${ratio <= 1 ? '✓' : '✗'} |`,
  )
}
out(
  `| memory | every format | 2M vs 200k | | ≤ max(16 MiB, 25 %) | ${memoryOk.every(Boolean) ? '✓' : '✗'} |`,
)
for (const { name, rate } of liveRates)
  out(
    `| 100k LLM chunks | ${name} | | ${fmt(rate)} deltas/s | ≥ 10,000/s | ${rate >= 10_000 ? '✓' : '✗'} |`,
  )

server.closeAllConnections()
server.close()
rmSync(work, { recursive: true, force: true })

if (process.argv.includes('--update-docs')) {
  const doc = join(root, 'docs/performance.md')
  const text = readFileSync(doc, 'utf8')
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const at = text.indexOf(start)
  const until = text.indexOf(end)
  if (at === -1 || until === -1) throw new Error('docs/performance.md has no bench markers')
  writeFileSync(
    doc,
    `${text.slice(0, at + start.length)}\n${lines.join('\n')}\n${text.slice(until)}`,
  )
  // Aligned as `npm run lint` wants the tables.
  spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', doc], {
    stdio: 'ignore',
  })
  console.log('\ndocs/performance.md updated.')
}

// The many-connections benchmark (load.md) last, in a process of its own.
const loadBench = spawnSync(process.execPath, [join(root, 'scripts', 'bench-load.js')], {
  stdio: 'inherit',
})
process.exitCode = loadBench.status ?? 1
