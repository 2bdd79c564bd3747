import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import type { EventRecord, ProbeRecord } from '../../src/contracts/engine.ts'
import { findOperation, loadOpenApi } from '../../src/contracts/openapi.ts'
import { createOrderCheck, createOrderExtension } from '../../src/contracts/order.ts'
import { dialectOf, loadSchema, parseSchemaSpec } from '../../src/contracts/schema.ts'
import { createTriggerExtension } from '../../src/contracts/trigger.ts'
import { createValidationExtension, type EventCheck } from '../../src/contracts/validate.ts'
import { startServer } from '../helpers/server.ts'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
const event = (e: Partial<EventRecord> & { data: string }): EventRecord => ({
  type: 'event',
  t: 1,
  attempt: 1,
  event: 'message',
  id: null,
  lastEventId: '',
  dt: null,
  ...e,
})

describe('--schema', () => {
  it('splits [type=]file', () => {
    expect(parseSchemaSpec('status=a.json', () => false)).toEqual({
      name: '--schema status=a.json',
      type: 'status',
      file: 'a.json',
    })
    expect(parseSchemaSpec('a.json', () => false)).toEqual({
      name: '--schema a.json',
      file: 'a.json',
    })
    expect(parseSchemaSpec('dir/x=y.json', () => false)).toEqual({
      name: '--schema dir/x=y.json',
      file: 'dir/x=y.json',
    })
    expect(parseSchemaSpec('x=y.json', () => true).type).toBeUndefined()
  })

  it('picks the dialect by $schema', () => {
    expect(dialectOf({})).toBe('2020-12')
    expect(dialectOf({ $schema: 'https://json-schema.org/draft/2019-09/schema' })).toBe('2019-09')
    expect(dialectOf({ $schema: 'http://json-schema.org/draft-07/schema#' })).toBe('draft-07')
    expect(dialectOf({ $schema: 'http://json-schema.org/draft-04/schema#' })).toBe('draft-04')
  })

  it('validates YAML 2020-12 with local $refs and formats', async () => {
    const check = await loadSchema({ name: 'x', file: fixture('status.schema.yaml') })
    expect(check({ progress: 50, at: '2026-01-01T00:00:00Z' })).toBeUndefined()
    expect(check({ progress: 101 })).toEqual({ pointer: '/progress', message: 'must be <= 100' })
    expect(check({ progress: 1, at: 'yesterday' })).toEqual({
      pointer: '/at',
      message:
        'must match format "date-time" (RFC 3339, with a time zone offset: 2026-01-01T10:00:00Z)',
    })
    expect(check({})).toEqual({ pointer: '', message: "must have required property 'progress'" })
  })

  it('a pydantic discriminated union: the error of the branch the value selects', async () => {
    const check = await loadSchema({ name: 'x', file: fixture('pydantic-union.schema.json') })
    expect(check({ kind: 'dog', good: true })).toBeUndefined()
    expect(check({ kind: 'dog', good: 'yes' })).toEqual({
      pointer: '/good',
      message: 'must be boolean',
    })
    expect(check({ kind: 'cow' })).toEqual({
      pointer: '/kind',
      message: 'must be equal to one of the allowed values: "cat", "dog"',
    })
    // Without the property, the union is checked as written.
    expect(check({ lives: 3 })).toEqual({
      pointer: '',
      message: "must have required property 'kind'",
    })
  })

  it('validates draft-07 with definitions', async () => {
    const check = await loadSchema({ name: 'x', file: fixture('draft7.schema.json') })
    expect(check({ n: 1 })).toBeUndefined()
    expect(check({ n: 1, m: 2 })).toEqual({
      pointer: '',
      message: 'must NOT have additional properties: "m"',
    })
  })

  it('refuses unreadable and unusable schemas, naming the file', async () => {
    const broken: [string, string][] = [
      ['minimum.json', '{"minimum":"5"}'],
      ['pattern.json', '{"pattern":"("}'],
      ['type.json', '{"type":"int"}'],
      ['list.json', '[1]'],
    ]
    for (const [name, schema] of broken) {
      const path = join(mkdtempSync(join(tmpdir(), 'schema-')), name)
      writeFileSync(path, schema)
      await expect(loadSchema({ name: '--schema x', file: path })).rejects.toThrow(new RegExp(name))
    }
    const loop = join(mkdtempSync(join(tmpdir(), 'schema-')), 'loop.json')
    writeFileSync(
      loop,
      '{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}',
    )
    await expect(loadSchema({ name: '--schema loop.json', file: loop })).rejects.toThrow(
      /loop.json: unusable schema: too large or too deeply nested to compile, or a \$ref that refers only to itself$/,
    )
    await expect(loadSchema({ name: '--schema nope.json', file: 'nope.json' })).rejects.toThrow(
      /--schema nope.json: cannot read nope.json: no such file$/,
    )
    await expect(
      loadSchema({
        name: '--schema s',
        file: fixture('aspnet.json').replace('aspnet', '../../../package'),
      }),
    ).rejects.toThrow(/unusable schema/)
  })
})

