import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { ProbeRecord } from '../../src/engine/records.ts'
import { CLI } from '../helpers/cli.ts'
import { chatTools } from '../helpers/llm-streams.ts'
import { runMain } from '../helpers/main.ts'
import { sseServer, startServer } from '../helpers/server.ts'
import { HAS_TMUX, runInTerminal, type Terminal } from '../helpers/tmux.ts'

/** An endless stream: ids from Last-Event-ID + 1, `status` every third event, `tick` otherwise. */
function endlessServer(intervalMs = 20) {
  return startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('retry: 300\n\n')
    let id = Number(req.headers['last-event-id'] ?? 0)
    const timer = setInterval(() => {
      id++
      const type = id % 3 === 0 ? 'status' : 'tick'
      res.write(`id: ${id}\nevent: ${type}\ndata: {"n":${id},"type":"${type}"}\n\n`)
    }, intervalMs)
    res.on('close', () => clearInterval(timer))
  })
}

const header = (screen: string) => screen.split('\n').slice(0, 2).join('\n')

/** Back on the shell's screen, the cursor shown, the line discipline cooked again. */
function expectRestored(term: Terminal) {
  expect(term.screen()).toContain('BEFORE-INSPECT')
  expect(term.modes()).toEqual({ alternateScreen: false, cursorShown: true, autowrap: true })
  expect(term.sttyAfter()).toMatch(/(^|\s)icanon(\s|$)/m)
  expect(term.sttyAfter()).toMatch(/(^|\s)echo(\s|$)/m)
}

describe('sse-probe inspect without a terminal', () => {
  it('exits 2 and points to sse-probe <url>', async () => {
    const server = await sseServer('data: x\n\n')
    const run = await runMain(['inspect', server.url])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/needs a terminal.*sse-probe <url>/)
    expect(server.requests).toHaveLength(0)
  })

  it('in a folder deleted under the shell: exit 2 and one line, not an internal error', async () => {
    const gone = mkdtempSync(join(tmpdir(), 'sse-probe-gone-'))
    onTestFinished(() => rmSync(gone, { recursive: true, force: true }))
    const run = spawnSync(
      'sh',
      [
        '-c',
        'cd "$1" && rmdir "$1" && exec "$2" "$3" inspect http://127.0.0.1:1/',
        'sh',
        gone,
        process.execPath,
        CLI,
      ],
      { encoding: 'utf8' },
    )
    expect({ status: run.status, stderr: run.stderr }).toEqual({
      status: 2,
      stderr:
        'error: sse-probe inspect cannot start: the current folder no longer exists; cd to one that does\n',
    })
  })

  it('takes the probe options: a bad one is a usage error', async () => {
    const run = await runMain(['inspect', 'http://127.0.0.1:1/', '--retry', 'soon'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/--retry/)
  })
})

