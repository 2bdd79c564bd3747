import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createServer as createHttp2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  type CliHandlers,
  commandMeant,
  createProgram,
  subcommandOptionsAfterName,
  unknownCommand,
} from '../../src/cli/args.ts'
import { CLI, runCli } from '../helpers/cli.ts'
import { sseServer, startServer } from '../helpers/server.ts'
import { runInTerminal, TERMINAL_TESTS } from '../helpers/tty.ts'

// A newcomer's first commands (issue 10): each through the real CLI.

const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
const tempFile = (name: string) => join(mkdtempSync(join(tmpdir(), 'sse-probe-first-')), name)

describe('options before a subcommand apply to it, or are refused by name', () => {
  it('`sse-probe -q --record x.ndjson -n 2 demo`: quiet, and the transcript is written', async () => {
    const file = tempFile('demo.ndjson')
    const run = await runCli(['-q', '--record', file, '-n', '2', 'demo'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/── summary {2}max-events {2}exit 0/)
    expect(run.stderr).not.toMatch(/status {2}id 1/)
    const records = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(records.filter((r) => r.type === 'event')).toHaveLength(2)
    expect(records.at(-1)).toMatchObject({ type: 'summary', reason: 'max-events' })
  })

  it('`--last-event-id` and `-H` before `check` are sent, merged with those after it', async () => {
    const server = await startServer((_req, res) =>
      res.writeHead(200, SSE).end('event: end\ndata: x\n\n'),
    )
    const run = await runCli([
      '--last-event-id',
      '42',
      '-H',
      'X-Before: 1',
      'check',
      server.url,
      '-H',
      'X-After: 2',
      '--window',
      '1s',
    ])
    expect(run.exitCode).toBe(0)
    const first = server.requests[0]!.headers
    expect(first).toMatchObject({ 'last-event-id': '42', 'x-before': '1', 'x-after': '2' })
  })

  it('`--json` before `check` gives JSON', async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    const run = await runCli(['--json', 'check', server.url, '--window', '1s'])
    expect(run.stdout.split('\n')[0]).toMatch(/^\{"type":"check"/)
  })

  it('`sse-probe -c 2 --json load URL`: an option of the subcommand alone applies to it', async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    const run = await runCli([
      '-c',
      '2',
      '--ramp=0s',
      '--json',
      'load',
      server.url,
      '--duration',
      '1s',
    ])
    expect(run.exitCode).toBe(0)
    const summary = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!)
    expect(summary).toMatchObject({ type: 'load-summary', connections: { target: 2, opened: 2 } })
  })

  it.each([
    [
      ['--speed', '0', 'serve', 'x.ndjson'],
      ['serve', '--speed', '0', 'x.ndjson'],
    ],
    [
      ['-q', '--timing', 'diff', 'a', 'b'],
      ['-q', 'diff', '--timing', 'a', 'b'],
    ],
    [
      ['-c5', '-H', 'A: load', 'load', 'u'],
      ['-H', 'A: load', 'load', '-c5', 'u'],
    ],
    // Left for commander to report: an option no command has, an operand, or after `--`.
    [
      ['--bogus', 'load', 'u'],
      ['--bogus', 'load', 'u'],
    ],
    [
      ['-c', '1', 'http://h/'],
      ['-c', '1', 'http://h/'],
    ],
    [
      ['--timing', 'x', 'diff', 'a', 'b'],
      ['--timing', 'x', 'diff', 'a', 'b'],
    ],
    [
      ['-q', '--', 'u'],
      ['-q', '--', 'u'],
    ],
  ])('%j is parsed as %j', (given, parsed) => {
    const { program } = createProgram({} as CliHandlers, given)
    expect(subcommandOptionsAfterName(program, given)).toEqual(parsed)
  })

  it.each([
    [['-i', 'check', 'http://127.0.0.1:9/'], "'-i, --include'", 'check'],
    [['--expect-end', 'check', 'http://127.0.0.1:9/'], "'--expect-end'", 'check'],
    [['--json', 'serve', 'x.ndjson'], "'--json'", 'serve'],
    [['-H', 'X-A: 1', 'demo'], "'-H, --header", 'demo'],
  ])('%j is a usage error naming the option', async (args, option, command) => {
    const run = await runCli(args)
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/^error: option /)
    expect(run.stderr).toContain(option)
    expect(run.stderr).toContain(`'${command}'`)
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
  })
})

