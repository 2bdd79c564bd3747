/**
 * sse-probe as a library (api.md): the records the CLI prints, as values. Nothing here prints,
 * installs a signal handler, exits the process or keeps global state.
 */
import { observe } from './check/observe.ts'
import { toCheckOptions } from './check/options.ts'
import { type CheckRecord, type CheckSummaryRecord, checkRecords, judge } from './check/render.ts'
import {
  CONTRACT_OPTIONS,
  type ContractOptions,
  type ContractPlan,
  contractFacts,
  contractPlan,
  hasContracts,
} from './contracts/options.ts'
import { SseProbeUsageError } from './engine/errors.ts'
import { SIGNAL_EXIT_CODES } from './engine/exit-code.ts'
import type { ProbeOptions as EngineOptions } from './engine/options.ts'
import {
  booleanOption,
  checked,
  type Duration,
  durationOption,
  fromLibraryOptions,
  knownOptions,
  PROBE_OPTIONS,
  type ProbeLibraryOptions,
  REQUEST_OPTIONS,
  type RequestLibraryOptions,
  requestFromLibrary,
  signalOption,
  stringList,
} from './engine/options.ts'
import { openRecorder, type Probe, type ProbeSink, startProbe } from './engine/probe.ts'
import type { ProbeRecord, SummaryRecord } from './engine/records.ts'
import { redactText, redactUrl } from './engine/redact.ts'
import { checkProxyVariables } from './engine/request.ts'
import { originArg, speedArg } from './engine/validate.ts'
import { llmExtensionFor } from './llm/options.ts'
import type { LlmMode } from './llm/types.ts'
import type { LocalServer } from './server/local-server.ts'
import { readReplayFile, startReplay } from './server/replay.ts'
import { parseReplayFile } from './server/replay-plan.ts'

export type { CheckRecord, CheckSummaryRecord } from './check/render.ts'
export type {
  Ending,
  ExtensionContext,
  ExtensionResult,
  ProbeExtension,
} from './engine/extension.ts'
export type {
  Duration,
  ReconnectWhen,
  RequestLibraryOptions as RequestOptions,
} from './engine/options.ts'
export type {
  CloseRecord,
  CommentRecord,
  EndReason,
  ErrorRecord,
  EventRecord,
  ExpectationResult,
  GapStats,
  OpenRecord,
  ProbeRecord,
  ReconnectRecord,
  RetryRecord,
  SummaryRecord,
  TriggerRecord,
  ViolationRecord,
} from './engine/records.ts'
export type { KnownBlocks } from './engine/stream.ts'
export type {
  LlmChoice,
  LlmMode,
  LlmProblem,
  LlmProfile,
  LlmSummary,
  LlmToolCall,
} from './llm/types.ts'
export type { ContractOptions }
export { SseProbeUsageError }

/**
 * `probe(url, options)`: every option of `sse-probe <url>` by its long name in camelCase, the
 * contract flags included (contracts.md).
 */
export interface ProbeOptions extends ProbeLibraryOptions, ContractOptions {
  /** LLM stream format (llm.md): 'auto' (default), a profile to force, or 'off'. */
  llm?: LlmMode
  /** --expect-llm: an LLM stream was recognised and `summary.llm.problems` is empty. */
  expectLlm?: boolean
}

/** A running probe: its records as an async iterable (the summary last), its summary, abort(), reconnect(). */
export interface ProbeRun extends AsyncIterable<ProbeRecord> {
  /**
   * Resolves when the probe ends, whether or not anyone iterates. Asked for before iterating,
   * it tells the probe that nobody will: records are then not kept.
   */
  readonly summary: Promise<SummaryRecord>
  /** Ends the probe as Ctrl-C does: reason `interrupted`, exit code 130, summary still produced. */
  abort(): void
  /**
   * Drops the connection now, as inspect's `r` does, to watch the resume: the probe reconnects
   * with Last-Event-ID as after any drop (a reconnect wait is cut short). False, and nothing
   * done, when there is nothing to drop: a request still waiting for its response, a probe that
   * has ended, or `reconnect: 'never'` (a drop would end it).
   */
  reconnect(): boolean
}

