import { closeSync, openSync, writeFileSync } from 'node:fs'
import { dirname, resolve as resolvePath } from 'node:path'
import { isatty, ReadStream } from 'node:tty'
import inkChalk from 'chalk'
import { render } from 'ink'
import { type ReactNode, useLayoutEffect } from 'react'
import type { DisplayFlags, RawProbeFlags } from '../cli/args.ts'
import type { RunContext } from '../cli/context.ts'
import { addContracts, contractsOf, probeOptionsFrom, readRequestBody } from '../cli/options.ts'
import { colors } from '../cli/output.ts'
import { renderSummary } from '../cli/render/pretty.ts'
import { loadTextWidth } from '../cli/render/width.ts'
import { onStopSignals } from '../cli/signals.ts'
import { OUTPUT_FAILED, RECORD_INCOMPLETE } from '../cli/written.ts'
import { type ProbeSink, startProbe } from '../engine/probe.ts'
import type { ProbeRecord, SummaryRecord } from '../engine/records.ts'
import { redactUrl } from '../engine/redact.ts'
import { checkProxyVariables } from '../engine/request.ts'
import { llmExtensionFor } from '../llm/options.ts'
import { isCommand, type KeyInfo, keyAction, pasteAction, splitKeys } from './keys.ts'
import { displayedRecords, type InspectState, initialState, reduce } from './state.ts'
import { InspectApp } from './view.tsx'

/** The flags of `sse-probe inspect`: the probe's request, stream, end and expectation flags. */
export type RawInspectFlags = Pick<
  RawProbeFlags,
  'color' | 'hidePings' | 'showSecrets' | 'record'
> &
  Omit<RawProbeFlags, keyof DisplayFlags> & { buffer: number }

/** At most 20 frames a second: records that arrive between frames are applied together. */
const FRAME_MS = 50
/** The header's clock, rate and countdown move even when the stream is silent. */
const TICK_MS = 250

/**
 * `sse-probe inspect <url>`: the full-screen view. The probe runs as for `sse-probe <url>`;
 * its records go to the reducer instead of stdout, and the summary goes to stderr on quitting.
 */
