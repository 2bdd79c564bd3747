import {
  type ContractOptions,
  contractFacts,
  contractPlan,
  hasContracts,
} from '../../contracts/options.ts'
import { fileProblem, SseProbeUsageError } from '../../engine/errors.ts'
import { visible } from '../../engine/escape.ts'
import { type ProbeOptions, toProbeOptions } from '../../engine/options.ts'
import { type ProbeSink, startProbe } from '../../engine/probe.ts'
import { redactHeaders } from '../../engine/redact.ts'
import { checkProxyVariables, type RequestInput, type StreamRequest } from '../../engine/request.ts'
import { llmExtensionFor } from '../../llm/options.ts'
import type { DemoFlags, RawProbeFlags, RawRequestFlags } from '../args.ts'
import { createOutput, type DisplayOptions, type OutputStreams } from '../output.ts'
import { blockFlags, ignoredFlags, toPrettyView } from '../render/display.ts'
import { onStopSignals, type SignalSource, untilStopSignal } from '../signals.ts'

export interface RunContext extends OutputStreams, SignalSource {
  stdin: NodeJS.ReadableStream
  /** Signals and a closed stdout stop the probe; tests drive them through `process`. */
  process: NodeJS.Process
}

/** `sse-probe <url>`: probe, print the summary, return the exit code. */
export async function runProbe(
  url: URL,
  flags: RawProbeFlags,
  context: RunContext,
): Promise<number> {
  const body = await readRequestBody(flags.data, context)
  const options = probeOptionsFrom(url, flags, body)
  if (!options.request.proxy) checkProxyVariables(context.env)
  await addContracts(options, flags)
  return probeAndSummarise(options, displayOptionsFrom(flags), context, flags)
}

/**
 * The contract flags (--schema, --expect-order, --trigger…) as extensions of the probe. Schemas
 * and documents are read and compiled before any request; Ajv loads only then.
 */
export async function addContracts(options: ProbeOptions, flags: ContractOptions): Promise<void> {
  if (!hasContracts(flags)) return
  const { createContractExtensions } = await import('../../contracts/index.ts')
  const plan = contractPlan(flags)
  options.extensions.push(...(await createContractExtensions(plan, contractFacts(options))))
}

/** The flags as the engine's options: the same path the library's options take. */
export function probeOptionsFrom(
  url: URL,
  flags: RawProbeFlags | (DemoFlags & { connectTimeout: number }),
  body: Buffer | undefined,
): ProbeOptions {
  return toProbeOptions({
    ...requestInputFrom(url, flags, body),
    retryMs: flags.retry,
    reconnect: flags.reconnect,
    maxReconnects: flags.maxReconnects,
    maxEventSize: flags.maxEventSize,
    pingEvent: flags.pingEvent,
    endEvents: flags.endEvent,
    endData: flags.endData,
    maxEvents: flags.maxEvents,
    durationMs: flags.duration,
    timeoutMs: flags.timeout,
    idleTimeoutMs: flags.idleTimeout,
    expect: {
      events: flags.expectEvent ?? [],
      dataPatterns: flags.expectData ?? [],
      minEvents: flags.expectMinEvents,
      end: flags.expectEnd ?? false,
      reconnect: flags.expectReconnect ?? false,
      maxGapMs: flags.expectMaxGap,
    },
    showSecrets: flags.showSecrets,
    record: flags.record,
  })
}

/** The request flags (args.ts addRequestOptions) as the engine's request input. */
export function requestInputFrom(
  url: URL,
  flags: RawRequestFlags,
  body: Buffer | undefined,
): RequestInput {
  return {
    url,
    method: flags.method,
    headers: flags.header,
    body,
    lastEventId: flags.lastEventId,
    connectTimeoutMs: flags.connectTimeout,
    insecure: flags.insecure,
    proxy: flags.proxy,
  }
}

