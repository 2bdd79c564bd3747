import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { expect, onTestFinished, test } from 'vitest'
import { startServer } from '../helpers/server.ts'

const SCRIPT = fileURLToPath(new URL('../../scripts/sse-contract-service.js', import.meta.url))

/** The script on an ephemeral port, stopped when the test ends. */
async function startService(): Promise<string> {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  onTestFinished(() => {
    child.kill()
  })
  const [line] = (await once(child.stdout, 'data')) as [Buffer]
  const url = /listening on (\S+)/.exec(line.toString())?.[1]
  if (!url) throw new Error(`the service said: ${line}`)
  return url
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of request) text += chunk
  return text
}

// What the harness of github.com/launchdarkly/sse-contract-tests does, in one run: ask for a client,
// serve its stream, break it, restart it, and read the numbered callbacks.
test("LaunchDarkly's SSE contract tests' service: events, comments, errors and restarts, in order", async () => {
  const service = await startService()
  const streamRequests: IncomingMessage[] = []
  const stream = await startServer((request, response) => {
    streamRequests.push(request)
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    if (streamRequests.length === 1) {
      response.write(':hi\nid: 1\ndata: a\n\n')
      setTimeout(() => response.destroy(), 50)
    } else response.write(`data: ${streamRequests.length}\n\n`)
  })
  const callbacks: { path: string; message: unknown }[] = []
  const received = new EventTarget()
  const receiver = await startServer(async (request, response) => {
    callbacks.push({ path: request.url!, message: JSON.parse(await readBody(request)) })
    response.end()
    received.dispatchEvent(new Event('callback'))
  })
  const callbacksUpTo = async (n: number) => {
    while (callbacks.length < n) await once(received, 'callback')
    return callbacks.slice(0, n)
  }

  const status = await fetch(service)
  expect(await status.json()).toEqual({ capabilities: expect.arrayContaining(['restart', 'bom']) })
  const created = await fetch(service, {
    method: 'POST',
    body: JSON.stringify({
      streamUrl: stream.url,
      callbackUrl: `${receiver.url}/endpoints/1`,
      initialDelayMs: 0,
      headers: { 'x-test': 'yes' },
    }),
  })
  expect(created.status).toBe(201)
  const client = new URL(created.headers.get('location')!, service).href

  expect(await callbacksUpTo(4)).toEqual([
    { path: '/endpoints/1/1', message: { kind: 'comment', comment: 'hi' } },
    {
      path: '/endpoints/1/2',
      message: { kind: 'event', event: { type: 'message', data: 'a', id: '1' } },
    },
    { path: '/endpoints/1/3', message: { kind: 'error', comment: expect.any(String) } },
    {
      path: '/endpoints/1/4',
      message: { kind: 'event', event: { type: 'message', data: '2', id: '1' } },
    },
  ])
  expect(streamRequests[1]!.headers).toMatchObject({ 'last-event-id': '1', 'x-test': 'yes' })

  // A restart is no error of the stream: the next callback is the new connection's event.
  expect((await fetch(client, { method: 'POST', body: '{"command":"restart"}' })).status).toBe(200)
  expect((await callbacksUpTo(5))[4]).toEqual({
    path: '/endpoints/1/5',
    message: { kind: 'event', event: { type: 'message', data: '3', id: '1' } },
  })
  expect((await fetch(client, { method: 'POST', body: '{"command":"listen"}' })).status).toBe(400)
  expect((await fetch(client, { method: 'DELETE' })).status).toBe(200)
  expect((await fetch(client, { method: 'DELETE' })).status).toBe(404)
})
