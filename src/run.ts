import { readFile } from 'node:fs/promises'
import { exitCodeFor } from './exit-code.ts'
import { evaluateExpectations } from './expectations.ts'
import {
  checkProxyVariables,
  type ProbeOptions,
  type RawProbeFlags,
  toProbeOptions,
  UsageError,
} from './options.ts'
import { createOutput, type OutputStreams } from './output.ts'
import { type ProbeIo, startProbe } from './probe.ts'
import { createRecorder } from './record.ts'
import type { SummaryRecord } from './records.ts'
import { onStopSignals } from './signals.ts'

export interface RunContext extends OutputStreams {
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
  const options = toProbeOptions(url, flags)
  if (!options.proxy) checkProxyVariables(context.env)
  const body = await readRequestBody(options.data, context.stdin)
  return probeAndSummarise(options, body, context)
}

export async function probeAndSummarise(
  options: ProbeOptions,
  body: Buffer | undefined,
  context: RunContext,
): Promise<number> {
  const recorder =
    options.record === undefined
      ? undefined
      : createRecorder(options.record, (message) => context.stderr.write(`sse-probe: ${message}\n`))
  const output = await createOutput(options, context)
  // The transcript sees every record, whatever the format shows.
  const io: ProbeIo = recorder
    ? {
        emit(record) {
          recorder.write(record)
          output.emit(record)
        },
        flush: output.flush,
        raw: output.raw,
        events: true,
        commentText: true,
      }
    : output
  const probe = startProbe(options, body, io)
  const signals = onStopSignals(context.process, () => probe.stop('interrupted'))
  let outputClosed = false
  const onOutputError = (error: NodeJS.ErrnoException) => {
    // `sse-probe URL | head` (or `2>&1 | head`): the reader has gone, so stop quietly.
    if (error.code === 'EPIPE') outputClosed = true
    probe.stop('interrupted')
  }
  context.stdout.on('error', onOutputError)
  context.stderr.on('error', onOutputError)
  try {
    const result = await probe.done
    const expectations = evaluateExpectations(options.expect, result.stats, result.reason)
    const exitCode = outputClosed ? 0 : exitCodeFor(result.reason, expectations, signals.received)
    const { maxSilenceMs: _silence, dataMatched: _matched, ...counts } = result.stats
    const summary: SummaryRecord = {
      type: 'summary',
      t: result.t,
      reason: result.reason,
      exitCode,
      ...(result.message !== undefined && { message: result.message }),
      ...counts,
      expectations,
    }
    recorder?.write(summary)
    if (!outputClosed) output.emit(summary)
    output.close()
    return exitCode
  } finally {
    recorder?.close()
    signals.dispose()
  }
}

/** `-d text`, `-d @file` or `-d @-` (stdin), read once and sent on every (re)connection. */
export async function readRequestBody(
  data: string | undefined,
  stdin: NodeJS.ReadableStream,
): Promise<Buffer | undefined> {
  if (data === undefined) return undefined
  if (!data.startsWith('@')) return Buffer.from(data)
  if (data === '@-') {
    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer))
    return Buffer.concat(chunks)
  }
  try {
    return await readFile(data.slice(1))
  } catch (error) {
    throw new UsageError(
      `option '-d, --data <text|@file|@->' cannot read '${data.slice(1)}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
}