// Records held for a slow consumer before the connection is read no further (TCP then holds the
// server back), and the level at which reading resumes.
const HIGH_WATER = 256
const LOW_WATER = 64

/**
 * Probes an SSE endpoint as `sse-probe <url>` does. Returns at once; the connection starts on the
 * next tick. A bad option throws SseProbeUsageError now, with the CLI's message; every failure of
 * the endpoint ends in the summary's `reason`.
 */
export function probe(url: string | URL, options: ProbeOptions = {}): ProbeRun {
  const { signal, probeOptions, contracts } = validating(options?.showSecrets, () => {
    knownOptions(options, [...PROBE_OPTIONS, ...CONTRACT_OPTIONS, 'llm', 'expectLlm'])
    const { signal, llm: mode, expectLlm, ...rest } = options
    const probeOptions = fromLibraryOptions(url, rest)
    const llm = llmExtensionFor(mode, booleanOption('expectLlm', expectLlm))
    if (llm) probeOptions.extensions.push(llm)
    if (!probeOptions.request.proxy) checkProxyVariables(process.env)
    signalOption(signal)
    const contracts = hasContracts(rest) ? contractPlan(rest, probeOptions.request.url) : undefined
    return { signal, probeOptions, contracts }
  })
  const queue: ProbeRecord[] = []
  let keep = true
  let iterating = false
  let settled = false
  // Every loop waiting for a record: two loops over one probe share its records, and both end.
  let waiting: (() => void)[] = []
  const wake = () => {
    for (const resolve of waiting) resolve()
    waiting = []
  }
  let resume: (() => void) | undefined
  let backlog: Promise<void> | undefined
  const sink: ProbeSink = {
    emit(record) {
      if (!keep && record.type !== 'summary') return
      queue.push(record)
      wake()
    },
    flush() {
      if (!iterating || queue.length < HIGH_WATER) return undefined
      backlog ??= new Promise<void>((resolve) => (resume = resolve))
      return backlog
    },
    events: true,
    commentText: true,
  }
  const running = contracts
    ? startWithContracts(probeOptions, contracts, sink)
    : startProbe(probeOptions, sink)
  let failure: { error: unknown } | undefined
  running.done
    .catch((error: unknown) => {
      failure = { error }
    })
    .finally(() => {
      settled = true
      wake()
    })
  const abort = () => running.interrupt('SIGINT')
  const unlink = onAbort(signal, abort)
  void running.done.finally(unlink).catch(() => {})

  async function* records(): AsyncGenerator<ProbeRecord> {
    iterating = true
    try {
      for (;;) {
        const record = queue.shift()
        if (record) {
          if (resume && queue.length <= LOW_WATER) {
            resume()
            resume = backlog = undefined
          }
          yield record
          if (record.type === 'summary') return
          continue
        }
        if (failure) throw failure.error
        // The summary went to another loop, or to an earlier one: nothing more will come.
        if (settled) return
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
    } finally {
      // A loop left early (break, throw) is done with the probe.
      abort()
      resume?.()
    }
  }

  return {
    get summary() {
      // Asked for before any loop, and no loop starts in this turn of the event loop either
      // (`run.summary.then(…)` then `for await`): nobody iterates, and records are not kept.
      if (!iterating && keep) {
        setImmediate(() => {
          if (iterating) return
          keep = false
          queue.splice(0, queue.at(-1)?.type === 'summary' ? queue.length - 1 : queue.length)
        })
      }
      return running.done
    },
    abort,
    reconnect: () => !settled && probeOptions.reconnect.when !== 'never' && running.reconnect(),
    [Symbol.asyncIterator]: records,
  }
}

/**
 * Runs a library call's validation. Its SseProbeUsageError has the message the CLI prints, and
 * the CLI prints it with credentials <redacted> unless --show-secrets (cli/main.ts): an
 * application logs what it throws, to the same CI logs.
 */
function validating<T>(showSecrets: unknown, validate: () => T): T {
  try {
    return validate()
  } catch (error) {
    if (!(error instanceof SseProbeUsageError) || showSecrets === true) throw error
    throw new SseProbeUsageError(redactText(error.message))
  }
}

// The probes and checks that share each AbortSignal, behind one listener on it: past 10 listeners
// on one signal, Node warns on stderr.
const sharing = new WeakMap<AbortSignal, Set<() => void>>()

/** Runs `abort` when `signal` aborts (now, if it has), until the returned function is called. */
function onAbort(signal: AbortSignal | undefined, abort: () => void): () => void {
  if (!signal) return () => {}
  if (signal.aborted) {
    abort()
    return () => {}
  }
  let aborts = sharing.get(signal)
  if (!aborts) {
    const all = new Set<() => void>()
    const abortAll = () => {
      for (const each of all) each()
    }
    signal.addEventListener('abort', abortAll, { once: true })
    sharing.set(signal, (aborts = all))
  }
  aborts.add(abort)
  return () => aborts.delete(abort)
}

/**
 * A probe with contract options (validated already): schemas and documents are read
 * (asynchronously, an OpenAPI document's references too) before it connects. One that cannot be
 * used rejects the summary (and the iteration) with SseProbeUsageError, and no request is sent.
 * The transcript opens now, as without contracts: a `record` file that cannot be written throws.
 */
function startWithContracts(
  options: EngineOptions,
  contracts: ContractPlan,
  sink: ProbeSink,
): Probe {
  const recorder = openRecorder(options, sink)
  let probe: Probe | undefined
  let interrupted: Parameters<Probe['interrupt']> | undefined
  const done = import('./contracts/index.ts')
    .then(({ createContractExtensions }) =>
      createContractExtensions(contracts, contractFacts(options)),
    )
    .then(
      (extensions) => {
        const all = [...options.extensions, ...extensions]
        probe = startProbe({ ...options, extensions: all }, sink, recorder)
        if (interrupted) probe.interrupt(...interrupted)
        return probe.done
      },
      (error: unknown) => {
        recorder?.close()
        throw error
      },
    )
  return {
    done,
    interrupt(...signal) {
      if (probe) probe.interrupt(...signal)
      else interrupted = signal
    },
    reconnect: () => probe?.reconnect() ?? false,
  }
}

/** `serve(source, options)`: how the replay is played. */
export interface ServeOptions {
  /** 0 (default): any free port. */
  port?: number
  /** 127.0.0.1 unless said otherwise. */
  host?: string
  /** 1 (default) plays the recorded timing, 2 twice as fast, 0 as fast as possible. */
  speed?: number
  /** Start again from the beginning after the last record. */
  loop?: boolean
  /** Between the events of a plain event-stream file (default 1s; 0: none). */
  interval?: Duration
}

const serveNames: Record<keyof ServeOptions, true> = {
  port: true,
  host: true,
  speed: true,
  loop: true,
  interval: true,
}

export interface SseServer {
  /** The URL to point a client at. */
  url: string
  /** Closes the server and every connection still open. */
  close(): Promise<void>
}

/**
 * A mock SSE endpoint, as `sse-probe serve` runs it: replays a transcript (`--record` output), a
 * raw `.sse` capture, or an array of records (events alone will do: an `open` is implied).
 */
export async function serve(
  source: string | readonly ProbeRecord[],
  options: ServeOptions = {},
): Promise<SseServer> {
  knownOptions(options, Object.keys(serveNames))
  const intervalMs = durationOption('interval', options.interval, false)
  const speed =
    typeof options.speed === 'number' && options.speed >= 0
      ? options.speed
      : checked('speed', String(options.speed ?? 1), speedArg)
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    checked('port', String(port), () => {
      throw new SseProbeUsageError('expected a port number from 0 to 65535 (0: any free port)')
    })
  }
  // Checked before listening: a server that failed to start must not be left bound.
  const host = options.host
  if (host !== undefined && (typeof host !== 'string' || host === ''))
    throw new SseProbeUsageError('option host: expected a host name or an IP address')
  let plan: Awaited<ReturnType<typeof readReplayFile>>
  if (typeof source === 'string') plan = await readReplayFile(source, intervalMs)
  else if (Array.isArray(source)) {
    // Events alone are enough: a connection opens before them, as a recording would show it.
    const opened = source.find((record) => record?.type !== 'summary')?.type === 'open'
    const open = {
      type: 'open',
      t: 0,
      attempt: 1,
      url: '',
      status: 200,
      httpVersion: '1.1',
      headers: {},
    }
    const lines = [...(opened ? [] : [open]), ...source]
      .map((r) => JSON.stringify(r) ?? 'null')
      .join('\n')
    try {
      plan = parseReplayFile(Buffer.from(lines), 'records', intervalMs)
    } catch (error) {
      if (!(error instanceof SseProbeUsageError)) throw error
      // The transcript's line numbers, as places in the caller's array (`records[0]` for the
      // first), which the implied open is not one of.
      throw new SseProbeUsageError(
        error.message.replace(/^records:(\d+):/, (_, line: string) => {
          const index = Number(line) - (opened ? 1 : 2)
          return index < 0 ? 'records:' : `records[${index}]:`
        }),
      )
    }
  } else throw new SseProbeUsageError('serve(source): expected a file path or an array of records')
  const server: LocalServer = await startReplay(plan, {
    port,
    speed,
    loop: booleanOption('loop', options.loop),
    ...(host !== undefined && { host }),
  })
  return server
}

