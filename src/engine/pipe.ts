import { constants, openSync } from 'node:fs'
import { Socket } from 'node:net'

/**
 * A named pipe or `<(command)`, read whole. Read as a socket: a read of a pipe in libuv's thread
 * pool (as readFile does, or readFileSync on the main thread) blocks there until the writer comes,
 * and then even process.exit() waits for it, so Ctrl-C could not stop the command (only SIGKILL).
 * A socket waits in the event loop instead. Past `maxBytes`, it stops and calls `tooLarge`.
 */
export async function readPipe(
  file: string,
  maxBytes: number,
  tooLarge: (size: number) => Error,
): Promise<Buffer> {
  const pipe = new Socket({
    fd: openSync(file, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  })
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of pipe as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      pipe.destroy()
      throw tooLarge(size)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}
