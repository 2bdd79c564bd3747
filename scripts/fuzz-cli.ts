/** The built CLI as the differential fuzzers (fuzz-browser.ts, fuzz-llm.ts) run it. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ProbeRecord } from '../src/engine/records.ts'

const CLI = fileURLToPath(new URL('../bin/sse-probe.js', import.meta.url))

export interface CliRun {
  /** Its stdout read as records, one a line (it runs with --json). */
  records: ProbeRecord[]
  code: number | null
  stderr: string
  /** The first line that is not what JSON.stringify writes of its record (the --json writer builds event lines by hand). */
  notStringified?: string
}

/** How a fuzzer reports a CliRun's notStringified line. */
export const NOT_STRINGIFIED = 'a line not as JSON.stringify writes it'

/** Runs `sse-probe <args>` and resolves once it has exited. */
export function runCli(args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => out.push(c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      const lines = Buffer.concat(out)
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '')
      const records = lines.map((line) => JSON.parse(line))
      const notStringified = lines.find((line, i) => JSON.stringify(records[i]) !== line)
      resolve({ records, code, stderr, ...(notStringified !== undefined && { notStringified }) })
    })
  })
}
