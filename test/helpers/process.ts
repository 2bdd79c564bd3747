import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { CLI } from './cli.ts'

/** Whether the peak resident memory of a child can be read (Linux /proc). */
export const CAN_MEASURE_RSS = existsSync('/proc/self/status')

/**
 * Follows a child's peak resident memory (VmHWM, a high-water mark kept by the
 * kernel) until it exits; the value in MiB.
 */
function watchPeakRss(child: ChildProcess): () => number {
  let peakKiB = 0
  const read = () => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]))
    } catch {
      // the child has exited: the last reading stands
    }
  }
  const timer = setInterval(read, 10)
  return () => {
    clearInterval(timer)
    return peakKiB / 1024
  }
}

export interface StreamedRun {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdoutBytes: number
  stdoutLines: number
  /** The last line on stdout (the summary, with --json). */
  lastLine: string
  stderr: string
  peakRssMiB: number
}

/**
 * Runs the built CLI reading its stdout as it comes without keeping it, for
 * runs that print millions of lines; measures the child's peak memory.
 */
export function runCliStreamed(args: string[], timeoutMs = 20_000): Promise<StreamedRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const peak = watchPeakRss(child)
  let stdoutBytes = 0
  let stdoutLines = 0
  let tail = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) stdoutLines++
    tail = (tail + chunk.toString('utf8')).slice(-4096)
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (exitCode, signal) => {
      clearTimeout(killer)
      const lines = tail.trimEnd().split('\n')
      resolve({
        exitCode,
        signal,
        stdoutBytes,
        stdoutLines,
        lastLine: lines[lines.length - 1]!,
        stderr,
        peakRssMiB: peak(),
      })
    })
  })
}
