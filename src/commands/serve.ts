import { readFile, stat } from 'node:fs/promises'
import { formatDuration } from '../duration.ts'
import { type ServeFlags, UsageError } from '../options.ts'
import type { RunContext } from '../run.ts'
import { runUntilStopped } from '../server/local-server.ts'
import { startReplay } from '../server/replay.ts'
import { DEFAULT_INTERVAL_MS, parseReplayFile, type ReplayPlan } from '../server/replay-plan.ts'

/** `sse-probe serve <file>`: replays a transcript or an event-stream file until Ctrl-C. */
export async function runServe(
  file: string,
  flags: ServeFlags,
  context: RunContext,
): Promise<number> {
  const plan = await readPlan(file, flags.interval)
  const server = await startReplay(plan, {
    port: flags.port,
    speed: flags.speed,
    loop: flags.loop ?? false,
    log: (text) => context.stderr.write(text),
  })
  context.stdout.write(`${server.url}\n`)
  context.stderr.write(`serving ${file}: ${describe(plan, flags)}; Ctrl-C stops it\n`)
  return runUntilStopped(server, context.process)
}

// A replay is held in memory whole: past this a file is refused, not a crash.
const MAX_FILE_BYTES = 256 * 1024 ** 2

async function readPlan(file: string, intervalMs: number | undefined): Promise<ReplayPlan> {
  let bytes: Buffer
  try {
    const { size } = await stat(file)
    if (size > MAX_FILE_BYTES)
      throw new UsageError(
        `'${file}' is too large to replay (${Math.round(size / 1024 ** 2)} MiB; at most 256 MiB)`,
      )
    bytes = await readFile(file)
  } catch (error) {
    if (error instanceof UsageError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(
      `cannot read '${file}': ${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)}`,
    )
  }
  return parseReplayFile(bytes, file, intervalMs)
}

function describe(plan: ReplayPlan, flags: ServeFlags): string {
  const connections = plan.connections.length
  const what = `${plan.events} event${plan.events === 1 ? '' : 's'}${plan.source === 'transcript' ? ` in ${connections} connection${connections === 1 ? '' : 's'}` : ''}`
  const pace =
    flags.speed === 0
      ? 'as fast as possible'
      : plan.source === 'transcript'
        ? `speed ${flags.speed}`
        : `every ${formatDuration((flags.interval ?? DEFAULT_INTERVAL_MS) / flags.speed)}`
  return `${what}, ${pace}${flags.loop ? ', looping' : ''}`
}