describe.skipIf(!HAS_TMUX && !process.env.CI)('sse-probe inspect in a terminal', () => {
  it('filters, pauses with +N, shows one event whole, writes the rows, reconnects, quits with 130', async () => {
    const server = await endlessServer()
    const term = runInTerminal(['inspect', `${server.url}/s`])
    await term.waitFor((s) => /● open/.test(s) && / status +\{"n":6/.test(s), 'events')

    // Filter to one type while the stream runs.
    term.keys('/')
    term.type('type:status')
    term.keys('Enter')
    let screen = await term.waitFor((s) => s.includes('filter: type:status'), 'the filter')
    const rows = screen.split('\n').filter((line) => /^[ ›]\s+\d+ +\d/.test(line))
    expect(rows.length).toBeGreaterThan(1)
    for (const row of rows) expect(row).toMatch(/ (status|retry|open) /)

    // Pause: the header counts what arrives meanwhile; the grid stands still.
    term.keys('Space')
    const paused = await term.waitFor((s) => /paused · \+([1-9]\d)/.test(s), '+N to grow')
    const frozen = paused.split('\n').slice(3).join('\n')
    await term.waitFor((s) => Number(/\+(\d+)/.exec(header(s))?.[1]) >= 20, 'more events')
    expect(term.screen().split('\n').slice(3).join('\n')).toBe(frozen)
    term.keys('Space')
    await term.waitFor((s) => !s.includes('paused'), 'the pause to end')

    // The detail pane, then back.
    term.keys('Enter')
    screen = await term.waitFor((s) => s.includes('lastEventId'), 'the detail pane')
    expect(screen).toMatch(/"type": "status"/)
    term.keys('Escape')
    await term.waitFor((s) => !s.includes('lastEventId'), 'the pane to close')

    // w writes what the grid holds.
    term.keys('w')
    screen = await term.waitFor((s) => /wrote \d+ records to /.test(s), 'the written path')
    const file = readdirSync(term.dir).find((name) => name.endsWith('.ndjson'))!
    const written = readFileSync(join(term.dir, file), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ProbeRecord)
    expect(written.length).toBeGreaterThan(2)
    expect(written.filter((r) => r.type === 'event').every((r) => r.event === 'status')).toBe(true)

    // r drops the connection; the server sees the resume with Last-Event-ID.
    term.keys('r')
    screen = await term.waitFor((s) => s.includes('reconnected  200'), 'the reconnect')
    expect(server.requests).toHaveLength(2)
    const resumedFrom = server.requests[1]!.headers['last-event-id']
    expect(Number(resumedFrom)).toBeGreaterThan(6)
    expect(screen).toContain(`Last-Event-ID: ${resumedFrom}`)
    expect(screen).toMatch(/close +connection broke: dropped on request/)

    term.keys('q')
    expect(await term.exited()).toBe(130)
    expectRestored(term)
    screen = term.screen()
    expect(screen).not.toContain('filter: type:status')
    expect(term.stderr()).toMatch(/── summary {2}interrupted/)
    expect(term.stderr()).toMatch(/reconnects {3}1/)
    // The summary ends stderr, with no escape sequence after it (stderr is a file here).
    expect(term.stderr()).not.toContain('\x1b')
  })

  it('stays on an ended stream and exits with its code; the header says how it ended', async () => {
    const server = await sseServer('id: 1\ndata: a\n\nid: 2\nevent: end\ndata: bye\n\n')
    const term = runInTerminal(['inspect', server.url, '--expect-event', 'missing'])
    await term.waitFor((s) => s.includes('ended: end-event'), 'the end')
    term.keys('C-c')
    expect(await term.exited()).toBe(1)
    expect(term.stderr()).toMatch(/✗ --expect-event missing/)
    expectRestored(term)
  })

  it('the header never shows the password of the URL (it goes out as Authorization) or a query API key', async () => {
    const server = await sseServer('data: a\n\nevent: end\ndata: bye\n\n')
    const url = `${server.url.replace('http://', 'http://al:pa55word@')}/?key=k3y`
    const term = runInTerminal(['inspect', url])
    const screen = await term.waitFor((s) => s.includes('ended: end-event'), 'the end')
    // Nor an API key in its query.
    expect(header(screen)).toContain(`${server.url}/?key=<redacted>`)
    expect(screen).not.toMatch(/pa55word|al:|k3y/)
    expect(server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('al:pa55word').toString('base64')}`,
    )
    term.keys('q')
    expect(await term.exited()).toBe(0)
  })

  it('a --record file that cannot be written is a usage error, before the screen is taken', async () => {
    const server = await sseServer('data: x\n\n')
    const term = runInTerminal(['inspect', server.url, '--record', '/nonexistent/dir/run.ndjson'])
    expect(await term.exited()).toBe(2)
    expect(term.stderr()).toMatch(/^error: .*run\.ndjson/m)
    expect(term.screen()).toContain('BEFORE-INSPECT')
  })

  it('r during a reconnect wait goes at once, and the reconnect says what was waited', async () => {
    const server = await sseServer('id: 1\ndata: a\n\n')
    const term = runInTerminal([
      'inspect',
      server.url,
      '--retry',
      '60000',
      '--record',
      'run.ndjson',
    ])
    await term.waitFor((s) => s.includes('● reconnecting in'), 'the wait')
    term.keys('r')
    const screen = await term.waitFor((s) => s.includes('reconnected  200'), 'the reconnect')
    // Not 'after 1m': the minute was never waited.
    expect(screen).toMatch(/reconnect +attempt 2 after \d+(\.\d+)?(ms|s), Last-Event-ID: 1/)
    term.keys('q')
    expect(await term.exited()).toBe(130)
    const reconnect = readFileSync(join(term.dir, 'run.ndjson'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ProbeRecord)
      .find((r) => r.type === 'reconnect')
    expect(reconnect).toMatchObject({ attempt: 2, lastEventId: '1' })
    expect(reconnect!.type === 'reconnect' && reconnect!.delayMs).toBeLessThan(60_000)
  })

  it('r with --no-reconnect keeps the stream: a drop would end it, as if the server closed', async () => {
    const server = await endlessServer(100)
    const term = runInTerminal(['inspect', server.url, '--no-reconnect'])
    await term.waitFor((s) => s.includes('● open'), 'the stream')
    term.keys('r')
    const screen = await term.waitFor((s) => s.includes('no reconnect with --reconnect never'), 'r')
    expect(header(screen)).toContain('● open')
    expect(screen).not.toContain('dropped on request')
    term.keys('q')
    expect(await term.exited()).toBe(130)
    expect(server.requests).toHaveLength(1)
  })

  it('r before the response says there is nothing to drop yet', async () => {
    const server = await startServer(() => undefined)
    const term = runInTerminal(['inspect', server.url])
    await term.waitFor(() => server.requests.length === 1, 'the request')
    term.keys('r')
    const screen = await term.waitFor((s) => s.includes('no connection to drop yet'), 'r')
    expect(header(screen)).toContain('● connecting')
    term.keys('q')
    expect(await term.exited()).toBe(130)
  })

  it.skipIf(!existsSync('/dev/full'))(
    'a --record that stopped (a full disk) is said on stderr too, not only on the screen it leaves',
    async () => {
      const server = await endlessServer(100)
      const term = runInTerminal(['inspect', server.url, '--record', '/dev/full'])
      await term.waitFor((s) => s.includes('--record stopped'), 'the warning')
      term.keys('q')
      expect(await term.exited()).toBe(74)
      expect(term.stderr()).toMatch(
        /^sse-probe: --record stopped: cannot write '\/dev\/full': ENOSPC\n── summary[\s\S]*\nsse-probe: the --record transcript is incomplete: exit 74\n$/,
      )
    },
  )

  it('restores the terminal on SIGTERM and exits 143', async () => {
    const server = await endlessServer(100)
    const term = runInTerminal(['inspect', server.url])
    await term.waitFor((s) => s.includes('● open'), 'the stream')
    process.kill(term.pid(), 'SIGTERM')
    expect(await term.exited()).toBe(143)
    expectRestored(term)
    expect(term.stderr()).toMatch(/── summary {2}interrupted/)
  })

  it('restores the terminal, autowrap too, when a signal it does not stop on kills it (SIGQUIT)', async () => {
    const server = await endlessServer(100)
    const term = runInTerminal(['inspect', server.url])
    await term.waitFor((s) => s.includes('● open'), 'the stream')
    process.kill(term.pid(), 'SIGQUIT')
    // Killed by it, as Node is; Ink left the screen, but autowrap stayed off.
    expect(await term.exited()).toBe(131)
    expectRestored(term)
  })

  it('Ctrl-Z suspends it under a shell with job control; fg brings the screen back whole', async () => {
    const server = await endlessServer(100)
    const socket = `sse-probe-suspend-${process.pid}`
    const tmux = (...args: string[]) =>
      execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
    onTestFinished(() => void spawnSync('tmux', ['-L', socket, 'kill-server']))
    tmux('new-session', '-d', '-x', '100', '-y', '20', 'bash', '--norc', '--noprofile', '-i')
    const screen = () => tmux('capture-pane', '-p')
    const until = async (test: (text: string) => boolean, what: string) => {
      for (const deadline = Date.now() + 10_000; !test(screen()); ) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${screen()}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    const command = [process.execPath, CLI, 'inspect', server.url].map((a) => `'${a}'`).join(' ')
    tmux('send-keys', `PS1='$ '; ${command}`, 'Enter')
    await until((text) => text.includes('● open'), 'the stream')
    tmux('send-keys', 'C-z')
    // The shell's screen, its prompt, the job stopped.
    await until((text) => /Stopped/.test(text) && !text.includes('● open'), 'the job stopped')
    tmux('send-keys', 'fg', 'Enter')
    await until((text) => text.includes('● open') && /#\s+time/.test(text), 'the screen again')
    tmux('send-keys', 'q')
    await until((text) => text.includes('── summary'), 'the summary')
    tmux('send-keys', 'echo "code=$?"', 'Enter')
    await until((text) => text.includes('code=130'), 'exit 130')
  })

  it('ends when its terminal goes away, even with no SIGHUP: 129 and the summary', async () => {
    const server = await endlessServer(100)
    const term = runInTerminal(['inspect', server.url])
    await term.waitFor((s) => s.includes('● open'), 'the stream')
    term.hangUp()
    expect(await term.exited()).toBe(129)
    expect(term.stderr()).toMatch(/── summary {2}interrupted {2}exit 129/)
  })

  it('h hides pings, t shows the wall clock, c clears the grid but not the counts', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(': hello\n\nevent: ping\ndata: \n\nid: 1\ndata: one\n\n')
    })
    const term = runInTerminal(['inspect', server.url])
    await term.waitFor((s) => / one/.test(s) && /: +hello/.test(s), 'the rows')
    term.keys('h')
    let screen = await term.waitFor((s) => s.includes('pings hidden'), 'pings hidden')
    expect(screen).not.toMatch(/hello/)
    term.keys('t')
    screen = await term.waitFor((s) => /\d\d:\d\d:\d\d\.\d{3}/.test(s), 'wall clock')
    term.keys('c')
    screen = await term.waitFor((s) => !/ one/.test(s), 'the grid to clear')
    expect(header(screen)).toMatch(/2 events · 2 pings/)
    term.keys('q')
    expect(await term.exited()).toBe(130)
  })

  it('reads its keys after -d @- took the body from the terminal (typed, then Ctrl-D)', async () => {
    const bodies: string[] = []
    const server = await startServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      bodies.push(body)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: one\n\n')
    })
    const term = runInTerminal(['inspect', server.url, '-d', '@-'])
    await term.waitFor((s) => s.includes('BEFORE-INSPECT'), 'the shell')
    term.type('{"q":1}')
    term.keys('Enter', 'C-d')
    await term.waitFor((s) => / one/.test(s), 'the stream')
    expect(bodies).toEqual(['{"q":1}\n'])
    // The keys were read from the ended stream: h and q did nothing.
    term.keys('h')
    await term.waitFor((s) => s.includes('pings hidden'), 'h to answer')
    term.keys('q')
    expect(await term.exited()).toBe(130)
    expectRestored(term)
  })

  it('reads its keys from the terminal when stdin is a pipe: -d @- takes the body from it', async () => {
    const bodies: string[] = []
    const server = await startServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      bodies.push(body)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: one\n\n')
    })
    const term = runInTerminal(['inspect', server.url, '-d', '@-'], {
      files: { 'body.json': '{"q":1}' },
      stdin: 'body.json',
    })
    // It said 'needs a terminal' (exit 2) from a terminal.
    await term.waitFor((s) => / one/.test(s), 'the stream')
    expect(bodies).toEqual(['{"q":1}'])
    term.keys('h')
    await term.waitFor((s) => s.includes('pings hidden'), 'h to answer')
    term.keys('q')
    expect(await term.exited()).toBe(130)
    expectRestored(term)
  })

  it('w pressed again within the same millisecond writes a file of its own, not EEXIST', async () => {
    const server = await sseServer('id: 1\ndata: one\n\n')
    const term = runInTerminal(['inspect', server.url, '--reconnect', 'never'])
    await term.waitFor((s) => s.includes('ended: server-closed'), 'the end')
    // A key held down, or typed over a slow link: presses read together, in one millisecond.
    term.type('wwwwwwwwww')
    const files = () => readdirSync(term.dir).filter((name) => name.endsWith('.ndjson'))
    await term.waitFor((s) => s.includes('could not') || files().length === 10, 'ten files')
    expect(term.screen()).not.toContain('could not')
    for (const file of files())
      expect(readFileSync(join(term.dir, file), 'utf8')).toContain('"data":"one"')
    term.keys('q')
    expect(await term.exited()).toBe(0)
  })
  it('w on an 80-column terminal shows the whole name of the file it wrote, then its directory', async () => {
    const server = await sseServer('id: 1\ndata: one\n\n')
    const term = runInTerminal(['inspect', server.url, '--reconnect', 'never'], { width: 80 })
    await term.waitFor((s) => s.includes('ended: server-closed'), 'the end')
    term.keys('w')
    const screen = await term.waitFor((s) => /wrote \d+ records? to /.test(s), 'the written file')
    const [file] = readdirSync(term.dir).filter((name) => name.endsWith('.ndjson'))
    // The directory (/tmp/sse-probe-inspect-…/) came first, and the name was cut in its timestamp.
    expect(screen).toContain(`wrote 3 records to ${file} in `)
    term.keys('q')
    expect(await term.exited()).toBe(0)
  })

  it('draws the whole screen again after the terminal was shorter than the screen', async () => {
    const server = await endlessServer(100)
    const term = runInTerminal(['inspect', server.url], { width: 80, height: 12 })
    await term.waitFor((s) => s.includes('● open'), 'the stream')
    term.resize(80, 3)
    await term.waitFor((s) => /^.*\n› .*\n↑↓ move/.test(s.trimEnd()), 'a frame of three lines')
    // Rows arrive meanwhile: frames are drawn on the short screen.
    await new Promise((resolve) => setTimeout(resolve, 500))
    term.resize(80, 12)
    const screen = await term.waitFor(
      (s) => /^http:.*● open\n.* events .*\n +# +time(.*\n){9}↑↓ move.*$/.test(s.trimEnd()),
      'the header and the column names at the top, the footer at the bottom',
    )
    const lines = screen.trimEnd().split('\n')
    // No line left over from the short screen: one header, one footer, rows between.
    expect(lines.filter((line) => line.startsWith('↑↓ move'))).toEqual([lines[11]])
    expect(lines.filter((line) => line.includes(' events · '))).toEqual([lines[1]])
    for (const line of lines.slice(3, 11)) expect(line).toMatch(/^([ ›] +\d+ .*)?$/)
    term.keys('q')
    expect(await term.exited()).toBe(130)
  })

  it('keeps its screen when the terminal draws a character wider than measured (👍🏽: 4 columns in tmux)', async () => {
    // string-width gives 👍🏽 2 columns, as terminals that join the skin tone draw it; tmux and
    // xterm draw the two emoji, 4 columns: a row cut to the width ran past it.
    const server = await sseServer(`id: 1\ndata: ${'👍🏽'.repeat(40)}\n\nid: 2\ndata: after\n\n`)
    const term = runInTerminal(['inspect', server.url, '--no-reconnect'], { width: 60, height: 12 })
    await term.waitFor((s) => s.includes('ended:') && / after/.test(s), 'the rows')
    // Drawn again at another width: Ink's idea of where its lines are is then put to the test.
    term.resize(50, 12)
    const screen = await term.waitFor((s) => /^↑↓ move.*…$/m.test(s), 'the narrower screen')
    const lines = screen.trimEnd().split('\n')
    // The URL line first, one counts line, rows, the footer last: no row wrapped onto the next line.
    expect(lines[0]).toMatch(/^http:/)
    expect(lines.filter((line) => line.includes(' events · '))).toEqual([lines[1]])
    expect(lines.filter((line) => line.startsWith('↑↓ move'))).toEqual([lines[11]])
    // Each row starts with its number and time (not the tail of a row above it); a loaded machine
    // may take over 100 ms to open.
    for (const line of lines.slice(3, 11)) expect(line).toMatch(/^([ ›] +\d+ +\d+\.\d{3}s .*)?$/)
    term.keys('q')
    expect(await term.exited()).toBe(0)
    expectRestored(term)
  })

  it('opens a 2M-character event of Chinese text in the detail pane at once', async () => {
    const text = '中文'.repeat(1e6)
    const server = await sseServer(`data: ${text}\n\ndata: after\n\n`)
    const term = runInTerminal(['inspect', server.url, '--no-reconnect'], {
      width: 100,
      height: 20,
    })
    await term.waitFor((s) => s.includes('ended:') && / after/.test(s), 'the rows')
    term.keys('g', 'j')
    await term.waitFor((s) => /^› +2 .*中文中文/m.test(s), 'the big event selected')
    const started = performance.now()
    term.keys('Enter')
    const screen = await term.waitFor((s) => s.includes('Esc closes'), 'the detail pane')
    // Laid out by segmenting all of it, it took 2 s here: each character measured as a grapheme.
    expect(performance.now() - started).toBeLessThan(1000)
    expect(screen).toMatch(/^size +6000000 bytes$/m)
    term.keys('G')
    await term.waitFor((s) => /^(中文){25}$/m.test(s) && !/more lines/.test(s), 'its last line')
    term.keys('q')
    expect(await term.exited()).toBe(0)
  })

  it('opens a big event of emoji and accented text in the detail pane at once, and lays it out again at once', async () => {
    // 600,000 characters the terminal draws as one each (👍, é): each measured by string-width.
    const text = '👍é'.repeat(3e5)
    const server = await sseServer(`data: ${text}\n\ndata: after\n\n`)
    const term = runInTerminal(['inspect', server.url, '--no-reconnect'], {
      width: 100,
      height: 20,
    })
    await term.waitFor((s) => s.includes('ended:') && / after/.test(s), 'the rows')
    term.keys('g', 'j')
    await term.waitFor((s) => /^› +2 .*👍é👍é/m.test(s), 'the big event selected')
    let started = performance.now()
    term.keys('Enter')
    await term.waitFor((s) => s.includes('Esc closes'), 'the detail pane')
    // It took 5 s here, and as long again at each resize and t.
    expect(performance.now() - started).toBeLessThan(1500)
    started = performance.now()
    term.keys('t')
    await term.waitFor((s) => /^time +\d\d:\d\d:\d\d\.\d{3}$/m.test(s), 'the wall clock')
    expect(performance.now() - started).toBeLessThan(1500)
    term.keys('q')
    expect(await term.exited()).toBe(0)
  })

  it('types a paste into the filter on one line, ignores one on the grid: not read as keys (q, c)', async () => {
    const server = await endlessServer(100)
    const term = runInTerminal(['inspect', server.url])
    await term.waitFor((s) => s.includes('● open'), 'the stream')
    term.keys('/')
    await term.waitFor((s) => s.includes('Enter keeps it'), 'the prompt')
    // Read as keys, the line break applied the filter and q quit.
    term.paste('type:status\nqc')
    await term.waitFor((s) => s.includes('/type:status qc '), 'the paste in the prompt')
    term.keys('Escape')
    await term.waitFor((s) => s.includes('↑↓ move'), 'the prompt to close')
    term.paste('cq')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(term.screen()).toMatch(/● open/)
    expect(term.screen()).toMatch(/^› +\d+ /m)
    term.keys('q')
    expect(await term.exited()).toBe(130)
    expectRestored(term)
    // Bracketed paste off again: the shell's next paste comes without ESC[200~.
    term.paste('PASTED')
    await term.waitFor((s) => s.includes('PASTED'), 'the paste echoed')
    expect(term.screen()).not.toContain('200~')
  })

  it('leaves a control key read together with / out of the filter (Ctrl-U just after /)', async () => {
    const server = await endlessServer(100)
    const term = runInTerminal(['inspect', server.url])
    await term.waitFor((s) => s.includes('● open'), 'the stream')
    // One send-keys: the terminal hands both over in one read.
    term.keys('/', 'C-u')
    term.type('status')
    term.keys('Enter')
    const screen = await term.waitFor((s) => /filter: /.test(header(s)), 'the filter')
    expect(header(screen)).toMatch(/ · filter: status$/m)
    term.keys('q')
    expect(await term.exited()).toBe(130)
  })

  it('follows an LLM stream as the probe does: it ends at [DONE], the summary has the llm block', async () => {
    const server = await sseServer(chatTools.frames.join(''))
    const term = runInTerminal(['inspect', server.url, '--expect-llm'])
    await term.waitFor((s) => s.includes('ended: end-data'), 'the end marker to end it')
    term.keys('q')
    expect(await term.exited()).toBe(0)
    expect(term.stderr()).toMatch(/^llm +openai-chat {2}model gpt-test-2026$/m)
    expect(term.stderr()).toMatch(/✓ --expect-llm/)
    // Not asked again: a reconnect would have sent the request to the model a second time.
    expect(server.requests).toHaveLength(1)
  })

  it('takes the contract options: a --schema violation is a row, and the exit code', async () => {
    const server = await sseServer('id: 1\ndata: {"n":1}\n\nid: 2\ndata: {"n":200}\n\n')
    const term = runInTerminal(['inspect', server.url, '--schema', 'n.json', '-n', '2'], {
      files: { 'n.json': '{"properties":{"n":{"maximum":100}}}' },
    })
    const screen = await term.waitFor((s) => s.includes('ended: max-events'), 'the end')
    expect(screen).toMatch(/ violation +--schema n\.json \/n: must be <= 100/)
    term.keys('q')
    expect(await term.exited()).toBe(1)
    expect(term.stderr()).toMatch(/✗ --schema n\.json \(got 1 violating event\)/)
  })

  it('shows the numbers of JSON data as sent, in the grid and the detail pane, not as doubles', async () => {
    const data = '{"id":1234567890123456789,"price":1.10,"big":1e400}'
    const server = await sseServer(`id: 1\nevent: order\ndata: ${data}\n\n`)
    const term = runInTerminal(['inspect', server.url, '--no-reconnect'])
    await term.waitFor((s) => s.includes('ended: server-closed'), 'the end')
    term.keys('k', 'Enter')
    const screen = await term.waitFor((s) => s.includes('lastEventId'), 'the detail pane')
    expect(screen).toContain(` order      ${data}`)
    expect(screen).toContain('"id": 1234567890123456789,')
    expect(screen).toContain('"price": 1.10,')
    expect(screen).toContain('"big": 1e400')
    term.keys('q')
    expect(await term.exited()).toBe(0)
  })

  it("holds Node's warnings (NODE_TLS_REJECT_UNAUTHORIZED=0) until the screen is left: printed over it, they pushed the header off", async () => {
    const term = runInTerminal(['inspect', 'https://127.0.0.1:1/'], {
      env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' },
      stderrOnTerminal: true,
    })
    await term.waitFor((s) => s.includes('ended: connect-failed'), 'the end')
    await new Promise((resolve) => setTimeout(resolve, 200))
    const screen = term.screen()
    expect(screen).not.toContain('Warning')
    expect(screen.split('\n')[0]).toMatch(/^https:\/\/127\.0\.0\.1:1\/ .*● ended: connect-failed/)
    term.keys('q')
    expect(await term.exited()).toBe(3)
    // Printed after the screen is left, before the summary.
    expect(term.screen()).toMatch(
      /BEFORE-INSPECT\n.*Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED[\s\S]*── summary {2}connect-failed/,
    )
  })

  it('honours NO_COLOR in the status colours of the grid too', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('retry: 100\n\nid: 1\ndata: one\n\n')
      setTimeout(() => res.destroy(), 50)
    })
    const term = runInTerminal(['inspect', server.url], { env: { NO_COLOR: '1' } })
    await term.waitFor((s) => / reconnect +attempt 2/.test(s), 'the status rows')
    // SGR foreground colours: 30-37, 90-97, 38;…
    expect(term.screen({ escapes: true })).not.toMatch(/\x1b\[(\d+;)*(3[0-8]|9[0-7])[;m]/)
    term.keys('q')
    expect(await term.exited()).toBe(130)
  })
})
