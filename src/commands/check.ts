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
  if (!options.json && context.stderr.isTTY)
    context.stderr.write(
      `checking ${visible(shownUrl)} for up to ${formatDuration(options.windowMs)}…\n`,
    )
  const interrupt = new AbortController()
  const signals = onStopSignals(context.process, () => interrupt.abort())
  const observation = await observe(options, body, interrupt.signal).finally(() =>
    signals.dispose(),
  )
  const error = observation.connections[0]!.error
  let report: CheckReport
  if (error !== undefined) {
    context.stderr.write(`error: could not connect to ${visible(shownUrl)}: ${visible(error)}\n`)
    report = { url: shownUrl, results: [], exitCode: COULD_NOT_CONNECT, message: error }
    if (options.json) context.stdout.write(renderCheckJson(report))
    return report.exitCode
  }
  const results = runChecks(observation)
  report = { url: shownUrl, observation, results, exitCode: checkExitCode(results, options.strict) }
  const chalk = new Chalk({ level: colorLevel(options.color, supportsColor, context.env) })
  context.stdout.write(options.json ? renderCheckJson(report) : renderCheckPretty(report, chalk))
  return signals.received ? SIGNAL_EXIT_CODES[signals.received] : report.exitCode
}
