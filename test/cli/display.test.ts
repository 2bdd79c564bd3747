import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutLongData } from '../../src/cli/render/display.ts'
import { CLI, runCli } from '../helpers/cli.ts'
import { chatTools, serveLlmStreams } from '../helpers/llm-streams.ts'
import { runMain } from '../helpers/main.ts'
import { sseServer } from '../helpers/server.ts'
import { HAS_TMUX, runInTerminal } from '../helpers/tmux.ts'

const STREAM = [
  'id: 1\nevent: status\ndata: {"state": "ok", "n": [1, 2]}\n\n',
  ': keep-alive\n\n',
  'event: tick\ndata: line one\ndata: line two\n\n',
  'event: ping\ndata: \n\n',
  'id: 2\nevent: status\ndata: {"state": "degraded"}\n\n',
  'event: end\ndata: bye\n\n',
].join('')

const probe = async (...args: string[]) => {
  const server = await sseServer(STREAM)
  return runMain([server.url, '--no-reconnect', ...args])
}

describe('display options of the pretty format', () => {
  it('--compact: one line per event, whole when not a terminal', async () => {
    const run = await probe('--compact')
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^ +0\.\d{3}s {2}status {2}id 1 {2}\{"state":"ok","n":\[1,2\]\}$/),
      expect.stringMatching(/^ +0\.\d{3}s {2}: keep-alive$/),
      expect.stringMatching(/^ +0\.\d{3}s {2}tick {2}\+\d.*ms {2}line one\\nline two$/),
      expect.stringMatching(/ping {2}\+.*ms {2}$/),
      expect.stringMatching(/status {2}id 2 {2}\+.*ms {2}\{"state":"degraded"\}$/),
      expect.stringMatching(/end {2}\+.*ms {2}bye$/),
    ])
  })

  it('--compact highlights JSON data only, not text that starts with a bracket', async () => {
    const server = await sseServer('data: [INFO] took 200 ms: true\n\nevent: end\ndata: [200]\n\n')
    const run = await runCli([server.url, '--no-reconnect', '--compact', '--color'])
    expect(run.stdout).toMatch(/ {2}\[INFO\] took 200 ms: true\n/)
    expect(run.stdout).toContain('[\x1b[33m200\x1b[39m]\n')
  })

  it('--only and --exclude choose what is shown; the summary and --record see everything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-display-'))
    const record = join(dir, 'all.ndjson')
    const run = await probe('--only', 'status', '--only', 'tick', '--record', record)
    expect(
      run.stdout.match(/^ +0\.\d{3}s {2}(\w+)/gm)?.map((line) => line.trim().split(/ +/)[1]),
    ).toEqual(['status', 'tick', 'status'])
    expect(run.stdout).not.toContain('keep-alive')
    expect(run.stderr).toMatch(/events {7}5 {2}\(status 2, tick 1, ping 1, end 1\)/)
    const recorded = readFileSync(record, 'utf8')
    expect(recorded.match(/"type":"event"/g)).toHaveLength(5)

    const excluded = await probe('--exclude', 'status', '--exclude', 'ping', '--compact')
    expect(excluded.stdout).not.toMatch(/status|ping {2}/)
    expect(excluded.stdout).toMatch(/tick.*\n.*end/)
  })

  it('--grep shows only the events whose data matches', async () => {
    const run = await probe('--grep', 'degraded|line two', '--compact')
    const types = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.trim().split(/ {2}/)[1])
    expect(types).toEqual(['tick', 'status'])
    const bad = await probe('--grep', '(')
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toBe(
      "error: option '--grep <regex>' argument '(' is invalid. not a valid regular expression: /(/: Unterminated group\n",
    )
  })

  it('--timestamps wall: local time of day, HH:MM:SS.mmm', async () => {
    const before = new Date()
    const run = await probe('--timestamps', 'wall', '--compact', '--only', 'end')
    const [, h, m, s] = /^(\d\d):(\d\d):(\d\d)\.\d{3} {2}end/.exec(run.stdout) ?? []
    const shown = new Date(before)
    shown.setHours(Number(h), Number(m), Number(s))
    expect(Math.abs(shown.getTime() - before.getTime())).toBeLessThan(5000)
    expect((await probe('--timestamps', 'utc')).stderr).toMatch(/expected relative or wall/)
  })

  it('--timestamps wall: the data and headers under a block start where its type does', async () => {
    const run = await probe('--timestamps', 'wall', '--only', 'tick', '-i')
    expect(run.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}tick.*\n {14}line one\n {14}line two\n$/)
    expect(run.stderr).toMatch(/ {2}▶ connected .*\n {14}content-type: text\/event-stream\n/)
  })

  it('--data-only prints each data and a newline, multi-line data as sent, nothing else', async () => {
    const run = await probe('--data-only')
    expect(run.stdout).toBe(
      '{"state": "ok", "n": [1, 2]}\nline one\nline two\n\n{"state": "degraded"}\nbye\n',
    )
    expect(run.stderr).toMatch(/── summary {2}end-event/)
  })

  it('--pretty-json indents JSON data', async () => {
    const run = await probe('--pretty-json', '--only', 'status')
    expect(run.stdout).toContain('           {\n             "state": "ok",\n             "n": [\n')
  })

  it('shows the numbers of JSON data as sent, compacted or indented, not as doubles', async () => {
    const server = await sseServer('data: {"id": 1234567890123456789, "big": 1e400, "p": 1.10}\n\n')
    const compact = await runMain([server.url, '--no-reconnect', '--compact'])
    expect(compact.stdout).toContain('{"id":1234567890123456789,"big":1e400,"p":1.10}')
    const indented = await runMain([server.url, '--no-reconnect', '--pretty-json'])
    expect(indented.stdout).toContain('"id": 1234567890123456789,\n')
    expect(indented.stdout).toContain('"big": 1e400,\n')
  })

  it('JSON data is compacted and indented with its tokens as sent: no number rounded, no key lost', async () => {
    const data =
      '{"id": 9007199254740993, "price": 1.10, "e": 1E400, "k": 1, "k": "a \\u00e9", "n": [], "o": {}}'
    const server = await sseServer(`data: ${data}\n\nevent: end\ndata: [ -0 ]\n\n`)
    const compact = await runCli([server.url, '--no-reconnect'])
    expect(compact.stdout).toContain(
      '\n           {"id":9007199254740993,"price":1.10,"e":1E400,"k":1,"k":"a \\u00e9","n":[],"o":{}}\n',
    )
    expect(compact.stdout).toContain('\n           [-0]\n')
    const indented = await runCli([server.url, '--no-reconnect', '--pretty-json'])
    expect(indented.stdout).toContain(
      '\n           {\n             "id": 9007199254740993,\n             "price": 1.10,\n             "e": 1E400,\n             "k": 1,\n             "k": "a \\u00e9",\n             "n": [],\n             "o": {}\n           }\n',
    )
  })

  it('--json and --format raw say which display flags they ignore, and still show everything', async () => {
    const json = await probe('--json', '--only', 'status', '--compact', '--timestamps', 'wall')
    expect(json.exitCode).toBe(0)
    expect(json.ofType('event')).toHaveLength(5)
    expect(json.stderr).toBe(
      'sse-probe: --compact, --only, --timestamps wall are for the pretty format: --format json shows every record\n',
    )
    // Raw's status lines keep the wall clock: only --data-only is ignored there.
    const raw = await probe('--format', 'raw', '--data-only', '--timestamps', 'wall')
    expect(raw.stdout).toBe(STREAM)
    expect(raw.stderr).toMatch(
      /^sse-probe: --data-only is for the pretty format: --format raw writes the body as received\n\d\d:\d\d:\d\d\.\d{3} {2}▶ connected/,
    )
    expect((await probe('--json')).stderr).toBe('')
    const hidden = await probe('--json', '--hide-pings')
    expect(hidden.stderr).toBe(
      'sse-probe: --hide-pings is for the pretty format: --format json shows every record\n',
    )
    const events = await probe('--format', 'raw', '--events')
    expect(events.stdout).toBe(STREAM)
    expect(events.stderr).toMatch(
      /^sse-probe: --events is for the pretty format: --format raw writes the body as received\n/,
    )
  })

  it('on an LLM stream, a flag that chooses or shapes events shows the events, not the text', async () => {
    const url = await serveLlmStreams({ chatTools })
    const run = await runMain(['-d', '{}', `${url}/chatTools`, '--data-only', '--grep', 'Zürich'])
    expect(run.exitCode).toBe(0)
    const [line, ...rest] = run.stdout.split('\n')
    expect(JSON.parse(line!).choices[0].delta).toEqual({ content: 'the weather in Zürich 🌦' })
    expect(rest).toEqual([''])
    expect(run.stderr).toMatch(/llm {10}openai-chat/)
  })

  it('keeps events and status lines of one network read in order where stdout and stderr are one', async () => {
    const server = await sseServer('data: a\n\nretry: 500\n\ndata: b\n\n')
    const args = [CLI, server.url, '--no-reconnect', '--compact', '--no-color']
    // `2>&1`: both streams into one pipe, as on a terminal.
    const child = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let merged = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      merged += text
    })
    await new Promise((resolve) => child.on('close', resolve))
    const lines = merged.split('\n')
    const row = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line))
    expect(row(/message {2}a$/), merged).toBeGreaterThan(0)
    expect(row(/↻ retry: 500ms/), merged).toBe(row(/message {2}a$/) + 1)
    expect(row(/message .*b$/), merged).toBe(row(/↻ retry: 500ms/) + 1)
  })

  it('shows a retry field when it changes the reconnection time, not each repeat of it', async () => {
    const server = await sseServer(
      'retry: 500\ndata: a\n\nretry: 500\ndata: b\n\nretry: 1000\ndata: c\n\nretry: 1000\n\n',
    )
    const run = await runMain([server.url, '--no-reconnect'])
    expect(run.stderr.match(/↻ retry: \d+ms/g)).toEqual(['↻ retry: 500ms', '↻ retry: 1000ms'])
    const json = await runMain([server.url, '--no-reconnect', '--json'])
    expect(json.ofType('retry').map((r) => r.ms)).toEqual([500, 500, 1000, 1000])
  })

  it('cuts long data after 20 lines or 4 KiB', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n')
    const cut = cutLongData(lines)!
    expect(cut.shown.split('\n')).toHaveLength(20)
    expect(cut.note).toBe(
      `… 80 more lines (${Buffer.byteLength(lines.slice(cut.shown.length + 1))} B), --full to see all`,
    )
    expect(cutLongData('x'.repeat(10_000))?.note).toBe('… 5.8 KiB more, --full to see all')
    // 4 KiB of UTF-8, not 4096 characters, and never half of one.
    const cjk = cutLongData('漢'.repeat(3000))!
    expect(Buffer.byteLength(cjk.shown)).toBe(4095)
    const emoji = cutLongData(`x${'😀'.repeat(3000)}`)!
    expect(emoji.shown).not.toMatch(/[\ud800-\udbff]$/)
    expect(Buffer.byteLength(emoji.shown)).toBe(4093)
    expect(cutLongData('short\ndata')).toBeUndefined()
    const oneMore = Array.from({ length: 21 }, (_, i) => `line ${i}`).join('\n')
    expect(cutLongData(oneMore)?.note).toBe('… 1 more line (7 B), --full to see all')
  })
})

