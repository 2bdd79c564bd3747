import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { written } from '../../src/cli/written.ts'

/** A stream like stdout on a pipe its reader is slow to empty: each write completes 20 ms later. */
function slowPipe(fail?: Error) {
  const out: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      setTimeout(() => {
        out.push(String(chunk))
        callback(fail)
      }, 20)
    },
  })
  stream.on('error', () => {}) // as the CLI's own listener does
  return { stream, out }
}

describe('written', () => {
  it('resolves at once when nothing is waiting', async () => {
    const { stream } = slowPipe()
    expect(await Promise.race([written(stream), 'pending'])).toBeUndefined()
  })

  it('resolves once a last short line is out, though no drain is due', async () => {
    const { stream, out } = slowPipe()
    stream.write('an event\n')
    stream.write('the summary\n')
    // Far below the high-water mark: Node emits no 'drain' for these.
    expect(stream.writableNeedDrain).toBe(false)
    await written(stream)
    expect(out.join('')).toBe('an event\nthe summary\n')
  })

  it('resolves after a long backlog too', async () => {
    const { stream, out } = slowPipe()
    const lines = `${'x'.repeat(99)}\n`.repeat(200)
    for (let i = 0; i < 5; i++) stream.write(lines)
    expect(stream.writableNeedDrain).toBe(true)
    await written(stream)
    expect(out.join('')).toHaveLength(5 * 200 * 100)
  })

  it('resolves when the reader has gone (the write fails)', async () => {
    const { stream } = slowPipe(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    stream.write('the summary\n')
    await written(stream)
    expect(stream.destroyed).toBe(true)
  })
})