describe('--openapi', () => {
  const target = (file: string, path: string, method = 'GET', operationId?: string) => ({
    file: fixture(file),
    url: new URL(`http://127.0.0.1:1${path}`),
    method,
    ...(operationId && { operationId }),
  })

  it('ASP.NET style: object data behind a $ref, after the server path', async () => {
    const { check, name } = await loadOpenApi(target('aspnet.json', '/api/jobs/42/events'))
    expect(name).toBe(`--openapi ${fixture('aspnet.json')}`)
    expect(check({ data: '{"state":"running","progress":40}', event: 'message' })).toBeUndefined()
    expect(check({ data: '{"state":"running","progress":140}', event: 'message' })).toEqual({
      pointer: '/data/progress',
      message: 'must be <= 100',
    })
    expect(check({ data: 'oops', event: 'message' })?.message).toMatch(/^is not JSON/)
    expect(
      check({ data: '{"state":"running","progress":1}', event: 'message', retry: -1 }),
    ).toEqual({ pointer: '/retry', message: 'must be >= 0' })
  })

  it('FastAPI style: contentMediaType + contentSchema', async () => {
    const { check } = await loadOpenApi(target('fastapi.json', '/items/stream'))
    expect(
      check({ data: '{"name":"Plumbus","description":null}', event: 'message' }),
    ).toBeUndefined()
    expect(check({ data: '{"name":1,"description":null}', event: 'message' })).toEqual({
      pointer: '/data/name',
      message: 'must be string',
    })
    // Optional[str]: null is allowed too, and the message says so.
    expect(check({ data: '{"name":"P","description":3}', event: 'message' })).toEqual({
      pointer: '/data/description',
      message: 'must be string or null',
    })
  })

  it('hand-written 3.2: oneOf on event, recursive contentSchema, literal paths first', async () => {
    const { check } = await loadOpenApi(target('handwritten.yaml', '/jobs/7/events'))
    expect(check({ event: 'status', id: '3', data: '{"progress":5}' })).toBeUndefined()
    expect(check({ event: 'end', data: '{"ok":true,"children":[{"ok":false}]}' })).toBeUndefined()
    expect(check({ event: 'message', data: 'plain text' })).toBeUndefined()
    // The violation is the one in the branch the event selects, not in the first branch.
    expect(check({ event: 'status', data: '{"progress":500}' })).toEqual({
      pointer: '/data/progress',
      message: 'must be <= 100',
    })
    expect(check({ event: 'end', data: '{"ok":true,"children":[{"ok":1}]}' })).toEqual({
      pointer: '/data/children/0/ok',
      message: 'must be boolean',
    })
    expect(check({ event: 'other', data: '{}' })).toEqual({
      pointer: '/event',
      message: 'must be equal to one of the allowed values: "status", "end", "message"',
    })
    const latest = await loadOpenApi(target('handwritten.yaml', '/jobs/latest/events'))
    expect(latest.check({ event: 'message', data: 'toolong' })).toEqual({
      pointer: '/data',
      message: 'must NOT have more than 5 characters',
    })
  })

  it('TypeSpec style: a oneOf on event whose terminal branch fixes no event', async () => {
    const { check } = await loadOpenApi(target('typespec.yaml', '/channel/c1'))
    const message = (event: string, value: object) => ({ event, data: JSON.stringify(value) })
    const time = '2024-01-01T00:00:00Z'
    expect(check(message('usermessage', { username: 'a', time, text: 'hi' }))).toBeUndefined()
    expect(check({ event: 'message', data: '[unsubscribe]' })).toBeUndefined()
    // The violation is the one in the branch the event selects, not the first branch's event.
    expect(check(message('usermessage', { username: 'a', time }))).toEqual({
      pointer: '/data',
      message: "must have required property 'text'",
    })
    expect(check(message('userconnect', { username: 'a', time: 'now' }))).toEqual({
      pointer: '/data/time',
      message:
        'must match format "date-time" (RFC 3339, with a time zone offset: 2026-01-01T10:00:00Z)',
    })
    expect(check(message('bogus', {}))?.pointer).toBe('/data')
  })

  it("the OAS 3.2 specification's SSE example: $ref with siblings, both hold", async () => {
    const add = await loadOpenApi(target('oas32-spec-sse.yaml', '/add'))
    // The spec's stream, as its JSON Lines rendering gives each event.
    const text = 'This data is formatted\nacross two lines'
    expect(add.check({ event: 'addString', data: text, retry: 5 })).toBeUndefined()
    expect(add.check({ event: 'addInt64', data: '1234.5678' })).toBeUndefined()
    expect(add.check({ event: 'addJson', data: '{"foo": 42}' })).toBeUndefined()
    expect(add.check({ event: 'addJson', data: '{"foo": "x"}' })).toEqual({
      pointer: '/data/foo',
      message: 'must be integer',
    })
    expect(add.check({ event: 'addJSON', data: '{}' })?.pointer).toBe('/event')
    // The target's `required: [data, id]` is not replaced by the siblings' `required: [event]`.
    const job = await loadOpenApi(target('oas32-spec-sse.yaml', '/jobs/7/events'))
    expect(job.check({ event: 'progress', id: '1', data: '{"pct":5}' })).toBeUndefined()
    expect(job.check({ event: 'progress', data: '{"pct":5}' })).toEqual({
      pointer: '',
      message: "must have required property 'id'",
    })
    expect(job.check({ event: 'done', id: 'x', data: '{"pct":5}' })?.pointer).toBe('/id')
    expect(job.check({ event: 'done', id: '2', data: '{}' })).toEqual({
      pointer: '/data',
      message: "must have required property 'pct'",
    })
    // Not in a response's $ref: its extension is no schema keyword that would hide the content.
    const feed = await loadOpenApi(target('oas32-spec-sse.yaml', '/feed'))
    expect(feed.check({ event: 'progress', data: '{"pct":5}' })?.message).toBe(
      "must have required property 'id'",
    )
  })

  it('springdoc style: a discriminator mapping on event, without const', async () => {
    const { check } = await loadOpenApi(target('springdoc.yaml', '/events'))
    expect(check({ event: 'status', data: '{"progress":5}' })).toBeUndefined()
    expect(check({ event: 'done', data: '{"ok":3}' })).toEqual({
      pointer: '/data/ok',
      message: 'must be boolean',
    })
  })

  it('Huma and springdoc Flux: a `schema` that is an array of events checks each event as its items', async () => {
    const huma = await loadOpenApi(target('huma.json', '/sse'))
    expect(huma.check({ event: 'message', data: '{"message":"hi"}' })).toBeUndefined()
    // Huma declares the id an integer and writes `id: 5`.
    const created = { event: 'userCreate', data: '{"user_id":1,"username":"foo"}' }
    expect(huma.check({ ...created, id: '5', retry: 1000 })).toBeUndefined()
    expect(huma.check({ ...created, id: 'abc' })).toEqual({
      pointer: '/id',
      message: 'must be integer',
    })
    expect(huma.check({ event: 'userCreate', data: '{"user_id":"1","username":"foo"}' })).toEqual({
      pointer: '/data/user_id',
      message: 'must be integer',
    })
    const spring = await loadOpenApi(target('springdoc-flux.yaml', '/app/api/jobs/7/events'))
    const status = (value: object) => ({ event: 'status', id: '1', data: JSON.stringify(value) })
    expect(spring.check(status({ state: 'DONE', progress: 100, note: null }))).toBeUndefined()
    // springdoc declares `retry` a string (a Java Duration); Spring writes its milliseconds.
    expect(spring.check({ ...status({ state: 'QUEUED' }), retry: 20000 })).toBeUndefined()
    expect(spring.check(status({ state: 'DONE', progress: 101 }))).toEqual({
      pointer: '/data/progress',
      message: 'must be <= 100',
    })
  })

  it("poem's EventStream<T> and springdoc's Flux<T>: an array of T, each event's data", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-poem-'))
    const load = (items: object) => {
      const events = { type: 'array', format: 'event-stream', items }
      const content = { 'text/event-stream': { schema: events } }
      writeFileSync(
        join(dir, 'poem.json'),
        JSON.stringify({
          openapi: '3.0.0',
          info: { title: 'Event', version: '1.0' },
          servers: [],
          tags: [],
          paths: { '/events': { get: { responses: { 200: { description: '', content } } } } },
          components: {
            schemas: {
              Event: {
                type: 'object',
                title: 'Event',
                required: ['value'],
                properties: { value: { type: 'integer', format: 'int32' } },
              },
            },
          },
        }),
      )
      return loadOpenApi({ ...target('', '/events'), file: join(dir, 'poem.json') })
    }
    // As poem writes it: the model's JSON in `data:`, with or without an event type.
    const poem = await load({ $ref: '#/components/schemas/Event' })
    expect(poem.check({ event: 'message', data: '{"value":1}' })).toBeUndefined()
    expect(poem.check({ event: 'push', data: '{"value":1}' })).toBeUndefined()
    expect(poem.check({ event: 'message', data: '{"value":"1"}' })).toEqual({
      pointer: '/data/value',
      message: 'must be integer',
    })
    // springdoc's Flux<String>: Spring writes the string as it is.
    const strings = await load({ type: 'string', maxLength: 5 })
    expect(strings.check({ event: 'message', data: 'hello' })).toBeUndefined()
    expect(strings.check({ event: 'message', data: 'hello!' })?.pointer).toBe('/data')
  })

  it("FastAPI with sse-starlette: the model a user's $ref adds to `type: string` describes the data", async () => {
    const { check } = await loadOpenApi(target('fastapi-sse-starlette.json', '/jobs/42/events'))
    expect(check({ event: 'message', data: '{"state":"running","progress":40}' })).toBeUndefined()
    expect(check({ event: 'message', data: '{"state":"lost"}' })?.pointer).toBe('/data/state')
    await expect(
      loadOpenApi(target('fastapi-sse-starlette.json', '/status/42/stream')),
    ).rejects.toThrow(
      /\(GET \/status\/\{job_id\}\/stream, stream_status_status__job_id__stream_get\): its text\/event-stream schema describes the stream as one string, not each event/,
    )
  })

  it('a text/event-stream entry that is no object says so, not that the response has none', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'null.json')
    const responses = { '200': { description: 'ok', content: { 'text/event-stream': null } } }
    const paths = { '/s': { get: { responses } } }
    writeFileSync(
      file,
      JSON.stringify({ openapi: '3.1.0', info: { title: 't', version: '1' }, paths }),
    )
    await expect(loadOpenApi({ ...target('x', '/s'), file })).rejects.toThrow(
      /: its 200 response's text\/event-stream content is not an object$/,
    )
  })

  it('3.1: a payload model with an `id` of its own (OpenAI-style chunks) describes the data', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'chunk.json')
    const chunk = {
      type: 'object',
      required: ['id', 'choices'],
      properties: { id: { type: 'string' }, choices: { type: 'array' } },
    }
    const content = { 'text/event-stream': { schema: { $ref: '#/components/schemas/Chunk' } } }
    const responses = { '200': { description: 'ok', content } }
    writeFileSync(
      file,
      JSON.stringify({
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: { '/chat': { post: { responses } } },
        components: { schemas: { Chunk: chunk } },
      }),
    )
    const { check } = await loadOpenApi({ ...target('x', '/chat', 'POST'), file })
    expect(check({ event: 'message', data: '{"id":"chatcmpl-1","choices":[]}' })).toBeUndefined()
    expect(check({ event: 'message', data: '{"id":"chatcmpl-1"}' })).toEqual({
      pointer: '/data',
      message: "must have required property 'choices'",
    })
  })

  it('schemas shared many times over (OpenAI stream events) load at once: Ajv is given each once', async () => {
    // S0 has two properties that are S1, S1 two that are S2, …: 2^15 places once dereferenced.
    const depth = 15
    const schemas: Record<string, object> = { [`S${depth}`]: { type: 'integer' } }
    for (let i = 0; i < depth; i++) {
      const next = { $ref: `#/components/schemas/S${i + 1}` }
      schemas[`S${i}`] = { type: 'object', properties: { a: next, b: next } }
    }
    const events = {
      content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/S0' } } },
    }
    const file = join(mkdtempSync(join(tmpdir(), 'sse-probe-shared-')), 'shared.json')
    writeFileSync(
      file,
      JSON.stringify({
        openapi: '3.1.0',
        paths: { '/s': { get: { responses: { 200: events } } } },
        components: { schemas },
      }),
    )
    const { check } = await loadOpenApi({ ...target('', '/s'), file })
    expect(check({ event: 'message', data: '{"a":{"b":{"a":{}}}}' })).toBeUndefined()
    expect(check({ event: 'message', data: '{"a":{"b":{"a":"x"}}}' })).toEqual({
      pointer: '/data/a/b/a',
      message: 'must be object',
    })
  }, 10_000)

  it('3.1 with `schema` and object data, by method and server path', async () => {
    const { check } = await loadOpenApi(target('legacy31.yaml', '/v2/ticker', 'POST'))
    expect(check({ event: 'tick', data: '{"price":3}' })).toBeUndefined()
    expect(check({ event: 'tick', data: '{"price":0}' })).toEqual({
      pointer: '/data/price',
      message: 'must be > 0',
    })
  })

  it('3.0: draft-04 keywords (boolean exclusiveMinimum, nullable)', async () => {
    const { check } = await loadOpenApi(target('legacy30.yaml', '/s'))
    expect(check({ event: 'message', data: '{"n":null}' })).toBeUndefined()
    expect(check({ event: 'message', data: '{"n":1}' })).toBeUndefined()
    expect(check({ event: 'message', data: '{"n":0}' })).toEqual({
      pointer: '/data/n',
      message: 'must be > 0',
    })
  })

  it('NestJS and springdoc style: nullable next to allOf: [$ref] and next to an enum', async () => {
    const { check } = await loadOpenApi(target('nestjs.json', '/notifications/sse'))
    const data = (value: object) => ({ event: 'message', data: JSON.stringify(value) })
    expect(check(data({ id: 1, level: null, author: null }))).toBeUndefined()
    expect(check(data({ id: 1, level: 'info', author: { name: 'a' } }))).toBeUndefined()
    expect(check(data({ id: 1, level: 'info', author: {} }))).toEqual({
      pointer: '/data/author',
      message: "must have required property 'name'",
    })
    expect(check(data({ id: 1, level: 'debug', author: null }))?.pointer).toBe('/data/level')
  })

  it('nullable is read in schemas only: not in data, a property named nullable, or what $defs holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-nullable-'))
    const schema = async (name: string, value: object) => {
      writeFileSync(join(dir, name), JSON.stringify(value))
      return await loadSchema({ name: '--schema', file: join(dir, name) })
    }
    const named = await schema('named.json', {
      type: 'object',
      properties: { nullable: true, name: { type: 'string' } },
      additionalProperties: false,
    })
    expect(named({ nullable: true, name: 'x' })).toBeUndefined()
    const constant = await schema('const.json', { const: { nullable: true, kind: 'a' } })
    expect(constant({ nullable: true, kind: 'a' })).toBeUndefined()
    const root = await schema('root.json', {
      nullable: true,
      type: 'object',
      properties: { n: { $ref: '#/$defs/N' } },
      $defs: { N: { type: 'integer', nullable: true } },
    })
    expect(root(null)).toBeUndefined()
    expect(root({ n: null })).toBeUndefined()
    // One schema for all items, as springdoc writes a list of nullable enum values.
    const items = { type: 'string', enum: ['a'], nullable: true }
    const list = await schema('list.json', { type: 'array', items })
    expect(list(['a', null])).toBeUndefined()
    expect(list(['a', 'x'])?.pointer).toBe('/1')
    expect(root({ n: 'x' })?.pointer).toBe('/n')
  })

  it('YAML: merge keys are merged, an anchor may be reused hundreds of times', async () => {
    const { check } = await loadOpenApi(target('merge-keys.yaml', '/v1/chat', 'POST'))
    expect(check({ event: 'message', data: 'abc' })).toBeUndefined()
    expect(check({ event: 'message', data: 'abcd' })).toEqual({
      pointer: '/data',
      message: 'must NOT have more than 3 characters',
    })
    // One anchor reused by hundreds of operations (a shared response, PyYAML's *id001).
    const dir = mkdtempSync(join(tmpdir(), 'sse-probe-aliases-'))
    const operations = Array.from({ length: 300 }, (_, i) => `  /s${i}: { get: *op }`).join('\n')
    writeFileSync(
      join(dir, 'api.yaml'),
      `openapi: 3.1.0
x-op: &op
  responses: { "200": { content: { text/event-stream: { schema: { required: [id] } } } } }
paths:
${operations}
`,
    )
    const reused = await loadOpenApi({ ...target('', '/s299'), file: join(dir, 'api.yaml') })
    expect(reused.check({ event: 'message', data: '' })?.message).toMatch(/required property 'id'/)
  })

  it('path matching: literal first, %2F inside a parameter, YAML aliases, ambiguity', async () => {
    const operation = (path: string) =>
      findOperation(parseYaml(readFileSync(fixture('paths.yaml'), 'utf8')), target('', path), 'f')
    expect(operation('/files/latest.json').label).toBe('GET /files/latest.json, latest')
    expect(operation('/files/x.json').label).toBe('GET /files/{name}.json, byName')
    expect(operation('/files/x.txt').label).toBe('GET /files/{id}.{ext}, byIdAndExt')
    expect(operation('/blobs/a%2Fb').label).toBe('GET /blobs/{key}, blob')
    expect(operation('/blobs/a/').label).toBe('GET /blobs/{key}, blob')
    expect(() => operation('/blobs/a/b')).toThrow(/no operation for GET \/blobs\/a\/b/)
    expect(operation('/jobs/café/my events').label).toBe('GET /jobs/caf%C3%A9/my%20events, encoded')
    expect(operation('/jobs/caf%C3%A9/my%20events').label).toMatch(/, encoded$/)
    // Only another method has the path: the probe needs -X (or -d for a POST).
    expect(() => operation('/uploads/1')).toThrow(
      'f: no operation for GET /uploads/1, only POST /uploads/{id}, upload (give -X POST, or --operation <operationId>)',
    )
    expect(() => operation('/dup/1')).toThrow(
      'f: GET /dup/1 matches both GET /dup/{a}, dupA and GET /dup/{b}, dupB (give --operation <operationId>)',
    )
    const { check } = await loadOpenApi(target('paths.yaml', '/blobs/k'))
    expect(check({ event: 'message', data: '' })).toEqual({
      pointer: '',
      message: "must have required property 'id'",
    })
  })

  it('server URLs whose origin is a variable, protocol-relative or relative', () => {
    const variables = {
      endpoint: { default: 'https://x.openai.azure.com' },
      basePath: { default: '/v1' },
    }
    const operation = (url: string, path: string) => {
      const document = {
        servers: [{ url, variables }],
        paths: { '/deployments/{id}/events': { get: { operationId: 'events' } } },
      }
      return findOperation(document, target('', path), 'f').label
    }
    const found = 'GET /deployments/{id}/events, events'
    expect(operation('{endpoint}/openai', '/openai/deployments/a/events')).toBe(found)
    expect(operation('{scheme}://{host}:{port}/v1', '/v1/deployments/a/events')).toBe(found)
    expect(operation('//cdn.example.com/v1', '/v1/deployments/a/events')).toBe(found)
    expect(operation('./v1', '/v1/deployments/a/events')).toBe(found)
    // Swagger 2.0's host and basePath carried over as variables.
    expect(operation('{scheme}://{host}{basePath}', '/v1/deployments/a/events')).toBe(found)
    // The app itself, without the path its servers add (FastAPI behind a proxy, its root_path).
    expect(operation('https://api.example.com/v2', '/deployments/a/events')).toBe(found)
    expect(() => operation('{endpoint}/openai', '/v2/deployments/a/events')).toThrow(/no operation/)
  })

  it('usage errors name the file and what was not found', async () => {
    await expect(loadOpenApi(target('legacy31.yaml', '/v2/ticker', 'GET'))).rejects.toThrow(
      /legacy31.yaml: no operation for GET \/v2\/ticker, only POST \/ticker, ticker \(give -X POST/,
    )
    await expect(loadOpenApi(target('legacy31.yaml', '/v2/nowhere', 'GET'))).rejects.toThrow(
      /legacy31.yaml: no operation for GET \/v2\/nowhere.*operations: ticker/,
    )
    await expect(loadOpenApi(target('aspnet.json', '/x', 'GET', 'Nope'))).rejects.toThrow(
      /aspnet.json: no operation with operationId "Nope"/,
    )
    // A chain of 600 schemas, each a property of the one before: one short line, no option to set.
    const chain = join(mkdtempSync(join(tmpdir(), 'sse-probe-chain-')), 'chain.json')
    const schemas = Object.fromEntries(
      Array.from({ length: 600 }, (_, i) => [
        `S${i}`,
        { properties: { next: { $ref: `#/components/schemas/S${i + 1}` } } },
      ]),
    )
    const events = {
      content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/S0' } } },
    }
    writeFileSync(
      chain,
      JSON.stringify({
        openapi: '3.1.0',
        paths: { '/s': { get: { responses: { 200: events } } } },
        components: { schemas: { ...schemas, S600: {} } },
      }),
    )
    const deep = await loadOpenApi({ ...target('', '/s'), file: chain }).catch((e: Error) => e)
    expect((deep as Error).message).toMatch(
      /chain.json: cannot resolve its references: \$refs nested more than 500 deep, at #\/paths\/.{60,80}…$/,
    )
    const swagger = join(mkdtempSync(join(tmpdir(), 'sse-probe-swagger-')), 'swagger.json')
    writeFileSync(swagger, '{"swagger": "2.0", "paths": {}}')
    await expect(loadOpenApi({ ...target('', '/x'), file: swagger })).rejects.toThrow(
      /swagger.json: a Swagger 2.0 document; --openapi reads OpenAPI 3.0, 3.1 and 3.2/,
    )
    // Unquoted in YAML, each is a number: still named for what it is.
    const unquoted = join(dirname(swagger), 'swagger.yaml')
    writeFileSync(unquoted, 'swagger: 2.0\npaths: {}\n')
    await expect(loadOpenApi({ ...target('', '/x'), file: unquoted })).rejects.toThrow(
      /swagger.yaml: a Swagger 2.0 document; --openapi reads/,
    )
    writeFileSync(unquoted, 'openapi: 3.1\npaths: {}\n')
    await expect(loadOpenApi({ ...target('', '/x'), file: unquoted })).rejects.toThrow(
      /swagger.yaml: not an OpenAPI 3.0, 3.1 or 3.2 document \(its "openapi" field is 3.1\)/,
    )
    await expect(loadOpenApi(target('status.schema.yaml', '/x'))).rejects.toThrow(
      /not an OpenAPI 3.0, 3.1 or 3.2 document/,
    )
    await expect(loadOpenApi(target('missing.yaml', '/x'))).rejects.toThrow(
      /cannot read .*missing.yaml: no such file/,
    )
  })
})

