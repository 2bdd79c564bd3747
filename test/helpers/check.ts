import type { CheckId } from '../../src/check/checks.ts'
import type { CheckRecord, CheckSummaryRecord } from '../../src/check/render.ts'
import { type CliRun, type RunOptions, runCli } from './cli.ts'

export interface CheckRun {
  run: CliRun
  checks: Record<CheckId, CheckRecord>
  summary: CheckSummaryRecord
}

/** `sse-probe check <url> --json` with a short window (flags given later win), its records by check id. */
export async function runCheck(
  url: string,
  flags: string[] = [],
  options?: RunOptions,
): Promise<CheckRun> {
  const run = await runCli(['check', url, '--json', '--window', '2s', ...flags], options)
  const records = run.records as unknown as (CheckRecord | CheckSummaryRecord)[]
  const checks = Object.fromEntries(
    records.filter((r): r is CheckRecord => r.type === 'check').map((r) => [r.id, r]),
  ) as Record<CheckId, CheckRecord>
  const summary = records.find((r): r is CheckSummaryRecord => r.type === 'summary')
  if (!summary) throw new Error(`no summary record in:\n${run.stdout}\n${run.stderr}`)
  return { run, checks, summary }
}