/** `check(url, options)`: the options of `sse-probe check`. */
export interface CheckOptions extends RequestLibraryOptions {
  /** How long to observe (default 20s; less if the stream ends). */
  window?: Duration
  /** Send Origin and check that CORS allows it. */
  origin?: string
  endEvent?: string | readonly string[]
  /** Warnings fail too. */
  strict?: boolean
  /** Ends the observation early, as Ctrl-C does: the report covers what was seen, exit code 130. */
  signal?: AbortSignal
}

const checkNames: Record<Exclude<keyof CheckOptions, keyof RequestLibraryOptions>, true> = {
  window: true,
  origin: true,
  endEvent: true,
  strict: true,
  signal: true,
}

export interface CheckReport {
  checks: CheckRecord[]
  summary: CheckSummaryRecord
}

/** Lints an endpoint as `sse-probe check --json` does; resolves to its records as objects. */
export async function check(url: string | URL, options: CheckOptions = {}): Promise<CheckReport> {
  // As `sse-probe check`, which has no --show-secrets.
  const { request, checkOptions, signal } = validating(false, () => {
    knownOptions(options, [...REQUEST_OPTIONS, ...Object.keys(checkNames)])
    const request = requestFromLibrary(url, options)
    const origin = options.origin
    const endEvent = options.endEvent
    const checkOptions = toCheckOptions({
      ...request,
      windowMs: durationOption('window', options.window, true),
      ...(origin !== undefined && { origin: checked('origin', String(origin), originArg) }),
      ...(endEvent !== undefined && { endEvents: stringList('endEvent', endEvent) }),
      strict: booleanOption('strict', options.strict),
    })
    if (!checkOptions.proxy) checkProxyVariables(process.env)
    return { request, checkOptions, signal: signalOption(options.signal) }
  })
  const interrupt = new AbortController()
  const unlink = onAbort(signal, () => interrupt.abort())
  const observation = await observe(checkOptions, signal && interrupt.signal).finally(unlink)
  const judged = judge(observation, redactUrl(request.url.href), checkOptions.strict)
  // As the CLI after Ctrl-C: the report covers what was seen, and the exit code says interrupted.
  const report = interrupt.signal.aborted
    ? { ...judged, exitCode: SIGNAL_EXIT_CODES.SIGINT }
    : judged
  const records = checkRecords(report)
  return {
    checks: records.filter((record): record is CheckRecord => record.type === 'check'),
    summary: records.at(-1) as CheckSummaryRecord,
  }
}
