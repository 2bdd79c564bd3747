// Contracts and diff against data nested deeper than recursion goes: a verdict, never exit 70.
import { constants } from 'node:buffer'
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { sseServer } from '../helpers/server.ts'

const work = mkdtempSync(join(tmpdir(), 'sse-probe-hostile-contracts-'))
const file = (name: string, text: string) => {
  const path = join(work, name)
  writeFileSync(path, text)
  return path
}
const DEPTH = 100_000
const deep = (inner = '') => `${'['.repeat(DEPTH)}${inner}${']'.repeat(DEPTH)}`

describe('data nested 100k deep', () => {
  it('against a recursive schema: a violation, exit 1, the summary printed', async () => {
    const schema = file(
      'nested.json',
      '{"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"}}},"$ref":"#/$defs/n"}',
    )
    const { url } = await sseServer(`data: [[]]\n\ndata: ${deep()}\n\n`)
    const run = await runCli(['--json', '--max-events', '2', '--schema', schema, url])
    expect(run.stderr).not.toContain('internal error')
    expect(run.exitCode).toBe(1)
    expect(run.ofType('violation')).toMatchObject([
      { index: 2, pointer: '', message: 'nested too deeply to validate' },
    ])
  })

  it('diff compares it as text: exit 1 when it differs, 0 when it does not', async () => {
    const left = file('left.sse', `data: ${deep()}\n\n`)
    const right = file('right.sse', `data: ${deep('1')}\n\n`)
    const differs = await runCli(['diff', '--json', left, right])
    expect(differs.stderr).toBe('')
    expect(differs.exitCode).toBe(1)
    expect(differs.records.filter((r) => (r.type as string) === 'diff')).toMatchObject([
      { kind: 'changed', pointer: '' },
    ])
    const same = await runCli(['diff', left, left])
    expect(same.stderr).toBe('')
    expect(same.exitCode).toBe(0)
  })
})

describe('diff of event types and ids of megabytes', () => {
  it('pretty: each is cut to 120 characters, not printed whole on every line', async () => {
    const long = (c: string) => c.repeat(1_000_000)
    const left = file('long-left.sse', `event: ${long('e')}\nid: ${long('i')}\ndata: 1\n\n`)
    const right = file('long-right.sse', `event: ${long('e')}\nid: ${long('i')}\ndata: 2\n\n`)
    const run = await runCli(['diff', '--no-color', left, right])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(`#1 ${'e'.repeat(120)}… id ${'i'.repeat(120)}…`)
    expect(run.stdout.length).toBeLessThan(2000)
  })
})

describe('diff on a file larger than a string can hold', () => {
  it('says so, exit 3 (not an internal error)', async () => {
    // Sparse: no disk used. Reading it takes half a gigabyte for a moment.
    const huge = file('huge.sse', '')
    truncateSync(huge, constants.MAX_STRING_LENGTH + 1)
    const run = await runCli(['diff', huge, huge])
    expect(run.stderr).toBe(
      `sse-probe diff: cannot read ${huge}: ${constants.MAX_STRING_LENGTH + 1} bytes, more than the ${constants.MAX_STRING_LENGTH} diff can compare\n`,
    )
    expect(run.exitCode).toBe(3)
  })
})

