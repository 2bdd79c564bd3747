import { describe, expect, it } from 'vitest'
import { renderJson, renderJsonPieces } from '../../src/cli/render/json.ts'
import type { ProbeRecord, SummaryRecord } from '../../src/engine/records.ts'

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
