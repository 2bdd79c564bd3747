import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { SseProbeUsageError } from '../../engine/errors.ts'
import { visible } from '../../engine/escape.ts'
import { SIGNAL_EXIT_CODES, type StopSignal } from '../../engine/exit-code.ts'
import { checkProxyVariables } from '../../engine/request.ts'
import { triggerArg, triggerDataArg } from '../../engine/trigger.ts'
import { renderK6Script } from '../../load/k6.ts'
import type { LoadOptions } from '../../load/options.ts'
import type { LoadRecord, LoadSummaryRecord } from '../../load/records.ts'
import { renderLoadSummary, shownActual, startStatusLine } from '../../load/render.ts'
import { type LoadResult, loadExpectations, startLoad } from '../../load/runner.ts'
import type { RawLoadFlags, RawProbeFlags } from '../args.ts'
import type { RunContext } from '../context.ts'
import { probeOptionsFrom, readRequestBody } from '../options.ts'
import { colors, drawsLive } from '../output.ts'
import { onStopSignals } from '../signals.ts'

const NO_CONNECTION = 3

/** `sse-probe load <url> -c <n>`: hold the connections, print the summary, return the exit code. */
export async function runLoad(url: URL, flags: RawLoadFlags, context: RunContext): Promise<number> {
  const options = await loadOptionsFrom(url, flags, context)
  if (options.export === 'k6') {
    context.stdout.write(renderK6Script(options))
    return 0
  }
  if (!options.probe.request.proxy) checkProxyVariables(context.env)
  // As the probe's: once a write has failed (`load --json | head`, noticed at the next stats
  // record; a full disk), holding the connections serves nobody, so the run stops, writing nothing
  // more. The CLI's entry exits 0 for a reader that has gone, 74 for another failure.
  let outputFailed = false
  // Load-level errors (trigger, file descriptors) also end the run: people read them in the summary.
  const write = (record: LoadRecord) => {
    if (options.json && !outputFailed) context.stdout.write(`${JSON.stringify(record)}\n`)
  }
  const run = startLoad(options, { emit: write })
  context.stdout.on('error', () => {
    outputFailed = true
    run.stop('interrupted')
  })
  const statusLine =
    !options.json && !options.quiet && drawsLive(context.stderr, context.env)
      ? startStatusLine(context.stderr, run.collector, options.connections)
      : undefined
  const signals = onStopSignals(context, () => run.stop('interrupted'))
  let result: LoadResult
  try {
    result = await run.done
  } finally {
    signals.dispose()
    statusLine?.clear()
  }
  if (outputFailed) return 0
  const summary = summarise(options, result, signals.received)
  if (options.json) {
    write(summary)
    // What was seen too, as the table and the probe's line say it: a CI log of stderr says why.
    for (const expectation of summary.expectations) {
      if (expectation.ok) continue
      const seen =
        expectation.actual === undefined
          ? ''
          : ` (${shownActual(expectation, summary.connections.target)})`
      context.stderr.write(`error: expectation failed: ${visible(expectation.name)}${seen}\n`)
    }
  } else {
    const { chalk } = await colors(context, options.color)
    context.stdout.write(renderLoadSummary(summary, chalk))
  }
  // As the probe's: stderr says why in a word, in both formats (the table may go to a file).
  const failure = noConnectionMessage(summary)
  if (failure !== undefined) context.stderr.write(`error: ${visible(failure)}\n`)
  if (result.reason === 'too-many-open-files') {
    context.stderr.write(tooManyFilesHelp(options.connections, summary.connections.opened))
  }
  return summary.exitCode
}

async function loadOptionsFrom(
  url: URL,
  flags: RawLoadFlags,
  context: Pick<RunContext, 'stdin' | 'process'>,
): Promise<LoadOptions> {
  if (flags.trigger !== undefined && flags.latencyField) {
    throw new SseProbeUsageError('--trigger and --latency-field measure fan-out two ways: give one')
  }
  if (flags.trigger === undefined && (flags.triggerData !== undefined || flags.triggerHeader)) {
    throw new SseProbeUsageError('--trigger-data and --trigger-header need --trigger')
  }
  if (flags.expectFanoutP95 !== undefined && flags.trigger === undefined && !flags.latencyField) {
    throw new SseProbeUsageError(
      '--expect-fanout-p95 needs --trigger or --latency-field to measure fan-out',
    )
  }
  // Before -d @- is read: a mistyped flag does not wait for stdin.
  const trigger =
    flags.trigger !== undefined && triggerArg(flags.trigger, flags.triggerData !== undefined, url)
  const body = await readRequestBody(flags.data, context)
  // --duration is the whole run's here, not each connection's.
  const probeFlags = {
    ...flags,
    duration: undefined,
    format: 'json',
    maxEventSize: flags.maxEventSize ?? loadMaxEventSize(flags.connections),
  } as RawProbeFlags
  return {
    probe: probeOptionsFrom(url, probeFlags, body),
    connections: flags.connections,
    rampMs: flags.ramp,
    durationMs: flags.duration,
    intervalMs: flags.interval,
    json: flags.json ?? false,
    quiet: flags.quiet ?? false,
    ...(flags.color !== undefined && { color: flags.color }),
    ...(trigger && {
      trigger: {
        ...trigger,
        headers: flags.triggerHeader ?? [],
        ...(flags.triggerData !== undefined && {
          body: triggerDataArg(flags.triggerData),
        }),
      },
    }),
    ...(flags.latencyField && { latencyField: flags.latencyField }),
    ...(flags.expectConnected && { expectConnected: flags.expectConnected(flags.connections) }),
    ...(flags.expectMaxErrors !== undefined && { expectMaxErrors: flags.expectMaxErrors }),
    ...(flags.expectFanoutP95 !== undefined && { expectFanoutP95Ms: flags.expectFanoutP95 }),
    llm: { mode: flags.llm, expect: flags.expectLlm ?? false },
    ...(flags.export && { export: flags.export }),
  }
}

function summarise(
  options: LoadOptions,
  result: LoadResult,
  signal: StopSignal | undefined,
): LoadSummaryRecord {
  const measured = result.collector.summary(result.t)
  const expectations = loadExpectations(options, result, measured.fanoutMs?.p95 ?? null)
  const failedToStart =
    result.reason === 'too-many-open-files' ||
    result.reason === 'trigger-failed' ||
    measured.connections.opened === 0
  const exitCode =
    result.reason === 'interrupted'
      ? SIGNAL_EXIT_CODES[signal ?? 'SIGINT']
      : failedToStart
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

/** Why a run exited 3, but for file descriptors, which tooManyFilesHelp() explains. */
function noConnectionMessage(summary: LoadSummaryRecord): string | undefined {
  if (summary.exitCode !== NO_CONNECTION || summary.reason === 'too-many-open-files') return
  if (summary.message !== undefined) return summary.message
  const kinds = Object.entries(summary.errors).map(([kind, count]) => `${kind} ×${count}`)
  return `no connection could be made${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`
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

/**
 * The default --max-event-size of each of `connections`: every connection may hold a line that
 * long at once, and a thousand of 16 MiB (a server sending endless lines) ran the heap out of
 * memory, a crash. 1 GiB over all of them, but never less than 64 KiB each.
 */
export function loadMaxEventSize(connections: number): number {
  return Math.max(64 * 1024, Math.min(16 * 1024 ** 2, Math.floor(1024 ** 3 / connections)))
}
