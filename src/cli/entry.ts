import { readFileSync } from 'node:fs'
import { internalErrorLine } from '../engine/escape.ts'
import { SIGNAL_EXIT_CODES, STOP_SIGNALS, type StopSignal } from '../engine/exit-code.ts'
import { VERSION } from '../engine/version.ts'
import { loadCliMain } from './load-main.ts'
import { watchOutput } from './written.ts'

/** The content hash of dist/cli-main.cjs, written in by the build: it names the code cache. */
declare const CLI_MAIN_HASH: string

// A last resort: whatever slipped through is one line, not a stack trace.
process.on('uncaughtException', (error) => {
  process.stderr.write(internalErrorLine(error))
  process.exit(70)
})

const output = watchOutput(process)

// Warnings undici makes Node print through a proxy, which the user cannot act on and which read as
// a problem with the stream: that its SOCKS5 support is experimental, and (DEP0123) that it gives
// an IP address as the TLS server name of an https:// proxy or target at an address. The CLI's
// policy, not the library's: a program that imports the engine keeps its warnings as they are.
const printers = process.listeners('warning')
for (const printer of printers) process.off('warning', printer)
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code === 'DEP0123') return
  if (warning.name === 'ExperimentalWarning' && warning.message.startsWith('SOCKS5 proxy')) return
  for (const printer of printers) printer.call(process, warning)
})

// Loading the CLI takes ~100 ms before a command listens for signals: a Ctrl-C then is held for
// the command (which ends with its summary and code) rather than killing the process without
// them. A second one exits at once, as it does once the command listens. This listener stays for
// the whole run: once the command has stopped listening, its summary has said its code, and a
// Ctrl-C while the output drains or Node shuts down (which can take 100 ms) must not kill the
// process by the signal (130) against that summary.
let held: StopSignal | undefined
let signals = 0
// Set when a command takes the signals over (heldSignal), and when it has returned its code.
let commandListens = false
let finalCode: number | undefined
const hold = (name: StopSignal) => {
  signals++
  // The command's own listener has it.
  if (commandListens && process.listenerCount(name) > 1) return
  if (finalCode !== undefined) process.exit(finalCode)
  if (signals > 1) process.exit(SIGNAL_EXIT_CODES[name])
  held = name
}
for (const name of STOP_SIGNALS) process.on(name, hold)
function heldSignal(): StopSignal | undefined {
  commandListens = true
  const signal = held
  held = undefined
  return signal
}

const args = process.argv.slice(2)
const only = args.length === 1 ? args[0] : undefined
let help: string | undefined
let exitCode = 0

// `--version` and `--help` answer without loading commander: start-up is what
// `npx` users and scripts feel on every call. The help text is commander's own,
// written next to the bundle at build time (scripts/build.js).
if (only === '--version' || only === '-V') {
  process.stdout.write(`${VERSION}\n`)
} else if ((only === '--help' || only === '-h') && (help ??= prebuiltHelp()) !== undefined) {
  process.stdout.write(help)
} else {
  const { main } = loadCliMain<typeof import('./main.ts')>(
    new URL('cli-main.cjs', import.meta.url),
    `${CLI_MAIN_HASH}-${outputFormat(args)}`,
  )
  exitCode = await main(args, {
    stdout: process.stdout,
    stderr: process.stderr,
    // Opened on first use: process.stdin on a file or /dev/null loads fs streams and promises.
    get stdin() {
      return process.stdin
    },
    env: process.env,
    process,
    heldSignal,
  })
}
// A signal no command took (a usage error, --help) still ends with its code; one that came after
// the command stopped listening does not change the code its summary gave.
if (held && !commandListens) exitCode = SIGNAL_EXIT_CODES[held]
finalCode = exitCode
// Exit once the output is out: a connection still being set up when the probe ended (a host
// that never answers) would otherwise keep the process alive until its own timeout.
process.exit(await output.exitCode(exitCode))

/**
 * The code cache holds what its first run compiled, and runs of one output format compile the
 * same functions: each format keeps a cache of its own. A guess from the arguments is enough.
 */
function outputFormat(args: string[]): 'json' | 'raw' | 'pretty' {
  if (args.includes('--json')) return 'json'
  const flag = args.findIndex((arg) => arg === '--format' || arg.startsWith('--format='))
  const value = args[flag]?.startsWith('--format=')
    ? args[flag]!.slice('--format='.length)
    : args[flag + 1]
  // Only a name of ours: it becomes part of a file's path, and commander has not checked it yet.
  return flag !== -1 && (value === 'json' || value === 'raw') ? value : 'pretty'
}

function prebuiltHelp(): string | undefined {
  try {
    return readFileSync(new URL('help.txt', import.meta.url), 'utf8')
  } catch {
    return undefined
  }
}
