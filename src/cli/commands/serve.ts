import { formatDuration } from '../../engine/duration.ts'
import { fileName } from '../../engine/pipe.ts'
import { runUntilStopped } from '../../server/local-server.ts'
import { readReplayFile, startReplay } from '../../server/replay.ts'
import { DEFAULT_INTERVAL_MS, type ReplayPlan } from '../../server/replay-plan.ts'
import type { ServeFlags } from '../args.ts'
import type { RunContext } from '../context.ts'
import { createTerminal } from '../output.ts'
import { untilStopSignal } from '../signals.ts'

/** `sse-probe serve <file>`: replays a transcript or an event-stream file until Ctrl-C. */
export async function runServe(
  file: string,
  flags: ServeFlags,
  context: RunContext,
): Promise<number> {
  const terminal = createTerminal(context)
  const plan = await untilStopSignal(context.process, readReplayFile(file, flags.interval))
  // Ctrl-C while a pipe was still being read: stopped before it served (exit 0, as after it).
  if (plan === undefined) {
    context.heldSignal?.()
    return 0
  }
  const server = await startReplay(plan, {
    port: flags.port,
    speed: flags.speed,
    loop: flags.loop ?? false,
    log: terminal.err,
  })
  terminal.out(`${server.url}\n`)
  terminal.err(`serving ${fileName(file)}: ${describe(plan, flags)}; Ctrl-C stops it\n`)
  return runUntilStopped(server, context)
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
