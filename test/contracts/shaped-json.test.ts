// The parser of --schema's data reads data of a shape it learnt without JSON.parse: its values must
// be exactly JSON.parse's, and it must throw where JSON.parse throws.
import { execFileSync } from 'node:child_process'
import fastCheck from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createShapedJsonParser } from '../../src/contracts/shaped-json.ts'

/** A value written so that two values differ in text if they differ at all: -0, Infinity, types, key order, prototypes. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, x: unknown) => {
    if (typeof x === 'number') return `n${Object.is(x, -0) ? '-0' : String(x)}`
    if (typeof x === 'string') return `s${x}`
    if (typeof x === 'object' && x !== null && !Array.isArray(x)) {
      if (Object.getPrototypeOf(x) !== Object.prototype) return 'not a plain object'
      // Own keys as they are, __proto__ among them.
      return Object.fromEntries(
        Object.keys(x).map((k) => [`k${k}`, (x as Record<string, unknown>)[k]]),
      )
    }
    return x
  })
}

/** What JSON.parse does with the data: its value, or the message it throws. */
function outcome(parse: (data: string) => unknown, data: string): string {
  try {
    return canonical(parse(data))
  } catch (error) {
    return `throws ${(error as Error).name}: ${(error as Error).message}`
  }
}

/** As Python's json.dumps writes it: `": "` and `", "`, and \u escapes beyond ASCII. */
function pythonStyle(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonStyle).join(', ')}]`
  if (typeof value === 'object' && value !== null)
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonStyle(k)}: ${pythonStyle(v)}`)
      .join(', ')}}`
  return JSON.stringify(value).replace(
    /[^\u0000-\u007f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

const STYLES = [
  (v: unknown) => JSON.stringify(v),
  (v: unknown) => JSON.stringify(v, null, 2),
  (v: unknown) => ` ${JSON.stringify(v)}\t`,
  pythonStyle,
]

/** The value with its leaves replaced, one by one, by the next values of the pool (in turn). */
function withLeaves(value: unknown, pool: unknown[], at = { next: 0 }): unknown {
  if (Array.isArray(value)) return value.map((v) => withLeaves(v, pool, at))
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withLeaves(v, pool, at)]))
  if (pool.length === 0) return value
  const next = pool[at.next++ % pool.length]
  // Mostly a value of the same kind: the shape holds; else the shape changes.
  return typeof next === typeof value || at.next % 7 === 0 ? next : value
}

/**
 * The data read in turn by a new parser, each value held to JSON.parse's; how many of its own
 * JSON.parse calls were given a text that `counted` picks.
 */
function readAll(datas: string[], counted: (text: unknown) => boolean): number {
  const parse = createShapedJsonParser()
  const parsed = vi.spyOn(JSON, 'parse')
  const values = datas.map((data) => parse(data))
  const calls = parsed.mock.calls.filter(([text]) => counted(text)).length
  vi.restoreAllMocks()
  expect(values.map(canonical)).toEqual(datas.map((data) => canonical(JSON.parse(data))))
  return calls
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('shaped JSON parsing', () => {
  it('reads a stream of one shape with one JSON.parse of its data, values as JSON.parse reads them', () => {
    const datas = Array.from(
      { length: 200 },
      (_, i) =>
        `{"n":${i},"state":"${['queued', 'running', 'd\u00e9j\u00e0 vu 😀'][i % 3]}","ok":true,"at":${-i / 8},"tags":[${i},"x",{}],"meta":null}`,
    )
    expect(readAll(datas, (text) => datas.includes(text as string))).toBe(1)
  })

  it('stops learning when shapes keep changing (a word that flips), and reads on as JSON.parse does', () => {
    const datas = Array.from({ length: 100 }, (_, i) => `{"n":${i},"ok":${i % 2 === 0}}`)
    // A learning parses the key.
    expect(readAll(datas, (text) => text === '"n"')).toBeLessThanOrEqual(9)
  })

  it('reads every stream as JSON.parse does, whatever its values, shapes, escapes and spacing', () => {
    fastCheck.assert(
      fastCheck.property(
        fastCheck.oneof(
          fastCheck.dictionary(fastCheck.string(), fastCheck.jsonValue({ maxDepth: 3 })),
          fastCheck.array(fastCheck.jsonValue({ maxDepth: 3 })),
        ),
        fastCheck.array(
          fastCheck.oneof(
            fastCheck.string({ unit: 'binary' }),
            fastCheck.constantFrom('', '"', '\\', '\u2028', '😀', 'é', '\n', '__proto__'),
            fastCheck.double(),
            fastCheck.integer(),
            fastCheck.constantFrom(-0, 1e21, 5e-324, 2 ** 53 + 1, 0.1),
            fastCheck.boolean(),
            fastCheck.constant(null),
          ),
          { maxLength: 30 },
        ),
        fastCheck.integer({ min: 2, max: 12 }),
        fastCheck.nat(STYLES.length - 1),
        fastCheck.array(fastCheck.constantFrom('cut', 'junk', 'number', 'twice'), {
          maxLength: 3,
        }),
        (base, pool, count, style, odd) => {
          const parse = createShapedJsonParser()
          const datas: string[] = []
          for (let i = 0; i < count; i++)
            datas.push(STYLES[style]!(withLeaves(base, pool.slice(i), { next: 0 })))
          // Data that is not of the shape, or not JSON, in the middle.
          const middle = datas[Math.floor(count / 2)]!
          for (const kind of odd)
            datas.splice(
              1,
              0,
              kind === 'cut'
                ? middle.slice(0, -1)
                : kind === 'junk'
                  ? `${middle}x`
                  : kind === 'number'
                    ? '42'
                    : `${middle.slice(0, -1)},"a":1,"a":2}`,
            )
          for (const data of datas) expect(outcome(parse, data)).toBe(outcome(JSON.parse, data))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('stops trying to learn data it cannot learn (too many values), reading them with JSON.parse', () => {
    const datas = Array.from({ length: 50 }, (_, i) => JSON.stringify({ a: Array(300).fill(i) }))
    expect(readAll(datas, (text) => text === '"a"')).toBe(8)
  })

  it('keeps a key __proto__ an own property, as JSON.parse does', () => {
    const parse = createShapedJsonParser()
    for (let i = 0; i < 3; i++) {
      const data = `{"a":${i},"__proto__":{"polluted":${i}}}`
      const value = parse(data) as Record<string, unknown>
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(canonical(value)).toBe(canonical(JSON.parse(data)))
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('reads data nested deeper than it learns, and longer, with JSON.parse', () => {
    const parse = createShapedJsonParser()
    const deep = (n: number) => `${'['.repeat(500)}${n}${']'.repeat(500)}`
    const long = (n: number) => JSON.stringify({ n, text: 'x'.repeat(20_000) })
    for (let i = 0; i < 3; i++) {
      expect(canonical(parse(deep(i)))).toBe(canonical(JSON.parse(deep(i))))
      expect(canonical(parse(long(i)))).toBe(canonical(JSON.parse(long(i))))
    }
  })

  it('reads with JSON.parse where Node makes no code from strings', () => {
    const module = new URL('../../src/contracts/shaped-json.ts', import.meta.url).href
    const script = `import { createShapedJsonParser } from ${JSON.stringify(module)}
const parse = createShapedJsonParser()
console.log(JSON.stringify([0, 1, 2].map((n) => parse('{"n":' + n + '}'))))`
    const out = execFileSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    )
    expect(JSON.parse(out)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
  })
})
