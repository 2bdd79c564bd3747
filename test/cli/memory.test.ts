import { describe, expect, it } from 'vitest'
import { drained, endlessLineServer } from '../helpers/hostile-servers.ts'
import { CAN_MEASURE_RSS, runCliStreamed } from '../helpers/process.ts'
import { startServer } from '../helpers/server.ts'

const SSE = { 'content-type': 'text/event-stream' }
// A Node process probing a tiny stream peaks near 80 MiB; keeping every event of
// the runs below (or every gap sample) takes it past 220 MiB.
const MEMORY_BOUND_MIB = 200

describe.skipIf(!CAN_MEASURE_RSS)('bounded memory (peak RSS of the probe, from /proc)', () => {
  it('an endless line of several hundred MB ends the probe, in bounded memory', async () => {
    const server = await endlessLineServer()
    const run = await runCliStreamed([server.url, '--json'])
    expect(run.exitCode).toBe(3)
    expect(JSON.parse(run.lastLine)).toMatchObject({ type: 'summary', reason: 'event-too-large' })
    expect(run.peakRssMiB).toBeGreaterThan(0)
    expect(run.peakRssMiB).toBeLessThan(MEMORY_BOUND_MIB)
    expect(server.sent()).toBeLessThan(100 * 2 ** 20)
  })

  it('two million small events run in flat memory, also when stdout is a pipe', async () => {
    const EVENTS = 2_000_000
    const block = Buffer.from('data: x\n\n'.repeat(10_000))
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, SSE)
      for (let n = 0; n < EVENTS && !res.destroyed; n += 10_000) {
        if (!res.write(block)) await drained(res)
      }
      res.end('event: end\ndata: bye\n\n')
    })
    const run = await runCliStreamed([server.url, '--json'])
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.lastLine)).toMatchObject({
      type: 'summary',
      reason: 'end-event',
      events: EVENTS + 1,
      gapMs: expect.any(Object),
    })
    // open, every event, summary: all of them reached the reader
    expect(run.stdoutLines).toBe(EVENTS + 3)
    expect(run.peakRssMiB).toBeGreaterThan(0)
    expect(run.peakRssMiB).toBeLessThan(MEMORY_BOUND_MIB)
  })
})
