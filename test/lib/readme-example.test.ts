import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { probe, serve } from 'sse-probe'
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

test('a client under test reads a mock stream', async () => {
  const mock = await serve(
    [
      {
        type: 'event',
        t: 0,
        attempt: 1,
        event: 'status',
        id: '1',
        lastEventId: '1',
        data: 'a',
        dt: null,
      },
      {
        type: 'event',
        t: 100,
        attempt: 1,
        event: 'end',
        id: '2',
        lastEventId: '2',
        data: 'b',
        dt: 100,
      },
      { type: 'close', t: 100, attempt: 1, cause: 'server-closed' },
    ],
    { speed: 0 },
  )
  try {
    const response = await fetch(mock.url, { headers: { accept: 'text/event-stream' } })
    expect(await response.text()).toBe(
      'event: status\nid: 1\ndata: a\n\nevent: end\nid: 2\ndata: b\n\n',
    )
  } finally {
    await mock.close()
  }
})
