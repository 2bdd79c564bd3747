import { existsSync } from 'node:fs'
import { Command, Option } from 'commander'
import { SseProbeUsageError } from '../engine/errors.ts'
import { RECONNECT_WHEN, type ReconnectWhen } from '../engine/options.ts'
import { CONNECT_TIMEOUT_MS } from '../engine/request.ts'
import {
  byteSizeArg,
  compileRegex,
  countArg,
  type DataPattern,
  durationArg,
  headerArg,
  isFilePath,
  lastEventIdArg,
  methodArg,
  NOT_A_FILE_PATH,
  originArg,
  portArg,
  positiveCountArg,
  positiveDurationArg,
  proxyArg,
  regexArg,
  retryArg,
  speedArg,
  urlArg,
} from '../engine/validate.ts'
import { VERSION } from '../engine/version.ts'
import type { RawInspectFlags } from '../inspect/run.tsx'
import { llmModeArg } from '../llm/options.ts'
import type { LlmMode } from '../llm/types.ts'
import {
  type ConnectedExpectation,
  connectedArg,
  connectionsArg,
  exportArg,
  jsonPointerArg,
  type LoadOptions,
} from '../load/options.ts'
import { timestampsArg, type ViewFlags } from './render/display.ts'

export type Format = 'pretty' | 'json' | 'raw'
const FORMATS: readonly Format[] = ['pretty', 'json', 'raw']

function formatArg(text: string): Format {
  if (!(FORMATS as readonly string[]).includes(text)) {
    throw new SseProbeUsageError(`expected one of ${FORMATS.join(', ')}`)
  }
  return text as Format
}

function reconnectArg(text: string): ReconnectWhen {
  if (!(RECONNECT_WHEN as readonly string[]).includes(text)) {
    throw new SseProbeUsageError(`expected one of ${RECONNECT_WHEN.join(', ')}`)
  }
  return text as ReconnectWhen
}

type DemoKind = 'status' | 'llm'

function demoKindArg(text: string | undefined): DemoKind {
  if (text === undefined || text === 'status' || text === 'llm') return text ?? 'status'
  throw new SseProbeUsageError(
    `unknown demo '${text}': expected status (the default) or llm (an OpenAI-style model stream)`,
  )
}

/** A repeatable flag. After a `--no-…` (`--no-end-event`, false) it starts again: the last flag wins. */
function collect(value: string, previous: string[] | false | undefined): string[] {
  return [...(previous || []), value]
}

/**
 * A body, given once. curl joins repeated -d with `&`, which a JSON body does not survive, and
 * commander would keep the last alone: either sends what the user did not write.
 */
function bodyArg(text: string, previous: string | undefined): string {
  if (previous !== undefined)
    throw new SseProbeUsageError(
      'the body is given twice: pass it whole, once (@file for a long one)',
    )
  return text
}

/** The request flags as commander parsed them (addRequestOptions). */
export interface RawRequestFlags {
  method?: string
  header?: [string, string][]
  data?: string
  lastEventId?: string
  connectTimeout: number
  insecure?: boolean
  proxy?: string
}

/** The display flags (addOutputOptions): the CLI's own, not the engine's. */
export interface DisplayFlags extends ViewFlags {
  format: Format
  json?: boolean
  color?: boolean
  hidePings?: boolean
  include?: boolean
  quiet?: boolean
  verbose?: boolean
  showSecrets?: boolean
  record?: string
}

/** The flags of `sse-probe <url>` as commander parsed them. */
export interface RawProbeFlags extends RawRequestFlags, DisplayFlags {
  retry: number
  /** false: --no-reconnect. */
  reconnect?: ReconnectWhen | false
  maxReconnects?: number
  maxEventSize: number
  pingEvent: string
  endEvent?: string[] | false
  endData?: string[]
  maxEvents?: number
  duration?: number
  timeout?: number
  idleTimeout?: number
  expectEvent?: string[]
  expectData?: DataPattern[]
  expectMinEvents?: number
  expectEnd?: boolean
  expectReconnect?: boolean
  expectMaxGap?: number
  /** Contract flags (addContractOptions); validated by contracts/ when one is given. */
  schema?: string[]
  openapi?: string
  operation?: string
  expectOrder?: string
  trigger?: string
  triggerData?: string
  triggerHeader?: string[]
  triggerDelay?: number
  expectWithin?: number
  failFast?: boolean
  llm: LlmMode
  expectLlm?: boolean
  events?: boolean
}

/** `sse-probe diff`: its own flags, and the probe's request, stream and end flags for URL sides. */
export interface DiffFlags
  extends Omit<RawProbeFlags, keyof DisplayFlags>,
    Pick<DisplayFlags, 'json' | 'color'> {
  ignore?: string[]
  ignoreIds?: boolean
  pings?: boolean
  timing?: boolean
  timeTolerance?: string
}

/** `sse-probe load`: the probe's request, stream and expectation flags, and its own. */
export interface RawLoadFlags
  extends Omit<RawProbeFlags, keyof DisplayFlags | 'duration' | 'triggerHeader' | 'maxEventSize'> {
  /** Undefined: shared out over the connections (loadMaxEventSize). */
  maxEventSize?: number
  connections: number
  ramp: number
  duration: number
  interval: number
  triggerHeader?: [string, string][]
  latencyField?: LoadOptions['latencyField']
  expectConnected?: (target: number) => ConnectedExpectation
  expectMaxErrors?: number
  expectFanoutP95?: number
  export?: 'k6'
  json?: boolean
  quiet?: boolean
  color?: boolean
}

