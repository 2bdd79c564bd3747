import { existsSync } from 'node:fs'
import {
  checkTiming,
  type DiffOptions,
  diffSides,
  parsePointer,
  parseTolerance,
  type Side,
  sideFromRecords,
} from './diff.ts'
import { type DiffStyle, renderDiff } from './diff-render.ts'
import { readSideFile, SideUnreadable } from './diff-sides.ts'
import { fileName, type ProbeRecord, redactUrl, UsageError, visible } from './engine.ts'

/** `sse-probe diff`'s own flags, as commander parsed them. */
export interface DiffFlags {
  ignore?: string[]
  ignoreIds?: boolean
  pings?: boolean
  timing?: boolean
  timeTolerance?: string
  json?: boolean
  pingEvent: string
}

export interface DiffIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  style: DiffStyle
  /**
   * Probes a URL with the request, stream and end flags of the command line; resolves to its
   * records, or rejects with SideUnreadable when it could not be probed (an HTTP error, no connection).
   */
  probe(url: string): Promise<ProbeRecord[]>
  /** Aborted by a stop signal (Ctrl-C): a file side still being read (a pipe) is given up. */
  signal?: AbortSignal
}

/** Whether a side is a URL to probe rather than a file: an existing file always wins. */
function isLiveSide(text: string): boolean {
  return !existsSync(text) && /^(https?:\/\/|[\w.-]*:\d+(\/|$))/i.test(text)
}

/** Compares the two sides; exit 0 same, 1 different, 3 a side unreadable (usage errors throw before). */
export async function runDiff(
  left: string,
  right: string,
  flags: DiffFlags,
  io: DiffIo,
): Promise<number> {
  const options: DiffOptions = {
    ignore: (flags.ignore ?? []).map(parsePointer),
    ignoreIds: flags.ignoreIds === true,
    pings: flags.pings === true,
    pingEvent: flags.pingEvent,
    timing: flags.timing === true,
    tolerance: parseTolerance(flags.timeTolerance ?? '50%'),
  }
  // Stdin can be read once.
  if (left === '-' && right === '-')
    throw new UsageError("only one side can be '-' (stdin): give the other as a file or a URL")
  let sides: Side[]
  try {
    // Files first: one that cannot be read, or a raw capture with --timing, ends the command
    // before a live side is probed for nothing.
    const files = new Map<string, Side>()
    for (const text of [left, right]) {
      if (isLiveSide(text)) continue
      const side = await readSideFile(text, options, io.signal)
      checkTiming(side, options)
      files.set(text, side)
    }
    // Both live sides at once: the same moment of the stream, and half the wait.
    sides = await Promise.all(
      [left, right].map(
        async (text) => files.get(text) ?? sideFromRecords(text, await io.probe(text), options),
      ),
    )
  } catch (error) {
    if (!(error instanceof SideUnreadable)) throw error
    // The message may quote a URL side, with the user:password@ that goes out as Authorization,
    // and what a server said (a recorded summary's message): one line, nothing run on the terminal.
    io.stderr.write(`sse-probe diff: ${visible(redactUrl(error.message))}\n`)
    return 3
  }
  const { records, summary } = diffSides(sides[0]!, sides[1]!, options)
  if (flags.json)
    io.stdout.write([...records, summary].map((r) => `${JSON.stringify(r)}\n`).join(''))
  else {
    const labels = { left: redactUrl(fileName(left)), right: redactUrl(fileName(right)) }
    io.stdout.write(renderDiff(records, summary, labels, io.style))
  }
  return summary.same ? 0 : 1
}