describe.skipIf(!HAS_TMUX && !process.env.CI)('display options on a terminal', () => {
  const long = Array.from({ length: 100 }, (_, i) => `data: line ${i}`).join('\n')
  const wide = `data: ${'w'.repeat(300)}`

  it('long data shows its start and what is left; --full shows all', async () => {
    const server = await sseServer(`${long}\n\nevent: end\ndata: bye\n\n`)
    const term = runInTerminal([server.url, '--no-reconnect'], { width: 120, height: 60 })
    expect(await term.exited()).toBe(0)
    const screen = term.screen()
    expect(screen).toContain('line 19')
    expect(screen).not.toContain('line 20')
    expect(screen).toMatch(/… 80 more lines \(\d+ B\), --full to see all/)

    const full = runInTerminal([server.url, '--no-reconnect', '--full', '--only', 'message'], {
      width: 120,
      height: 120,
    })
    expect(await full.exited()).toBe(0)
    expect(full.screen()).toContain('line 99')
  })

  it('--compact cuts each line to the terminal width', async () => {
    const server = await sseServer(`${wide}\n\nevent: end\ndata: bye\n\n`)
    const term = runInTerminal([server.url, '--no-reconnect', '--compact'], {
      width: 100,
      height: 30,
    })
    expect(await term.exited()).toBe(0)
    const line = term
      .screen()
      .split('\n')
      .find((text) => text.includes('message'))!
    expect(line).toMatch(/w…$/)
    expect(line.length).toBeLessThanOrEqual(100)

    // --full never cuts: the line stays whole, wrapped by the terminal.
    const full = runInTerminal([server.url, '--no-reconnect', '--compact', '--full'], {
      width: 100,
      height: 30,
    })
    expect(await full.exited()).toBe(0)
    expect(full.screen().replace(/\n/g, '')).toContain(`message  ${'w'.repeat(300)}`)
    expect(full.screen()).not.toContain('…')
  })

  it("a long comment (a server's padding) is cut as long data is, --compact to the width", async () => {
    const server = await sseServer(`:${'p'.repeat(100_000)}\n\nevent: end\ndata: bye\n\n`)
    const term = runInTerminal([server.url, '--no-reconnect'], { width: 100, height: 100 })
    expect(await term.exited()).toBe(0)
    const screen = term.screen()
    // The comment's rows (wrapped at 100 columns) hold 4 KiB of it.
    expect(/:(p+)/.exec(screen.replace(/\n/g, ''))?.[1]).toHaveLength(4096)
    expect(screen).toContain('\n           … 94 KiB more, --full to see all\n')
    const compact = runInTerminal([server.url, '--no-reconnect', '--compact'], { width: 100 })
    expect(await compact.exited()).toBe(0)
    const rows = compact.screen().split('\n')
    const row = rows.findIndex((text) => text.includes(':ppp'))
    expect(rows[row]).toMatch(/^ +0\.\d{3}s {2}:p+…$/)
    expect(rows[row + 1]).toMatch(/^ +0\.\d{3}s {2}end/)
  })

  it('--compact counts columns: wide characters and escaped control characters fit the width', async () => {
    const server = await sseServer(
      [
        `id: 1\ndata: ${'漢字'.repeat(80)}\n\n`,
        `id: 2\ndata: x${'😀'.repeat(80)}\n\n`,
        `event: st\x1b[31matus\nid: 3\ndata: ${'x'.repeat(200)}\n\n`,
        'event: end\ndata: bye\n\n',
      ].join(''),
    )
    const term = runInTerminal([server.url, '--no-reconnect', '--compact'], { width: 100 })
    expect(await term.exited()).toBe(0)
    const screen = term.screen()
    const rows = screen.split('\n')
    // A line longer than the terminal wraps: the row after each event is then not the next event.
    for (const id of ['id 1', 'id 2', 'id 3']) {
      const row = rows.findIndex((text) => text.includes(id))
      expect(rows[row], screen).toMatch(/\S…$/)
      expect(rows[row + 1], screen).toMatch(/^ +0\.\d{3}s {2}\S/)
    }
  })
})