/** `sse-probe demo`: the probe's stream, expectation and output flags, and the endpoint's own. */
export type DemoFlags = Omit<RawProbeFlags, 'connectTimeout'> & {
  /** status (the default) or llm. */
  kind: DemoKind
  serveOnly?: boolean
  port: number
}

export interface ServeFlags {
  port: number
  speed: number
  loop?: boolean
  interval?: number
}

/** The flags of `check` as commander parsed them. */
export interface RawCheckFlags extends RawRequestFlags {
  window: number
  origin?: string
  endEvent?: string[]
  json?: boolean
  strict?: boolean
  color?: boolean
}

const DURATIONS = 'Durations need a unit: 250ms, 5s, 2m, 1h, 1m30s (0 alone where 0 makes sense).'

const EXIT_CODES = `
Exit codes:
  0    ended as asked: end event or data, --max-events, --duration,
       server closed when --reconnect says stop, HTTP 204
  1    an --expect-* expectation failed, or a --schema/--openapi violation
       (with --fail-fast: at once)
  2    bad flags or URL, an unusable schema or OpenAPI document
  3    HTTP error status, not text/event-stream (or compressed as it cannot
       decode: zstd), first connection impossible, reconnects exhausted, event
       larger than --max-event-size, --trigger failed, an error streamed by an
       LLM API
  4    --timeout or --idle-timeout elapsed
  70   an internal error: a bug in sse-probe (please report it)
  74   writing the output failed (a full disk); a closed pipe (| head) is fine
  130  interrupted (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP)`

const CHECK_HELP = `
Observes the stream for the window (less if it ends), reconnecting as a browser
does (a POST, -d: as fetch clients do, after an error only), then runs 11
checks: content-type, cache-control, compression, buffering, early-headers,
keep-alive, http-version, ids, retry, end-of-stream, cors. Each prints ✓ pass,
! warn, ✗ fail or - not measured, with what was measured and a hint.

Exit codes:
  0    no check failed (warnings allowed, unless --strict)
  1    a check failed, or warned with --strict
  2    bad flags or URL
  3    could not connect at all
  70   an internal error: a bug in sse-probe (please report it)
  74   writing the output failed (a full disk)
  130  interrupted (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP):
       the report covers what was seen`

/** Request flags, shared by the probe and `check`. */
function addRequestOptions(command: Command): Command {
  return command
    .optionsGroup('Request:')
    .option('-X, --method <method>', 'HTTP method (default GET, POST with --data)', methodArg)
    .option('-H, --header <"Name: value">', 'extra request header, repeatable', headerArg)
    .option('-d, --data <text|@file|@->', 'request body: text, @file, or @- for stdin', bodyArg)
    .option('--last-event-id <id>', 'Last-Event-ID header for the first connection', lastEventIdArg)
    .addOption(
      new Option('--connect-timeout <duration>', 'give up on a connection attempt after this long')
        .argParser(positiveDurationArg)
        .default(CONNECT_TIMEOUT_MS, '10s'),
    )
    .option('-k, --insecure', 'accept any TLS certificate')
    .option(
      '--proxy <url>',
      'HTTP(S) or SOCKS5 proxy (default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY)',
      (text) => proxyArg(text).href,
    )
}

/**
 * How the stream is followed and when the probe ends (`load` has a --duration of its own, and
 * shares its default --max-event-size out over its connections).
 */
function addStreamOptions(command: Command, { duration = true, load = false } = {}): Command {
  const maxEventSize = new Option(
    '--max-event-size <bytes>',
    load
      ? 'a line or event larger than this ends a connection (default: 16MiB, or 1GiB shared out over the connections, at least 64KiB each)'
      : 'a line or event larger than this ends the probe (exit 3)',
  ).argParser(byteSizeArg)
  command
    .optionsGroup('Stream and reconnection:')
    .addOption(
      new Option(
        '--retry <ms>',
        "initial reconnection time, replaced by the server's retry: fields",
      )
        .argParser(retryArg)
        .default(3000, '3000'),
    )
    .option(
      '--reconnect <when>',
      'always, on-error (not after a clean close) or never (default: always for GET, on-error otherwise)',
      reconnectArg,
    )
    .option('--no-reconnect', 'same as --reconnect never')
    .option(
      '--max-reconnects <n>',
      'give up (exit 3) after n reconnects in a row without an event',
      countArg,
    )
    .addOption(load ? maxEventSize : maxEventSize.default(16 * 1024 ** 2, '16MiB'))
    .option('--ping-event <type>', 'event type counted as a ping', 'ping')
    .optionsGroup('When it ends:')
    .option(
      '--end-event <type>',
      'end on an event of this type, repeatable (default: end)',
      collect,
    )
    .option('--no-end-event', 'do not end on any event type')
    .option(
      '--end-data <text>',
      'end on an event whose data equals this, repeatable (e.g. [DONE])',
      collect,
    )
    .option('-n, --max-events <n>', 'end after n events', positiveCountArg)
  if (duration)
    command.option(
      '--duration <duration>',
      'observe for this long, then end (exit 0)',
      positiveDurationArg,
    )
  return command
    .option(
      '-t, --timeout <duration>',
      'fail (exit 4) if the probe has not ended after this long',
      positiveDurationArg,
    )
    .option(
      '--idle-timeout <duration>',
      'fail (exit 4) after this long without a single byte',
      positiveDurationArg,
    )
}

