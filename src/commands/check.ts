import type { RunContext } from '../run.ts'

// Placeholder until its issue lands: the command exists so that its flags and help have a home.
export async function runCheck(url: URL, flags: Record<string, unknown>, context: RunContext): Promise<number> {
  context.stderr.write('error: sse-probe check is not available yet\n')
  return 2
}
