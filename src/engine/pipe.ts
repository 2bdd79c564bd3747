// fs.promises read where used, not node:fs/promises: this module loads with every probe (-d
// @file), and loading that one costs ~20 M instructions (+6 % of a short probe's) that only
// readWhole's callers need.
import fs, { constants, openSync } from 'node:fs'
import { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { SseProbeUsageError } from './errors.ts'

/**
 * A file read whole, at most `maxBytes` of it: a named pipe (`<(command)`) as readPipe reads it,
 * a regular file at once, anything else (a device: /dev/zero has no size and no end) piece by
 * piece, stopping past `maxBytes` and calling `tooLarge` rather than growing without bound.
 */
export async function readWhole(
  file: string,
  maxBytes: number,
  tooLarge: (size: number) => Error,
): Promise<Buffer> {
  if ((await fs.promises.stat(file)).isFIFO()) return readPipe(file, maxBytes, tooLarge)
  const handle = await fs.promises.open(file)
  try {
    const stats = await handle.stat()
    if (stats.size > maxBytes) throw tooLarge(stats.size)
    if (stats.isFile()) return await handle.readFile()
    return await readUpTo(handle.createReadStream({ autoClose: false }), maxBytes, tooLarge)
  } finally {
    await handle.close()
  }
}

/**
 * A named pipe or `<(command)`, read whole. Read as a socket: a read of a pipe in libuv's thread
 * pool (as readFile does, or readFileSync on the main thread) blocks there until the writer comes,
 * and then even process.exit() waits for it, so Ctrl-C could not stop the command (only SIGKILL).
 * A socket waits in the event loop instead. Past `maxBytes`, it stops and calls `tooLarge`.
 */
export function readPipe(
  file: string,
  maxBytes: number,
  tooLarge: (size: number) => Error,
): Promise<Buffer> {
  const pipe = new Socket({
    fd: openSync(file, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  })
  return readUpTo(pipe, maxBytes, tooLarge)
}

/**
 * The file of serve or diff, read whole (readWhole); `-` is stdin (a pipe, a socket as a parent
 * process gives, or a file). A terminal is refused: the end of the input (Ctrl-D) may never come.
 */
export async function readFileOrStdin(
  file: string,
  maxBytes: number,
  tooLarge: (size: number) => Error,
): Promise<Buffer> {
  if (file !== '-') return readWhole(file, maxBytes, tooLarge)
  if (process.stdin.isTTY)
    throw new SseProbeUsageError(
      "'-' reads stdin, which is a terminal: give a file name, or pipe a transcript in",
    )
  return readUpTo(process.stdin, maxBytes, tooLarge)
}

/** The name of a file argument in messages: `-` is stdin. */
export const fileName = (file: string) => (file === '-' ? 'stdin' : file)

async function readUpTo(
  stream: Readable,
  maxBytes: number,
  tooLarge: (size: number) => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      stream.destroy()
      throw tooLarge(size)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}