function addExpectOptions(command: Command): Command {
  return command
    .optionsGroup('Expectations:')
    .option('--expect-event <type>', 'expect at least one event of this type, repeatable', collect)
    .option('--expect-data <regex>', 'expect an event whose data matches, repeatable', regexArg)
    .option('--expect-min-events <n>', 'expect at least n events', positiveCountArg)
    .option('--expect-end', 'expect the probe to end by --end-event or --end-data')
    .option('--expect-reconnect', 'expect at least one reconnect')
    .option(
      '--expect-max-gap <duration>',
      'expect no silence between messages longer than this',
      positiveDurationArg,
    )
}

/** contracts.md: schemas, OpenAPI, order, trigger, fail fast. Validated when the probe starts. */
function addContractOptions(command: Command): Command {
  return command
    .optionsGroup('Contracts (schemas, order, trigger):')
    .option(
      '--schema <[type=]file>',
      'validate the data of every event (of that type) against a JSON Schema (JSON or YAML), repeatable',
      collect,
    )
    .option(
      '--openapi <file>',
      "validate every event against the operation's text/event-stream itemSchema",
    )
    .option(
      '--operation <operationId>',
      'the --openapi operation (default: found from the URL and method)',
    )
    .option(
      '--expect-order <t1,t2,…>',
      'expect these event types in this order (repeats collapsed)',
    )
    .option(
      '--trigger <"METHOD url">',
      "send this request once the stream is open, the action that causes the events (a URL alone: GET, or POST with --trigger-data; a path alone: on the stream's server)",
    )
    .option('--trigger-data <text|@file>', 'the body of the --trigger request', bodyArg)
    .option(
      '--trigger-header <"Name: value">',
      'a header of the --trigger request, repeatable',
      collect,
    )
    .option(
      '--trigger-delay <duration>',
      'wait this long after the open before the trigger',
      durationArg,
    )
    .option(
      '--expect-within <duration>',
      'expect the first event after the trigger within this long',
      positiveDurationArg,
    )
    .option('--fail-fast', 'end (exit 1) at the first expectation that can no longer hold')
}

/**
 * LLM streams (llm.md): the profile, its expectation, and (where the stream is printed) the event
 * blocks instead of the text.
 */
function addLlmOptions(command: Command, { events = true } = {}): Command {
  command
    .optionsGroup('LLM streams:')
    .addOption(
      new Option(
        '--llm <profile>',
        'LLM stream format: auto (recognise it), openai-chat, openai-responses, anthropic, off',
      )
        .argParser(llmModeArg)
        .default('auto'),
    )
    .option(
      '--expect-llm',
      'expect an LLM stream without problems: no stream error, its end marker, JSON tool arguments, some output',
    )
  return events
    ? command.option('--events', 'with an LLM stream, show the event blocks instead of the text')
    : command
}

function addOutputOptions(command: Command): Command {
  return command
    .optionsGroup('Output:')
    .addOption(
      new Option(
        '--format <format>',
        'pretty, json (one record per line) or raw (body bytes as received, unfiltered)',
      )
        .argParser(formatArg)
        .default('pretty'),
    )
    .option('--json', 'same as --format json')
    .option('--color', 'force colour')
    .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('--hide-pings', 'do not show pings and comments (they are still counted)')
    .option(
      '--compact',
      'one line per event (data cut to the terminal width; whole when not a terminal or with --full)',
    )
    .option(
      '--only <type>',
      'show only events of this type, repeatable (all are still counted)',
      collect,
    )
    .option('--exclude <type>', 'hide events of this type, repeatable', collect)
    .option('--grep <regex>', 'show only events whose data matches', compileRegex)
    .addOption(
      new Option('--timestamps <relative|wall>', 'time since start, or wall clock HH:MM:SS.mmm')
        .argParser(timestampsArg)
        .default('relative'),
    )
    .option('--data-only', "print only each event's data and a newline, as sent (like ssecat)")
    .option('--full', 'never cut long data (on a terminal: 20 lines or 4 KiB by default)')
    .option('--pretty-json', 'indent JSON data instead of compacting it')
    .option('-i, --include', 'show response status and headers')
    .option('-q, --quiet', 'print only the summary and errors')
    .option(
      '-v, --verbose',
      'show the request line and headers sent, on every connection and redirect (stderr)',
    )
    .option(
      '--show-secrets',
      'show credentials (Authorization, Proxy-Authorization, Cookie, Set-Cookie, the API key headers X-Api-Key, Api-Key and X-Goog-Api-Key, URL user:password and key, api_key, apikey and access_token query parameters) instead of <redacted>',
    )
    .option(
      '--record <file>',
      'also write every record to this file as it happens (JSON lines, credentials always redacted), for sse-probe serve',
    )
}

const DEMO_NOTES = `The endpoint sends six status events with ids and JSON data, pings between
them, and an end event; after event 3 it sends retry: 1000 and drops the
connection, and the probe resumes with Last-Event-ID. About 5 seconds.
The probe's stream, expectation and output flags work as for a URL (see
sse-probe --help and its exit codes); --timeout defaults to 20s here.
--serve-only ignores them: Ctrl-C stops the endpoint (exit 0). A --port in use:
exit 2.`

const DEMO_EXAMPLES = `Examples:
  sse-probe demo                            watch it: events, pings, the restart and the reconnect
  sse-probe demo --json                     the same as JSON records
  sse-probe demo --record demo.ndjson       keep a transcript, then: sse-probe serve demo.ndjson
  sse-probe demo --serve-only --port 8000   an endpoint for your own client
  sse-probe demo llm                        a model's answer streamed token by token, then its timings`

