// node scripts/bench/inspect.js: how `sse-probe inspect` keeps up with a fast stream.
//
// A local server sends RATE events a second (in 10 ms batches) until TOTAL, then `end`.
// The view runs in a real terminal (tmux); the space key (pause / resume) is pressed
// every 500 ms and the screen is polled until it shows the change: that is the time a key
// takes to take effect. At the end the header's count, the summary's and the server's are
// compared. Needs tmux. Environment: RATE (default 10000), TOTAL (default 100000).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const RATE = Number(process.env.RATE ?? 10_000)
const TOTAL = Number(process.env.TOTAL ?? 100_000)
const CLI = fileURLToPath(new URL('../../bin/sse-probe.js', import.meta.url))
const socket = `sse-probe-bench-${process.pid}`
const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let sent = 0
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  const perBatch = RATE / 100
  const timer = setInterval(() => {
    let text = ''
    for (let i = 0; i < perBatch && sent < TOTAL; i++) {
      sent++
      text += `id: ${sent}\nevent: ${sent % 10 === 0 ? 'status' : 'tick'}\ndata: {"n":${sent},"at":${Date.now()}}\n\n`
    }
    if (sent >= TOTAL) {
      clearInterval(timer)
      res.end(`${text}event: end\ndata: bye\n\n`)
    } else res.write(text)
  }, 10)
  res.on('close', () => clearInterval(timer))
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}/`

const dir = mkdtempSync(join(tmpdir(), 'sse-probe-bench-inspect-'))
const command = `cd ${dir}; sh -c 'echo $$ > pid.txt; exec ${process.execPath} ${CLI} inspect ${url} 2>stderr.txt'; echo $? > code.txt; sleep 600`
tmux('new-session', '-d', '-x', '120', '-y', '40', 'sh', '-c', command)
const screen = () => tmux('capture-pane', '-p')

async function until(test, timeoutMs = 10_000) {
  const start = performance.now()
  while (!test(screen())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out:\n${screen()}`)
    await sleep(2)
  }
  return performance.now() - start
}

try {
  await until((s) => / events/.test(s) && /● open/.test(s))
  const pid = Number(readFileSync(join(dir, 'pid.txt'), 'utf8'))
  const cpuTicks = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return Number(fields[11]) + Number(fields[12])
  }
  const latencies = []
  const cpuStart = cpuTicks()
  const wallStart = performance.now()
  while (sent < TOTAL * 0.9) {
    tmux('send-keys', 'Space')
    latencies.push(await until((s) => s.includes('paused ·')))
    await sleep(250)
    tmux('send-keys', 'Space')
    latencies.push(await until((s) => !s.includes('paused ·')))
    await sleep(250)
  }
  const cpu = ((cpuTicks() - cpuStart) / 100 / ((performance.now() - wallStart) / 1000)) * 100
  const ended = await until((s) => s.includes('ended: end-event'), 30_000).then(() => screen())
  const shown = Number(/ (\d+) events/.exec(ended)?.[1])
  tmux('send-keys', 'q')
  await until(() => {
    try {
      return readFileSync(join(dir, 'code.txt'), 'utf8').trim() !== ''
    } catch {
      return false
    }
  })
  const summary = Number(/events +(\d+)/.exec(readFileSync(join(dir, 'stderr.txt'), 'utf8'))?.[1])
  latencies.sort((a, b) => a - b)
  const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  console.log(
    [
      `inspect at ${RATE} events/s, ${TOTAL + 1} events (+ end)`,
      `key to screen: p50 ${pick(0.5).toFixed(0)} ms, p95 ${pick(0.95).toFixed(0)} ms, max ${latencies.at(-1).toFixed(0)} ms (${latencies.length} presses)`,
      `CPU of the inspect process while streaming: ${cpu.toFixed(0)} % of one core`,
      `counts: server ${sent + 1}, header ${shown}, summary ${summary} → ${shown === sent + 1 && summary === sent + 1 ? 'exact' : 'MISMATCH'}`,
    ].join('\n'),
  )
} finally {
  tmux('kill-server')
  server.closeAllConnections()
  server.close()
}
