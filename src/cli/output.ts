import { fstatSync } from 'node:fs'
import type { Writable } from 'node:stream'
import type { ChalkInstance, ColorSupportLevel } from 'chalk'
import { formatDuration } from '../engine/duration.ts'
import { visible } from '../engine/escape.ts'
import type { ProbeRecord } from '../engine/records.ts'
import type { LlmNotes, LlmRenderer } from '../llm/render.ts'
import type { LlmOutput } from '../llm/types.ts'
import type { Format } from './args.ts'
import type { PrettyView } from './render/display.ts'
import { createJsonRenderer, renderJsonPieces } from './render/json.ts'
import { createPrettyRenderer, shownGot } from './render/pretty.ts'
import type { TtyStream } from './render/status-line.ts'

/** How the probe's records are shown: the CLI's own options, which the library does not have. */
export interface DisplayOptions {
  format: Format
  quiet: boolean
  color?: boolean
  hidePings: boolean
  include: boolean
  /** -v: the request line and headers of every connection, on stderr. */
  verbose: boolean
  /** --events: with an LLM stream, the event blocks rather than the model's text. */
  events?: boolean
  /** How the pretty format shows events (--compact, --only, …). */
  view?: PrettyView
  /** A line for stderr before the first record: the flags that the format ignores. */
  warning?: string
}

export interface OutputOptions extends DisplayOptions {
  pingEvent: string
}

export interface OutputStreams {
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean; columns?: number }
  env: NodeJS.ProcessEnv
}

export interface Output {
  emit(record: ProbeRecord): void
  /** Present only for --format raw. */
  raw?(chunk: Uint8Array): void
  /**
   * Writes what the records since the last flush produced: one write per stream and network chunk.
   * Returns a promise that resolves once stdout and stderr have drained, when either is backed up.
   */
  flush(): Promise<void> | undefined
  close(): void
  /** A line on stderr (a warning), written in turn with the records. */
  error(line: string): void
  /** The reader has gone (EPIPE): nothing more is written. */
  mute(): void
  /** Whether event records are used: shown (not with -q, nor in raw, where the body shows them) or counted by the spinner. */
  events: boolean
  /**
   * An LLM stream was recognised (llm.md, "Display"): loads its view, which shows the model's
   * text instead of event blocks (pretty) and the LLM block in the summary (pretty and raw).
   * `notes` are asked when the summary is shown.
   */
  startLlm(notes: () => LlmNotes): void
  /** What the model says, as it arrives (see LlmOutput); wanted only when `llmLive`. */
  llmOutput(output: LlmOutput): void
  /** Whether the model's text is shown live (pretty, not -q, not --events). */
  llmLive: boolean
  /** Resolves once everything emitted has been rendered (the LLM view loads asynchronously). */
  settled(): Promise<void> | undefined
  /** Whether comment records reach the screen (raw shows them as body bytes, -q and --hide-pings not at all). */
  commentText: boolean
}

/**
 * Whether a line that is redrawn in place (a spinner, a status line) may be drawn on `stream`: a
 * terminal that takes cursor movements. TERM=dumb (Emacs' shell, a CI console on a pty) prints
 * them as they are, so it gets none, as ora and npm take it.
 */
export function drawsLive(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb'
}

/**
 * The only code that writes to the terminal. Records are rendered to strings,
 * gathered per network chunk and written together; the spinner (a TTY only)
 * is cleared around every write.
 */
