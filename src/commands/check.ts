import { Chalk, supportsColor } from 'chalk'
import { checkExitCode, runChecks } from '../check/checks.ts'
import { observe } from '../check/observe.ts'
import { type RawCheckFlags, toCheckOptions } from '../check/options.ts'
import { type CheckReport, renderCheckJson, renderCheckPretty } from '../check/render.ts'
import { formatDuration } from '../duration.ts'
import { SIGNAL_EXIT_CODES } from '../exit-code.ts'
import { checkProxyVariables } from '../options.ts'
import { colorLevel } from '../output.ts'
import { redactUrl } from '../redact.ts'
import { visible } from '../render/escape.ts'
import { type RunContext, readRequestBody } from '../run.ts'
import { onStopSignals } from '../signals.ts'

const COULD_NOT_CONNECT = 3
const ERASE_LINE = '\r\x1b[2K'

/** `sse-probe check <url>`: observe the endpoint, judge it, print the report, return the exit code. */
export async function runCheck(
  url: URL,
  flags: RawCheckFlags,
  context: RunContext,
): Promise<number> {
  const options = toCheckOptions(url, flags)
  if (!options.proxy) checkProxyVariables(context.env)
  const shownUrl = redactUrl(url.href)
  const body = await readRequestBody(options.data, context.stdin)
  // The report is written once at the end: a reader that has gone (`| head`) is not an error.
  context.stdout.on('error', () => {})
  const progress =
    !options.json && context.stderr.isTTY
      ? await showTimeLeft(context.stderr, shownUrl, options.windowMs)
      : undefined
  const interrupt = new AbortController()
  const signals = onStopSignals(context.process, () => interrupt.abort())
  const observation = await observe(options, body, interrupt.signal).finally(() => {
    signals.dispose()
    progress?.stop()
  })
  // The terminal echoed ^C where the cursor was: the report starts on that line, cleared.
  if (signals.received && context.stdout.isTTY) context.stdout.write(ERASE_LINE)
  const interrupted = signals.received && SIGNAL_EXIT_CODES[signals.received]
  const error = observation.connections[0]!.error
  let report: CheckReport
  if (error !== undefined) {
    context.stderr.write(`error: could not connect to ${visible(shownUrl)}: ${visible(error)}\n`)
    report = {
      url: shownUrl,
      results: [],
      exitCode: interrupted || COULD_NOT_CONNECT,
      message: error,
    }
    if (options.json) context.stdout.write(renderCheckJson(report))
    return report.exitCode
  }
  const results = runChecks(observation)
  report = {
    url: shownUrl,
    observation,
    results,
    exitCode: interrupted || checkExitCode(results, options.strict),
  }
  const chalk = new Chalk({ level: colorLevel(options.color, supportsColor, context.env) })
  context.stdout.write(options.json ? renderCheckJson(report) : renderCheckPretty(report, chalk))
  return report.exitCode
}

/** On a terminal, while the window runs: what is checked and how long it has left. */
async function showTimeLeft(stderr: RunContext['stderr'], url: string, windowMs: number) {
  const { startStatusLine } = await import('../render/status-line.ts')
  const started = performance.now()
  return startStatusLine(stderr, () => {
    const left = windowMs - (performance.now() - started)
    return `checking ${visible(url)} · ${left > 0 ? `${formatDuration(Math.ceil(left / 1000) * 1000)} left` : 'finishing'} · Ctrl-C reports now`
  })
}
