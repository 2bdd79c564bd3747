// The parsed flags as the engine's and the output's options: what every command that probes
// (probe, demo, inspect, load, check, diff) starts from.

import { constants as buffers } from 'node:buffer'
import { statSync } from 'node:fs'
import {
  type ContractOptions,
  type ContractPlan,
  contractFacts,
  contractPlan,
  hasContracts,
} from '../contracts/options.ts'
import { fileProblem, SseProbeUsageError } from '../engine/errors.ts'
import { type ProbeOptions, toProbeOptions } from '../engine/options.ts'
import { readPipe } from '../engine/pipe.ts'
import type { RequestInput } from '../engine/request.ts'
import { bodyArg } from '../engine/validate.ts'
import type { DemoFlags, RawProbeFlags, RawRequestFlags } from './args.ts'
import type { RunContext } from './context.ts'
import type { DisplayOptions } from './output.ts'
import { blockFlags, ignoredFlags, toPrettyView } from './render/display.ts'
import { untilStopSignal } from './signals.ts'

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
  // --hide-pings and --events are display flags too: JSON has every comment record and every
  // event, raw every body byte.
  const ignored =
    format === 'pretty'
      ? []
      : [
          ...(flags.hidePings ? ['--hide-pings'] : []),
          ...(flags.events ? ['--events'] : []),
          ...ignoredFlags(view, format),
        ]
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

/**
 * The contract flags (--schema, --expect-order, --trigger…) checked, before anything waits (on
 * `-d @-`, say): undefined without any.
 */
export function contractsOf(flags: ContractOptions, url: URL): ContractPlan | undefined {
  return hasContracts(flags) ? contractPlan(flags, url) : undefined
}

/**
 * The contracts as extensions of the probe. Schemas and documents are read and compiled before
 * any request; Ajv loads only then. A stop signal while they are read (`--schema <(command)`
 * whose writer never comes) leaves them out: the probe then ends at once, interrupted.
 */
export async function addContracts(
  options: ProbeOptions,
  plan: ContractPlan | undefined,
  context: Pick<RunContext, 'process'>,
): Promise<void> {
  if (!plan) return
  const { createContractExtensions } = await import('../contracts/index.ts')
  const extensions = await untilStopSignal(
    context.process,
    createContractExtensions(plan, contractFacts(options)),
  )
  options.extensions.push(...(extensions ?? []))
}

/** `-d text`, `-d @file` or `-d @-` (stdin), read once and sent on every (re)connection. */
export async function readRequestBody(
  data: string | undefined,
  /** Read only for `@-`: touching process.stdin opens it, which costs every probe's start-up. */
  context: Pick<RunContext, 'stdin' | 'process'>,
): Promise<Buffer | undefined> {
  if (data === undefined) return undefined
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
  const file = data.startsWith('@') ? data.slice(1) : undefined
  if (file === undefined || !isPipe(file)) return bodyArg(data, DATA_FLAG)
  // `-d @<(command)` or a named pipe: its writer may never end or come, as a terminal's may not.
  const body = await untilStopSignal(
    context.process,
    readPipe(file, buffers.MAX_LENGTH, (size) => cannotRead(file, `more than ${size} bytes`)).catch(
      (error: unknown) => {
        throw error instanceof SseProbeUsageError ? error : cannotRead(file, fileProblem(error))
      },
    ),
  )
  return body ?? Buffer.alloc(0)
}

const DATA_FLAG = '-d, --data <text|@file|@->'

function cannotRead(file: string, why: string): SseProbeUsageError {
  return new SseProbeUsageError(`option '${DATA_FLAG}' cannot read '${file}': ${why}`)
}

function isPipe(file: string): boolean {
  try {
    return statSync(file).isFIFO()
  } catch {
    // bodyArg says what is wrong with it.
    return false
  }
}
