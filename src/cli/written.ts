import type { Writable } from 'node:stream'

/**
 * Resolves once everything written to `stream` is out, or the stream is gone. Waiting for
 * 'drain' is not enough: it comes only after the buffer has gone over its high-water mark, so a
 * last short line held by a full pipe would leave nothing to wait for, and Node would exit with
 * 13 ("unsettled top-level await") instead of the probe's code.
 */
export function written(stream: Writable): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    // A write's callback runs once it, and so every write before it, is out (or has failed).
    stream.write('', () => resolve())
    stream.once('close', resolve)
  })
}

/** Exit code when writing the output failed (EX_IOERR in sysexits.h, as 70 is EX_SOFTWARE). */
export const OUTPUT_FAILED = 74

/**
 * Said after the summary when a --record write failed (a full disk): the probe went on, but the
 * transcript is incomplete, so the run exits 74 whatever its summary says, as `tee` does.
 */
export const RECORD_INCOMPLETE = `sse-probe: the --record transcript is incomplete: exit ${OUTPUT_FAILED}`

/**
 * Follows the writes to stdout and stderr from the start: a failed one is an 'error' event, never
 * a crash (stdio streams are not destroyed by it, so `errored` does not keep it). `exitCode` is
 * the code to exit with once the output is out: when a write failed (a full disk, an I/O error)
 * the output is incomplete, so 74, said on stderr while stderr still takes it. A reader that has
 * gone is not a failure: a pipe's (EPIPE, `| head`) or a terminal's (EIO once its window is
 * closed: the hang-up's 129 stands); the command's own code stands.
 */
export function watchOutput(streams: { stdout: Writable; stderr: Writable }) {
  const failed: { stdout?: NodeJS.ErrnoException; stderr?: NodeJS.ErrnoException } = {}
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = streams[name] as Writable & { isTTY?: boolean }
    stream.on('error', (error: NodeJS.ErrnoException) => {
      const gone = error.code === 'EPIPE' || (error.code === 'EIO' && stream.isTTY === true)
      if (!gone) failed[name] ??= error
    })
  }
  return {
    async exitCode(code: number): Promise<number> {
      await Promise.all([written(streams.stdout), written(streams.stderr)])
      // A write to a file fails at once, but its 'error' event comes on a later tick.
      await new Promise((resolve) => setImmediate(resolve))
      if (!failed.stdout && !failed.stderr) return code
      if (failed.stdout && !failed.stderr) {
        streams.stderr.write(`sse-probe: cannot write to stdout: ${failed.stdout.message}\n`)
        await written(streams.stderr)
      }
      return OUTPUT_FAILED
    },
  }
}
