import { counted } from '../../engine/counted.ts'
import { visible } from '../../engine/escape.ts'
import type { ProbeOptions } from '../../engine/options.ts'
import { type ProbeSink, startProbe } from '../../engine/probe.ts'
import { redactHeaders, redactUrl } from '../../engine/redact.ts'
import { checkProxyVariables, type StreamRequest } from '../../engine/request.ts'
import { llmExtensionFor } from '../../llm/options.ts'
import type { RawProbeFlags } from '../args.ts'
import type { RunContext } from '../context.ts'
import {
  addContracts,
  contractsOf,
  displayOptionsFrom,
  probeOptionsFrom,
  readRequestBody,
} from '../options.ts'
import { createOutput, type DisplayOptions } from '../output.ts'
import { onStopSignals } from '../signals.ts'
import { OUTPUT_FAILED, RECORD_INCOMPLETE } from '../written.ts'

/** `sse-probe <url>`: probe, print the summary, return the exit code. */
export async function runProbe(
  url: URL,
  flags: RawProbeFlags,
  context: RunContext,
): Promise<number> {
  const contracts = contractsOf(flags, url)
  const body = await readRequestBody(flags.data, context)
  const options = probeOptionsFrom(url, flags, body)
  if (!options.request.proxy) checkProxyVariables(context.env)
  await addContracts(options, contracts, context)
  return probeAndSummarise(options, displayOptionsFrom(flags), context, flags)
}

/** Runs the probe with the terminal as its sink: the same records the library yields. */
export async function probeAndSummarise(
  options: ProbeOptions,
  display: DisplayOptions,
  context: RunContext,
  flags: Pick<RawProbeFlags, 'llm' | 'expectLlm'>,
): Promise<number> {
  const output = await createOutput({ ...display, pingEvent: options.stream.pingEvent }, context)
  if (display.warning) output.error(`sse-probe: ${display.warning}`)
  // JSON has nothing to show but summary.llm: no view, and nothing handed over per delta.
  const view = display.format !== 'json'
  const live = output.llmLive
  const llm = llmExtensionFor(flags.llm, flags.expectLlm ?? false, {
    ...(view && {
      onProfile: () =>
        output.startLlm(() => ({ batched: llm?.batched ?? false, cut: llm?.cut ?? false })),
    }),
    ...(live && { onOutput: output.llmOutput }),
    ...(!view && !display.quiet && { dataJson: true }),
  })
  // Into the same array: the contracts' isControlEvent looks for it there. First, as the library
  // has it: on an event that is both a streamed error and a --fail-fast violation, the stream
  // error ends the probe (exit 3), as it does without --fail-fast; and the summary is the same.
  if (llm) options.extensions.unshift(llm)
  let recordStopped = false
  const sink: ProbeSink = {
    emit: output.emit,
    flush: output.flush,
    ...(output.raw && { raw: output.raw }),
    events: output.events,
    commentText: output.commentText,
    recordStopped(message) {
      recordStopped = true
      output.error(`sse-probe: ${message}`)
    },
    ...(display.verbose && {
      request: (request) => output.error(requestLines(request, options.showSecrets)),
    }),
  }
  let probe: ReturnType<typeof startProbe>
  try {
    probe = startProbe(options, sink)
  } catch (error) {
    output.close()
    throw error
  }
  const signals = onStopSignals(context, (name) => probe.interrupt(name))
  let outputClosed = false
  // `sse-probe URL | head` (or `2>&1 | head`): the reader has gone, so stop quietly. Any other
  // failed write (a full disk) stops the probe too; the CLI's entry says so and exits 74.
  const onOutputError = (error: NodeJS.ErrnoException) => {
    outputClosed ||= error.code === 'EPIPE'
    output.mute()
    probe.interrupt()
  }
  context.stdout.on('error', onOutputError)
  context.stderr.on('error', onOutputError)
  try {
    const summary = await probe.done
    await output.settled()
    if (recordStopped) output.error(RECORD_INCOMPLETE)
    output.close()
    if (recordStopped) return OUTPUT_FAILED
    return outputClosed ? 0 : summary.exitCode
  } finally {
    signals.dispose()
  }
}

/** What `-v` shows of a request, as `curl -v` does: its line and headers, credentials redacted. */
function requestLines(request: StreamRequest, showSecrets: boolean): string {
  const { url, method, headers, body } = request
  const target = `${url.pathname}${url.search}`
  const lines = [`${method} ${showSecrets ? target : redactUrl(target)}`, `Host: ${url.host}`]
  for (const [name, value] of Object.entries(redactHeaders(headers, showSecrets))) {
    lines.push(`${name}: ${value}`)
  }
  if (body) lines.push(`(a body of ${counted(body.length, 'byte')})`)
  return lines.map((line) => `> ${visible(line)}`).join('\n')
}
