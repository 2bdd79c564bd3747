import { runDiff } from '../../contracts/diff-command.ts'
import { probeFailed, SideUnreadable } from '../../contracts/diff-sides.ts'
import { SseProbeUsageError } from '../../engine/errors.ts'
import { SIGNAL_EXIT_CODES } from '../../engine/exit-code.ts'
import { startProbe } from '../../engine/probe.ts'
import type { ProbeRecord } from '../../engine/records.ts'
import { checkProxyVariables } from '../../engine/request.ts'
import { urlArg } from '../../engine/validate.ts'
import { llmExtensionFor } from '../../llm/options.ts'
import type { DiffFlags, RawProbeFlags } from '../args.ts'
import type { RunContext } from '../context.ts'
import { probeOptionsFrom, readRequestBody } from '../options.ts'
import { colors, createTerminal } from '../output.ts'
import { onStopSignals } from '../signals.ts'

// What a live side may bring, as diff keeps every event until the stream ends: two endless fast
// streams with no end given ran the heap out of memory (a crash) within a minute.
export const MAX_LIVE_EVENTS = 1_000_000
const MAX_LIVE_CHARS = 256 * 1024 ** 2

/** `sse-probe diff <left> <right>`: URL sides are probed here, with the request, stream and end flags. */
export async function runDiffCommand(
  left: string,
  right: string,
  flags: DiffFlags,
  context: RunContext,
): Promise<number> {
  const terminal = createTerminal(context)
  const { chalk } = await colors(context, flags.color)
  // Stdin can be read once.
  if (flags.data === '@-' && (left === '-' || right === '-'))
    throw new SseProbeUsageError("-d @- and a '-' side both read stdin: give one of them as a file")
  const body = await readRequestBody(flags.data, context)
  const running = new Set<ReturnType<typeof startProbe>>()
  const stopped = new AbortController()
  const signals = onStopSignals(context, (name) => {
    stopped.abort()
    for (const probe of running) probe.interrupt(name)
  })
  context.stdout.on('error', () => {})
  const pings = flags.pings === true
  const bounded =
    [flags.maxEvents, flags.duration, flags.timeout, flags.idleTimeout, flags.endData].some(
      (f) => f !== undefined,
    ) ||
    (Array.isArray(flags.endEvent) && flags.endEvent.length > 0)
  try {
    const code = await runDiff(left, right, flags, {
      stdout: { write: terminal.out },
      stderr: { write: terminal.err },
      style: { bad: chalk.red, good: chalk.green, dim: chalk.dim },
      signal: stopped.signal,
      async probe(text) {
        let url: URL
        try {
          url = urlArg(text)
        } catch (error) {
          throw new SideUnreadable(`${text}: ${(error as Error).message}`)
        }
        // The probe's own display flags do not exist here: only what shapes the stream matters.
        const options = probeOptionsFrom(url, { ...flags, format: 'json' } as RawProbeFlags, body)
        // As a probe does, it ends at an LLM stream's end marker ([DONE], message_stop) or error.
        const llm = llmExtensionFor('auto', false)
        if (llm) options.extensions.push(llm)
        if (!options.request.proxy) checkProxyVariables(context.env)
        // A Ctrl-C that came first (while -d @- was read, held until now) stops the command.
        if (signals.received) throw new SideUnreadable(`${text}: interrupted before it was probed`)
        const records: ProbeRecord[] = []
        let events = 0
        let chars = 0
        let overflowed = false
        const probe = startProbe(options, {
          emit(record) {
            if (overflowed) return
            // Comments are compared only with --pings: without it, nothing needs them kept.
            if (record.type === 'comment' && !pings) return
            if (record.type === 'event' || record.type === 'comment') {
              chars +=
                record.type === 'comment'
                  ? record.text.length
                  : record.data.length + record.event.length + (record.id?.length ?? 0)
              if (++events > MAX_LIVE_EVENTS || chars > MAX_LIVE_CHARS) {
                overflowed = true
                for (const side of running) side.interrupt()
                return
              }
            }
            records.push(record)
          },
          flush: () => undefined,
          events: true,
          commentText: pings,
        })
        running.add(probe)
        const summary = await probe.done
        if (overflowed)
          throw new SideUnreadable(
            `${text}: more than ${MAX_LIVE_EVENTS.toLocaleString('en-US')} events${pings ? ' and comments' : ''} or 256 MiB of them, which diff keeps to compare: give a URL side an end (-n, --end-event, --duration, -t)`,
          )
        if (summary.reason === 'interrupted' && !bounded) {
          // A stream that closes and is reconnected to forever never ends by itself.
          throw new SideUnreadable(
            `${text}: interrupted before the stream ended: give a URL side an end (-n, --end-event, --duration, -t)`,
          )
        }
        if (summary.reason === 'interrupted' && summary.connections === 0) {
          throw new SideUnreadable(`${text}: interrupted before it answered`)
        }
        if (probeFailed(summary) || summary.reason === 'interrupted') {
          throw new SideUnreadable(`${text}: ${summary.message ?? summary.reason}`)
        }
        return records
      },
    })
    return signals.received ? SIGNAL_EXIT_CODES[signals.received] : code
  } finally {
    signals.dispose()
  }
}
