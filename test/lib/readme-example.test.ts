import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { probe } from 'sse-probe'
import { afterAll, beforeAll, expect, test } from 'vitest'

// Your endpoint; here a stand-in that sends two status events and ends.
const app = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write('id: 1\nevent: status\ndata: {"state":"running"}\n\n')
  res.end('id: 2\nevent: end\ndata: {"state":"done"}\n\n')
})
let url: string
beforeAll(async () => {
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/status`
})
afterAll(() => {
  app.close()
})

test('the status stream ends with an end event', async () => {
  const run = probe(url, { timeout: '5s', expectEvent: ['status', 'end'] })
  const states: string[] = []
  for await (const record of run) {
    if (record.type === 'event') states.push(JSON.parse(record.data).state)
  }
  const summary = await run.summary
  expect(summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
  expect(summary.expectations.every((e) => e.ok)).toBe(true)
  expect(states).toEqual(['running', 'done'])
})
