import { Command, Option } from 'commander'
import {
  byteSizeArg,
  collect,
  countArg,
  durationArg,
  formatArg,
  headerArg,
  lastEventIdArg,
  methodArg,
  positiveCountArg,
  positiveDurationArg,
  regexArg,
  urlArg,
  FORMATS,
  type RawProbeFlags,
} from './options.ts'
import { VERSION } from './version.ts'


const DURATIONS = 'Durations: 250ms, 5s, 2m, 1h, or bare milliseconds.'

const EXIT_CODES = `
Exit codes:
  0    ended as asked: end event or data, --max-events, --duration,
       server closed with --no-reconnect, HTTP 204
  1    an --expect-* expectation failed
  2    bad flags or URL
  3    HTTP error status, not text/event-stream, first connection impossible,
       reconnects exhausted, event larger than --max-event-size
  4    --timeout or --idle-timeout elapsed
  130  interrupted (SIGINT), 143 terminated (SIGTERM)`

/** Request flags, shared by the probe and `check`. */
export function addRequestOptions(command: Command): Command {
  return command
    .option('-X, --method <method>', 'HTTP method (default GET, POST with --data)', methodArg)
    .option('-H, --header <"Name: value">', 'extra request header, repeatable', headerArg)
    .option('-d, --data <text|@file|@->', 'request body: text, @file, or @- for stdin')
    .option('--last-event-id <id>', 'Last-Event-ID header for the first connection', lastEventIdArg)
    .addOption(new Option('--connect-timeout <duration>', 'give up on a connection attempt after this long').argParser(positiveDurationArg).default(10_000, '10s'))
    .option('-k, --insecure', 'accept any TLS certificate')
    .option('--proxy <url>', 'HTTP(S) proxy (default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY)', (text) => urlArg(text).href)
}

/** How the stream is followed and when the probe ends. */
export function addStreamOptions(command: Command): Command {
  return command
    .addOption(new Option('--retry <ms>', "initial reconnection time, replaced by the server's retry: fields").argParser(durationArg).default(3000, '3000'))
    .option('--no-reconnect', 'do not reconnect: a server-side close ends the probe')
    .option('--max-reconnects <n>', 'give up (exit 3) after n reconnects in a row without an event', countArg)
    .addOption(new Option('--max-event-size <bytes>', 'a line or event larger than this ends the probe (exit 3)').argParser(byteSizeArg).default(16 * 1024 ** 2, '16MiB'))
    .option('--ping-event <type>', 'event type counted as a ping', 'ping')
    .option('--end-event <type>', 'end on an event of this type, repeatable (default: end)', collect)
    .option('--no-end-event', 'do not end on any event type')
    .option('--end-data <text>', 'end on an event whose data equals this, repeatable (e.g. [DONE])', collect)
    .option('-n, --max-events <n>', 'end after n events', positiveCountArg)
    .option('--duration <duration>', 'observe for this long, then end (exit 0)', positiveDurationArg)
    .option('-t, --timeout <duration>', 'fail (exit 4) if the probe has not ended after this long', positiveDurationArg)
    .option('--idle-timeout <duration>', 'fail (exit 4) after this long without a single byte', positiveDurationArg)
}

export function addExpectOptions(command: Command): Command {
  return command
    .option('--expect-event <type>', 'expect at least one event of this type, repeatable', collect)
    .option('--expect-data <regex>', 'expect an event whose data matches, repeatable', regexArg)
    .option('--expect-min-events <n>', 'expect at least n events', countArg)
    .option('--expect-end', 'expect the probe to end by --end-event or --end-data')
    .option('--expect-reconnect', 'expect at least one reconnect')
    .option('--expect-max-gap <duration>', 'expect no silence between messages longer than this', positiveDurationArg)
}

export function addOutputOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--format <format>', 'pretty, json (one record per line) or raw (body bytes as received, unfiltered)')
        .argParser(formatArg)
        .default('pretty'),
    )
    .option('--json', 'same as --format json')
    .option('--color', 'force colour')
    .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('--hide-pings', 'do not show pings and comments (they are still counted)')
    .option('-i, --include', 'show response status and headers')
    .option('-q, --quiet', 'print only the summary and errors')
    .option('--show-secrets', 'show credentials (Authorization, Proxy-Authorization, Cookie, Set-Cookie, URL user:password) instead of <redacted>')
}

export interface CliHandlers {
  probe(url: URL, flags: RawProbeFlags): Promise<number>
  demo(flags: Record<string, unknown>): Promise<number>
  serve(file: string, flags: Record<string, unknown>): Promise<number>
  check(url: URL, flags: Record<string, unknown>): Promise<number>
}

/**
 * The whole command line. Actions import their implementation lazily so that
 * `--help` and `--version` load nothing but commander.
 */
export function createProgram(handlers: CliHandlers): { program: Command; exitCode: () => number } {
  let exitCode = 0
  const program = new Command('sse-probe')
    .description('Inspect and test a Server-Sent Events endpoint, following reconnects as a browser does.')
    .version(VERSION, '-V, --version')
    .argument('<url>', 'the event stream (http:// or https://)', urlArg)
    .showHelpAfterError('(run sse-probe --help for usage)')
    .addHelpText('after', `\n${DURATIONS}\n${EXIT_CODES}\n\nFormats: ${FORMATS.join(', ')}. Raw output is the body as received: control characters are not escaped.`)
  addRequestOptions(program)
  addStreamOptions(program)
  addExpectOptions(program)
  addOutputOptions(program)
  program.action(async (url: URL, flags: RawProbeFlags) => {
    exitCode = await handlers.probe(url, flags)
  })

  // Subcommands: each defines its own flags here and runs from src/commands/.
  const demo = program.command('demo').description('start the built-in demo endpoint and probe it')
  addOutputOptions(demo).action(async (flags: Record<string, unknown>) => {
    exitCode = await handlers.demo(flags)
  })

  program
    .command('serve')
    .description('replay a recorded stream as a local SSE endpoint')
    .argument('<file>', 'a transcript written by --record, or a plain event-stream file')
    .action(async (file: string, flags: Record<string, unknown>) => {
      exitCode = await handlers.serve(file, flags)
    })

  const check = program.command('check').description('lint an endpoint against SSE best practice').argument('<url>', 'the event stream', urlArg)
  addRequestOptions(check).action(async (url: URL, flags: Record<string, unknown>) => {
    exitCode = await handlers.check(url, flags)
  })
  return { program, exitCode: () => exitCode }
}
