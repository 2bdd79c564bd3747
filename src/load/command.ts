import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Chalk, supportsColor } from 'chalk'
import { SIGNAL_EXIT_CODES } from '../exit-code.ts'
import { checkProxyVariables, UsageError } from '../options.ts'
import { colorLevel } from '../output.ts'
import { visible } from '../render/escape.ts'
import { type RunContext, readRequestBody } from '../run.ts'
import { onStopSignals } from '../signals.ts'
import { renderK6Script } from './k6.ts'
import { type LoadOptions, type RawLoadFlags, toLoadOptions } from './options.ts'
import type { LoadRecord, LoadSummaryRecord } from './records.ts'
import { renderLoadSummary, startStatusLine } from './render.ts'
import { type LoadResult, loadExpectations, startLoad } from './runner.ts'

const NO_CONNECTION = 3

/** `sse-probe load <url> -c <n>`: hold the connections, print the summary, return the exit code. */
export async function runLoad(url: URL, flags: RawLoadFlags, context: RunContext): Promise<number> {
  const options = toLoadOptions(url, flags)
  const body = await readRequestBody(options.probe.data, context.stdin)
  if (options.export === 'k6') {
    context.stdout.write(renderK6Script(options, body))
    return 0
  }
  if (!options.probe.proxy) checkProxyVariables(context.env)
  if (options.trigger?.data !== undefined)
    options.trigger.data = await readTriggerData(options.trigger.data as string)
  // Records are written as they come and the summary at the end: a reader that has gone is not an error.
  context.stdout.on('error', () => {})
  // Load-level errors (trigger, file descriptors) also end the run: people read them in the summary.
  const write = (record: LoadRecord) => {
    if (options.json) context.stdout.write(`${JSON.stringify(record)}\n`)
  }
  const run = startLoad(options, body, { emit: write })
  const statusLine =
    !options.json && !options.quiet && context.stderr.isTTY
      ? startStatusLine(context.stderr, run.collector, options.connections)
      : undefined
  const signals = onStopSignals(context.process, () => run.stop('interrupted'))
  let result: LoadResult
  try {
    result = await run.done
  } finally {
    signals.dispose()
    statusLine?.clear()
  }
  const summary = summarise(options, result, signals.received)
  if (options.json) {
    write(summary)
    for (const expectation of summary.expectations)
      if (!expectation.ok)
        context.stderr.write(`error: expectation failed: ${visible(expectation.name)}\n`)
  } else {
    context.stdout.write(
      renderLoadSummary(
        summary,
        new Chalk({ level: colorLevel(options.color, supportsColor, context.env) }),
      ),
    )
  }
  if (result.reason === 'too-many-open-files')
    context.stderr.write(tooManyFilesHelp(options.connections, summary.connections.opened))
  return summary.exitCode
}

function summarise(
  options: LoadOptions,
  result: LoadResult,
  signal: keyof typeof SIGNAL_EXIT_CODES | undefined,
): LoadSummaryRecord {
  const measured = result.collector.summary(result.t)
  const expectations = loadExpectations(options, result, measured.fanoutMs?.p95 ?? null)
  const exitCode =
    result.reason === 'interrupted'
      ? SIGNAL_EXIT_CODES[signal ?? 'SIGINT']
      : result.reason === 'too-many-open-files' ||
          result.reason === 'trigger-failed' ||
          measured.connections.opened === 0
        ? NO_CONNECTION
        : expectations.some((e) => !e.ok)
          ? 1
          : 0
  return {
    type: 'load-summary',
    t: result.t,
    reason: result.reason,
    exitCode,
    ...(result.message !== undefined && { message: result.message }),
    ...measured,
    rssMiB: Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10,
    expectations,
  }
}

async function readTriggerData(data: string): Promise<string | Buffer> {
  if (!data.startsWith('@')) return data
  try {
    return await readFile(data.slice(1))
  } catch (error) {
    throw new UsageError(
      `option '--trigger-data <text|@file>' cannot read '${data.slice(1)}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
}

/** Said once, with the numbers and the fix, instead of thousands of EMFILE errors. */
function tooManyFilesHelp(target: number, opened: number): string {
  const limit = openFilesLimit()
  // Each connection is one socket; Node itself keeps a few dozen descriptors open.
  const needed = target + 64
  return (
    `sse-probe: too many open files: ${opened} of ${target} connections opened before the process ran out of file descriptors` +
    ` (ulimit -n is ${limit ?? 'unknown'}; ${target} connections need about ${needed}).\n` +
    `Raise the limit in the shell that runs sse-probe, e.g. \`ulimit -n ${Math.max(needed, 1024)}\` (up to \`ulimit -Hn\`; in a systemd unit, LimitNOFILE=), or use fewer connections.\n`
  )
}

function openFilesLimit(): string | undefined {
  try {
    return /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]
  } catch {
    try {
      return execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    } catch {
      return undefined
    }
  }
}