const SERVE_NOTES = `A file whose first line is a JSON object is a transcript: its events, comments,
retry fields and closes are replayed with their recorded timing (--speed), and
failed reconnects fail again. Anything else is read as an event stream and sent
with --interval between events. A client's Last-Event-ID resumes after that id.
The URL goes to stdout, one line per client connection to stderr. Ctrl-C stops
the server (exit 0). A bad file or an unusable port: an error naming it, exit 2.`

const RAW_OUTPUT = 'Raw output is the body as received: control characters are not escaped.'

const PROBE_EXAMPLES = `Examples:
  sse-probe demo                             start here: the built-in demo stream
  sse-probe https://host/stream              watch a stream; Ctrl-C for the summary
  sse-probe localhost:8000/stream -i         no scheme means http://; -i shows headers
  sse-probe -t 30s --expect-event end https://host/stream    a check for CI
  sse-probe --json https://host/stream | jq -c 'select(.type == "event")'   JSON records
  sse-probe -H 'Authorization: Bearer …' -d @body.json --end-data '[DONE]' https://api.example.com/v1/chat
  sse-probe --record s.ndjson https://host/stream            keep a transcript to replay
  sse-probe check https://host/stream        lint the endpoint (sse-probe help check)`

const SERVE_EXAMPLES = `Examples:
  sse-probe serve session.ndjson             replay a transcript from --record
  sse-probe serve session.ndjson --speed 0   as fast as possible
  sse-probe serve capture.sse --interval 250ms --loop --port 8000`

const CHECK_EXAMPLES = `Examples:
  sse-probe check https://host/stream
  sse-probe check https://host/stream --origin https://app.example --window 1m
  sse-probe check https://host/stream -H 'Cookie: session=…' --json --strict`

const DIFF_EXAMPLES = `Examples:
  sse-probe diff golden.ndjson http://127.0.0.1:8000/stream --ignore /timestamp -n 20
  sse-probe diff http://app:8000/stream http://edge.example/stream --timing -n 50`

const LOAD_EXAMPLES = `Examples:
  sse-probe load https://host/stream -c 5000 --ramp 10s --duration 60s
  sse-probe load https://host/stream -c 2000 --trigger 'POST https://host/publish' --expect-fanout-p95 200ms
  sse-probe load https://host/stream -c 50000 --ramp 1m --export k6 > load-k6.js`

/** What `sse-probe` alone prints: the first things to try. */
export const SHORT_USAGE = `Usage: sse-probe [options] <url>

  sse-probe demo                       try it on the built-in demo stream
  sse-probe https://host/stream        probe your own endpoint
  sse-probe check https://host/stream  lint it against SSE best practice
  sse-probe --help                     every option, with examples
`

/** The options every command has, last in its help. */
function otherOptions(command: Command): Command {
  return command.optionsGroup('Other:').helpOption('-h, --help', 'show this help')
}

/**
 * Options given before a subcommand (`sse-probe --json demo`) were parsed as the program's:
 * they apply to the subcommand when it has them (its own, given after its name, come later
 * and win, or add up when repeatable); any other is refused, never dropped.
 */
function carryOptions(program: Command, command: Command): void {
  for (const option of program.options) {
    const name = option.attributeName()
    if (program.getOptionValueSource(name) !== 'cli') continue
    if (!command.options.some((own) => own.attributeName() === name)) {
      throw new SseProbeUsageError(
        `option '${option.flags}' was given before '${command.name()}', which has no such option`,
      )
    }
    command.setOptionValueWithSource(name, program.getOptionValue(name), 'cli')
  }
}

/** The option a token names (`--ramp`, `--ramp=1s`, `-c`, `-c2`) and whether it holds its value. */
function optionOf(
  command: Command,
  token: string,
): { option: Option; inline: boolean } | undefined {
  const find = (flag: string) =>
    command.options.find((option) => option.short === flag || option.long === flag)
  const exact = find(token)
  if (exact) return { option: exact, inline: false }
  const long = /^(--[^=]+)=/.exec(token)
  const short = /^-[^-]/.test(token) && token.length > 2 ? find(token.slice(0, 2)) : undefined
  const option = long ? find(long[1]!) : short
  return option && { option, inline: true }
}

/**
 * How many of the first words are options of the program and their values (`--json`, `-H 'X: 1'`):
 * what follows is the word a user meant as a command (`sse-probe --json chekc URL`), which cli.md
 * lets options precede. Stops at help, which helpArgv reads, and at an option the program does not
 * know, whose value cannot be told from an operand.
 */
export function leadingOptionCount(program: Command, argv: readonly string[]): number {
  let i = 0
  while (i < argv.length && !/^(--help|-h)$/.test(argv[i]!)) {
    const known = optionOf(program, argv[i]!)
    if (known === undefined) break
    i += known.option.required && !known.inline ? 2 : 1
  }
  return Math.min(i, argv.length)
}

/**
 * The options of a subcommand alone given before its name (`sse-probe -c 10 load URL`,
 * `sse-probe --speed 0 serve x.ndjson`) are moved after it: the program would refuse them as
 * unknown, and cli.md has options before a subcommand apply to it when it has them. Options the
 * program knows stay where they are (carryOptions hands them over or refuses them); an argv
 * with no subcommand, or an option neither knows, is left as it is for commander to report.
 */
