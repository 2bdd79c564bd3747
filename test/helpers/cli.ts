import { type SpawnOptions, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import type { ProbeRecord } from '../../src/engine/records.ts'

export const CLI = fileURLToPath(new URL('../../bin/sse-probe.js', import.meta.url))

/** What a run printed, with stdout read as records when it holds JSON lines. */
export interface Output {
  stdout: string
  stderr: string
  /** stdout parsed as NDJSON records (for --json runs). */
  records: ProbeRecord[]
  ofType<T extends ProbeRecord['type']>(type: T): Extract<ProbeRecord, { type: T }>[]
  summary: Extract<ProbeRecord, { type: 'summary' }>
}

/** `extra` is merged in here: spreading the result would run the summary getter. */
export function parseOutput<T extends object>(
  stdout: string,
  stderr: string,
  extra: T,
): Output & T {
  const records = parseRecords(stdout)
  const ofType = <T extends ProbeRecord['type']>(type: T) =>
    records.filter((r): r is Extract<ProbeRecord, { type: T }> => r.type === type)
  return {
    ...extra,
    stdout,
    stderr,
    records,
    ofType,
    get summary() {
      const summary = ofType('summary')[0]
      if (!summary) throw new Error(`no summary record in:\n${stdout}\n${stderr}`)
      return summary
    },
  }
}

export interface CliRun extends Output {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdoutBytes: Buffer
}

export interface RunOptions {
  env?: Record<string, string | undefined>
  stdin?: string
  /** Called once the process has started, e.g. to send it a signal later. */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void
  timeoutMs?: number
  /** The folder the command runs in (default: this process's). */
  cwd?: string
}

/** Runs the built CLI as a child process, with colour forced off unless the test sets it. */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const spawnOptions: SpawnOptions = {
    env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: options.cwd,
  }
  const child = spawn(process.execPath, [CLI, ...args], spawnOptions)
  options.onSpawn?.(child)
  const stdoutChunks: Buffer[] = []
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => stdoutChunks.push(chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdin!.end(options.stdin ?? '')
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (exitCode, signal) => {
      clearTimeout(killer)
      const stdoutBytes = Buffer.concat(stdoutChunks)
      const stdout = stdoutBytes.toString('utf8')
      resolve(parseOutput(stdout, stderr, { exitCode, signal, stdoutBytes }))
    })
  })
}

export interface RunningCli {
  /** The first line the command printed on stdout: the URL of its endpoint. */
  url: string
  child: import('node:child_process').ChildProcess
  stderr(): string
  /** Sends the signal (SIGINT by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ exitCode: number | null; stderr: string }>
}

/** Starts a long-running command (`serve`, `demo --serve-only`), waits for the URL it prints, and kills it when the test ends. */
export async function startCli(
  args: string[],
  options: { stdin?: string } = {},
): Promise<RunningCli> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  if (options.stdin !== undefined) child.stdin!.end(options.stdin)
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ exitCode: number | null; stderr: string }>((resolve) =>
    child.on('close', (exitCode) => resolve({ exitCode, stderr })),
  )
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!)
    })
    void exited.then(({ exitCode }) =>
      reject(new Error(`exited ${exitCode} before printing a URL:\n${stderr}`)),
    )
  })
  return {
    url,
    child,
    stderr: () => stderr,
    stop(signal = 'SIGINT') {
      child.kill(signal)
      return exited
    },
  }
}

/** stdout as NDJSON records, or none when it is not (pretty output, --data-only that starts with `{`). */
function parseRecords(stdout: string): ProbeRecord[] {
  if (!stdout.startsWith('{')) return []
  try {
    return stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ProbeRecord)
  } catch {
    return []
  }
}
