import { EventEmitter } from 'node:events'
import { Readable, Writable } from 'node:stream'
import { main } from '../../src/cli/main.ts'
import { type Output, parseOutput } from './cli.ts'

export interface MainRun extends Output {
  exitCode: number
}

export interface MainOptions {
  env?: Record<string, string>
  stdin?: string
  /** Called with the fake process once main runs, e.g. to emit 'SIGINT' later. */
  onStart?: (process: NodeJS.Process) => void
  /** Replaces stdout's write (to break it). */
  stdoutWrite?: Writable['_write']
}

/**
 * Runs the CLI's main(argv, io) in this process, with fake streams and a fake process: what the
 * user sees, without spawning. Spawn (helpers/cli.ts) only for the entry, piping and real signals.
 */
export async function runMain(argv: string[], options: MainOptions = {}): Promise<MainRun> {
  let stdout = ''
  let stderr = ''
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, callback) {
        append(chunk.toString())
        callback()
      },
    })
  const out = options.stdoutWrite
    ? new Writable({ write: options.stdoutWrite })
    : sink((text) => (stdout += text))
  const fakeProcess = new EventEmitter() as unknown as NodeJS.Process
  fakeProcess.exit = ((code: number) => {
    throw new Error(`process.exit(${code}) called in process`)
  }) as NodeJS.Process['exit']
  const running = main(argv, {
    stdout: out,
    stderr: sink((text) => (stderr += text)),
    stdin: Readable.from([options.stdin ?? '']),
    // Colour off unless the test asks: chalk's detection looks at this process's own terminal.
    env: options.env ?? { NO_COLOR: '1' },
    process: fakeProcess,
  })
  options.onStart?.(fakeProcess)
  const exitCode = await running
  return parseOutput(stdout, stderr, { exitCode })
}