describe('validation extension', () => {
  it('emits violations with index, id, pointer; skips pings and the end data', () => {
    const check: EventCheck = {
      name: '--schema status=s.json',
      type: 'status',
      target: 'data',
      check: (v) =>
        (v as { p: number }).p > 100 ? { pointer: '/p', message: 'must be <= 100' } : undefined,
    }
    const extension = createValidationExtension([check], {
      pingEvent: 'ping',
      endData: ['[DONE]'],
      failFast: false,
    })
    const emitted: ProbeRecord[] = []
    const context = {
      now: () => 0,
      emit: (r: ProbeRecord) => emitted.push(r),
      end: () => {},
      signal: new AbortController().signal,
      request: { url: new URL('http://x'), method: 'GET' },
      detach: () => {},
      knownBlocks: () => {},
    }
    for (const record of [
      event({ event: 'ping', data: 'x' }),
      event({ event: 'status', id: '1', data: '{"p":1}' }),
      event({ event: 'status', id: '2', data: '{"p":101}', t: 5 }),
      event({ event: 'other', data: 'not json' }),
      event({ event: 'status', data: '[DONE]' }),
      event({ event: 'status', data: 'nope' }),
    ]) {
      extension.onRecord!(record, context)
    }
    expect(emitted).toEqual([
      {
        type: 'violation',
        t: 5,
        attempt: 1,
        index: 3,
        id: '2',
        event: 'status',
        check: '--schema status=s.json',
        pointer: '/p',
        message: 'must be <= 100',
      },
      expect.objectContaining({
        index: 6,
        pointer: '',
        message: expect.stringMatching(/^data is not JSON/),
      }),
    ])
    const result = extension.finish!({ reason: 'server-closed', t: 9 })
    expect(result.expectations).toEqual([
      { name: '--schema status=s.json', ok: false, actual: 2, first: emitted[0] },
    ])
  })
})