export async function createOutput(
  options: OutputOptions,
  streams: OutputStreams,
): Promise<Output> {
  const { stdout, stderr } = streams
  let out = ''
  let err = ''
  // Written before `out`, one by one: a line in pieces (see renderJsonPieces).
  let outPieces: string[] = []
  // A terminal without a width (a pty nobody sized) cannot have a line fitted to it. Piped
  // (`| grep`, `| cat`, `| less`), what stdout shows reaches the terminal later than the
  // spinner's own writes: it would land after a spinner frame and leave it on screen for good.
  let spinner =
    options.format !== 'json' &&
    !options.quiet &&
    drawsLive(stderr, streams.env) &&
    stderr.columns &&
    (stdout.isTTY || !isPipe(stdout))
      ? await createSpinner(stderr, stdout.isTTY ? process.stdin : undefined)
      : undefined

  // --quiet keeps only what says how it ended: errors and the summary.
  const hiddenByQuiet = (record: ProbeRecord) =>
    options.quiet && record.type !== 'summary' && record.type !== 'error'
  // The LLM view, once a profile is recognised: loaded then, and until it is, what is emitted
  // waits in order. Reading goes on meanwhile: holding it would merge reads and fake batching.
  const llm: {
    load?: () => Promise<LlmRenderer>
    loading?: Promise<void>
    renderer?: LlmRenderer
    /** The model's text replaces the event blocks. */
    live: boolean
    notes: () => LlmNotes
    pending: (() => void)[]
  } = { live: false, notes: () => ({ batched: false, cut: false }), pending: [] }
  const llmLive = options.format === 'pretty' && !options.quiet && !options.events
  const inOrder = (action: () => void) => {
    if (llm.loading && !llm.renderer) llm.pending.push(action)
    else action()
  }
  let render: (record: ProbeRecord) => void
  if (options.format === 'json') {
    // stderr holds the human-readable errors, for whoever reads the job's log: each error
    // record, and why a failing probe ended when no error record said it already.
    let lastError: string | undefined
    const renderJson = createJsonRenderer()
    render = (record) => {
      if (hiddenByQuiet(record)) return
      if (record.type === 'summary') {
        outPieces.push(out, ...renderJsonPieces(record))
        out = ''
      } else out += renderJson(record)
      if (record.type === 'error') err += `error: ${visible((lastError = record.message))}\n`
      if (record.type !== 'summary') return
      if (record.message !== undefined && record.message !== lastError && record.exitCode > 1)
        err += `error: ${record.reason}: ${visible(record.message)}\n`
      // What was seen too: a CI log that keeps stderr alone still says why.
      for (const expectation of record.expectations) {
        if (expectation.ok) continue
        const got = shownGot(expectation)
        err += `error: expectation failed: ${visible(expectation.name)}${got && ` ${got}`}\n`
      }
    }
  } else {
    const palette = await colors(streams, options.color)
    const pretty = createPrettyRenderer({
      ...palette,
      pingEvent: options.pingEvent,
      hidePings: options.hidePings,
      include: options.include,
      summaryBlock: (summary) =>
        llm.renderer && summary.llm ? llm.renderer.summary(summary.llm, llm.notes()) : [],
      ...(options.view && { view: options.view }),
      startedAt: Date.now(),
      ...(stdout.isTTY && { columns: (stdout as { columns?: number }).columns || 80 }),
      ...(stdout.isTTY &&
        options.view?.compact && {
          width: await (await import('./render/width.ts')).loadTextWidth(),
        }),
    })
    llm.load = async () => {
      const { createLlmRenderer } = await import('../llm/render.ts')
      return createLlmRenderer(palette.chalk, palette.chalkStderr)
    }
    const sharedOut = stdout.isTTY || sameFile(stdout, stderr)
    // Raw format writes the body itself: events and comments are already there.
    const inBody = (record: ProbeRecord) =>
      options.format === 'raw' && (record.type === 'event' || record.type === 'comment')
    render = (record) => {
      if (hiddenByQuiet(record) || inBody(record)) return
      if (llm.live && record.type === 'event') return
      const rendered = pretty(record)
      // A status line, a comment or the summary starts on a line of its own, not after the
      // model's last words; a status line on stderr only where stdout shares its terminal or
      // file (2>&1), so that `> answer.txt` keeps the text as the model wrote it. A reconnect's
      // new answer starts on a line of its own there too.
      if (
        llm.live &&
        rendered &&
        (rendered.stream === 'out' ||
          record.type === 'summary' ||
          record.type === 'reconnect' ||
          sharedOut)
      )
        out += llm.renderer!.end()
      if (rendered?.stream === 'out') toOut(rendered.text)
      else if (rendered) err += rendered.text
    }
  }

  /**
   * Text for stdout after what is pending for stderr is written: where both go to one terminal
   * or file, a status line between two events of one network read shows between them.
   */
  function toOut(text: string) {
    if (err !== '') write()
    out += text
  }

  // JSON is rendered when it is written: a network chunk's records together, once the parser and
  // the extensions are done with the chunk, so that the code of each stays hot (docs/performance.md).
  const holdsRecords = options.format === 'json'
  let held: ProbeRecord[] = []
  function renderHeld() {
    if (held.length === 0) return
    const records = held
    held = []
    // Indexed: until it is optimised, a for-of loop costs an iterator call per record.
    for (let i = 0; i < records.length; i++) render(records[i]!)
  }

  let muted = false
  function write() {
    renderHeld()
    if (muted || (out === '' && err === '' && outPieces.length === 0)) return
    spinner?.clear()
    for (const piece of outPieces) if (piece !== '') stdout.write(piece)
    if (out !== '') stdout.write(out)
    if (err !== '') stderr.write(err)
    outPieces = []
    out = ''
    err = ''
    // On the terminal the model's text shares, the spinner waits for the text's line to end.
    if (llm.live && stdout.isTTY) spinner?.hold(llm.renderer!.lineOpen())
    spinner?.render()
  }

  function flush() {
    spinner?.active()
    write()
    return stdout.writableNeedDrain
      ? drained(stdout)
      : stderr.writableNeedDrain
        ? drained(stderr)
        : undefined
  }

  return {
    emit(record) {
      if (holdsRecords) held.push(record)
      else {
        spinner?.observe(record)
        inOrder(() => render(record))
      }
    },
    startLlm(notes) {
      if (!llm.load || llm.loading) return
      llm.notes = notes
      llm.loading = llm.load().then((renderer) => {
        llm.renderer = renderer
        llm.live = llmLive
        for (const action of llm.pending) action()
        llm.pending = []
      })
    },
    llmOutput(piece) {
      inOrder(() => {
        toOut(llm.renderer!.output(piece))
      })
    },
    llmLive,
    settled: () => (llm.renderer ? undefined : llm.loading),
    raw:
      options.format === 'raw'
        ? (chunk) => {
            write()
            spinner?.clear()
            stdout.write(chunk)
            spinner?.render()
          }
        : undefined,
    flush,
    events: spinner !== undefined || (!options.quiet && options.format !== 'raw'),
    commentText:
      !options.quiet &&
      (options.format === 'json' || (options.format === 'pretty' && !options.hidePings)),
    error(line) {
      renderHeld()
      err += `${line}\n`
      write()
    },
    mute() {
      muted = true
    },
    close() {
      // Stopped first, so that no spinner frame is drawn after the summary.
      spinner?.stop()
      spinner = undefined
      write()
    },
  }
}