describe("an LLM profile's end marker", () => {
  const chat = (content: string) =>
    `data: {"object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"${content}"}}]}\n\n`
  const anthropic = (type: string) => `event: ${type}\ndata: {"type":"${type}"}\n\n`

  it('is a signal, not payload: [DONE] and message_stop are not validated (CLI and library)', async () => {
    const object = file('object.json', '{"type":"object","required":["object"]}')
    const { url } = await sseServer(`${chat('a')}${chat('b')}data: [DONE]\n\n`)
    const run = await runCli(['--schema', object, '--fail-fast', url])
    expect(run.stderr).toContain('── summary  end-data  exit 0')
    expect(run.exitCode).toBe(0)

    const { probe } = await import('../../src/index.ts')
    const stop = file('stop.json', '{"required":["message"]}')
    const messages = await sseServer(
      'event: message_start\ndata: {"type":"message_start","message":{"model":"c","content":[]}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}\n\n' +
        anthropic('message_stop'),
    )
    const summary = await probe(messages.url, { schema: `message_stop=${stop}` }).summary
    expect(summary).toMatchObject({ reason: 'end-event', exitCode: 0 })
  })

  it('a streamed error that also fails --schema with --fail-fast ends as the stream error, in the CLI as in the library', async () => {
    const object = file('object.json', '{"type":"object","required":["object"]}')
    const { url } = await sseServer(`${chat('a')}data: {"error":{"message":"overloaded"}}\n\n`)
    const run = await runCli(['--json', '--schema', object, '--fail-fast', '--expect-llm', url])
    expect(run.summary).toMatchObject({
      reason: 'stream-error',
      exitCode: 3,
      message: 'overloaded',
    })
    expect(run.exitCode).toBe(3)

    const { probe } = await import('../../src/index.ts')
    const summary = await probe(url, { schema: object, failFast: true, expectLlm: true }).summary
    // The same summary as the CLI's, in the same order (the fields, the expectations).
    const shape = (s: object) => ({
      ...s,
      keys: Object.keys(s),
      expectations: (s as typeof summary).expectations.map((e) => e.name),
    })
    expect(shape(summary)).toMatchObject({
      reason: 'stream-error',
      exitCode: 3,
      keys: Object.keys(run.summary),
      expectations: ['--expect-llm', `--schema ${object}`],
    })
  })

  it('is validated when no profile reads the stream', async () => {
    const stop = file('stop.json', '{"required":["message"]}')
    const { url } = await sseServer(anthropic('message_start') + anthropic('message_stop'))
    const run = await runCli([
      '--llm',
      'off',
      '--no-reconnect',
      '--schema',
      `message_stop=${stop}`,
      url,
    ])
    expect(run.stderr).toContain(
      "✗ event #2 message_stop  (data) must have required property 'message'",
    )
    expect(run.exitCode).toBe(1)
  })
})

describe('a schema pattern that backtracks catastrophically on the data', () => {
  it('gives its verdict at once; text beyond U+FFFF is still matched by code points', async () => {
    const schema = file(
      'backtracking.json',
      '{"properties":{"s":{"pattern":"^(a+)+$"},"pair":{"pattern":"^.{2}$"}}}',
    )
    const events = [
      `{"s":"${'a'.repeat(40)}!"}`,
      '{"s":"aaa"}',
      '{"pair":"😀😀"}',
      '{"pair":"abc"}',
      // Text beyond U+FFFF is no way around the protection.
      `{"s":"${'a'.repeat(40)}😀!"}`,
      '{"pair":"😀\\ud83d"}',
    ]
    const { url } = await sseServer(events.map((data) => `data: ${data}\n\n`).join(''))
    const run = await runCli(['--json', '--max-events', '6', '--schema', schema, url], {
      timeoutMs: 8000,
    })
    expect(run.exitCode).toBe(1)
    expect(run.ofType('violation').map((v) => [v.index, v.pointer])).toEqual([
      [1, '/s'],
      [4, '/pair'],
      [5, '/s'],
    ])
  })
})