describe('--expect-order', () => {
  const run = (types: string[]) => {
    const order = createOrderCheck(['queued', 'running', 'done'])
    const live = types.map((type) => order.add(type))
    return { ...order.result(), live }
  }
  it('holds with repeats collapsed and other types ignored', () => {
    expect(run(['queued', 'ping', 'running', 'running', 'done'])).toMatchObject({
      ok: true,
      actual: ['queued', 'running', 'done'],
    })
  })
  it('fails on a return or a skip, and says so at once', () => {
    expect(run(['queued', 'running', 'queued', 'done'])).toMatchObject({
      ok: false,
      actual: ['queued', 'running', 'queued', 'done'],
      live: [true, true, false, false],
    })
    expect(run(['queued', 'done'])).toMatchObject({ ok: false, live: [true, false] })
    expect(run(['queued', 'running'])).toMatchObject({ ok: false, live: [true, true] })
  })
})

it('fixtures exist', () => expect(existsSync(fixture('aspnet.json'))).toBe(true))

it('--expect-order with --fail-fast ends once, at the first type out of order', () => {
  const ends: string[] = []
  const extension = createOrderExtension(['a', 'b'], true)
  const context = {
    now: () => 0,
    emit: () => {},
    end: (reason: string) => void ends.push(reason),
    signal: new AbortController().signal,
    request: { url: new URL('http://x'), method: 'GET' },
    detach: () => {},
    knownBlocks: () => {},
  }
  for (const type of ['a', 'b', 'a', 'b'])
    extension.onRecord!(event({ event: type, data: '' }), context)
  expect(ends).toEqual(['expectation-failed'])
  expect(extension.finish!({ reason: 'expectation-failed', t: 1 }).expectations).toEqual([
    { name: '--expect-order a,b', ok: false, actual: ['a', 'b', 'a', 'b'] },
  ])
})

