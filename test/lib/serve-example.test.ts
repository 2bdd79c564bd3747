import { serve } from 'sse-probe'
import { expect, test } from 'vitest'

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
