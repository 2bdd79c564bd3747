// npm run bench (second part): `sse-probe load` holding many connections.
//
// A local server in its own process (scripts/bench/load-server.js) holds every
// stream and, once all are open, broadcasts one event a second carrying the time
// at which each socket was written. Measured on the client process:
// - memory per held connection: (resident memory holding N) − (holding 1), / (N − 1),
//   read from /proc a few seconds after the last connection opened;
// - fan-out latency added by the client: receipt minus send time (--latency-field),
//   p50/p95/max over all connections and broadcasts.
// The same for N instances of the `eventsource` npm package in one process, and for
// N raw sockets that only find the send time in the bytes: the machine's floor.
//
// Environment: BENCH_CONNECTIONS (default 10000), BENCH_BROADCASTS (default 20: a broadcast that
// another process on the machine slows down is then 5 % of the samples rather than 10 %, which
// decided the p95 on its own).
import { fork, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/sse-probe.js')
const EVENTSOURCE = join(root, 'scripts/bench/eventsource-load-client.js')
const RAW = join(root, 'scripts/bench/raw-client.js')
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10_000)
const BROADCASTS = Number(process.env.BENCH_BROADCASTS ?? 20)
const SETTLE_MS = 3000
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Each side needs a descriptor per connection: raise the soft limit to the hard one.
const raised = (argv) => ['bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash', ...argv]]
const hardLimit = Number(
  readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+\S+\s+(\d+)/m)?.[1] ?? 0,
)
if (hardLimit && hardLimit < CONNECTIONS + 100) {
  console.error(
    `the hard limit of open files (${hardLimit}) is below ${CONNECTIONS + 100}: raise it (ulimit -Hn, as root) or set BENCH_CONNECTIONS`,
  )
  process.exit(2)
}

function startServer() {
  const server = fork(join(root, 'scripts/bench/load-server.js'), { execArgv: [] })
  const reply = (type) =>
    new Promise((resolve) => {
      const on = (message) => {
        if (message.type !== type) return
        server.off('message', on)
        resolve(message)
      }
      server.on('message', on)
    })
  return {
    listening: reply('listening'),
    async broadcast() {
      server.send('broadcast')
      return (await reply('broadcast')).clients
    },
    stop: () => server.kill(),
  }
}

/** User and system CPU time of a process so far (clock ticks of 10 ms). */
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}
const rssKiB = (pid) =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1])

/**
 * Starts a client holding `count` connections, waits until all are open (`isOpen` on its
 * stdout lines), lets it settle, reads its resident memory, broadcasts, then stops it with
 * SIGINT and returns its last stdout line.
 */
async function hold(argv, count, isOpen, server, broadcasts) {
  const [command, args] = raised(argv)
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let lastLine = ''
  let buffered = ''
  let markOpen
  const opened = new Promise((resolve) => (markOpen = resolve))
  const startedAt = performance.now()
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop()
    for (const line of lines) {
      lastLine = line
      if (isOpen(line, count)) markOpen()
    }
  })
  const exited = new Promise((resolve) => child.on('close', resolve))
  await Promise.race([
    opened,
    exited.then(() => {
      throw new Error(`${argv.join(' ')} exited before opening ${count}`)
    }),
  ])
  const openMs = performance.now() - startedAt
  await sleep(SETTLE_MS)
  const rss = rssKiB(child.pid)
  const cpuBefore = cpuMs(child.pid)
  for (let i = 0; i < broadcasts; i++) {
    await server.broadcast()
    await sleep(1000)
  }
  // CPU per event does not depend on how busy the machine is, unlike the latencies.
  const cpuUsPerEvent = broadcasts
    ? ((cpuMs(child.pid) - cpuBefore) * 1000) / (count * broadcasts)
    : 0
  child.kill('SIGINT')
  await exited
  return { rss, openMs, lastLine, cpuUsPerEvent }
}

const server = startServer()
const { port } = await server.listening
const url = `http://127.0.0.1:${port}/`

const probeOpen = (line, count) =>
  line.includes('"type":"stats"') && JSON.parse(line).open === count
const probe = (count) => [
  process.execPath,
  CLI,
  'load',
  url,
  '-c',
  String(count),
  '--duration',
  '1h',
  '--json',
  '--latency-field',
  '/sentAt',
]
const linesOpen = (line, count) => line === `open ${count}`
const eventsource = (count) => [process.execPath, EVENTSOURCE, url, String(count)]
const raw = (count) => [process.execPath, RAW, url, String(count)]

console.log(
  `Holding ${CONNECTIONS} connections to a local server, ${BROADCASTS} broadcasts a second apart…`,
)
const probeBase = await hold(probe(1), 1, probeOpen, server, 0)
const probeMany = await hold(probe(CONNECTIONS), CONNECTIONS, probeOpen, server, BROADCASTS)
const probeSummary = JSON.parse(probeMany.lastLine)
const esBase = await hold(eventsource(1), 1, linesOpen, server, 0)
const esMany = await hold(eventsource(CONNECTIONS), CONNECTIONS, linesOpen, server, BROADCASTS)
const esLatency = JSON.parse(esMany.lastLine)
const rawBase = await hold(raw(1), 1, linesOpen, server, 0)
const rawMany = await hold(raw(CONNECTIONS), CONNECTIONS, linesOpen, server, BROADCASTS)
const rawLatency = JSON.parse(rawMany.lastLine)
server.stop()

const perConnection = (many, base) => ((many.rss - base.rss) / (CONNECTIONS - 1)).toFixed(1)
const ms = (value) => (value === null || value === undefined ? 'n/a' : `${value.toFixed(1)} ms`)
const rows = [
  ['sse-probe load', probeMany, probeBase, probeSummary.fanoutMs ?? {}],
  ['eventsource package', esMany, esBase, esLatency],
  ['floor: raw sockets, no parsing', rawMany, rawBase, rawLatency],
]
console.log(
  `\n| client (${CONNECTIONS} connections, one process) | KiB per connection above baseline | RSS holding them | all open after | CPU per event | fan-out p50 | fan-out p95 | fan-out max |`,
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const [name, many, base, latency] of rows) {
  const cells = [
    perConnection(many, base),
    `${(many.rss / 1024).toFixed(0)} MiB`,
    `${(many.openMs / 1000).toFixed(1)} s`,
    `${many.cpuUsPerEvent.toFixed(1)} µs`,
    ms(latency.p50),
    ms(latency.p95),
    ms(latency.max),
  ]
  console.log(`| ${name} | ${cells.join(' | ')} |`)
}
console.log(
  `\nsse-probe: ${probeSummary.connections.opened}/${CONNECTIONS} opened, ${probeSummary.events.total} events, errors ${JSON.stringify(probeSummary.errors)}`,
)
console.log(`eventsource: ${esLatency.open}/${CONNECTIONS} open, ${esLatency.samples} events`)
