import type { OutputStreams } from './output.ts'
import type { SignalSource } from './signals.ts'

/** What every command runs with, besides its flags: the process's streams, env and signals. */
export interface RunContext extends OutputStreams, SignalSource {
  stdin: NodeJS.ReadableStream
  /** Signals and a closed stdout stop the probe; tests drive them through `process`. */
  process: NodeJS.Process
}