export function subcommandOptionsAfterName(program: Command, argv: readonly string[]): string[] {
  const commandNamed = (name: string | undefined) =>
    program.commands.find((command) => command.name() === name)
  const own: string[] = []
  const foreign: string[][] = []
  let i = 0
  for (; i < argv.length; i++) {
    const token = argv[i]!
    if (commandNamed(token)) break
    if (token === '--' || !token.startsWith('-') || token === '-') return [...argv]
    const known = optionOf(program, token)
    if (known) {
      own.push(token)
      if (known.option.required && !known.inline && i + 1 < argv.length) own.push(argv[++i]!)
      continue
    }
    // A value of its own, or the subcommand's name: decided once the subcommand is known.
    const next = argv[i + 1]
    const takesNext = next !== undefined && !next.startsWith('-') && !commandNamed(next)
    foreign.push(takesNext ? [token, argv[++i]!] : [token])
  }
  const command = commandNamed(argv[i])
  if (command === undefined || foreign.length === 0) return [...argv]
  const moved: string[] = []
  for (const [flag, value] of foreign) {
    const found = optionOf(command, flag!)
    if (found === undefined) return [...argv]
    const wantsValue = found.option.required && !found.inline
    // A bare word after a flag that takes none is an operand: the program's URL, not a subcommand.
    if (value !== undefined && !wantsValue) return [...argv]
    moved.push(flag!, ...(value === undefined ? [] : [value]))
  }
  return [...own, argv[i]!, ...moved, ...argv.slice(i + 1)]
}

const LOAD_HELP = `
Opens -c connections (evenly over --ramp), holds them for --duration, then
prints a summary: connect and first-event latency, events per second and per
connection, reconnects and the worst second of a reconnect storm, fan-out
latency, errors by kind, memory. Each connection follows retry: and
Last-Event-ID as a browser does; the probe's request, stream and --expect-*
flags apply to each (an --expect-* fails when any connection fails it).

Exit codes:
  0    held as asked, every expectation met
  1    an expectation failed
  2    bad flags or URL
  3    no connection could be made, too few file descriptors, trigger failed
  70   an internal error: a bug in sse-probe (please report it)
  74   writing the output failed (a full disk); a closed pipe (| head) is fine
  130  interrupted (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP)`

const INSPECT_NOTES = `A full-screen grid of the stream, as the EventStream tab of a browser's
developer tools, with pings, reconnects and pauses. Needs a terminal (otherwise
exit 2: use sse-probe <url>). Keys: ↑↓ j k PgUp PgDn g G move (G follows the
tail), Enter/Esc detail, / filter (text, type:name, /regex/), space pause,
h pings, t time, c clear, r reconnect now, w write the shown rows as NDJSON,
q or Ctrl-C quit, Ctrl-Z suspend (fg resumes). Quitting prints the summary on
stderr and exits 130 while the stream is live, or with the exit code of the end
it reached (see sse-probe --help).`

const INSPECT_EXAMPLES = `Examples:
  sse-probe inspect https://host/status/stream
  sse-probe inspect http://127.0.0.1:8000/events --retry 500 --hide-pings
  sse-probe inspect https://host/stream -H "Authorization: Bearer $TOKEN" --record run.ndjson`

export interface CliHandlers {
  inspect(url: URL, flags: RawInspectFlags): Promise<number>
  probe(url: URL, flags: RawProbeFlags): Promise<number>
  load(url: URL, flags: RawLoadFlags): Promise<number>
  demo(flags: DemoFlags): Promise<number>
  serve(file: string, flags: ServeFlags): Promise<number>
  check(url: URL, flags: RawCheckFlags): Promise<number>
  diff(left: string, right: string, flags: DiffFlags): Promise<number>
}

// A URL without a scheme is taken (cli.md): the help must not say that one is needed.
const URL_ARGUMENT = 'the event stream (no scheme means http://)'

const COMMANDS = ['demo', 'inspect', 'serve', 'check', 'diff', 'load', 'help'] as const
type CommandName = Exclude<(typeof COMMANDS)[number], 'help'>

/**
 * The command line of a request for help, as commander reads it: `help help` and `help --help`
 * (which commander alone reports as an error, exit 2), and `--help check`, where an option given
 * before a subcommand applies to it (cli.md), help too: commander alone shows the program's help.
 */
export function helpArgv(argv: readonly string[]): readonly string[] {
  const [first, second = ''] = argv
  if (first === 'help' && /^(help|--help|-h)$/.test(second)) return ['--help']
  if ((first === '--help' || first === '-h') && COMMANDS.includes(second as CommandName)) {
    return second === 'help' ? ['--help'] : [second, '--help']
  }
  return argv
}

/**
 * A mistyped command name, which commander would otherwise take for the probe's URL: for
 * `sse-probe help chekc` it prints the whole help with no word of what is wrong, for `sse-probe
 * chekc URL` "too many arguments". A lone word stays a URL: `sse-probe server` may be a host.
 * Returns the usage error, with a "Did you mean" line as commander words it, or undefined.
 */
