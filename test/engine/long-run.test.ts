import { afterEach, describe, expect, it } from 'vitest'
import { probe } from '../../src/index.ts'
import { sseServer } from '../helpers/server.ts'

const RECONNECTS = 300

/**
 * What each AbortSignal holds on to: its 'abort' listeners, and the composite signals that
 * AbortSignal.any() made from it (Node keeps a little of each on the source for good).
 */
function watchSignals() {
  const held = new Map<EventTarget, number>()
  const hold = (signal: EventTarget, n: number) => held.set(signal, (held.get(signal) ?? 0) + n)
  const { any } = AbortSignal
  const { addEventListener, removeEventListener } = EventTarget.prototype
  AbortSignal.any = (signals) => {
    for (const signal of signals) hold(signal, 1)
    return any.call(AbortSignal, signals)
  }
  // The counts are approximate (a listener added twice is one), which is enough to see growth.
  EventTarget.prototype.addEventListener = function (this: EventTarget, type, ...rest) {
    if (this instanceof AbortSignal && type === 'abort') hold(this, 1)
    return addEventListener.call(this, type, ...rest)
  }
  EventTarget.prototype.removeEventListener = function (this: EventTarget, type, ...rest) {
    if (this instanceof AbortSignal && type === 'abort') hold(this, -1)
    return removeEventListener.call(this, type, ...rest)
  }
  afterEach(() => {
    AbortSignal.any = any
    Object.assign(EventTarget.prototype, { addEventListener, removeEventListener })
  })
  return { most: () => Math.max(0, ...held.values()) }
}

describe('a long run holds no more than a short one', () => {
  it('hundreds of reconnects leave nothing behind on the probe’s signals', async () => {
    // One event per connection and `retry: 1`: a reconnect storm, as a flapping server makes.
    const server = await sseServer('retry: 1\ndata: x\n\n')
    const signals = watchSignals()
    const summary = await probe(server.url, { maxEvents: RECONNECTS }).summary
    expect(summary).toMatchObject({ reason: 'max-events', reconnects: RECONNECTS - 1 })
    // A handful per probe (its own signal, the current attempt's), not one per reconnect.
    expect(signals.most()).toBeLessThan(10)
  })

  it('an LLM stream cut short on every connection lists its problem once, not once a connection', async () => {
    const chunk = JSON.stringify({ choices: [{ index: 0, delta: { content: 'x' } }] })
    const server = await sseServer(`retry: 1\ndata: ${chunk}\n\n`)
    const summary = await probe(server.url, { llm: 'openai-chat', maxEvents: 50 }).summary
    expect(summary).toMatchObject({ reason: 'max-events', reconnects: 49 })
    expect(summary.llm?.problems).toEqual([
      { code: 'no-end-marker', message: expect.stringContaining('end marker') },
    ])
  })
})
