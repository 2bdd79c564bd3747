import { statSync } from 'node:fs'
import { CommanderError, type Option } from 'commander'
import { SseProbeUsageError, SseProbeWholeUsageError } from '../engine/errors.ts'
import { internalErrorLine, visible } from '../engine/escape.ts'
import { redactText } from '../engine/redact.ts'
import { invalidOptionError, urlArg } from '../engine/validate.ts'
import {
  commandMeant,
  createProgram,
  curlCommandLine,
  curlOptionError,
  helpArgv,
  leadingOptionCount,
  SHORT_USAGE,
  subcommandOptionsAfterName,
  unknownCommand,
} from './args.ts'
import type { RunContext } from './context.ts'
import { createTerminal } from './output.ts'

/**
 * The entry point: parses the command line and runs the command, returning its
 * exit code. Usage errors exit 2 with a one-line message, never a stack trace.
 */
export async function main(given: readonly string[], context: RunContext): Promise<number> {
  const terminal = createTerminal(context)
  if (given.length === 0) {
    terminal.err(SHORT_USAGE)
    return 2
  }
  const showSecrets = given.includes('--show-secrets')
  // `given` names the same commands as the help it may become: the same subcommands are built.
  const { program, exitCode } = createProgram(
    {
      async probe(url, flags) {
        const { runProbe } = await import('./commands/probe.ts')
        const code = await runProbe(url, flags, context)
        if (code !== 3) return code
        // `sse-probe session.ndjson`: a recording in this folder, read as a host that never answered.
        const file = argv.find((arg) => probedFile(arg, url))
        const typed = file ?? words[0]!
        const meant = file !== undefined ? `serve ${file}` : commandMeant(words)
        if (meant !== undefined) {
          terminal.err(
            `sse-probe: '${visible(typed)}' was read as a host name (${visible(url.href)}); did you mean sse-probe ${visible(meant)}?\n`,
          )
        }
        return code
      },
      async load(url, flags) {
        const { runLoad } = await import('./commands/load.ts')
        return runLoad(url, flags, context)
      },
      async inspect(url, flags) {
        // Ink asks for the current folder as it loads (stack-utils): one deleted under the shell
        // is the user's to fix, not an internal error (70).
        if (!currentFolderExists()) {
          terminal.err(
            'error: sse-probe inspect cannot start: the current folder no longer exists; cd to one that does\n',
          )
          return 2
        }
        // Ink and React load here only: every other command starts without them.
        const { runInspect } = await import('../inspect/run.tsx')
        return runInspect(url, flags, context)
      },
      async demo(flags) {
        const { runDemo } = await import('./commands/demo.ts')
        return runDemo(flags, context)
      },
      async serve(file, flags) {
        const { runServe } = await import('./commands/serve.ts')
        return runServe(file, flags, context)
      },
      async check(url, flags) {
        const { runCheck } = await import('./commands/check.ts')
        return runCheck(url, flags, context)
      },
      async diff(left, right, flags) {
        const { runDiffCommand } = await import('./commands/diff.ts')
        return runDiffCommand(left, right, flags, context)
      },
    },
    given,
  )
  // Options may come before the command (cli.md): its words are read after them, so that
  // `sse-probe --json chekc URL` and `sse-probe -q help chekc` name the typo as without them.
  const words = given.slice(leadingOptionCount(program, given))
  const help = helpArgv(words)
  // Help ignores the options, so a line that asks for help becomes that request alone.
  const argv = help === words ? given : help
  const unknown = curlCommandLine(given) ?? unknownCommand(help)
  if (unknown !== undefined) {
    terminal.err(errorLine(unknown, showSecrets))
    return 2
  }
  // Subcommands copy these settings only when created, so each gets them here.
  for (const command of [program, ...program.commands]) {
    command.exitOverride().configureOutput({
      writeOut: terminal.out,
      writeErr: terminal.err,
      outputError: (text, write) => write(errorLine(curlOptionError(text) ?? text, showSecrets)),
    })
    for (const option of command.options) namingItself(option)
  }
  try {
    await program.parseAsync(subcommandOptionsAfterName(program, argv), { from: 'user' })
    return exitCode()
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; everything else commander reports is a usage error.
      return error.exitCode === 0 ? 0 : 2
    }
    if (error instanceof SseProbeUsageError) {
      terminal.err(errorLine(`error: ${error.message}`, showSecrets))
      return 2
    }
    terminal.err(internalErrorLine(error))
    return 70
  }
}

/** An option whose parser's error may name the flag itself (a bare number: `--timeout 5: add a unit…`). */
function namingItself(option: Option): void {
  const parse = option.parseArg
  if (!parse) return
  option.parseArg = <T>(value: string, previous: T): T => {
    try {
      return parse(value, previous)
    } catch (error) {
      const whole =
        error instanceof SseProbeUsageError && invalidOptionError(option.flags, value, error)
      throw whole instanceof SseProbeWholeUsageError ? whole : error
    }
  }
}

/**
 * A usage error quotes the value as typed: credentials stay out of terminals and CI
 * logs, and control characters are shown escaped, on one line. commander's suggestion
 * ("(Did you mean --json?)") is its own text, on a line of its own.
 */
function errorLine(text: string, showSecrets: boolean): string {
  const [, message, suggestion = ''] = /^([\s\S]*?)(\n\(Did you mean [^\n]*\?\))?\n?$/.exec(text)!
  return `${visible(showSecrets ? message! : redactText(message!))}${suggestion}\n`
}

/** Whether the argument names a file here and is the URL that was probed. */
function probedFile(arg: string, url: URL): boolean {
  try {
    return statSync(arg).isFile() && urlArg(arg).href === url.href
  } catch {
    return false
  }
}

function currentFolderExists(): boolean {
  try {
    process.cwd()
    return true
  } catch {
    return false
  }
}