export function unknownCommand(argv: readonly string[]): string | undefined {
  const [first, second] = argv
  // `sse-probe help --json`: commander alone prints all its help on stderr, exit 2, no word of why.
  if (first === 'help' && second?.startsWith('-')) {
    return `error: unknown option '${second}': sse-probe help takes a command name, e.g. sse-probe help check\n`
  }
  const word =
    first === 'help'
      ? second
      : second !== undefined && !second.startsWith('-') && /^[a-z]+$/i.test(first ?? '')
        ? first
        : undefined
  if (word === undefined || word.startsWith('-') || COMMANDS.includes(word as CommandName)) {
    return undefined
  }
  const suggestion = COMMANDS.find((name) => editDistance(word.toLowerCase(), name) <= 2)
  if (first !== 'help' && suggestion === undefined) return undefined
  const hint = suggestion
    ? `\n(Did you mean ${suggestion}?)`
    : `; the commands are ${COMMANDS.slice(0, -1).join(', ')}`
  return `error: unknown command '${word}'${hint}\n`
}

/**
 * The command a lone first word that was probed as a host (`sse-probe inpsect`, `sse-probe
 * version`) was likely meant to be, for a hint once that host could not be reached.
 */
export function commandMeant(argv: readonly string[]): string | undefined {
  const word = argv[0]?.toLowerCase()
  // `demo-llm`, `demo_llm`: the demo's kind joined to it (a hyphen is no host name's hint else).
  const kind = /^demo[-_](llm|status)$/.exec(word ?? '')?.[1]
  if (kind) return `demo ${kind}`
  if (word === undefined || !/^[a-z]+$/.test(word) || word === 'localhost') return undefined
  if (word === 'version') return '--version'
  return COMMANDS.find((name) => name !== word && editDistance(word, name) <= 2)
}

// curl's options that a command line copied from curl brings, which commander alone refuses
// with no word of what to do (`--url` even draws "Did you mean --full?"): what each is here.
const CURL_OPTIONS = new Map(
  Object.entries({
    '-N --no-buffer': 'events show as they arrive, so leave it out',
    '-s --silent': 'there is no progress meter, so leave it out (-q prints only the summary)',
    '-S --show-error': 'errors are always shown, so leave it out',
    '-L --location': 'redirects are always followed, so leave it out',
    '-f --fail': 'an HTTP error status always fails (exit 3), so leave it out',
    '--data-raw': 'use -d <body> (where a leading @ names a file)',
    '--data-binary --data-ascii': 'use -d <body>, or -d @file',
    '--url': 'give the URL as an argument',
    '-u --user': 'write the credentials into the URL before the host, or send the header with -H',
    '--oauth2-bearer': 'send the token in an Authorization header with -H',
    '-A --user-agent': 'use -H "User-Agent: …"',
    '-b --cookie': 'use -H "Cookie: name=value"',
    '-m --max-time': 'use -t/--timeout with a unit, e.g. -t 30s',
    '-x': 'use --proxy <url>',
    '-o --output': 'redirect the output instead: sse-probe --format raw <url> > file',
    '--compressed': 'use -H "Accept-Encoding: gzip, br" (sse-probe decompresses the stream)',
  }).flatMap(([names, hint]) => names.split(' ').map((name) => [name, hint] as const)),
)
// curl's switches that need no counterpart here, as they come grouped: `-sN`, `-sSL`.
const CURL_SWITCHES = /^-[sSNLf]{2,}$/

/**
 * commander's "unknown option" error for an option of curl's, said with what to do here, or
 * undefined for any other error.
 */
export function curlOptionError(text: string): string | undefined {
  const typed = /^error: unknown option '([^']*)'/.exec(text)?.[1]
  if (typed === undefined) return undefined
  if (CURL_SWITCHES.test(typed)) {
    return `error: '${typed}' are curl's options, not sse-probe's: none is needed (no progress meter, no buffering, redirects are followed); leave them out\n`
  }
  // `--data-raw={…}`: commander names the option with its value.
  const flag = typed.startsWith('--') ? typed.replace(/=[\s\S]*$/, '') : typed
  const hint = CURL_OPTIONS.get(flag)
  return hint && `error: '${flag}' is curl's option, not sse-probe's: ${hint}\n`
}

/**
 * A command line pasted from curl that commander would misread: `curl` kept as its first word,
 * or curl's `--json <body>` (here --json is the output format, and the body reads as a second
 * URL: "too many arguments"). The usage error that says what to type instead, or undefined.
 */