/**
 * The colours of a command's output, decided here only: for stdout and for stderr, each of which
 * may be a terminal or a file.
 */
export async function colors(
  streams: Pick<OutputStreams, 'env'>,
  flag: boolean | undefined,
): Promise<{ chalk: ChalkInstance; chalkStderr: ChalkInstance }> {
  // Loaded when something is coloured: usage errors and the other writers do without it.
  const { Chalk, supportsColor, supportsColorStderr } = await import('chalk')
  return {
    chalk: new Chalk({ level: colorLevel(flag, supportsColor, streams.env) }),
    chalkStderr: new Chalk({ level: colorLevel(flag, supportsColorStderr, streams.env) }),
  }
}

/** The writer of the commands other than the probe (check, demo, serve) and of usage errors. */
export interface Terminal {
  out(text: string): void
  err(text: string): void
}

export function createTerminal(streams: Pick<OutputStreams, 'stdout' | 'stderr'>): Terminal {
  return {
    out: (text) => void streams.stdout.write(text),
    err: (text) => void streams.stderr.write(text),
  }
}

/** --color / --no-color first, then NO_COLOR (unless FORCE_COLOR), then chalk's detection for that stream. */
function colorLevel(
  flag: boolean | undefined,
  detected: { level: ColorSupportLevel } | false,
  env: NodeJS.ProcessEnv,
): ColorSupportLevel {
  if (flag === false) return 0
  if (flag === true) return detected ? detected.level : 1
  if (env.NO_COLOR && env.FORCE_COLOR === undefined) return 0
  return detected ? detected.level : 0
}

/** Whether a stream writes to a pipe (whose reader may well print to the terminal), not a file. */
function isPipe(stream: Writable): boolean {
  const fd = (stream as { fd?: unknown }).fd
  if (typeof fd !== 'number') return false
  try {
    return fstatSync(fd).isFIFO()
  } catch {
    return false
  }
}

/** Whether two streams write to one file or pipe (`2>&1`). */
function sameFile(a: Writable, b: Writable): boolean {
  const fdA = (a as { fd?: unknown }).fd
  const fdB = (b as { fd?: unknown }).fd
  if (typeof fdA !== 'number' || typeof fdB !== 'number') return false
  try {
    const [statA, statB] = [fstatSync(fdA), fstatSync(fdB)]
    return statA.dev === statB.dev && statA.ino === statB.ino
  } catch {
    return false
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done).off('error', done)
      resolve()
    }
    stream.on('drain', done).on('close', done).on('error', done)
  })
}

/**
 * A spinner that says what the probe is waiting for, how many events it has printed and how
 * long the stream has been silent (no byte at all). Its text is made at every frame, so that
 * the count is never behind the events above it.
 */
async function createSpinner(stream: TtyStream, keyboard: NodeJS.ReadStream | undefined) {
  const { startStatusLine } = await import('./render/status-line.ts')
  let state = 'connecting'
  let events = 0
  let lastActivity = performance.now()
  const line = startStatusLine(
    stream,
    () => {
      const silent = performance.now() - lastActivity
      const silence =
        silent >= 1000 ? ` · silent for ${formatDuration(Math.round(silent / 100) * 100)}` : ''
      return `${state} · ${events} ${events === 1 ? 'event' : 'events'}${silence}`
    },
    keyboard,
  )
  return {
    /** Bytes arrived, or a connection changed state. */
    active() {
      lastActivity = performance.now()
    },
    observe(record: ProbeRecord) {
      if (record.type === 'event') events++
      else if (record.type === 'open') state = 'streaming'
      // A reconnect that failed (refused, reset) waits for the next, as after a close; a fatal
      // error ends the probe, and the spinner with it.
      else if (record.type === 'close' || record.type === 'error') state = 'waiting to reconnect'
      else if (record.type === 'reconnect') state = 'reconnecting'
    },
    clear: line.clear,
    hold: line.hold,
    render: line.render,
    stop: line.stop,
  }
}
