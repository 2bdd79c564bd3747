import { closeSync, constants, ftruncateSync, openSync, writeFileSync } from 'node:fs'
import { fileProblem, SseProbeUsageError } from './errors.ts'
import { jsonText } from './json-text.ts'
import type { ProbeRecord } from './records.ts'
import { redactHeaders, redactUrl } from './redact.ts'

export interface Recorder {
  write(record: ProbeRecord): void
  close(): void
}

/**
 * `--record <file>`: the session as a transcript, one JSON record per line, as
 * `--json` prints them. Each record is written synchronously the moment it is
 * emitted, so a crash or a second Ctrl-C loses nothing already received.
 * Credentials are redacted even with --show-secrets: a transcript is meant to
 * be kept and shared (as a CI fixture, say).
 */
export function createRecorder(path: string, stopped: (message: string) => void): Recorder {
  if (path === '' || path === '-')
    throw new SseProbeUsageError(
      `option '--record <file>' takes a file name${path === '-' ? ", not '-'" : ''}: --json writes the same records to stdout`,
    )
  // Opening a named pipe that nothing reads blocks until something does, and a blocked open
  // cannot be interrupted (Ctrl-C included): a non-blocking open says so with ENXIO instead.
  // It stays open until the real one is, so that a reader never sees the writers gone (EOF).
  let probe: number | undefined
  try {
    probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO')
      throw cannotRecord(path, 'a named pipe that nothing reads')
  }
  let fd: number | undefined
  try {
    fd = openSync(path, 'w')
  } catch (error) {
    // ENOENT on a write: the folder is what does not exist.
    const code = (error as NodeJS.ErrnoException).code
    throw cannotRecord(path, code === 'ENOENT' ? 'no such directory' : fileProblem(error))
  } finally {
    if (probe !== undefined) closeSync(probe)
  }
  // The bytes of the complete lines written: where a failed write is cut back to.
  let written = 0
  function close() {
    if (fd !== undefined) closeSync(fd)
    fd = undefined
  }
  function write(record: ProbeRecord) {
    if (fd === undefined) return
    const redacted =
      record.type === 'open'
        ? { ...record, url: redactUrl(record.url), headers: redactHeaders(record.headers, false) }
        : record.type === 'error' && record.headers
          ? { ...record, headers: redactHeaders(record.headers, false) }
          : record
    const line = Buffer.from(`${jsonText(redacted)}\n`)
    try {
      writeFileSync(fd, line)
      written += line.length
    } catch (error) {
      // A full disk should not end the probe, but the user must know the transcript is incomplete.
      stopped(`--record stopped: cannot write '${path}': ${fileProblem(error)}`)
      // A disk that filled in the middle of a line leaves it cut short, and serve and diff refuse a
      // truncated transcript: the lines before it replay. (A pipe or a device cannot be cut back.)
      try {
        ftruncateSync(fd, written)
      } catch {}
      close()
    }
  }
  return { write, close }
}

function cannotRecord(path: string, why: string): SseProbeUsageError {
  return new SseProbeUsageError(`option '--record <file>' cannot write '${path}': ${why}`)
}