describe("commander's messages and the first commands", () => {
  it('an unknown option suggests the right one on a line of its own', async () => {
    const run = await runCli(['--jsno', 'http://127.0.0.1:9/'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe("error: unknown option '--jsno'\n(Did you mean --json?)\n")
  })

  it('what the user typed stays escaped in a message', async () => {
    const run = await runCli(['--jsno\x1b[31m', 'http://127.0.0.1:9/'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/^error: unknown option '--jsno\\x1b\[31m'\n/)
  })

  it.each([
    [['help', 'chekc'], "error: unknown command 'chekc'\n(Did you mean check?)\n"],
    [['chekc', 'http://127.0.0.1:9/'], "error: unknown command 'chekc'\n(Did you mean check?)\n"],
    [
      ['lod', 'http://127.0.0.1:9/', '-c', '2'],
      "error: unknown command 'lod'\n(Did you mean load?)\n",
    ],
    [
      ['help', 'nothing'],
      "error: unknown command 'nothing'; the commands are demo, inspect, serve, check, diff, load\n",
    ],
    // Options may come before a command (cli.md): the typo after them is still named.
    [
      ['--json', 'chekc', 'http://127.0.0.1:9/'],
      "error: unknown command 'chekc'\n(Did you mean check?)\n",
    ],
    [
      ['-H', 'X-A: 1', '-q', 'chekc', 'http://127.0.0.1:9/'],
      "error: unknown command 'chekc'\n(Did you mean check?)\n",
    ],
    [['-q', 'help', 'chekc'], "error: unknown command 'chekc'\n(Did you mean check?)\n"],
  ])('a mistyped command %j is named, with the one meant, exit 2', async (args, message) => {
    const run = await runCli(args)
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(message)
    expect(run.stdout).toBe('')
  })

  it.each([
    [
      ['-N', 'URL'],
      "error: '-N' is curl's option, not sse-probe's: events show as they arrive, so leave it out\n",
    ],
    [
      ['URL', '--no-buffer'],
      "error: '--no-buffer' is curl's option, not sse-probe's: events show as they arrive, so leave it out\n",
    ],
    [
      ['-sN', 'URL'],
      "error: '-sN' are curl's options, not sse-probe's: none is needed (no progress meter, no buffering, redirects are followed); leave them out\n",
    ],
    [
      ['--data-raw', '{"a":1}', 'URL'],
      "error: '--data-raw' is curl's option, not sse-probe's: use -d <body> (where a leading @ names a file)\n",
    ],
    // commander alone would answer "(Did you mean --full?)".
    [
      ['--url', 'URL'],
      "error: '--url' is curl's option, not sse-probe's: give the URL as an argument\n",
    ],
    // commander alone: "too many arguments", the body read as a second URL.
    [
      ['--json', '{"a":1}', 'URL'],
      "error: --json here asks for JSON output records; to send a JSON body as curl's --json does, use -d <body> (JSON is sent as application/json)\n",
    ],
    [
      ['curl', '-N', 'URL'],
      "error: leave out 'curl': sse-probe takes the URL and curl's -H, -d, -X, -k, -i and -v as they are\n",
    ],
  ])(
    'a command line copied from curl (%j) says what to type instead, exit 2, no request',
    async (args, message) => {
      let requests = 0
      const server = await startServer((_request, response) => {
        requests++
        response.writeHead(200, SSE).end('event: end\ndata: x\n\n')
      })
      const run = await runCli(args.map((arg) => (arg === 'URL' ? server.url : arg)))
      expect(run.stderr).toBe(message)
      expect(run.exitCode).toBe(2)
      expect(requests).toBe(0)
    },
  )

  it('help with an option instead of a command says so in one line, exit 2', async () => {
    const run = await runCli(['help', '--json'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(
      "error: unknown option '--json': sse-probe help takes a command name, e.g. sse-probe help check\n",
    )
    expect(run.stdout).toBe('')
  })

  it('a lone word, or one before options, is still a host (`sse-probe server -i`)', () => {
    expect(unknownCommand(['server'])).toBeUndefined()
    expect(unknownCommand(['server', '-i'])).toBeUndefined()
    expect(unknownCommand(['http://127.0.0.1/', 'x'])).toBeUndefined()
  })

  it.each([
    ['inpsect', 'inspect'],
    ['version', '--version'],
    ['demo-llm', 'demo llm'],
  ])(
    'a lone %j that is no host is probed, then the command meant is named',
    async (word, meant) => {
      // Through a proxy nothing listens on: no DNS lookup of the word, on any machine. The
      // options before it are no command: the word after them is the one typed.
      const run = await runCli([
        '--no-color',
        '-H',
        'X-A: 1',
        word,
        '--proxy',
        'http://127.0.0.1:9',
      ])
      expect(run.exitCode).toBe(3)
      expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(
        `sse-probe: '${word}' was read as a host name (http://${word}/); did you mean sse-probe ${meant}?`,
      )
    },
  )

  it('a recording in this folder, named alone, is probed as a host, then serve is named', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sse-probe-first-'))
    writeFileSync(join(folder, 'session.ndjson'), '{"type":"open"}\n')
    // Through a proxy nothing listens on: no DNS lookup of the name, on any machine.
    const run = await runCli(['session.ndjson', '--proxy', 'http://127.0.0.1:9'], { cwd: folder })
    expect(run.exitCode).toBe(3)
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(
      "sse-probe: 'session.ndjson' was read as a host name (http://session.ndjson/); did you mean sse-probe serve session.ndjson?",
    )
  })

  const recording = join(mkdtempSync(join(tmpdir(), 'sse-probe-')), 'x.ndjson')
  writeFileSync(recording, '{"type":"open"}\n')
  it.each([['./session.ndjson'], ['../x.sse'], [recording], ['~/x.sse']])(
    'a file path %j is no URL (not the host `.`): exit 2 naming serve, before any request',
    async (path) => {
      const run = await runCli([path])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toBe(
        `error: command-argument value '${path}' is invalid for argument 'url'. expected an http:// or https:// URL, not a file path; to replay a recording: sse-probe serve ${path}\n`,
      )
    },
  )

  it('a server path without a host (no such file here) asks for the host, not for serve', async () => {
    const run = await runCli(['/api/stream'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(
      'expected an http:// or https:// URL: a path needs a host, e.g. localhost:8000/api/stream',
    )
  })

  it.each([
    ['8000', ':8000'],
    ['8000/stream', ':8000/stream'],
  ])('a port alone (%j) is no host (0.0.31.64): exit 2, naming %j', async (typed, meant) => {
    const run = await runCli([typed])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(
      `error: command-argument value '${typed}' is invalid for argument 'url'. expected an http:// or https:// URL: a number alone is no host; for a port on this machine, write ${meant} or localhost${meant}\n`,
    )
  })

  it('no hint for a host that is no command, or a probe that did not fail to connect', () => {
    expect(commandMeant(['localhost'])).toBeUndefined()
    expect(commandMeant(['staging'])).toBeUndefined()
    expect(commandMeant(['api.example.com'])).toBeUndefined()
    expect(commandMeant(['chek'])).toBe('check')
    expect(commandMeant(['demo-llm'])).toBe('demo llm')
    expect(commandMeant(['my-api'])).toBeUndefined()
  })

  it('`sse-probe` alone offers the demo first, in a few lines, exit 2', async () => {
    const run = await runCli([])
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    const lines = run.stderr.trimEnd().split('\n')
    expect(lines[0]).toBe('Usage: sse-probe [options] <url>')
    expect(lines.find((line) => line.includes('sse-probe '))).toBeDefined()
    expect(run.stderr.indexOf('sse-probe demo')).toBeLessThan(run.stderr.indexOf('sse-probe check'))
    expect(run.stderr).toContain('sse-probe --help')
    expect(lines.length).toBeLessThanOrEqual(10)
  })

  it.each(['check', 'demo', 'serve'])(
    '`sse-probe help %s` is the same as its --help',
    async (command) => {
      const [viaHelp, viaFlag] = await Promise.all([
        runCli(['help', command]),
        runCli([command, '--help']),
      ])
      expect(viaHelp.exitCode).toBe(0)
      expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: sse-probe ${command} `))
      expect(viaHelp.stdout).toBe(viaFlag.stdout)
    },
  )

  it.each([
    ['--help', 'check'],
    ['-h', 'serve'],
  ])(
    '`sse-probe %s %s`: help given before a command is its help, exit 0',
    async (flag, command) => {
      const [asked, own] = await Promise.all([runCli([flag, command]), runCli([command, '--help'])])
      expect(asked.exitCode).toBe(0)
      expect(asked.stdout).toMatch(new RegExp(`^Usage: sse-probe ${command} `))
      expect(asked.stdout).toBe(own.stdout)
    },
  )

  it('`sse-probe -q --help check`: help after other options is still that of the command', async () => {
    const [asked, own] = await Promise.all([
      runCli(['-q', '--help', 'check']),
      runCli(['check', '--help']),
    ])
    expect(asked.exitCode).toBe(0)
    expect(asked.stdout).toMatch(/^Usage: sse-probe check /)
    expect(asked.stdout).toBe(own.stdout)
  })

  it('`sse-probe help` is `sse-probe --help` (which answers from the prebuilt text)', async () => {
    const [viaHelp, prebuilt] = await Promise.all([runCli(['help']), runCli(['--help'])])
    expect(viaHelp.exitCode).toBe(0)
    expect(prebuilt.stdout).toBe(viaHelp.stdout)
  })

  it.each([
    ['help', 'help'],
    ['help', '--help'],
    ['help', '-h'],
  ])('`sse-probe %s %s` is `sse-probe --help` too, exit 0', async (...args) => {
    const [asked, prebuilt] = await Promise.all([runCli(args), runCli(['--help'])])
    expect(asked.exitCode).toBe(0)
    expect(asked.stderr).toBe('')
    expect(asked.stdout).toBe(prebuilt.stdout)
  })

  it('help rendered on demand (--help after another flag) lists every command, as the prebuilt', async () => {
    // A probe builds only the subcommands its command line names; help must still see them all.
    const [onDemand, prebuilt] = await Promise.all([
      runCli(['--json', '--help']),
      runCli(['--help']),
    ])
    const commands = (help: string) => help.slice(help.indexOf('\nCommands:'))
    expect(onDemand.exitCode).toBe(0)
    expect(commands(prebuilt.stdout)).toMatch(/demo[\s\S]*inspect[\s\S]*serve[\s\S]*check/)
    expect(commands(onDemand.stdout)).toBe(commands(prebuilt.stdout))
  })
})

/** The hint line (→) under the line of stderr that has `marker`. */
function hintAfter(stderr: string, marker: string): string | undefined {
  const lines = stderr.split('\n')
  const at = lines.findIndex((line) => line.includes(marker))
  return lines.slice(at + 1, at + 3).find((line) => line.trimStart().startsWith('→'))
}

/** A stream that closes at once (retry: 20), then answers the reconnect with this response. */
function streamsThenAnswers(status: number, type: string, body: string) {
  return startServer((_request, response, index) => {
    if (index === 0) {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.end('retry: 20\nid: 1\nevent: status\ndata: {}\n\n')
    } else response.writeHead(status, { 'content-type': type }).end(body)
  })
}

describe('a refused response says what to do about it, under its status (pretty)', () => {
  it.each([
    [
      200,
      { 'content-type': 'text/html' },
      '<!doctype html>',
      "an HTML page, not the stream: check the URL's path",
    ],
    [200, { 'content-type': 'application/json' }, '{"ok":true}', 'a JSON answer, not a stream'],
    // No Content-Type at all: what Starlette's StreamingResponse sends without a media_type.
    [200, {}, 'event: status\ndata: 1\n\n', 'Content-Type: text/event-stream'],
    [
      200,
      { 'content-type': 'text/plain' },
      ': ping\n\ndata: 1\n\n',
      'Content-Type: text/event-stream',
    ],
    [401, { 'www-authenticate': 'Bearer realm="api"' }, '', '-H "Authorization: Bearer …"'],
    [401, { 'www-authenticate': 'Basic realm="x"' }, '', 'http://user:password@host/'],
    [403, {}, 'Forbidden', 'the credentials were refused'],
    [405, { allow: 'POST' }, '', 'the endpoint allows POST: give the method with -X'],
    // A GET stream sent a body (-d makes a POST): adding one is not the way.
    [405, { allow: 'GET, HEAD' }, '', 'the endpoint allows GET, HEAD: leave out -X and -d'],
    [
      426,
      { upgrade: 'websocket', connection: 'Upgrade' },
      '',
      'a WebSocket endpoint, not Server-Sent Events',
    ],
  ])('HTTP %i %j', async (code, headers, body, hint) => {
    const server = await startServer((_request, response) => {
      response.writeHead(code, headers).end(body)
    })
    const run = await runCli(['--no-color', server.url])
    expect(run.exitCode).toBe(3)
    expect(hintAfter(run.stderr, '✗ HTTP')).toContain(hint)
  })

  it('none for a status that says it all (404), nor in JSON records', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}')
    })
    expect((await runCli(['--no-color', server.url])).stderr).not.toContain('→')
    const html = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<p>')
    })
    const run = await runCli(['--json', html.url])
    expect(run.stdout + run.stderr).not.toContain('→')
  })

  it.each([502, 503])(
    'HTTP %i on a reconnect says that EventSource stops there too',
    async (code) => {
      const server = await streamsThenAnswers(code, 'text/plain', 'down')
      const run = await runCli(['--no-color', server.url])
      expect(run.exitCode).toBe(3)
      expect(hintAfter(run.stderr, `✗ HTTP ${code}`)).toContain(
        "a browser's EventSource stops here too",
      )
      // On the first connection the status says it all.
      const first = await startServer((_request, response) => {
        response.writeHead(code, { 'content-type': 'text/plain' }).end('down')
      })
      expect((await runCli(['--no-color', first.url])).stderr).not.toContain('→')
    },
  )

  it.each([
    ['text/html', '<h1>502 Bad Gateway</h1>', 'an HTML page where this URL streamed before'],
    [
      'application/json',
      '{"detail":"maintenance"}',
      'a JSON answer where this URL streamed before',
    ],
  ])(
    'on a reconnect (%s), not "check the path": that URL streamed before',
    async (type, body, hint) => {
      // A restarted server (or the proxy in front of it) answering the reconnect with its error page.
      const server = await streamsThenAnswers(200, type, body)
      const run = await runCli(['--no-color', server.url])
      expect(run.exitCode).toBe(3)
      expect(hintAfter(run.stderr, '✗ HTTP')).toContain(hint)
      expect(run.stderr).not.toContain("check the URL's path")
      expect(run.stderr).not.toContain('check the path')
    },
  )
})

it('an HTTP/2-only server without TLS (gRPC) is named as such, exit 3', async () => {
  const server = createHttp2Server((_request, response) => response.end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as AddressInfo
  const run = await runCli(['--no-color', `127.0.0.1:${port}/x`])
  expect(run.exitCode).toBe(3)
  expect(run.stderr).toContain(
    '✗ the server does not answer in HTTP/1.1: an HTTP/2-only server without TLS (gRPC, h2c), or no HTTP server on that port\n',
  )
})

describe('localhost is both loopback addresses, as curl and browsers read it', () => {
  it.each([['::1'], ['127.0.0.1']])(
    'a server listening on %s only is reached as localhost, exit 0',
    async (address) => {
      const server = createServer((_request, response) => {
        response.writeHead(200, SSE)
        response.end('event: end\ndata: hi\n\n')
      })
      await new Promise<void>((resolve) => server.listen(0, address, resolve))
      try {
        const { port } = server.address() as AddressInfo
        const run = await runCli([`localhost:${port}/stream`, '--json'])
        expect(run.stderr).toBe('')
        expect(run.exitCode).toBe(0)
      } finally {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
    },
  )
})

it('says once that localhost refused, with both addresses tried', async () => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  const run = await runCli([`localhost:${port}/stream`, '--no-reconnect'])
  expect(run.exitCode).toBe(3)
  expect(run.stderr).toContain(`✗ connect ECONNREFUSED ::1:${port}, 127.0.0.1:${port}\n`)
})

describe('--help: grouped, with examples, for every command', () => {
  const groups: Record<string, string[]> = {
    '': ['Request:', 'Stream and reconnection:', 'When it ends:', 'Expectations:', 'Output:'],
    demo: [
      'Demo endpoint:',
      'Stream and reconnection:',
      'When it ends:',
      'Expectations:',
      'Output:',
    ],
    check: ['Request:', 'Check:', 'Output:'],
    serve: ['Replay:'],
    inspect: [
      'Request:',
      'Stream and reconnection:',
      'When it ends:',
      'Expectations:',
      'Inspect:',
      'Output:',
    ],
    // The command's own group first, then the contract's order: request … expectations, output.
    diff: ['Compare:', 'Request:', 'When it ends:', 'Output:'],
    load: ['Load:', 'Request:', 'Expectations:', 'Output:'],
  }
  it.each(Object.entries(groups))('%j --help', async (command, headings) => {
    const run = await runCli(command ? [command, '--help'] : ['--help'])
    expect(run.exitCode).toBe(0)
    const found = run.stdout.split('\n').filter((line) => /^[A-Z][\w ]+:$/.test(line))
    expect(found.filter((heading) => headings.includes(heading))).toEqual(headings)
    // A URL without a scheme means http://: the help says so wherever a URL is taken.
    if (/^Usage: .*<url>/m.test(run.stdout)) {
      expect(run.stdout).toMatch(/^ {2}url {2,}the event stream \(no scheme means http:\/\/\)$/m)
    }
    // Every option is in a named group: commander's catch-all says nothing.
    expect(found).not.toContain('Options:')
    const examples = run.stdout.slice(run.stdout.lastIndexOf('\nExamples:\n'))
    expect(examples).toMatch(/^\nExamples:\n( {2}sse-probe .+\n)+$/)
    // The text above the examples is wrapped for an 80-column terminal, as commander wraps options.
    const notes = run.stdout.slice(0, run.stdout.lastIndexOf('\nExamples:\n')).split('\n')
    expect(notes.filter((line) => [...line].length > 80)).toEqual([])
    // A command that lists its exit codes lists them all: a bug, a full disk and the signals too.
    const codes = run.stdout.match(/\nExit codes:\n(( {2}.*\n)+)/)?.[1]
    if (codes) expect(codes).toMatch(/^ {2}70 [\s\S]*^ {2}74 [\s\S]*^ {2}130 .*143.*129/m)
  })
})

describe('-v, --verbose', () => {
  it('shows the request line and headers sent on every connection, credentials redacted', async () => {
    const server = await startServer((_req, res, index) =>
      res
        .writeHead(200, SSE)
        .end(index === 0 ? 'retry: 10\nid: 7\ndata: a\n\n' : 'event: end\ndata: b\n\n'),
    )
    const run = await runCli([
      '-v',
      '-H',
      'Authorization: Bearer s3cret',
      `${server.url}/stream?x=1`,
    ])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).not.toContain('s3cret')
    const requests = run.stderr.split('\n').filter((line) => line.startsWith('> ') || line === '>')
    const sent = requests.join('\n')
    expect(sent.match(/^> GET \/stream\?x=1$/gm)).toHaveLength(2)
    expect(sent).toMatch(/^> Host: 127\.0\.0\.1:\d+$/m)
    expect(sent).toMatch(/^> accept: text\/event-stream$/im)
    expect(sent).toMatch(/^> authorization: <redacted>$/im)
    expect(sent.match(/^> last-event-id: 7$/gim)).toHaveLength(1)
    expect(server.requests[1]!.headers['last-event-id']).toBe('7')
  })

  it('shows each request of a redirect chain, as sent to each hop', async () => {
    const target = await startServer((req, res) => {
      if (req.url === '/moved') return res.writeHead(307, { location: '/stream' }).end()
      res.writeHead(200, SSE).end('event: end\ndata: x\n\n')
    })
    const first = await startServer((_req, res) =>
      res.writeHead(302, { location: `${target.url}/moved` }).end(),
    )
    const run = await runCli(['-v', '--no-color', '-H', 'Authorization: Bearer k', first.url])
    expect(run.exitCode).toBe(0)
    const sent = run.stderr.split('\n').filter((line) => line.startsWith('> '))
    expect(sent.filter((line) => /^> GET /.test(line))).toEqual([
      '> GET /',
      '> GET /moved',
      '> GET /stream',
    ])
    const hosts = sent.filter((line) => line.startsWith('> Host: '))
    expect(hosts).toEqual(
      [first.url, target.url, target.url].map((u) => `> Host: ${new URL(u).host}`),
    )
    // The credentials stay with the first origin: the other hops' requests show none.
    expect(sent.filter((line) => /^> authorization:/i.test(line))).toHaveLength(1)
  })

  it('goes to stderr, also with --json', async () => {
    const server = await sseServer('event: end\ndata: x\n\n')
    const run = await runCli(['--json', '--verbose', server.url])
    expect(run.stderr).toMatch(/^> GET \/$/m)
    expect(run.records.every((record) => typeof record.type === 'string')).toBe(true)
  })
})

describe.runIf(TERMINAL_TESTS)('the spinner, in a terminal', () => {
  const SPINNER = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /

  it('says "waiting to reconnect" between a failed reconnect and the next, not "reconnecting"', async () => {
    // A server killed mid-stream: the first connection breaks, and the reconnects find it down.
    const server = await startServer((req, res, index) => {
      if (index > 0) return req.socket.destroy()
      res.writeHead(200, SSE)
      res.end('retry: 2500\nid: 1\nevent: status\ndata: {}\n\n')
    })
    const terminal = await runInTerminal([server.url], { columns: 100, rows: 20 })
    // The first reconnect attempt (after 2.5s) failed: the next one is 2.5s away.
    await terminal.waitFor(/reconnecting \(attempt 2\)[\s\S]*✗/, 15_000)
    await new Promise((resolve) => setTimeout(resolve, 400))
    const rows = terminal.screen().filter((row) => row !== '')
    expect(rows.join('\n')).not.toContain('attempt 3')
    expect(rows.at(-1)).toMatch(new RegExp(`${SPINNER.source}waiting to reconnect · 1 event`))
    terminal.keys('C-c')
    expect(await terminal.exitCode()).toBe(130)
  })

  it('does not echo typed keys, counts what is printed, leaves no stale line when narrowed', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE)
      let n = 0
      const timer = setInterval(() => res.write(`id: ${++n}\ndata: tick ${n}\n\n`), 150)
      res.on('close', () => clearInterval(timer))
    })
    const terminal = await runInTerminal([server.url], { columns: 100, rows: 20 })
    await terminal.waitFor(/id 3/)
    terminal.keys('hello')
    await new Promise((resolve) => setTimeout(resolve, 400))
    // A screen caught between an event and the spinner drawn again under it is read again.
    async function drawn() {
      for (let tries = 0; tries < 150; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 60))
        const rows = terminal.screen().filter((row) => row !== '')
        if (SPINNER.test(rows.at(-1)!)) return rows
      }
      throw new Error(`no spinner on the last row:\n${terminal.screen().join('\n')}`)
    }
    for (let sample = 0; sample < 3; sample++) {
      const rows = await drawn()
      const ids = rows.flatMap((row) => /message {2}id (\d+)/.exec(row)?.[1] ?? []).map(Number)
      expect(rows.at(-1)).toMatch(new RegExp(`^. streaming · ${Math.max(...ids)} events`))
    }
    expect(terminal.screen().join('\n')).not.toContain('hello')
    terminal.resize(15)
    // Redrawn at the new width within a second (a busy machine is slow to deliver SIGWINCH), and
    // then no stale line: a stale one would stay that long, as it takes seconds to scroll off.
    let spinners: string[] = []
    for (let tries = 0; tries < 10 && spinners.length !== 1; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      spinners = (await drawn()).filter((row) => SPINNER.test(row))
    }
    expect(spinners).toHaveLength(1)
    terminal.keys('C-c')
    expect(await terminal.exitCode()).toBe(130)
    // 15 columns wrap the summary: its rows joined again.
    const screen = terminal.screen().join('')
    expect(screen).toMatch(/── summary {2}interrupted/)
    expect(screen).not.toMatch(/\^C|hello/)
  })
  it('is not drawn when stdout is piped to the same terminal (| grep, | cat): no frame left among the events', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE)
      let n = 0
      const timer = setInterval(() => res.write(`id: ${++n}\ndata: tick ${n}\n\n`), 150)
      res.on('close', () => clearInterval(timer))
    })
    const terminal = await runInTerminal([server.url], { pipe: true })
    await terminal.waitFor(/id 6/)
    // Drawn, a frame would be on the last row between two events, and stay where `cat` wrote after it.
    for (let sample = 0; sample < 5; sample++) {
      await new Promise((resolve) => setTimeout(resolve, 70))
      expect(terminal.screen().filter((row) => SPINNER.test(row))).toEqual([])
    }
    terminal.keys('C-c')
    expect(await terminal.exitCode()).toBe(130)
    expect(terminal.screen().join('\n')).toMatch(/── summary {2}interrupted/)
  })
})

// This machine's system Node is older than the floor: where one is on the PATH, it is refused by name.
const olderNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
  try {
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' })
    return Number(/^v(\d+)/.exec(version)?.[1]) < 22
  } catch {
    return false
  }
})

describe('an older Node', () => {
  it.runIf(olderNode)('says which Node sse-probe needs, in one line, exit 2', () => {
    const run = spawnSync(olderNode!, [CLI, 'demo'], { encoding: 'utf8' })
    expect(run.status).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(
      /^sse-probe: needs Node\.js 22\.12 or later; this is Node\.js v\d+\.\d+\.\d+\n$/,
    )
  })
})

describe('a clone that was never built', () => {
  it('says to build, in one line, exit 2 (no resolver stack trace)', () => {
    // bin/ without dist/ beside it: what `npm ci` leaves in a fresh clone.
    const root = mkdtempSync(join(tmpdir(), 'sse-probe-unbuilt-'))
    mkdirSync(join(root, 'bin'))
    copyFileSync(CLI, join(root, 'bin', 'sse-probe.js'))
    const run = spawnSync(process.execPath, [join(root, 'bin', 'sse-probe.js'), 'demo'], {
      encoding: 'utf8',
    })
    expect(run.status).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(
      `sse-probe: not built: ${join(root, 'dist', 'cli.js')} is missing; run npm run build (npm start builds and runs the demo)\n`,
    )
  })
})

describe('a file that cannot be used says why in words, exit 2, before any request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sse-probe-files-'))
  it.each([
    [
      ['-d', '@missing.json'],
      "option '-d, --data <text|@file|@->' cannot read 'missing.json': no such file",
    ],
    [
      ['-d', `@${dir}`],
      `option '-d, --data <text|@file|@->' cannot read '${dir}': a directory, not a file`,
    ],
    [
      ['--schema', 'x=missing.json'],
      '--schema x=missing.json: cannot read missing.json: no such file',
    ],
    [
      ['--record', join(dir, 'no', 'x.ndjson')],
      `option '--record <file>' cannot write '${join(dir, 'no', 'x.ndjson')}': no such directory`,
    ],
  ])('%j', async (args, message) => {
    const server = await startServer(() => {})
    const run = await runCli([server.url, ...args])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toBe(`error: ${message}\n`)
    expect(server.requests).toHaveLength(0)
  })
})