export async function runInspect(
  url: URL,
  flags: RawInspectFlags,
  context: RunContext,
): Promise<number> {
  let stdin = context.stdin as NodeJS.ReadStream
  const stdout = context.stdout as NodeJS.WriteStream
  // stdin a pipe (a body for -d @-, `jq … | sse-probe inspect <url> -d @-`): the keys are read
  // from the terminal itself, as less reads them, rather than refusing for want of one.
  let reopened = stdout.isTTY && !stdin.isTTY ? openTerminal() : undefined
  if (!stdout.isTTY || !(stdin.isTTY || reopened)) {
    context.stderr.write(
      'error: sse-probe inspect needs a terminal; to print or pipe the stream use: sse-probe <url>\n',
    )
    return 2
  }
  const contracts = contractsOf(flags, url)
  const body = await readRequestBody(flags.data, context)
  // -d @- read the body typed at the terminal up to Ctrl-D, which ends that stream: the keys are
  // read from the terminal anew (Ink read nothing from the ended one: q and every key did nothing).
  if (!reopened && stdin.readableEnded) reopened = new ReadStream(0)
  if (reopened) stdin = reopened
  const options = probeOptionsFrom(url, { ...flags, format: 'pretty' }, body)
  if (!options.request.proxy) checkProxyVariables(context.env)
  // As for the probe: the LLM profile's extension (its end marker ends an LLM stream rather than
  // reconnecting, which would send the request to the model again), then the contracts'.
  await addContracts(options, contracts, context)
  const llm = llmExtensionFor(flags.llm, flags.expectLlm ?? false)
  if (llm) options.extensions.unshift(llm)
  const { chalk, chalkStderr } = await colors(context, flags.color)
  // The grid and the detail pane measure text in columns.
  await loadTextWidth()
  // Ink styles with chalk's default instance, which knows --no-color but not NO_COLOR.
  inkChalk.level = chalk.level

  let state: InspectState = initialState({
    // Without the user:password@ the URL may carry (it goes out as Authorization) and, unless
    // --show-secrets, without an API key in its query.
    url: options.showSecrets ? options.request.url.href : redactUrl(options.request.url.href),
    pingEvent: options.stream.pingEvent,
    capacity: flags.buffer,
    retryMs: options.reconnect.retryMs,
    startedAt: Date.now(),
    hidePings: flags.hidePings ?? false,
    width: stdout.columns,
    height: stdout.rows,
  })
  const startedAt = performance.now()
  const now = () => performance.now() - startedAt
  let pending: ProbeRecord[] = []
  let pendingBytes = 0
  let frameTimer: NodeJS.Timeout | undefined
  let lastFrame = 0
  // Shown in the footer, and said again on stderr once the screen is left (--record stopped).
  const recordStops: string[] = []

  const sink: ProbeSink = {
    emit(record) {
      pending.push(record)
    },
    flush() {
      schedule()
      return undefined
    },
    raw(chunk) {
      pendingBytes += chunk.length
    },
    events: true,
    commentText: true,
    recordStopped(message) {
      recordStops.push(message)
      state = reduce(state, { type: 'notice', text: message })
    },
  }

  // Before the screen is taken: a usage error (a --record file that cannot be written) is
  // then printed where the user sees it.
  const probe = startProbe(options, sink)
  const screen = () => (
    <NoAutowrap stdout={stdout}>
      <InspectApp state={state} chalk={chalk} onKey={onKey} onPaste={onPaste} />
    </NoAutowrap>
  )
  const ink = render(screen(), {
    stdout,
    stdin,
    stderr: context.stderr as NodeJS.WriteStream,
    exitOnCtrlC: false,
    patchConsole: false,
    alternateScreen: true,
    // A terminal is required above: under CI=true Ink would otherwise draw only the last frame.
    interactive: true,
    // Frames are already limited to 20 a second by schedule(): Ink's own throttle, set higher,
    // must not hold a key's frame back by another 50 ms.
    maxFps: 60,
    // Only the lines that changed are written: with the grid following the tail that is most of
    // them, but the header and a paused grid are left alone.
    incrementalRendering: true,
  })

  function frame() {
    frameTimer = undefined
    lastFrame = performance.now()
    if (pending.length > 0 || pendingBytes > 0) {
      state = reduce(state, { type: 'records', records: pending, bytes: pendingBytes, now: now() })
      pending = []
      pendingBytes = 0
    }
    state = reduce(state, { type: 'tick', now: now() })
    ink.rerender(screen())
  }

  function schedule() {
    frameTimer ??= setTimeout(frame, Math.max(0, lastFrame + FRAME_MS - performance.now()))
  }

  const ticker = setInterval(schedule, TICK_MS)
  const onResize = () => {
    state = reduce(state, { type: 'resize', width: stdout.columns, height: stdout.rows })
    schedule()
  }
  stdout.on('resize', onResize)

  let quit: () => void = () => {}
  const quitting = new Promise<void>((resolve) => (quit = resolve))
  // An exception while drawing: Ink has already left the screen; the probe ends and it is reported.
  let crash: unknown
  ink.waitUntilExit().catch((error: unknown) => {
    crash = error
    quit()
  })
  // SIGINT and SIGTERM end the probe as in `sse-probe <url>` (130, 143) and leave the screen.
  const signals = onStopSignals(context, (name) => {
    probe.interrupt(name)
    quit()
  })

  // The terminal has gone (its window closed) without a SIGHUP reaching us, as when the session's
  // leader ignores it: stdin ends. Without this the probe ran on, unseen, until killed.
  const onHangUp = () => {
    probe.interrupt('SIGHUP')
    quit()
  }
  stdin.once('end', onHangUp)

  function onKey(input: string, key: KeyInfo) {
    for (const [char, info] of splitKeys(input, key)) onOneKey(char, info)
  }

  function onPaste(text: string) {
    const action = pasteAction(state, text)
    if (!action) return
    state = reduce(state, action)
    schedule()
  }

  function onOneKey(input: string, key: KeyInfo) {
    const action = keyAction(state, input, key)
    if (!action) return
    if (!isCommand(action)) {
      state = reduce(state, action)
      return schedule()
    }
    if (action.type === 'quit') return quit()
    if (action.type === 'suspend') return suspend()
    if (action.type === 'reconnect') {
      state = reduce(state, { type: 'notice', text: reconnectNow() })
      return schedule()
    }
    state = reduce(state, { type: 'notice', text: writeRows(state) })
    schedule()
  }

  // Ctrl-Z: the shell's screen and modes back, stopped until `fg` (SIGCONT), then the screen is
  // taken and drawn whole again. A process group with no shell to bring it back (orphaned) is
  // not stopped by SIGTSTP: the screen comes back at once.
  let suspended: NodeJS.Timeout | undefined
  function suspend() {
    if (suspended) return
    stdout.write(LEAVE_SCREEN)
    stdin.setRawMode(false)
    process.once('SIGCONT', resume)
    suspended = setTimeout(resume, SUSPEND_CHECK_MS)
    try {
      process.kill(process.pid, 'SIGTSTP')
    } catch {
      // No job control here (Windows): the timer resumes.
    }
  }
  function resume() {
    if (!suspended) return
    clearTimeout(suspended)
    suspended = undefined
    process.off('SIGCONT', resume)
    stdin.setRawMode(true)
    stdout.write(ENTER_SCREEN)
    // What Ink drew is gone: the next frame is drawn whole.
    ink.clear()
    schedule()
  }

  /** `r`: drops the connection, unless that would end the probe instead of reconnecting. */
  function reconnectNow(): string {
    if (state.connection.state === 'ended') return 'the stream has ended'
    // A drop ends a --reconnect never probe (as 'server-closed'): not what r is pressed for.
    if (options.reconnect.when === 'never') return 'no reconnect with --reconnect never'
    return probe.reconnect()
      ? 'reconnect now: the connection is dropped'
      : 'no connection to drop yet: the request waits for its response'
  }

  // Node emits its warnings on a later tick: none has been printed over the screen yet.
  const releaseWarnings = holdWarnings()
  try {
    // The screen stays after the stream has ended, until the user quits (the header says how it ended).
    await quitting
    probe.interrupt()
    const { exitCode } = await probe.done
    if (crash) throw crash
    return recordStops.length > 0 ? OUTPUT_FAILED : exitCode
  } finally {
    clearInterval(ticker)
    clearTimeout(frameTimer)
    stdout.off('resize', onResize)
    stdin.off('end', onHangUp)
    signals.dispose()
    clearTimeout(suspended)
    process.off('SIGCONT', resume)
    ink.unmount()
    await ink.waitUntilExit().catch(() => {})
    // Once Ink has set the terminal back to cooked mode through it.
    reopened?.destroy()
    releaseWarnings()
    for (const message of recordStops) context.stderr.write(`sse-probe: ${message}\n`)
    const summary = await probe.done.catch(() => undefined)
    if (summary) context.stderr.write(renderSummary(summary, chalkStderr, await llmBlock(summary)))
    if (recordStops.length > 0) context.stderr.write(`${RECORD_INCOMPLETE}\n`)
  }

  /** The LLM lines of the summary (model, token timings, finish), as the probe prints them. */
  async function llmBlock(summary: SummaryRecord): Promise<string[]> {
    if (!llm || !summary.llm) return []
    const { createLlmRenderer } = await import('../llm/render.ts')
    return createLlmRenderer(chalk, chalkStderr).summary(summary.llm, llm)
  }
}

