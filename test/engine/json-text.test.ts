import { describe, expect, it } from 'vitest'
import { jsonText, jsonTokens, nestedDeeperThan } from '../../src/engine/json-text.ts'

const nest = (depth: number, leaf: unknown, wrap: (v: unknown) => unknown) => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = wrap(value)
  return value
}

describe('jsonText', () => {
  it('is JSON.stringify for what it can write', () => {
    const values = [
      null,
      42,
      'a "quoted" \u0000 \ud800 text',
      [1, undefined, () => 1, 'x'],
      {
        a: 1,
        skip: undefined,
        b: [true, { c: null }],
        'k"ey': -0.5,
        inf: Number.POSITIVE_INFINITY,
      },
    ]
    for (const value of values) expect(jsonText(value)).toBe(JSON.stringify(value))
  })

  it('writes what is nested too deeply for JSON.stringify, as it would', () => {
    const value = {
      a: nest(100_000, { leaf: ['x', undefined, 2] }, (v) => ({ k: v, skip: undefined })),
      b: nest(100_000, [], (v) => [v, 1]),
    }
    expect(() => JSON.stringify(value)).toThrow(RangeError)
    const text = jsonText(value)
    // The same text JSON.stringify writes for the value's shallow parts, read back whole.
    expect(text.startsWith('{"a":{"k":{"k":')).toBe(true)
    expect(text.includes('{"leaf":["x",null,2]}')).toBe(true)
    expect(text.endsWith(',1],1]}')).toBe(true)
    expect(nestedDeeperThan(JSON.parse(text), 100_000)).toBe(true)
    expect(nestedDeeperThan(JSON.parse(text), 100_003)).toBe(false)
  })
})

describe('nestedDeeperThan', () => {
  it('counts objects and arrays, not the scalars in them', () => {
    expect(nestedDeeperThan(1, 0)).toBe(false)
    expect(nestedDeeperThan([], 0)).toBe(true)
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false)
    expect(nestedDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true)
  })
})

describe('jsonTokens', () => {
  it('gives each token with where it starts, space before and after allowed', () => {
    expect(jsonTokens(' {"a": [1, -2.5e3, "x\\"y"]}\n', 10)).toEqual(
      ['{', '"a"', ':', '[', '1', ',', '-2.5e3', ',', '"x\\"y"', ']', '}'].map((text, i) => ({
        at: 10 + [1, 2, 5, 7, 8, 9, 11, 17, 19, 25, 26][i]!,
        text,
      })),
    )
    expect(jsonTokens('{"a" @}')).toBeUndefined()
  })

  it('reads a long run of space in one pass (an end-anchored expression took n² steps: minutes here)', () => {
    const space = ' '.repeat(300_000)
    expect(jsonTokens(`${space}1${space}`)).toEqual([{ at: 300_000, text: '1' }])
  })
})