describe('schemas and data wider than a call takes arguments', () => {
  it('an enum of 200,000 values compiles and checks; its violation lists a few and the count', async () => {
    const values = Array.from({ length: 200_000 }, (_, i) => `value-${i}`)
    const schema = file('huge-enum.json', JSON.stringify({ enum: values }))
    const { url } = await sseServer('data: "value-7"\n\ndata: "other"\n\n')
    const run = await runCli(['--json', '--max-events', '2', '--schema', schema, url])
    expect(run.stderr).not.toContain('internal error')
    expect(run.exitCode).toBe(1)
    const [violation] = run.ofType('violation')
    expect(violation).toMatchObject({
      index: 2,
      message: expect.stringMatching(
        /^must be equal to one of the allowed values: "value-0", "value-1", .*"value-\d+", … \(200000 values\)$/,
      ),
    })
    expect(violation!.message.length).toBeLessThan(200)
  })

  it('an object of 3,000 properties is checked, not "nested too deeply" on every event', async () => {
    const properties = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`k${i}`, { type: 'integer', maximum: i }]),
    )
    const schema = file('wide-object.json', JSON.stringify({ type: 'object', properties }))
    const { url } = await sseServer('data: {"k1":1,"k2999":5}\n\ndata: {"k5":7}\n\n')
    const run = await runCli(['--json', '--max-events', '2', '--schema', schema, url])
    expect(run.ofType('violation')).toMatchObject([
      { index: 2, pointer: '/k5', message: 'must be <= 5' },
    ])
    expect(run.exitCode).toBe(1)
  })

  // Two sizes: V8 overflows parsing the first-error code of one at its first call, compiling the other.
  it.each([1800, 3000])(
    '--openapi: a contentSchema of %i properties is checked too',
    async (size) => {
      const properties = Object.fromEntries(
        Array.from({ length: size }, (_, i) => [`k${i}`, { type: 'integer', maximum: i }]),
      )
      const data = {
        type: 'string',
        contentMediaType: 'application/json',
        contentSchema: { properties },
      }
      const content = { 'text/event-stream': { itemSchema: { properties: { data } } } }
      const document = file(
        `wide-openapi-${size}.json`,
        JSON.stringify({
          openapi: '3.2.0',
          info: { title: 'wide', version: '1' },
          paths: { '/': { get: { responses: { 200: { description: 'events', content } } } } },
        }),
      )
      const { url } = await sseServer('data: {"k1":1}\n\ndata: {"k5":7}\n\n')
      const run = await runCli(['--json', '--max-events', '2', '--openapi', document, `${url}/`])
      expect(run.stderr).not.toContain('unusable')
      expect(run.ofType('violation')).toMatchObject([{ index: 2, pointer: '/data/k5' }])
      expect(run.exitCode).toBe(1)
    },
  )

  it("a const or a property name's violation stays one short line", async () => {
    const long = 'x'.repeat(5000)
    const schema = file(
      'long-const.json',
      JSON.stringify({ properties: { kind: { const: long } }, additionalProperties: false }),
    )
    const { url } = await sseServer(`data: {"kind":"y"}\n\ndata: {"${long}":1}\n\n`)
    const run = await runCli(['--json', '--max-events', '2', '--schema', schema, url])
    expect(run.ofType('violation').map((v) => v.message)).toEqual([
      `must be equal to constant: "${'x'.repeat(99)}…`,
      `must NOT have additional properties: "${'x'.repeat(99)}…`,
    ])
  })

  it('diff of an event with 200,000 changed fields: a record for each, exit 1', async () => {
    const fields = (value: number) =>
      JSON.stringify(
        Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, value])),
      )
    const left = file('wide-left.sse', `data: ${fields(1)}\n\n`)
    const right = file('wide-right.sse', `data: ${fields(2)}\n\n`)
    const run = await runCli(['diff', '--json', left, right])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(1)
    expect(run.records.at(-1)).toMatchObject({ type: 'diff-summary', differences: 200_000 })
  })
})

describe('a device with no end (/dev/zero) given as a file', () => {
  it('is refused once it is longer than a string can hold: --schema and --openapi exit 2, a diff side 3', async () => {
    // It was read until memory ran out (diff: gigabytes; --schema: an abort, exit 134).
    const { url } = await sseServer('data: {}\n\n')
    const limit = `more than ${constants.MAX_STRING_LENGTH}`
    for (const flag of ['--schema', '--openapi']) {
      const run = await runCli([flag, '/dev/zero', url], { timeoutMs: 30_000 })
      expect(run.stderr).toMatch(`: cannot read /dev/zero: ${limit} bytes\n`)
      expect(run.stderr).toMatch(new RegExp(`^error: ${flag}`))
      expect(run.exitCode).toBe(2)
    }
    const diff = await runCli(['diff', '/dev/zero', '/dev/zero'], { timeoutMs: 30_000 })
    expect(diff.stderr).toMatch(/^sse-probe diff: cannot read \/dev\/zero: \d+ bytes, more than/)
    expect(diff.exitCode).toBe(3)
  }, 60_000)
})