/**
 * No autowrap while the screen is ours: a terminal that draws a character wider than measured
 * (👍🏽 as two emoji, 4 columns, in xterm and tmux) wrapped the row onto the next line, and Ink,
 * a line further down than it counts, left the screen garbled (header gone) for good. Without it
 * the row's end is drawn over. On again (the terminal's default) as Ink unmounts, which it does
 * on every way out: an 'exit' listener missed the signals Ink's signal-exit handles (SIGQUIT,
 * SIGUSR2…), which end the process without one, and the shell's long lines no longer wrapped.
 */
function NoAutowrap({ stdout, children }: { stdout: NodeJS.WriteStream; children: ReactNode }) {
  useLayoutEffect(() => {
    stdout.write('\x1b[?7l')
    return () => {
      try {
        stdout.write('\x1b[?7h')
      } catch {}
    }
  }, [stdout])
  return children
}

// The alternate screen left with the cursor shown, autowrap on and bracketed paste off, as the
// shell has them; and back.
const LEAVE_SCREEN = '\x1b[?2004l\x1b[?7h\x1b[?25h\x1b[?1049l'
const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[?2004h'
/** After SIGTSTP, the screen is taken back this soon if the process was not stopped. */
const SUSPEND_CHECK_MS = 100

/**
 * Node prints its warnings on stderr, the terminal, whenever they come (the one for
 * NODE_TLS_REJECT_UNAUTHORIZED=0 at the first TLS connection): written over the screen, it pushed
 * the header off for good. Held while the screen is ours, then printed by Node's own printer.
 */
function holdWarnings(): () => void {
  const printers = process.listeners('warning')
  const held: Error[] = []
  const hold = (warning: Error) => held.push(warning)
  for (const printer of printers) process.off('warning', printer)
  process.on('warning', hold)
  return () => {
    process.off('warning', hold)
    for (const printer of printers) process.on('warning', printer)
    for (const warning of held) for (const printer of printers) printer(warning)
  }
}

/** The process's terminal (/dev/tty), to read keys from when stdin is not it; none without one. */
function openTerminal(): ReadStream | undefined {
  let fd: number | undefined
  try {
    fd = openSync('/dev/tty', 'r')
    if (isatty(fd)) return new ReadStream(fd)
  } catch {
    // No controlling terminal (a daemon, CI), or not on this system (Windows).
  }
  if (fd !== undefined) closeSync(fd)
  return undefined
}

/** `w`: what the grid holds, as NDJSON records, in a new file in the working directory. */
function writeRows(state: InspectState): string {
  const records = displayedRecords(state)
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const text = records.map((record) => `${JSON.stringify(record)}\n`).join('')
  // Never over a file: w pressed twice in a millisecond (typed fast, a key held) takes -2, -3…;
  // without that, the second press fails with EEXIST after the first has written.
  for (let copy = 1; ; copy++) {
    const name = `sse-probe-inspect-${stamp}${copy > 1 ? `-${copy}` : ''}.ndjson`
    const path = resolvePath(name)
    try {
      writeFileSync(path, text, { flag: 'wx' })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') continue
      return `could not write ${path}: ${code ?? (error as Error).message}`
    }
    // The name before the directory: the footer is cut at the terminal's width, and the
    // directory (the one inspect was started in) went first: at 80 columns, in any but a short
    // one, the name was cut inside its timestamp.
    const count = `${records.length} ${records.length === 1 ? 'record' : 'records'}`
    return `wrote ${count} to ${name} in ${dirname(path)}`
  }
}
