import { escapeRegex } from '../engine/escape.ts'
import {
  type JsonToken,
  jsonTokens,
  PLAIN_BODY,
  type ValueSpan,
  valueSpan,
} from '../engine/json-text.ts'

// A JSON number's text, which Number() reads to the same value as JSON.parse.
const NUMBER = '-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?'
// A shape pays for its compilation (a regular expression and a function) after this many events.
// Once this many shapes were replaced having served fewer, the stream's data differ by more than
// their values: JSON.parse reads them all, with no more learning.
const SHAPE_WORTH = 64
const MAX_SHORT_LIVED = 8
// Data longer than this, or with more values, is not learnt: V8 compiles no regular expression with
// a run of more than 32,767 fixed characters, and such data are rare in a stream of events.
const MAX_LEARNT_LENGTH = 16 * 1024
const MAX_VALUES = 256
// Deeper data is not learnt either: the source of its value (and the reading of it) nests as deep.
const MAX_DEPTH = 64

interface Shape {
  /** Matches data that is NOT of this shape (a failed match writes no last-match record). */
  notThis: RegExp
  /** The value of data of this shape, as JSON.parse makes it. */
  build: (data: string) => unknown
  served: number
}

/**
 * JSON.parse for the data of a stream's events, most of which are the same bytes around other
 * values (`{"n":41,"state":"running"}`, then 42): ~2× faster there. The first event's data are
 * parsed and become a shape: a regular expression of its bytes with any string without escapes
 * and any number where its values are, and a function that builds the value from them (an object
 * literal with the same keys in the same order). Data that match it are what JSON.parse would read
 * with the values in their places, so the function's value equals JSON.parse's; other data are
 * parsed (a SyntaxError as JSON.parse throws it) and become the next shape.
 */
export function createShapedJsonParser(): (data: string) => unknown {
  let shape: Shape | undefined
  let shortLived = 0
  return (data) => {
    const s = shape
    if (s !== undefined && !s.notThis.test(data)) {
      s.served++
      return s.build(data)
    }
    const value: unknown = JSON.parse(data)
    if (shortLived < MAX_SHORT_LIVED) {
      let learnt: Shape | undefined
      try {
        learnt = learn(data)
      } catch {
        // Node run with --disallow-code-generation-from-strings (no `new Function`), or a call
        // at the edge of the stack: the value stands, as JSON.parse read it.
      }
      // Data it cannot learn count as a shape that did not last: a stream of them is not read
      // twice over for good.
      if (learnt === undefined || (s !== undefined && s.served < SHAPE_WORTH)) shortLived++
      if (learnt !== undefined) shape = learnt
    }
    return value
  }
}

/** The shape of data that JSON.parse read; undefined for data a shape does not take (see MAX_*). */
function learn(data: string): Shape | undefined {
  if (data.length > MAX_LEARNT_LENGTH || !/^[ \t\n\r]*[[{]/.test(data)) return undefined
  const tokens = jsonTokens(data)
  if (tokens === undefined) return undefined
  const slots: ValueSpan[] = []
  const value = valueSource(tokens, { next: 0, depth: 0 }, slots)
  if (value === undefined || slots.length > MAX_VALUES) return undefined
  let pattern = ''
  // The function reads each value from where the fixed characters before it end to the character
  // after it (a string's closing quote; after a number, never a digit: what the data go on with).
  let reader = 'let at = 0, end = 0\n'
  let last = 0
  slots.forEach(({ from, to, number }, i) => {
    pattern += `${escapeRegex(data.slice(last, from))}${number ? NUMBER : PLAIN_BODY}`
    reader += `at = end + ${from - last}; end = data.indexOf(${JSON.stringify(data[to])}, at)\n`
    reader += `const v${i} = data.slice(at, end)\n`
    last = to
  })
  pattern += escapeRegex(data.slice(last))
  return {
    notThis: new RegExp(`^(?!${pattern}$)`),
    build: new Function('data', `${reader}return ${value}`) as Shape['build'],
    served: 0,
  }
}

/**
 * The JavaScript source of the value whose tokens start at `at.next` (which it moves past them),
 * with `v<i>` for each string without escapes and `+v<i>` for each number (its place added to
 * slots: the shape takes any value of its kind there).
 * Undefined where an object literal would not make what JSON.parse makes: a key `__proto__` (which
 * sets a literal's prototype) or the same key twice; or nested deeper than MAX_DEPTH.
 */
function valueSource(
  tokens: JsonToken[],
  at: { next: number; depth: number },
  slots: ValueSpan[],
): string | undefined {
  const token = tokens[at.next++]!
  const { text } = token
  if (text === '{' || text === '[') {
    if (++at.depth > MAX_DEPTH) return undefined
    const object = text === '{'
    const close = object ? '}' : ']'
    const members: string[] = []
    const keys = new Set<string>()
    if (tokens[at.next]!.text === close) at.next++
    else
      for (;;) {
        let member = ''
        if (object) {
          const key = JSON.parse(tokens[at.next]!.text) as string
          if (key === '__proto__' || keys.has(key)) return undefined
          keys.add(key)
          member = `${JSON.stringify(key)}:`
          at.next += 2
        }
        const value = valueSource(tokens, at, slots)
        if (value === undefined) return undefined
        members.push(`${member}${value}`)
        if (tokens[at.next++]!.text === close) break
      }
    at.depth--
    return object ? `{${members.join(',')}}` : `[${members.join(',')}]`
  }
  if (text[0] === '"') {
    // With escapes: a fixed string, as the first event's.
    if (text.includes('\\')) return JSON.stringify(JSON.parse(text))
    slots.push(valueSpan(token))
    return `v${slots.length - 1}`
  }
  if (text === 'true' || text === 'false' || text === 'null') return text
  slots.push(valueSpan(token))
  return `+v${slots.length - 1}`
}
