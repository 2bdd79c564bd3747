import { observe } from '../../check/observe.ts'
import { toCheckOptions } from '../../check/options.ts'
import { judge, renderCheckJson, renderCheckPretty } from '../../check/render.ts'
import { formatDuration } from '../../engine/duration.ts'
import { visible } from '../../engine/escape.ts'
import { SIGNAL_EXIT_CODES } from '../../engine/exit-code.ts'
import { redactUrl } from '../../engine/redact.ts'
import { checkProxyVariables } from '../../engine/request.ts'
import type { RawCheckFlags } from '../args.ts'
import type { RunContext } from '../context.ts'
import { readRequestBody, requestInputFrom } from '../options.ts'
import { colors, createTerminal, drawsLive } from '../output.ts'
import { onStopSignals } from '../signals.ts'

const ERASE_LINE = '\r\x1b[2K'

/** `sse-probe check <url>`: observe the endpoint, judge it, print the report, return the exit code. */
export async function runCheck(
  url: URL,
  flags: RawCheckFlags,
  context: RunContext,
): Promise<number> {
  const terminal = createTerminal(context)
  const body = await readRequestBody(flags.data, context)
  const options = toCheckOptions({
    ...requestInputFrom(url, flags, body),
    windowMs: flags.window,
    origin: flags.origin,
    endEvents: flags.endEvent,
    strict: flags.strict,
  })
  if (!options.proxy) checkProxyVariables(context.env)
  const json = flags.json ?? false
  const shownUrl = redactUrl(url.href)
  // The report is written once at the end: a reader that has gone (`| head`) is not an error.
  context.stdout.on('error', () => {})
  const progress =
    !json && drawsLive(context.stderr, context.env)
      ? await showTimeLeft(context, shownUrl, options.windowMs)
      : undefined
  const interrupt = new AbortController()
  const signals = onStopSignals(context, () => interrupt.abort())
  const observation = await observe(options, interrupt.signal).finally(() => {
    signals.dispose()
    progress?.stop()
  })
  // The terminal echoed ^C where the cursor was: the report starts on that line, cleared.
  if (signals.received && drawsLive(context.stdout, context.env)) terminal.out(ERASE_LINE)
  const judged = judge(observation, shownUrl, options.strict)
  const report = signals.received
    ? { ...judged, exitCode: SIGNAL_EXIT_CODES[signals.received] }
    : judged
  if (report.message !== undefined) {
    terminal.err(`error: could not connect to ${visible(shownUrl)}: ${visible(report.message)}\n`)
    if (json) terminal.out(renderCheckJson(report))
    return report.exitCode
  }
  const { chalk } = await colors(context, flags.color)
  terminal.out(json ? renderCheckJson(report) : renderCheckPretty(report, chalk))
  return report.exitCode
}

/** On a terminal, while the window runs: what is checked and how long it has left. */
async function showTimeLeft(context: RunContext, url: string, windowMs: number) {
  const { startStatusLine } = await import('../render/status-line.ts')
  const started = performance.now()
  // The report goes to stdout: piped (`| less`), another program may be reading the keyboard.
  const keyboard = context.stdout.isTTY ? process.stdin : undefined
  return startStatusLine(
    context.stderr,
    () => {
      const left = windowMs - (performance.now() - started)
      const time = left > 0 ? `${formatDuration(Math.ceil(left / 1000) * 1000)} left` : 'finishing'
      return `checking ${visible(url)} · ${time} · Ctrl-C reports now`
    },
    keyboard,
  )
}