export function displayOptionsFrom(flags: RawProbeFlags | DemoFlags): DisplayOptions {
  if (flags.json && flags.format !== 'pretty' && flags.format !== 'json') {
    throw new SseProbeUsageError(`--json conflicts with --format ${flags.format}`)
  }
  const format = flags.json ? 'json' : flags.format
  const view = toPrettyView(flags)
  // --hide-pings is a display flag too: JSON has every comment record, raw every body byte.
  const ignored =
    format === 'pretty'
      ? []
      : [...(flags.hidePings ? ['--hide-pings'] : []), ...ignoredFlags(view, format)]
  const shows = format === 'json' ? 'shows every record' : 'writes the body as received'
  return {
    format,
    quiet: flags.quiet ?? false,
    ...(flags.color !== undefined && { color: flags.color }),
    hidePings: flags.hidePings ?? false,
    // With an LLM stream, --compact or --only asks for event blocks rather than the model's text.
    events: (flags.events ?? false) || blockFlags(view).length > 0,
    include: flags.include ?? false,
    verbose: flags.verbose ?? false,
    view,
    ...(ignored.length > 0 && {
      warning: `${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} for the pretty format: --format ${format} ${shows}`,
    }),
  }
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
    ...(view && { onProfile: () => output.startLlm(() => llm?.batched ?? false) }),
    ...(live && { onOutput: output.llmOutput }),
  })
  // Into the same array: the contracts' isControlEvent looks for it there. First, as the library
  // has it: on an event that is both a streamed error and a --fail-fast violation, the stream
  // error ends the probe (exit 3), as it does without --fail-fast; and the summary is the same.
  if (llm) options.extensions.unshift(llm)
  const sink: ProbeSink = {
    emit: output.emit,
    flush: output.flush,
    ...(output.raw && { raw: output.raw }),
    events: output.events,
    commentText: output.commentText,
    warn: (message) => output.error(`sse-probe: ${message}`),
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
    output.close()
    return outputClosed ? 0 : summary.exitCode
  } finally {
    signals.dispose()
  }
}

/** What `-v` shows of a request, as `curl -v` does: its line and headers, credentials redacted. */
function requestLines(request: StreamRequest, showSecrets: boolean): string {
  const { url, method, headers, body } = request
  const lines = [`${method} ${url.pathname}${url.search}`, `Host: ${url.host}`]
  for (const [name, value] of Object.entries(redactHeaders(headers, showSecrets))) {
    lines.push(`${name}: ${value}`)
  }
  if (body) lines.push(`(a body of ${body.length} bytes)`)
  return lines.map((line) => `> ${visible(line)}`).join('\n')
}

/** `-d text`, `-d @file` or `-d @-` (stdin), read once and sent on every (re)connection. */
export async function readRequestBody(
  data: string | undefined,
  /** Read only for `@-`: touching process.stdin opens it, which costs every probe's start-up. */
  context: Pick<RunContext, 'stdin' | 'process'>,
  /** The flag as the error names it (`load --trigger-data` reads its body the same way). */
  flag = '-d, --data <text|@file|@->',
): Promise<Buffer | undefined> {
  if (data === undefined) return undefined
  if (!data.startsWith('@')) return Buffer.from(data)
  if (data === '@-') {
    const chunks: Buffer[] = []
    // Ctrl-C at a terminal, where the end (Ctrl-D) may never come: the command starts, interrupted.
    await untilStopSignal(
      context.process,
      (async () => {
        for await (const chunk of context.stdin) chunks.push(Buffer.from(chunk as Buffer))
      })(),
    )
    return Buffer.concat(chunks)
  }
  try {
    // Loaded here: node:fs/promises costs every probe's start-up, and only -d @file needs it.
    return await process.getBuiltinModule('node:fs/promises').readFile(data.slice(1))
  } catch (error) {
    throw new SseProbeUsageError(
      `option '${flag}' cannot read '${data.slice(1)}': ${fileProblem(error)}`,
    )
  }
}