describe('--trigger extension', () => {
  it('does not wait for an unanswered trigger once the probe was interrupted', async () => {
    const server = await startServer((req) => {
      req.resume() // read, never answered
    })
    const trigger = createTriggerExtension(
      { method: 'POST', url: new URL(`${server.url}/stall`), headers: [], delayMs: 0 },
      { failFast: false, pingEvent: 'ping' },
    )
    const running = new AbortController()
    const context = {
      now: () => 0,
      emit: () => {},
      end: () => {},
      signal: running.signal,
      request: { url: new URL(server.url), method: 'GET' },
      detach: () => {},
      knownBlocks: () => {},
    }
    trigger.onRecord!({ type: 'open', t: 0, attempt: 1, status: 200 } as ProbeRecord, context)
    await new Promise((resolve) => setTimeout(resolve, 50))
    running.abort()
    // Interrupted before it settles (Ctrl-C, the library's abort()): an aborted signal is never
    // 'abort'ed again, so a race on it alone would wait for the answer (undici: 300 s).
    const settled = await Promise.race([
      trigger.settle!({ reason: 'end-event' }, AbortSignal.abort()).then(() => 'settled'),
      new Promise((resolve) => setTimeout(resolve, 3000, 'still waiting')),
    ])
    expect(settled).toBe('settled')
  })
})