export function curlCommandLine(argv: readonly string[]): string | undefined {
  if (argv[0] === 'curl' && argv.length > 1) {
    return "error: leave out 'curl': sse-probe takes the URL and curl's -H, -d, -X, -k, -i and -v as they are\n"
  }
  const body = argv.findIndex((arg, i) => argv[i - 1] === '--json' && /^\s*[[{]/.test(arg))
  if (body === -1) return undefined
  return "error: --json here asks for JSON output records; to send a JSON body as curl's --json does, use -d <body> (JSON is sent as application/json)\n"
}

/** Edits (insert, delete, replace, swap two neighbours) that turn a into b. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
      }
    }
  }
  return d[a.length]![b.length]!
}

/**
 * The probe's URL: a file named instead is most likely a recording, which serve replays. An
 * absolute path is one only if the file is there: `/api/stream` is as likely the server's path.
 */
function probeUrlArg(text: string): URL {
  try {
    return urlArg(text)
  } catch (error) {
    const path = text.trim()
    if (!isFilePath(path) || (path.startsWith('/') && !existsSync(path))) throw error
    throw new SseProbeUsageError(
      `${NOT_A_FILE_PATH}; to replay a recording: sse-probe serve ${text}`,
    )
  }
}

/**
 * The whole command line. Actions import their implementation lazily so that
 * `--help` and `--version` load nothing but commander.
 */
export function createProgram(
  handlers: CliHandlers,
  argv?: readonly string[],
): { program: Command; exitCode: () => number } {
  let exitCode = 0
  const program = new Command('sse-probe')
    .description(
      'Inspect and test a Server-Sent Events endpoint, following reconnects as a browser does.',
    )
    .argument('<url>', URL_ARGUMENT, probeUrlArg)
    .usage('[options] <url>')
    // Subcommands reuse the probe's flag names (--json, --color): each command parses its own,
    // and carryOptions() hands it those given before its name.
    .enablePositionalOptions()
    // `sse-probe help check`, although the program itself takes an argument.
    .helpCommand('help [command]', 'show the help of a command: sse-probe help check')
    .addHelpText('after', `\n${DURATIONS}\n${RAW_OUTPUT}\n${EXIT_CODES}\n\n${PROBE_EXAMPLES}`)
  addRequestOptions(program)
  addStreamOptions(program)
  addExpectOptions(program)
  addContractOptions(program)
  addLlmOptions(program)
  addOutputOptions(program)
  otherOptions(program).version(VERSION, '-V, --version')
  program.hook('preSubcommand', carryOptions)
  program.action(async (url: URL, flags: RawProbeFlags) => {
    exitCode = await handlers.probe(url, flags)
  })

  // Subcommands: each defines its own flags here and runs from src/commands/. Building one
  // costs start-up time (commander makes an object per option), so only those the command line
  // names are built: all of them for help, which lists them.
  const subcommands: Record<CommandName, () => void> = {
    demo() {
      const demo = program
        .command('demo')
        .argument(
          '[kind]',
          'status (default) or llm: an OpenAI-style model stream with a tool call',
        )
        .description(
          'start the built-in demo endpoint (a status stream whose server restarts part way) and probe it',
        )
        .optionsGroup('Demo endpoint:')
        .option(
          '--serve-only',
          'only run the endpoint and print its URL, for a browser, curl -N or another sse-probe; Ctrl-C stops it',
        )
        .addOption(
          new Option('--port <n>', 'port of the endpoint on 127.0.0.1')
            .argParser(portArg)
            .default(0, 'any free port'),
        )
        .addHelpText('after', `\n${DEMO_NOTES}\n\n${DEMO_EXAMPLES}`)
      addStreamOptions(demo)
      addExpectOptions(demo)
      addLlmOptions(demo)
      otherOptions(addOutputOptions(demo)).action(
        async (kind: string | undefined, flags: DemoFlags) => {
          exitCode = await handlers.demo({ ...flags, kind: demoKindArg(kind) })
        },
      )
    },
    inspect() {
      const inspect = program
        .command('inspect')
        .description(
          'watch a stream full screen: filter, pause, inspect one event, force a reconnect',
        )
        .argument('<url>', URL_ARGUMENT, urlArg)
        .addHelpText('after', `\n${DURATIONS}\n\n${INSPECT_NOTES}\n\n${INSPECT_EXAMPLES}`)
      addRequestOptions(inspect)
      addStreamOptions(inspect)
      addExpectOptions(inspect)
      addContractOptions(inspect)
      // The grid shows every event block: --events has nothing to change.
      addLlmOptions(inspect, { events: false })
        .optionsGroup('Inspect:')
        .addOption(
          new Option('--buffer <n>', 'rows kept for scrolling and w (everything is counted)')
            .argParser(positiveCountArg)
            .default(10_000),
        )
        .option('--hide-pings', 'start with pings and comments hidden (h shows them)')
        .optionsGroup('Output:')
        .option('--color', 'force colour')
        .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
        .option('--show-secrets', 'show credentials instead of <redacted>')
        .option(
          '--record <file>',
          'also write every record to this file (JSON lines), for sse-probe serve',
        )
      otherOptions(inspect).action(async (url: URL, flags: RawInspectFlags) => {
        exitCode = await handlers.inspect(url, flags)
      })
    },
    serve() {
      const serve = program
        .command('serve')
        .description('replay a recorded stream as a local SSE endpoint, until Ctrl-C')
        .argument(
          '<file>',
          'a transcript written by --record (or --json), or a plain event-stream file; - for stdin',
        )
        .optionsGroup('Replay:')
        .addOption(
          new Option('--port <n>', 'port on 127.0.0.1')
            .argParser(portArg)
            .default(0, 'any free port'),
        )
        .addOption(
          new Option('--speed <x>', 'timing: 1 as recorded, 2 twice as fast, 0 as fast as possible')
            .argParser(speedArg)
            .default(1),
        )
        .option('--loop', 'start again from the beginning after the last record')
        .option(
          '--interval <duration>',
          'time between the events of a plain event-stream file (default 1s)',
          durationArg,
        )
        .addHelpText('after', `\n${DURATIONS}\n\n${SERVE_NOTES}\n\n${SERVE_EXAMPLES}`)
      otherOptions(serve).action(async (file: string, flags: ServeFlags) => {
        exitCode = await handlers.serve(file, flags)
      })
    },
    check() {
      const check = program
        .command('check')
        .description('lint an endpoint against SSE best practice')
        .argument('<url>', URL_ARGUMENT, urlArg)
        .addHelpText('after', `${CHECK_HELP}\n\n${DURATIONS}\n\n${CHECK_EXAMPLES}`)
      addRequestOptions(check)
        .optionsGroup('Check:')
        .addOption(
          new Option('--window <duration>', 'observe for this long (less if the stream ends)')
            .argParser(positiveDurationArg)
            .default(20_000, '20s'),
        )
        .option(
          '--origin <origin>',
          "send Origin and check that CORS allows it (your page's origin, e.g. https://app.example)",
          originArg,
        )
        .option(
          '--end-event <type>',
          'the event type that ends the stream, repeatable (default: end)',
          collect,
        )
        .option('--strict', 'exit 1 on warnings too')
        .optionsGroup('Output:')
        .option('--json', 'one JSON record per check, then a summary')
        .option('--color', 'force colour')
        .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
      otherOptions(check).action(async (url: URL, flags: RawCheckFlags) => {
        exitCode = await handlers.check(url, flags)
      })
    },
    diff() {
      const diff = program
        .command('diff')
        .description(
          'compare two streams: transcripts (--record), raw captures (.sse) or URLs probed live',
        )
        .argument('<left>', 'a transcript, a raw capture or a URL; - for stdin')
        .argument('<right>', 'a transcript, a raw capture or a URL; - for stdin')
        .addHelpText('after', `\n${DIFF_NOTES}\n\n${DURATIONS}\n\n${DIFF_EXAMPLES}`)
        .optionsGroup('Compare:')
        .option(
          '--ignore <pointer>',
          'drop this JSON pointer from JSON data before comparing, repeatable',
          collect,
        )
        .option('--ignore-ids', 'do not compare event ids')
        .option('--pings', 'compare ping events and comments too')
        .option('--timing', 'make timing part of the verdict (first event, gap p50, batching)')
        .option(
          '--time-tolerance <percent|duration>',
          'how much slower a side may be with --timing: 50% (the default) or 200ms; at least 50 ms',
        )
      addRequestOptions(diff)
      addStreamOptions(diff)
        .optionsGroup('Output:')
        .option('--json', 'one JSON record per difference, then a diff-summary')
        .option('--color', 'force colour')
        .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
      otherOptions(diff).action(async (left: string, right: string, flags: DiffFlags) => {
        exitCode = await handlers.diff(left, right, flags)
      })
    },
    load() {
      const load = program
        .command('load')
        .description(
          'hold many connections at once and measure what each saw (latency, fan-out, reconnect storms)',
        )
        .argument('<url>', URL_ARGUMENT, urlArg)
        .optionsGroup('Load:')
        .requiredOption('-c, --connections <n>', 'connections to hold', connectionsArg)
        .addOption(
          new Option('--ramp <duration>', 'open them evenly over this long')
            .argParser(durationArg)
            .default(0, 'all at once'),
        )
        .addOption(
          new Option(
            '--duration <duration>',
            'hold them this long once all are open (or failed), then close all',
          )
            .argParser(positiveDurationArg)
            .default(30_000, '30s'),
        )
        .option(
          '--trigger <"METHOD url">',
          "send this request once every connection is open; fan-out is measured from it (a URL alone: GET, or POST with --trigger-data; a path alone: on the stream's server)",
        )
        .option('--trigger-data <text|@file>', 'body of the trigger', bodyArg)
        .option('--trigger-header <"Name: value">', 'header of the trigger, repeatable', headerArg)
        .option(
          '--latency-field <pointer>',
          'JSON pointer to the send time (epoch ms) in the event data, for fan-out',
          jsonPointerArg,
        )
        .option(
          '--expect-connected <n|pct>',
          'expect at least this many connections (or % of -c) to open',
          connectedArg,
        )
        .option('--expect-max-errors <n>', 'expect at most n errors in all', countArg)
        .option(
          '--expect-fanout-p95 <duration>',
          'expect a fan-out p95 of at most this',
          positiveDurationArg,
        )
        .addOption(
          new Option('--interval <duration>', 'how often a stats record is written with --json')
            .argParser(positiveDurationArg)
            .default(1000, '1s'),
        )
        .option(
          '--export <format>',
          'print the same test as a k6 script (xk6-sse) and exit without connecting',
          exportArg,
        )
        .addHelpText('after', `${LOAD_HELP}\n\n${DURATIONS}\n\n${LOAD_EXAMPLES}`)
      addRequestOptions(load)
      addStreamOptions(load, { duration: false, load: true })
      addExpectOptions(load)
      addLlmOptions(load, { events: false })
        .optionsGroup('Output:')
        .option('--json', 'stats records, then a load-summary record (JSON lines)')
        .option('-q, --quiet', 'no status line')
        .option('--color', 'force colour')
        .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
      otherOptions(load).action(async (url: URL, flags: RawLoadFlags) => {
        exitCode = await handlers.load(url, flags)
      })
    },
  }
  const all =
    argv === undefined || argv.some((arg) => arg === 'help' || arg === '--help' || arg === '-h')
  for (const [name, define] of Object.entries(subcommands)) {
    if (all || argv.includes(name)) define()
  }
  return { program, exitCode: () => exitCode }
}

const DIFF_NOTES = `Events (pings and comments excluded unless --pings) are aligned as a sequence
diff on type, id and data; JSON data is compared as JSON. Timing (first event,
gaps, events per network read, reconnects) is shown side by side. A URL side is
probed with the request, stream and end flags given (both at once): give it an
end (--max-events, --end-event, --duration).

Exit codes:
  0    same
  1    different
  2    bad flags or JSON pointer
  3    a side could not be read or probed
  70   an internal error: a bug in sse-probe (please report it)
  74   writing the output failed (a full disk); a closed pipe (| head) is fine
  130  interrupted (SIGINT), 143 terminated (SIGTERM), 129 hung up (SIGHUP)`
