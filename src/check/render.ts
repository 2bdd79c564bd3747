import type { ChalkInstance } from 'chalk'
import { formatDuration } from '../engine/duration.ts'
import { visible } from '../engine/escape.ts'
import { type CheckResult, type CheckStatus, checkExitCode, runChecks } from './checks.ts'
import type { Observation } from './observation.ts'

export interface CheckRecord {
  type: 'check'
  id: CheckResult['id']
  status: CheckStatus
  measured: string
  hint: string | null
}

export interface CheckSummaryRecord {
  type: 'summary'
  url: string
  exitCode: number
  /** Why nothing could be checked (exit 3). */
  message?: string
  observedMs: number
  /** Connections that opened (200 and text/event-stream), as in the probe's summary. */
  connections: number
  events: number
  pass: number
  warn: number
  fail: number
  skip: number
}

export interface CheckReport {
  observation?: Observation
  results: CheckResult[]
  exitCode: number
  message?: string
  url: string
}

const SYMBOLS: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' }
const LABEL_WIDTH = 15

function summarise(report: CheckReport): CheckSummaryRecord {
  const o = report.observation
  const count = (status: CheckStatus) => report.results.filter((r) => r.status === status).length
  return {
    type: 'summary',
    url: report.url,
    exitCode: report.exitCode,
    ...(report.message !== undefined && { message: report.message }),
    observedMs: o?.observedMs ?? 0,
    // Refused or failed reconnects (a server restarting) are attempts, not connections.
    connections: o?.connections.filter((c) => c.response?.verdict === 'ok').length ?? 0,
    events: o?.connections.reduce((n, c) => n + c.events.length, 0) ?? 0,
    pass: count('pass'),
    warn: count('warn'),
    fail: count('fail'),
    skip: count('skip'),
  }
}

// An endpoint that could not be reached at all: nothing to check.
const COULD_NOT_CONNECT = 3

/** The report on an observation; `url` as it may be shown (credentials redacted). */
export function judge(observation: Observation, url: string, strict: boolean): CheckReport {
  const { error, unanswered } = observation.connections[0]!
  // A connection whose response headers were held past --connect-timeout is something to judge;
  // so is Ctrl-C before any answer: the user stopped the check, nothing failed to connect.
  if (error !== undefined && !unanswered && !observation.interrupted)
    return { url, results: [], exitCode: COULD_NOT_CONNECT, message: error }
  const results = runChecks(observation)
  return { url, observation, results, exitCode: checkExitCode(results, strict) }
}

/** One record per check, then the summary: what `check --json` prints. */
export function checkRecords(report: CheckReport): (CheckRecord | CheckSummaryRecord)[] {
  const records: (CheckRecord | CheckSummaryRecord)[] = report.results.map((r) => ({
    type: 'check',
    id: r.id,
    status: r.status,
    measured: r.measured,
    hint: r.hint ?? null,
  }))
  records.push(summarise(report))
  return records
}

/** One JSON record per check, then the summary. */
export function renderCheckJson(report: CheckReport): string {
  return checkRecords(report)
    .map((record) => `${JSON.stringify(record)}\n`)
    .join('')
}

/**
 * The report: one line per check, the hint under anything that did not pass, then the totals.
 * Checks skipped for the same reason (no event stream to observe) share one line.
 */
export function renderCheckPretty(report: CheckReport, c: ChalkInstance): string {
  const s = summarise(report)
  const colour: Record<CheckStatus, (text: string) => string> = {
    pass: c.green,
    warn: c.yellow,
    fail: c.red,
    skip: c.dim,
  }
  const observed = `${report.observation?.interrupted ? 'interrupted after' : 'observed'} ${formatDuration(s.observedMs)}`
  const lines = [
    `${c.bold('check')}  ${visible(report.url)}  ${c.dim(`${observed}, ${s.connections} connection${s.connections === 1 ? '' : 's'}, ${s.events} event${s.events === 1 ? '' : 's'}`)}`,
    '',
  ]
  for (let i = 0; i < report.results.length; ) {
    const r = report.results[i]!
    let same = 1
    while (r.status === 'skip' && sameJudgement(r, report.results[i + same])) same++
    const label = same === 1 ? r.id : `${same} checks`
    lines.push(
      `${colour[r.status](SYMBOLS[r.status])} ${c.bold(label.padEnd(LABEL_WIDTH))}${visible(r.measured)}`,
    )
    if (r.hint) lines.push(`  ${' '.repeat(LABEL_WIDTH)}${c.dim(`→ ${visible(r.hint)}`)}`)
    i += same
  }
  const totals = [
    `${s.pass} passed`,
    `${s.warn} warned`,
    `${s.fail} failed`,
    `${s.skip} not measured`,
  ].join(', ')
  const code = s.exitCode === 0 ? c.green(`exit ${s.exitCode}`) : c.red(`exit ${s.exitCode}`)
  lines.push('', `${totals}  ${code}`)
  return `${lines.join('\n')}\n`
}

function sameJudgement(a: CheckResult, b: CheckResult | undefined): boolean {
  return b !== undefined && b.status === a.status && b.measured === a.measured && b.hint === a.hint
}
