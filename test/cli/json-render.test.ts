import { describe, expect, it } from 'vitest'
import { createJsonRenderer, renderJson, renderJsonPieces } from '../../src/cli/render/json.ts'
import { DATA_JSON } from '../../src/engine/json-text.ts'
import type { EventRecord, ProbeRecord, SummaryRecord } from '../../src/engine/records.ts'
import { probe } from '../../src/index.ts'
import { sseServer } from '../helpers/server.ts'

function summary(llm: Record<string, unknown>): ProbeRecord {
  return {
    type: 'summary',
    t: 1,
    startedAt: '2026-11-30T00:00:00.000Z',
    reason: 'end-data',
    exitCode: 0,
    expectations: [],
    events: 1,
    eventsByType: { message: 1 },
    pings: 0,
    comments: 0,
    connections: 1,
    reconnects: 0,
    bytes: 1,
    firstEventMs: 1,
    gapMs: null,
    llm,
  } as unknown as SummaryRecord
}

describe('renderJsonPieces', () => {
  it('joins into exactly the line of renderJson, in pieces below the large-object size', () => {
    // Escapes, control characters, emoji and a lone surrogate, at every offset of a 16 Ki cut.
    const unit = 'tok "q" \\ \n\u0001 é 😀 \ud800 '
    const text = unit.repeat(Math.ceil(100_000 / unit.length))
    for (let shift = 0; shift < unit.length; shift++) {
      const record = summary({ text: text.slice(shift), reasoning: '', toolCalls: [] })
      const parts = renderJsonPieces(record)
      expect(parts.length).toBeGreaterThan(6)
      expect(parts.join('')).toBe(renderJson(record))
      for (const part of parts) expect(part.length).toBeLessThan(128 * 1024)
    }
  })

  it('takes every long string, wherever it is', () => {
    const long = (c: string) => c.repeat(40_000)
    const record = summary({
      text: long('a'),
      choices: [{ text: long('b'), toolCalls: [{ arguments: long('c') }] }],
    })
    const parts = renderJsonPieces(record)
    expect(parts.join('')).toBe(renderJson(record))
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThanOrEqual(16_384)
  })

  it('is one line as renderJson makes it when nothing is long', () => {
    const record = summary({ text: 'short' })
    expect(renderJsonPieces(record)).toEqual([renderJson(record)])
  })

  it('is not misled by a value that looks like its stand-in', () => {
    const record = summary({ text: 'x'.repeat(20_000), note: '\u0000sse-probe: long string\u0000' })
    expect(renderJsonPieces(record).join('')).toBe(renderJson(record))
  })
})

describe('createJsonRenderer', () => {
  it("writes the engine's event records as JSON.stringify does, as their ids, types and attempts change", async () => {
    // Ids and types to escape, an id kept as the last one, an id reset, a second connection; each
    // change alone between two events.
    const first = [
      'data: a\n\n',
      'id: 1\ndata: b\n\n',
      'data: c\n\n',
      'event: "tëst"\\\u0001\ndata: c\n\n',
      'id: "q"\\ 😀\nevent: "tëst"\\\u0001\ndata: {"x":"\\"\u2028"}\n\n',
      'data: d\n\n',
      'id\ndata: e\n\n',
      'retry: 1\nid: 7\ndata: f\n\n',
      'data: f\n\n',
      // An id without data sets the last event id alone.
      'id: 9\n\ndata: f\n\n',
    ].join('')
    const { url } = await sseServer(first, 'data: g\n\nid: 8\ndata: g\n\nevent: end\ndata: h\n\n')
    const run = probe(url, { llm: 'off', endEvent: ['end'], maxReconnects: 1 })
    const events: EventRecord[] = []
    for await (const record of run) if (record.type === 'event') events.push(record)
    expect(events.map((e) => [e.attempt, e.event, e.id, e.lastEventId])).toEqual([
      [1, 'message', null, ''],
      [1, 'message', '1', '1'],
      [1, 'message', null, '1'],
      [1, '"tëst"\\\u0001', null, '1'],
      [1, '"tëst"\\\u0001', '"q"\\ 😀', '"q"\\ 😀'],
      [1, 'message', null, '"q"\\ 😀'],
      [1, 'message', '', ''],
      [1, 'message', '7', '7'],
      [1, 'message', null, '7'],
      [1, 'message', null, '9'],
      [2, 'message', null, '9'],
      [2, 'message', '8', '8'],
      [2, 'end', null, '8'],
    ])
    const render = createJsonRenderer()
    for (const event of events) expect(render(event)).toBe(`${JSON.stringify(event)}\n`)
  })

  it("writes an event's data from the JSON text an extension gave it", () => {
    const event: EventRecord = {
      type: 'event',
      t: 12.5,
      attempt: 1,
      event: 'message',
      id: null,
      lastEventId: '',
      data: '{"a":1}',
      dt: null,
    }
    const line = `${JSON.stringify(event)}\n`
    const render = createJsonRenderer()
    expect(render({ ...event, [DATA_JSON]: JSON.stringify(event.data) } as EventRecord)).toBe(line)
    // The given text is taken as it is: it is the extension's to make exact.
    expect(render({ ...event, [DATA_JSON]: '"given"' } as EventRecord)).toBe(
      line.replace(JSON.stringify(event.data), '"given"'),
    )
  })
})
