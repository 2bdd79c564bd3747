import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { MAX_LIVE_EVENTS } from '../../src/cli/commands/diff.ts'
import { runCli } from '../helpers/cli.ts'
import { chatError, chatTools, textOf } from '../helpers/llm-streams.ts'
import { runMain } from '../helpers/main.ts'
import { sseServer, startServer } from '../helpers/server.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'sse-probe-contracts-'))
const file = (name: string, text: string) => {
  const path = join(work, name)
  writeFileSync(path, text)
  return path
}
const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }

/** An endless stream: one status event every intervalMs, its data from `data(i)`. */
function endless(data: (i: number) => string, intervalMs = 20) {
  return startServer((_req, res) => {
    res.writeHead(200, SSE)
    let i = 0
    const timer = setInterval(() => {
      i++
      res.write(`event: status\nid: ${i}\ndata: ${data(i)}\n\n`)
    }, intervalMs)
    res.on('close', () => clearInterval(timer))
  })
}

describe('--schema', () => {
  it('reports each violation with index, id and pointer, and exits 1', async () => {
    const server = await sseServer(
      [
        'event: ping\ndata: \n\n',
        'event: status\nid: 1\ndata: {"progress":10}\n\n',
        ': comment\n\n',
        'event: status\nid: 2\ndata: {"progress":140}\n\n',
        'event: status\nid: 3\ndata: not json\n\n',
        'event: end\ndata: {}\n\n',
      ].join(''),
    )
    const schema = `status=${fixture('status.schema.yaml')}`
    const run = await runMain(['--json', '--schema', schema, `${server.url}/`])
    expect(run.exitCode).toBe(1)
    const violations = run.records.filter((r) => r.type === 'violation')
    expect(violations).toMatchObject([
      {
        index: 3,
        id: '2',
        event: 'status',
        check: `--schema ${schema}`,
        pointer: '/progress',
        message: 'must be <= 100',
      },
      { index: 4, id: '3', pointer: '', message: expect.stringMatching(/^data is not JSON/) },
    ])
    expect(run.summary.expectations).toContainEqual({
      name: `--schema ${schema}`,
      ok: false,
      actual: 2,
      first: violations[0],
    })
    // Each violation follows the event it is about.
    const ids = run.records.map((r) => (r.type === 'event' ? `event ${r.id}` : r.type))
    expect(ids.slice(ids.indexOf('event 2'), ids.indexOf('event 2') + 4)).toEqual([
      'event 2',
      'violation',
      'event 3',
      'violation',
    ])
    const pretty = await runMain(['--schema', schema, '--no-color', `${server.url}/`])
    expect(pretty.stderr + pretty.stdout).toContain(
      '✗ event #3 status id 2  /progress must be <= 100',
    )
    // What the summary's line saw is a count of events that broke the schema.
    expect(pretty.stderr).toContain(`✗ --schema ${schema} (got 2 violating events)`)
    const json = await runMain(['--json', '--schema', schema, `${server.url}/`])
    expect(json.stderr).toContain(
      `error: expectation failed: --schema ${schema} (got 2 violating events)`,
    )
  })

  it('--fail-fast ends an endless stream at the first violation', async () => {
    const server = await endless((i) => JSON.stringify({ progress: i * 30 }))
    const run = await runMain([
      '--json',
      '--fail-fast',
      '--timeout',
      '10s',
      '--schema',
      fixture('status.schema.yaml'),
      server.url,
    ])
    expect(run.exitCode).toBe(1)
    expect(run.summary.reason).toBe('expectation-failed')
    expect(run.records.filter((r) => r.type === 'violation')).toHaveLength(1)
    expect(run.summary.events).toBe(4)
  })

  it('a schema with $async is refused, exit 2: its validator returns a promise', async () => {
    const server = await sseServer('data: {"a":1}\n\n')
    const schema = file('async.json', '{"$async": true, "type": "object"}')
    const run = await runCli(['--schema', schema, server.url])
    // The file named once, as the flag gave it.
    expect(run.stderr).toBe(
      `error: --schema ${schema}: unusable schema: $async (asynchronous validation) is not supported\n`,
    )
    expect(run.exitCode).toBe(2)
    expect(server.requests).toHaveLength(0)
  })

  it('usage errors name the file, before any request', async () => {
    const server = await sseServer('data: x\n\n')
    const broken = file('broken.json', '{"type": "object", "properties": {"a": {"type": "int"}}}')
    for (const [args, message] of [
      [['--schema', broken], /--schema .*broken.json: unusable schema/],
      [['--schema', join(work, 'none.json')], /cannot read .*none.json: no such file/],
      // Another file is not read, even where it exists: said so, not "can't resolve … from id #".
      [
        ['--schema', file('split.json', '{"properties":{"id":{"$ref":"broken.json#/$defs/Id"}}}')],
        /split.json: unusable schema: \$ref broken.json#\/\$defs\/Id: not in this file \(a \$ref to another file or a URL is not followed/,
      ],
      // An API description given to --schema would pass every event: its fields are no keywords.
      [
        ['--schema', `status=${fixture('aspnet.json')}`],
        /aspnet.json: .*aspnet.json is an OpenAPI document, not a JSON Schema \(give it to --openapi\)/,
      ],
      [
        ['--schema', file('asyncapi.yaml', "asyncapi: '3.0.0'\nchannels: {}\n")],
        /asyncapi.yaml: .*asyncapi.yaml is an AsyncAPI document, not a JSON Schema$/m,
      ],
      [['--openapi', fixture('aspnet.json')], /aspnet.json: no operation for GET \/nowhere/],
      // FastAPI serves its document at /openapi.json: "no such file" would not say what is wrong.
      [
        ['--openapi', `${server.url}/openapi.json`],
        /--openapi: http:\/\/\S+\/openapi.json is a URL, and the option reads a file: save it first, e.g. curl -o openapi.json 'http:\/\/\S+\/openapi.json'$/m,
      ],
      [
        ['--openapi', fixture('aspnet.json'), '--operation', 'Missing'],
        /no operation with operationId "Missing"/,
      ],
      [['--expect-within', '1s'], /give --trigger/],
      [['--trigger', 'POST'], /--trigger .*'POST' is invalid\. expected a method and a URL/],
      [['--expect-order', 'a,,b'], /--expect-order/],
      // Repeats collapse, so a list that repeats a type could never hold.
      [['--expect-order', 'a,b,b,c'], /--expect-order .*a,b,b,c.* b twice in a row/],
    ] as const) {
      const run = await runMain([...args, `${server.url}/nowhere`])
      expect(run.stderr).toMatch(message)
      expect(run.exitCode).toBe(2)
    }
    expect(server.requests).toHaveLength(0)
  })
})

describe('--openapi', () => {
  it('finds the operation from the URL and validates object data (ASP.NET style)', async () => {
    const server = await sseServer(
      'data: {"state":"running","progress":40}\n\nid: 9\ndata: {"state":"lost","progress":40}\n\nevent: end\ndata: {}\n\n',
    )
    const run = await runMain([
      '--json',
      '--openapi',
      fixture('aspnet.json'),
      `${server.url}/api/jobs/42/events`,
    ])
    expect(run.exitCode).toBe(1)
    expect(run.records.filter((r) => r.type === 'violation')).toMatchObject([
      {
        index: 2,
        id: '9',
        event: 'message',
        pointer: '/data/state',
        message: expect.stringMatching(/^must be equal to one of the allowed values/),
      },
      { index: 3, event: 'end', pointer: '/data', message: "must have required property 'state'" },
    ])
  })

  it('a discriminator without a mapping selects the branch by its component name (the OAS Pet example)', async () => {
    const pet = {
      type: 'object',
      required: ['petType'],
      properties: { petType: { type: 'string' } },
    }
    const document = file(
      'pets.json',
      JSON.stringify({
        openapi: '3.1.0',
        info: { title: 'pets', version: '1' },
        paths: {
          '/pets': {
            get: {
              responses: {
                200: {
                  description: 'pets',
                  content: {
                    'text/event-stream': { schema: { $ref: '#/components/schemas/Pet' } },
                  },
                },
              },
            },
          },
        },
        components: {
          schemas: {
            Pet: {
              oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
              discriminator: { propertyName: 'petType' },
            },
            Cat: { ...pet, properties: { ...pet.properties, lives: { type: 'integer' } } },
            Dog: { ...pet, properties: { ...pet.properties, bark: { type: 'boolean' } } },
          },
        },
      }),
    )
    const server = await sseServer(
      [
        { petType: 'Cat', lives: 9 },
        { petType: 'Dog', bark: true },
        { petType: 'Dog', bark: 'loud' },
        { petType: 'Bird' },
      ]
        .map((pet) => `data: ${JSON.stringify(pet)}\n\n`)
        .join(''),
    )
    const run = await runMain(['--json', '-n', '4', '--openapi', document, `${server.url}/pets`])
    expect(run.exitCode).toBe(1)
    expect(run.records.filter((r) => r.type === 'violation')).toMatchObject([
      { index: 3, pointer: '/data/bark', message: 'must be boolean' },
      {
        index: 4,
        pointer: '/data/petType',
        message: 'must be equal to one of the allowed values: "Cat", "Dog"',
      },
    ])
  })

  it('a Huma stream passes its own document; a document that describes no events exits 2 first', async () => {
    // As Huma's sse package writes it: the id as digits, the default event without `event:`.
    const server = await sseServer(
      'data: {"message":"Hello, world!"}\n\nid: 5\nretry: 1000\nevent: userCreate\ndata: {"user_id":1,"username":"foo"}\n\n',
    )
    const run = await runMain([
      '--json',
      '-n',
      '2',
      '--openapi',
      fixture('huma.json'),
      `${server.url}/sse`,
    ])
    expect(run.records.filter((r) => r.type === 'violation')).toEqual([])
    expect(run.exitCode).toBe(0)
    const requests = server.requests.length
    const unusable = await runMain([
      '--openapi',
      fixture('fastapi-sse-starlette.json'),
      `${server.url}/status/42/stream`,
    ])
    expect(unusable.exitCode).toBe(2)
    expect(unusable.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/schema describes the stream as one string, not each event/),
    ])
    expect(server.requests).toHaveLength(requests)
  })

  it("Speakeasy's x-speakeasy-sse-sentinel: the stream's end marker is not payload", async () => {
    const document = file(
      'speakeasy.yaml',
      [
        'openapi: 3.1.0',
        'info: {title: t, version: "1"}',
        'paths:',
        '  /chat:',
        '    post:',
        '      responses:',
        '        "200":',
        '          description: ok',
        '          content:',
        '            text/event-stream:',
        "              x-speakeasy-sse-sentinel: '[DONE]'",
        '              schema:',
        '                type: object',
        '                required: [data]',
        '                properties:',
        '                  data: {type: object, required: [content], properties: {content: {type: string}}}',
      ].join('\n'),
    )
    const server = await sseServer(
      'data: {"content":"hi"}\n\ndata: {"content":5}\n\ndata: [DONE]\n\n',
    )
    const run = await runMain([
      '--json',
      '-X',
      'POST',
      '--no-reconnect',
      '--openapi',
      document,
      `${server.url}/chat`,
    ])
    expect(run.records.filter((r) => r.type === 'violation')).toMatchObject([
      { index: 2, pointer: '/data/content', message: 'must be string' },
    ])
    expect(run.exitCode).toBe(1)
  })
})

describe('--openapi, OpenAPI 3.2 documents', () => {
  it('finds a LINK operation under additionalOperations, and a stream described as the default response', async () => {
    const document = file(
      'additional.yaml',
      [
        'openapi: 3.2.0',
        'servers: [{url: "http://{host}:{port}/{base}/v1", variables: {host: {default: localhost}, port: {default: "80"}, base: {default: api}}}]',
        'paths:',
        '  /jobs/{id}/events:',
        '    additionalOperations:',
        '      LINK: {operationId: linkEvents, responses: {"200": {$ref: "#/components/responses/Events"}}}',
        '  /feed:',
        '    get:',
        '      operationId: feed',
        '      responses: {default: {$ref: "#/components/responses/Events"}}',
        'components:',
        '  responses:',
        '    Events:',
        '      description: events',
        '      content:',
        '        text/event-stream:',
        '          itemSchema:',
        '            properties:',
        '              data: {contentMediaType: application/json, contentSchema: {required: [progress]}}',
      ].join('\n'),
    )
    const server = await sseServer('data: {"progress":1}\n\ndata: {}\n\n')
    const violations = async (args: string[], path: string) => {
      const run = await runMain([
        '--json',
        '-n',
        '2',
        '--openapi',
        document,
        ...args,
        server.url + path,
      ])
      expect(run.exitCode).toBe(1)
      return run.records.filter((r) => r.type === 'violation')
    }
    const missing = {
      index: 2,
      pointer: '/data',
      message: "must have required property 'progress'",
    }
    expect(await violations(['-X', 'LINK'], '/api/v1/jobs/7/events')).toMatchObject([missing])
    expect(await violations(['--operation', 'linkEvents'], '/x')).toMatchObject([missing])
    expect(await violations([], '/api/v1/feed')).toMatchObject([missing])
  })
})

describe("--openapi, the OAS 3.2 specification's SSE example", () => {
  it('its stream passes; events that break it name the event and the pointer', async () => {
    const stream = [
      'event: addString\ndata: This data is formatted\ndata: across two lines\nretry: 5\n\n',
      'event: addInt64\ndata: 1234.5678\nunknownField: this is ignored\n\n',
      ': This is a comment\nevent: addJson\ndata: {"foo": 42}\n\n',
    ].join('')
    const broken = 'event: addJson\ndata: {"foo": "x"}\n\nevent: addJSON\ndata: {"foo": 1}\n\n'
    const server = await sseServer(stream, broken)
    const args = ['--json', '--no-reconnect', '--openapi', fixture('oas32-spec-sse.yaml')]
    const good = await runCli([...args, `${server.url}/add`])
    expect(good.exitCode).toBe(0)
    expect(good.summary.expectations).toEqual([
      { name: `--openapi ${fixture('oas32-spec-sse.yaml')}`, ok: true, actual: 0 },
    ])
    const bad = await runCli([...args, `${server.url}/add`])
    expect(bad.exitCode).toBe(1)
    expect(bad.ofType('violation')).toMatchObject([
      { index: 1, event: 'addJson', pointer: '/data/foo', message: 'must be integer' },
      { index: 2, event: 'addJSON', pointer: '/event' },
    ])
  })

  it("a $ref's target keeps its own required next to the required its siblings add", async () => {
    const server = await sseServer(
      'event: progress\nid: 1\ndata: {"pct":5}\n\nevent: done\ndata: {"pct":100}\n\n',
    )
    const run = await runCli([
      '--json',
      '--no-reconnect',
      '--openapi',
      fixture('oas32-spec-sse.yaml'),
      `${server.url}/jobs/7/events`,
    ])
    expect(run.exitCode).toBe(1)
    expect(run.ofType('violation')).toMatchObject([
      { index: 2, event: 'done', pointer: '', message: "must have required property 'id'" },
    ])
  })
})

describe('--openapi, the operation of the URL', () => {
  it('a path the document has for POST only: the GET probe is told to give -X POST; -d is a POST', async () => {
    const server = await sseServer('event: tick\ndata: {"price": 0}\n\n')
    const args = ['--json', '--no-reconnect', '--openapi', fixture('legacy31.yaml')]
    const get = await runCli([...args, `${server.url}/v2/ticker`])
    expect(get.exitCode).toBe(2)
    expect(get.stderr).toContain(
      'legacy31.yaml: no operation for GET /v2/ticker, only POST /ticker, ticker (give -X POST, or --operation <operationId>)',
    )
    expect(server.requests).toHaveLength(0)
    const post = await runCli([...args, '-d', '{}', `${server.url}/v2/ticker`])
    expect(post.exitCode).toBe(1)
    expect(post.ofType('violation')).toMatchObject([
      { index: 1, event: 'tick', pointer: '/data/price', message: 'must be > 0' },
    ])
  })

  it('a literal written percent-encoded, as the OAS path template grammar has it', async () => {
    const server = await sseServer('data: {}\n\n')
    const run = await runCli([
      '--json',
      '--no-reconnect',
      '--openapi',
      fixture('paths.yaml'),
      `${server.url}/jobs/café/my events`,
    ])
    expect(run.exitCode).toBe(1)
    expect(run.ofType('violation')).toMatchObject([
      { index: 1, pointer: '', message: "must have required property 'id'" },
    ])
  })
})

describe('--openapi, documents in several files', () => {
  it('a pointer missing in a referenced file names that file, before any request', async () => {
    mkdirSync(join(work, 'parts'), { recursive: true })
    file('parts/models.yaml', 'Progress:\n  type: object\n')
    const document = file(
      'missing-pointer.yaml',
      'openapi: 3.1.0\npaths:\n  /events:\n    get:\n      responses:\n        "200":\n          content:\n            text/event-stream:\n              schema: {$ref: "./parts/models.yaml#/Progres"}\n',
    )
    const server = await sseServer('data: {}\n\n')
    const run = await runMain(['--openapi', document, `${server.url}/events`])
    expect(run.exitCode).toBe(2)
    expect(run.stderr.trim().split('\n')).toEqual([
      `error: --openapi ${document}: cannot resolve its references: Missing $ref pointer "#/Progres". Token "Progres" does not exist. (in parts/models.yaml)`,
    ])
    expect(server.requests).toHaveLength(0)
  })

  it('a $ref cycle inside a referenced file, or between files, is followed, not a usage error', async () => {
    mkdirSync(join(work, 'models'), { recursive: true })
    // A tree in one file, and a comment whose replies are in another file that refers back.
    file(
      'models/tree.yaml',
      'Tree:\n  type: object\n  required: [name]\n  properties:\n    name: {type: string}\n    children: {type: array, items: {$ref: "#/Tree"}}\n',
    )
    file(
      'models/comment.yaml',
      'Comment:\n  type: object\n  required: [text]\n  properties:\n    text: {type: string}\n    replies: {$ref: "./replies.yaml#/Replies"}\n',
    )
    file(
      'models/replies.yaml',
      'Replies:\n  type: array\n  items: {$ref: "comment.yaml#/Comment"}\n',
    )
    const json = (ref: string) =>
      `{type: string, contentMediaType: application/json, contentSchema: {$ref: "${ref}"}}`
    const document = file(
      'recursive.yaml',
      [
        'openapi: 3.2.0',
        'info: {title: t, version: "1"}',
        'paths:',
        '  /events:',
        '    get:',
        '      responses:',
        '        "200":',
        '          description: ok',
        '          content:',
        '            text/event-stream:',
        '              itemSchema:',
        '                oneOf:',
        `                  - {properties: {event: {const: tree}, data: ${json('./models/tree.yaml#/Tree')}}, required: [event]}`,
        `                  - {properties: {event: {const: comment}, data: ${json('./models/comment.yaml#/Comment')}}, required: [event]}`,
      ].join('\n'),
    )
    const server = await sseServer(
      [
        'event: tree\ndata: {"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]}\n\n',
        'event: comment\ndata: {"text":"x","replies":[{"text":"y","replies":[{"text":"z"}]}]}\n\n',
        'event: tree\ndata: {"name":"a","children":[{"name":"b","children":[{"name":5}]}]}\n\n',
        'event: comment\ndata: {"text":"x","replies":[{"text":"y","replies":[{}]}]}\n\n',
      ].join(''),
    )
    const run = await runMain(['--json', '-n', '4', '--openapi', document, `${server.url}/events`])
    expect(run.stderr).not.toMatch(/unusable|cannot resolve/)
    expect(run.records.filter((r) => r.type === 'violation')).toMatchObject([
      { index: 3, pointer: '/data/children/0/children/0/name', message: 'must be string' },
      {
        index: 4,
        pointer: '/data/replies/0/replies/0',
        message: "must have required property 'text'",
      },
    ])
    expect(run.exitCode).toBe(1)
  })

  it('3.1 split into files (redocly split): a $ref beside siblings in a referenced file holds with them', async () => {
    mkdirSync(join(work, 'split/schemas'), { recursive: true })
    file(
      'split/events.yaml',
      'get:\n  responses:\n    "200":\n      description: ok\n      content:\n        text/event-stream:\n          schema: {$ref: ./schemas/Event.yaml}\n',
    )
    file(
      'split/schemas/Event.yaml',
      'type: object\nrequired: [event, data]\nproperties:\n  event: {type: string}\n  data:\n    type: string\n    contentMediaType: application/json\n    contentSchema: {$ref: "./models.yaml#/Status"}\n',
    )
    // Status adds `progress` to Base's `job`; Base, in the same file, adds `at` to Stamp's `kind`.
    file(
      'split/schemas/models.yaml',
      [
        'Status: {$ref: "#/Base", required: [progress], properties: {progress: {type: integer}}}',
        'Base: {$ref: "#/Stamp", required: [job], properties: {job: {type: string}}}',
        'Stamp: {type: object, required: [kind], properties: {kind: {type: string}}}',
      ].join('\n'),
    )
    const document = file(
      'split/openapi.yaml',
      'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /events: {$ref: ./events.yaml}\n',
    )
    const server = await sseServer(
      [
        'event: status\ndata: {"kind":"k","job":"a","progress":1}\n\n',
        'event: status\ndata: {"kind":"k","progress":1}\n\n',
        'event: status\ndata: {"job":"a","progress":1}\n\n',
      ].join(''),
    )
    const run = await runMain(['--json', '-n', '3', '--openapi', document, `${server.url}/events`])
    expect(run.records.filter((r) => r.type === 'violation')).toMatchObject([
      { index: 2, pointer: '/data', message: "must have required property 'job'" },
      { index: 3, pointer: '/data', message: "must have required property 'kind'" },
    ])
    expect(run.exitCode).toBe(1)
  })
})

describe('--expect-order', () => {
  it('holds with repeats, fails with the collapsed sequence', async () => {
    const body = (types: string[]) => types.map((t) => `event: ${t}\ndata: x\n\n`).join('')
    const good = await sseServer(body(['queued', 'running', 'running', 'log', 'done', 'end']))
    const ok = await runMain(['--json', '--expect-order', 'queued,running,done', good.url])
    expect(ok.exitCode).toBe(0)
    expect(ok.summary.expectations).toContainEqual({
      name: '--expect-order queued,running,done',
      ok: true,
      actual: ['queued', 'running', 'done'],
    })
    const bad = await sseServer(body(['queued', 'running', 'queued', 'done', 'end']))
    const failed = await runMain(['--json', '--expect-order', 'queued,running,done', bad.url])
    expect(failed.exitCode).toBe(1)
    expect(failed.summary.expectations).toContainEqual({
      name: '--expect-order queued,running,done',
      ok: false,
      actual: ['queued', 'running', 'queued', 'done'],
    })
  })
})

describe('--expect-order, pretty', () => {
  it('says none of the types came, rather than (got )', async () => {
    const server = await sseServer('event: status\ndata: x\n\nevent: end\ndata: x\n\n')
    const run = await runMain(['--expect-order', 'queued,running,done', server.url])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain('\n✗ --expect-order queued,running,done (got none)\n')
  })
})

/** A pub/sub server: GET /events subscribes, POST /publish sends its body to every subscriber at once. */
async function pubSub() {
  const subscribers = new Set<ServerResponse>()
  const log: string[] = []
  const server = await startServer((req, res) => {
    if (req.method === 'GET') {
      log.push('subscribe')
      res.writeHead(200, SSE)
      res.flushHeaders()
      subscribers.add(res)
      res.on('close', () => subscribers.delete(res))
      return
    }
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      log.push(`publish ${req.headers['content-type']} ${req.headers['x-job']}`)
      if (req.url === '/fail') {
        res.writeHead(500).end('no')
        return
      }
      for (const subscriber of subscribers) subscriber.write(`event: job\ndata: ${body}\n\n`)
      // The event goes out before the answer: a stream that ends on it ends first.
      if (req.url === '/late') setTimeout(() => res.writeHead(202).end(), 300)
      else if (req.url === '/late-fail') setTimeout(() => res.writeHead(500).end('no'), 300)
      else if (req.url !== '/stall') res.writeHead(202).end()
    })
  })
  return { ...server, log }
}

describe('--trigger', () => {
  it('is sent once the stream is open, so its event is never missed', async () => {
    const server = await pubSub()
    const run = await runMain([
      '--json',
      '--end-event',
      'job',
      '--timeout',
      '5s',
      '--trigger',
      `POST ${server.url}/publish`,
      '--trigger-data',
      '{"state":"done"}',
      '--trigger-header',
      'X-Job: 7',
      '--expect-within',
      '2s',
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(0)
    expect(server.log).toEqual(['subscribe', 'publish application/json 7'])
    expect(run.summary.reason).toBe('end-event')
    expect(run.records.find((r) => r.type === 'trigger')).toMatchObject({
      method: 'POST',
      url: `${server.url}/publish`,
      status: 202,
    })
    const summary = run.summary as { triggerToEventMs?: number | null }
    expect(summary.triggerToEventMs).toBeGreaterThanOrEqual(0)
    expect(run.summary.expectations).toContainEqual({
      name: '--expect-within 2s',
      ok: true,
      actual: summary.triggerToEventMs,
    })
  })

  it('an event sent with the headers came before the trigger: it is not the one measured', async () => {
    let stream: ServerResponse | undefined
    const server = await startServer((req, res) => {
      if (req.url === '/events') {
        stream = res
        // One write with the headers: the welcome arrives in the read that opens the stream.
        res.writeHead(200, SSE)
        res.write('event: welcome\ndata: {}\n\n')
        return
      }
      setTimeout(() => stream?.write('event: job\ndata: {}\n\n'), 300)
      res.writeHead(202).end()
    })
    const run = await runMain([
      '--json',
      '--end-event',
      'job',
      '--timeout',
      '5s',
      '--trigger',
      `POST ${server.url}/publish`,
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(0)
    expect((run.summary as { triggerToEventMs?: number | null }).triggerToEventMs).toBeGreaterThan(
      250,
    )
  })

  it('a stream that ended in the read that opened it still sends the trigger, and awaits its answer', async () => {
    const server = await startServer((req, res) => {
      // One write with the headers: the current state and the end, then the server closes.
      if (req.method === 'GET')
        return void res
          .writeHead(200, SSE)
          .end('event: status\ndata: {}\n\nevent: end\ndata: {}\n\n')
      res.writeHead(req.url === '/jobs' ? 202 : 500).end()
    })
    const probe = (path: string) =>
      runCli([
        '--json',
        '--timeout',
        '5s',
        '--trigger',
        `POST ${server.url}${path}`,
        '--expect-within',
        '1s',
        `${server.url}/events`,
      ])
    const sent = await probe('/jobs')
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /events',
      'POST /jobs',
    ])
    // A path alone is on the stream's server.
    const relative = await runMain(['--json', '--trigger', 'POST /jobs', `${server.url}/events`])
    expect(relative.ofType('trigger')).toMatchObject([
      { method: 'POST', url: `${server.url}/jobs`, status: 202 },
    ])
    expect(sent.records.map((r) => r.type)).toEqual([
      'open',
      'event',
      'event',
      'trigger',
      'summary',
    ])
    expect(sent.ofType('trigger')).toMatchObject([{ method: 'POST', status: 202 }])
    // Its events came before it: nothing after it to measure.
    expect(sent.summary).toMatchObject({ reason: 'end-event', exitCode: 1, triggerToEventMs: null })

    const refused = await probe('/fail')
    expect(refused.exitCode).toBe(3)
    expect(refused.summary.reason).toBe('trigger-failed')
  })

  it('the pretty summary gives --expect-within what it saw as a duration, as the trigger line', async () => {
    const server = await pubSub()
    const run = await runMain([
      '--end-event',
      'job',
      '--timeout',
      '5s',
      '--trigger',
      `POST ${server.url}/publish`,
      '--expect-within',
      '2s',
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(0)
    const seen = /trigger {6}(\S+) to the first event/.exec(run.stderr)?.[1]
    expect(seen).toMatch(/^[\d.]+m?s$/)
    expect(run.stderr).toContain(`✓ --expect-within 2s (got ${seen})`)
  })

  it('a refused trigger ends the probe with trigger-failed, exit 3', async () => {
    const server = await pubSub()
    const run = await runMain([
      '--json',
      '--timeout',
      '5s',
      '--trigger',
      `POST ${server.url}/fail`,
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(3)
    expect(run.summary.reason).toBe('trigger-failed')
    expect(run.records.filter((r) => r.type === 'error').at(-1)).toMatchObject({
      message: expect.stringMatching(/--trigger POST .*\/fail: HTTP 500/),
      status: 500,
    })
    // The summary's trigger line does not read as if it had gone through.
    const pretty = await runMain([
      '--timeout',
      '5s',
      '--trigger',
      `POST ${server.url}/fail`,
      `${server.url}/events`,
    ])
    expect(pretty.stderr).toContain('trigger      failed (above)')
    expect(pretty.stderr).not.toContain('no event after it')
  })

  it("a refused trigger shows why: its answer's body (FastAPI's 422), as for a refused stream", async () => {
    const detail =
      '{"detail":[{"loc":["body","name"],"msg":"field required","type":"value_error.missing"}]}'
    const server = await startServer((req, res) => {
      if (req.method === 'GET') return void res.writeHead(200, SSE).flushHeaders()
      res.writeHead(422, { 'content-type': 'application/json' }).end(detail)
    })
    const args = ['--timeout', '5s', '--trigger', `POST ${server.url}/jobs`, '--trigger-data']
    const json = await runCli([...args, '{"nam":"x"}', '--json', `${server.url}/events`])
    expect(json.exitCode).toBe(3)
    expect(json.ofType('error')).toMatchObject([{ status: 422, body: detail }])
    const pretty = await runCli([...args, '{"nam":"x"}', `${server.url}/events`])
    expect(pretty.exitCode).toBe(3)
    expect(pretty.stderr).toContain(`/jobs: HTTP 422\n           ${detail}\n`)
  })

  it('a trigger to a certificate Node does not trust names the way out, not -k (which is not its)', async () => {
    const certificate = selfSignedCertificate()
    const jobs = createHttpsServer(certificate, (_req, res) => res.writeHead(202).end())
    await new Promise<void>((resolve) => jobs.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => jobs.close(() => resolve())))
    const trigger = `POST https://127.0.0.1:${(jobs.address() as AddressInfo).port}/jobs`
    const stream = await startServer((_req, res) => {
      res.writeHead(200, SSE).flushHeaders()
      setTimeout(() => res.end('event: end\ndata: x\n\n'), 300)
    })
    const args = ['--json', '-k', '--trigger', trigger, `${stream.url}/events`]
    const refused = await runCli(args)
    expect(refused.exitCode).toBe(3)
    expect(refused.summary.message).toBe(
      `--trigger ${trigger}: TLS error: self-signed certificate (-k does not apply to --trigger; NODE_EXTRA_CA_CERTS=<ca.pem> makes Node trust its certificate)`,
    )
    const ca = file('ca.pem', certificate.cert)
    const trusted = await runCli(args, { env: { NODE_EXTRA_CA_CERTS: ca } })
    expect(trusted.exitCode).toBe(0)
    expect(trusted.ofType('trigger')).toMatchObject([{ status: 202 }])
  })

  it('a trigger that could not be sent measures nothing: triggerToEventMs null, --expect-within fails', async () => {
    const closed = await startServer((_req, res) => res.end())
    await closed.close()
    // The stream's event comes at once, after the attempt to send the trigger began.
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE)
      setTimeout(() => res.write('event: status\ndata: {}\n\n'), 5)
    })
    const run = await runMain([
      '--json',
      '--timeout',
      '5s',
      '--trigger',
      `POST ${closed.url}/jobs`,
      '--expect-within',
      '2s',
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(3)
    expect(run.summary.reason).toBe('trigger-failed')
    expect(run.records.filter((r) => r.type === 'event')).not.toEqual([])
    expect((run.summary as { triggerToEventMs?: number | null }).triggerToEventMs).toBeNull()
    expect(run.summary.expectations).toContainEqual({
      name: '--expect-within 2s',
      ok: false,
      actual: null,
    })
  })

  it('pretty: a trigger that failed says so in the summary, once', async () => {
    const server = await pubSub()
    const run = await runMain([
      '--timeout',
      '5s',
      '--trigger',
      `POST ${server.url}/fail`,
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(3)
    expect(run.stderr.match(/^trigger {6}.*$/gm)).toEqual(['trigger      failed (above)'])
  })

  it('pretty: a trigger never sent, as the stream never opened, is not said to have had no event', async () => {
    const server = await pubSub()
    const closed = await startServer((_req, res) => res.end())
    await closed.close()
    const run = await runMain(['--trigger', `POST ${server.url}/jobs`, `${closed.url}/events`])
    expect(run.exitCode).toBe(3)
    expect(server.log).toEqual([])
    expect(run.stderr).toMatch(/^trigger {6}not sent: the stream never opened$/m)
  })

  it('a stream that ended before the answer waits for it: its record, and a failure exits 3', async () => {
    const server = await pubSub()
    const probe = (path: string) =>
      runMain([
        '--json',
        '--end-event',
        'job',
        '--trigger',
        `POST ${server.url}${path}`,
        `${server.url}/events`,
      ])
    const answered = await probe('/late')
    expect(answered.exitCode).toBe(0)
    expect(answered.summary.reason).toBe('end-event')
    expect(answered.records.map((r) => r.type).slice(-3)).toEqual(['event', 'trigger', 'summary'])
    expect(answered.records.find((r) => r.type === 'trigger')).toMatchObject({ status: 202 })

    const refused = await probe('/late-fail')
    expect(refused.exitCode).toBe(3)
    expect(refused.summary).toMatchObject({
      reason: 'trigger-failed',
      message: expect.stringMatching(/--trigger POST .*\/late-fail: HTTP 500/),
    })
    expect(refused.records.find((r) => r.type === 'trigger')).toMatchObject({ status: 500 })
  })

  it.each([
    ['--timeout', 'timeout', 4],
    ['--duration', 'duration', 0],
  ])('a probe cut short (%s) does not wait for the answer', async (flag, reason, code) => {
    const server = await pubSub()
    const run = await runMain([
      '--json',
      flag,
      '500ms',
      '--trigger',
      `POST ${server.url}/stall`,
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(code)
    expect(run.summary.reason).toBe(reason)
    expect(run.summary.t).toBeLessThan(4000)
    expect(run.records.some((r) => r.type === 'trigger')).toBe(false)
  })

  it.each(['--timeout', '--duration'])(
    'a stream that ended before the answer waits for it no longer than %s',
    async (flag) => {
      const server = await pubSub()
      const run = await runMain([
        '--json',
        '--end-event',
        'job',
        flag,
        '500ms',
        '--trigger',
        `POST ${server.url}/stall`,
        `${server.url}/events`,
      ])
      expect(run.exitCode).toBe(0)
      // It ended by itself, in time: the end stands; only the wait for the answer is cut, and
      // the record says the trigger had no answer by then.
      expect(run.summary.reason).toBe('end-event')
      expect(run.summary.t).toBeLessThan(4000)
      expect(run.records.map((r) => r.type).slice(-2)).toEqual(['trigger', 'summary'])
      const trigger = run.records.find((r) => r.type === 'trigger')
      expect(trigger).toMatchObject({ method: 'POST', status: null })
      expect(trigger?.ms).toBeGreaterThan(0)
    },
  )

  it('pretty: a trigger without an answer says so', async () => {
    const server = await pubSub()
    const run = await runMain([
      '--no-color',
      '--end-event',
      'job',
      '-t',
      '500ms',
      '--trigger',
      `POST ${server.url}/stall`,
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(/→ trigger POST \S+\/stall {2}no answer after \d/)
  })

  it('--fail-fast ends when --expect-within is missed', async () => {
    const server = await pubSub()
    const run = await runMain([
      '--json',
      '--fail-fast',
      '--timeout',
      '10s',
      '--trigger',
      `GET ${server.url}/silent`,
      '--expect-within',
      '200ms',
      `${server.url}/events`,
    ])
    expect(run.exitCode).toBe(1)
    expect(run.summary.reason).toBe('expectation-failed')
    expect(run.summary.t).toBeLessThan(5000)
    expect(run.summary.expectations).toContainEqual({
      name: '--expect-within 200ms',
      ok: false,
      actual: null,
    })
  })
})

describe('--fail-fast with --expect-max-gap', () => {
  it('ends during a silence already longer than the gap', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, SSE)
      res.write('data: one\n\n')
    })
    const run = await runMain([
      '--json',
      '--fail-fast',
      '--expect-max-gap',
      '300ms',
      '--timeout',
      '10s',
      server.url,
    ])
    expect(run.exitCode).toBe(1)
    expect(run.summary.reason).toBe('expectation-failed')
    expect(run.summary.t).toBeLessThan(5000)
  })
})

/** Relays an upstream stream, holding what arrives and writing it out every flushMs: a buffering proxy. */
async function bufferingRelay(upstream: string, flushMs: number) {
  return startServer((_req, res) => {
    res.writeHead(200, SSE)
    let held = ''
    const timer = setInterval(() => {
      if (held) res.write(held)
      held = ''
    }, flushMs)
    httpRequest(upstream, (up) => {
      up.setEncoding('utf8').on('data', (chunk: string) => (held += chunk))
      up.on('end', () => {
        clearInterval(timer)
        res.end(held)
      })
    }).end()
    res.on('close', () => clearInterval(timer))
  })
}

describe('sse-probe diff', () => {
  const transcript = async (url: string, name: string) => {
    const path = join(work, name)
    const run = await runMain(['--json', '--record', path, url])
    expect(run.exitCode).toBe(0)
    return path
  }

  it("'-' reads a side from stdin (sse-probe --json … | sse-probe diff - golden); not both", async () => {
    const golden = await transcript(
      (await sseServer('id: 1\ndata: a\n\nevent: end\ndata: b\n\n')).url,
      'stdin-golden.ndjson',
    )
    const same = await runCli(['diff', '-', golden], { stdin: readFileSync(golden, 'utf8') })
    expect([same.exitCode, same.stdout]).toEqual([0, expect.stringMatching(/^✓ same: 2 events/)])
    const raw = await runCli(['diff', golden, '-'], { stdin: 'id: 1\ndata: a\n\n' })
    expect([raw.exitCode, raw.stdout]).toEqual([
      1,
      expect.stringContaining('- #2 end only on the left'),
    ])
    const both = await runCli(['diff', '-', '-'], { stdin: '' })
    expect([both.exitCode, both.stderr]).toEqual([
      2,
      "error: only one side can be '-' (stdin): give the other as a file or a URL\n",
    ])
    const body = await runCli(['diff', '-', 'http://127.0.0.1:9/', '-d', '@-'], { stdin: '{}' })
    expect([body.exitCode, body.stderr]).toEqual([
      2,
      "error: -d @- and a '-' side both read stdin: give one of them as a file\n",
    ])
    // --schema - is no stdin: a file named -.
    const schema = await runCli(['http://127.0.0.1:9/', '--schema', '-'], { stdin: '{}' })
    expect(schema.exitCode).toBe(2)
    expect(schema.stderr).toContain('no such file')
  })

  it('a golden transcript against a live URL: one inserted event is one difference; --ignore', async () => {
    const events = (extra: boolean, stamp: string) =>
      [
        `id: 1\ndata: {"n":1,"at":"${stamp}"}\n\n`,
        `id: 2\ndata: {"n":2,"at":"${stamp}"}\n\n`,
        ...(extra ? [`id: 2b\ndata: {"n":2.5,"at":"${stamp}"}\n\n`] : []),
        `id: 3\ndata: {"at":"${stamp}","n":3}\n\n`,
        'event: end\ndata: bye\n\n',
      ].join('')
    const golden = await transcript((await sseServer(events(false, 'monday'))).url, 'golden.ndjson')
    const live = await sseServer(events(true, 'tuesday'))
    const run = await runMain(['diff', '--json', '--ignore', '/at', golden, live.url])
    expect(run.exitCode).toBe(1)
    const records = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(records).toEqual([
      { type: 'diff', kind: 'extra', left: null, right: 3, event: 'message', id: '2b' },
      expect.objectContaining({
        type: 'diff-summary',
        same: false,
        differences: 1,
        events: { left: 4, right: 5 },
      }),
    ])
    const same = await runMain([
      'diff',
      '--ignore',
      '/at',
      golden,
      (await sseServer(events(false, 'x'))).url,
      '--no-color',
    ])
    expect(same.exitCode).toBe(0)
    expect(same.stdout).toMatch(/✓ same: 4 events on each side/)
    const changed = await runMain([
      'diff',
      '--json',
      golden,
      (await sseServer(events(false, 'x'))).url,
    ])
    expect(changed.stdout).toContain(
      '"kind":"changed","left":1,"right":1,"event":"message","id":"1","pointer":"/at","leftValue":"monday","rightValue":"x"',
    )
    expect(live.requests.length).toBe(1)
  })

  it('a number beyond the range of a double is not taken for null', async () => {
    const golden = file('huge-number.sse', 'id: 1\ndata: {"n":1e400}\n\n')
    const live = await sseServer('id: 1\ndata: {"n":null}\n\n')
    const run = await runMain(['diff', '--json', '--no-reconnect', golden, live.url])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('"pointer":"/n","leftValue":1e400,"rightValue":null')
  })

  it('a raw capture, and an unreadable side exits 3', async () => {
    const capture = file('capture.sse', 'data: a\n\n: ping\n\nevent: ping\ndata: \n\ndata: b\n\n')
    const other = file('other.sse', 'data: a\n\ndata: b\n\n')
    expect((await runMain(['diff', capture, other])).exitCode).toBe(0)
    expect((await runMain(['diff', '--pings', capture, other])).exitCode).toBe(1)
    const missing = await runMain(['diff', capture, join(work, 'nope.ndjson')])
    expect(missing.exitCode).toBe(3)
    expect(missing.stderr).toMatch(/cannot read .*nope.ndjson: no such file\n$/)
    const usage = await runMain(['diff', '--ignore', 'at', capture, other])
    expect(usage.exitCode).toBe(2)
    const refused = await startServer((_req, res) => res.writeHead(500).end('down'))
    const down = await runMain(['diff', capture, refused.url])
    expect(down.exitCode).toBe(3)
    expect(down.stderr).toMatch(/HTTP 500/)
    // The same refusal recorded: a side that could not be read, not a stream of no events.
    const recorded = join(work, 'refused.ndjson')
    expect((await runMain(['--record', recorded, refused.url])).exitCode).toBe(3)
    const replayed = await runMain(['diff', capture, recorded])
    expect(replayed.exitCode).toBe(3)
    expect(replayed.stderr).toMatch(
      /refused.ndjson: the recorded probe failed \(http-error, exit 3\): .*HTTP 500/,
    )
    // What the recorded server said is shown escaped, on one line: never run on the terminal.
    const hostile = file(
      'hostile-refused.ndjson',
      `${JSON.stringify({ type: 'summary', t: 1, reason: 'http-error', exitCode: 3, message: 'HTTP 500 \u001b[2J\nforged line', events: 0 })}\n`,
    )
    const escaped = await runMain(['diff', capture, hostile])
    expect(escaped.exitCode).toBe(3)
    expect(escaped.stderr).toMatch(
      /failed \(http-error, exit 3\): HTTP 500 \\x1b\[2J\\nforged line\n$/,
    )
  })

  it('never shows the password of a URL side: not in the timing table, not in an error', async () => {
    const capture = file('secret-side.sse', 'data: a\n\n')
    const server = await sseServer('data: a\n\n')
    const secret = server.url.replace('http://', 'http://alice:pa55word@')
    const same = await runMain(['diff', '--no-color', '-n', '1', secret, capture])
    expect(same.exitCode).toBe(0)
    expect(same.stdout).toContain('timing')
    const refused = await startServer((_req, res) => res.writeHead(500).end('down'))
    const down = await runMain([
      'diff',
      refused.url.replace('http://', 'http://alice:pa55word@'),
      capture,
    ])
    expect(down.exitCode).toBe(3)
    expect(down.stderr).toMatch(/<redacted>@127\.0\.0\.1.*HTTP 500/)
    expect(same.stdout + same.stderr + down.stdout + down.stderr).not.toMatch(/pa55word|alice/)
  })

  it('a file that is neither a transcript nor a capture exits 3, naming why', async () => {
    const capture = file('ok.sse', 'data: a\n\n')
    const sides = [
      [file('empty.sse', ''), /empty.sse: the file is empty\n$/],
      [file('blank.ndjson', '\n  \r\n'), /blank.ndjson: the file is empty\n$/],
      [file('notes.txt', 'hello world\n'), /notes.txt: neither a transcript .* nor a raw capture/],
      [file('binary.dat', '\u0000\u0001PNG\u0000'), /binary.dat: neither a transcript/],
      [work, /cannot read .*: a directory, not a file\n$/],
      // What --json -q writes: a summary of events that are not there, not a stream of none.
      [
        file('quiet.ndjson', '{"type":"summary","t":9,"reason":"end-event","events":2}\n'),
        /quiet.ndjson:1: only the summary of a stream \(its 2 events are not in the file\)/,
      ],
      // The same of a stream of pings alone: not a stream of no events either.
      [
        file(
          'quiet-pings.ndjson',
          '{"type":"summary","t":9,"reason":"duration","events":0,"pings":3,"connections":1}\n',
        ),
        /quiet-pings.ndjson:1: only the summary of a stream \(its 1 connection is not in the file\)/,
      ],
    ] as const
    for (const [side, message] of sides) {
      const run = await runMain(['diff', side, capture])
      expect(run.exitCode, side).toBe(3)
      expect(run.stderr).toMatch(message)
      expect(run.stdout).toBe('')
    }
    // A hostile type and id are shown escaped, never run on the terminal.
    const hostile = file('hostile.sse', 'event: x\u001b[2J\nid: \u0007\ndata: 1\n\n')
    const escaped = await runMain(['diff', '--no-color', hostile, capture])
    expect(escaped.stdout).toContain('  - #1 x\\x1b[2J id \\x07 only on the left')
    expect(escaped.stdout).not.toMatch(/[\u0007\u001b]/)
    // Pings alone are a stream that sent no event: 0 events compared, not an unreadable side.
    const pings = await runMain(['diff', file('pings.sse', ': ping\n\n'), capture, '--json'])
    expect(pings.exitCode).toBe(1)
    expect(pings.stdout).toContain('"events":{"left":0,"right":1}')
  })

  it('a file side that cannot be used ends the command before the URL side is probed', async () => {
    const server = await endless((i) => `{"n":${i}}`)
    const capture = file('timeless.sse', 'data: a\n\n')
    // The endless stream used to be probed forever before the usage error.
    const timing = await runMain(['diff', '--timing', server.url, capture])
    expect(timing.exitCode).toBe(2)
    expect(timing.stderr).toMatch(/--timing: .*timeless.sse is a raw capture/)
    const missing = await runMain(['diff', server.url, join(work, 'missing.sse')])
    expect(missing.exitCode).toBe(3)
    expect(server.requests).toHaveLength(0)
  })

  it('a URL side ends as a probe does: at an LLM end marker ([DONE]), and at a streamed error', async () => {
    const answer = textOf(chatTools)
    const golden = await sseServer(answer)
    const live = await sseServer(answer.replace('Zürich', 'Paris'))
    const failing = await sseServer(textOf(chatError))
    // GET streams that close: without an end, each side is reconnected to (at once) until -t.
    const flags = ['--json', '--retry', '10', '-t', '4s']
    const records = (stdout: string) =>
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
    const run = await runMain(['diff', ...flags, golden.url, live.url])
    expect(records(run.stdout)).toEqual([
      {
        type: 'diff',
        kind: 'changed',
        left: 3,
        right: 3,
        event: 'message',
        id: null,
        pointer: '/choices/0/delta/content',
        leftValue: 'the weather in Zürich 🌦',
        rightValue: 'the weather in Paris 🌦',
      },
      expect.objectContaining({ type: 'diff-summary', events: { left: 13, right: 13 } }),
    ])
    expect(run.exitCode).toBe(1)
    expect([golden.requests.length, live.requests.length]).toEqual([1, 1])
    // A side whose stream carries the provider's error was probed: its events are compared.
    const error = await runMain(['diff', ...flags, failing.url, failing.url])
    expect(error.stderr).toBe('')
    expect(records(error.stdout)).toEqual([
      expect.objectContaining({ type: 'diff-summary', same: true, events: { left: 3, right: 3 } }),
    ])
    expect(error.exitCode).toBe(0)
  })

  it('Ctrl-C on two live sides with no end says how to give them one', async () => {
    const server = await endless((i) => `{"n":${i}}`, 50)
    const run = await runCli(['diff', server.url, `${server.url}?b`], {
      onSpawn(child) {
        const waiting = setInterval(() => {
          if (server.requests.length < 2) return
          clearInterval(waiting)
          child.kill('SIGINT')
        }, 20)
      },
    })
    expect(run.exitCode).toBe(130)
    expect(run.stderr).toMatch(/interrupted before the stream ended: give a URL side an end \(-n/)
  })

  it('a live side of more than a million events is refused with one line, exit 3, not kept until the heap runs out', async () => {
    // Two endless fast streams with no end reached 5 GB and crashed within a minute.
    const server = await sseServer('data: x\n\n'.repeat(MAX_LIVE_EVENTS + 1))
    const run = await runCli(['diff', server.url, `${server.url}?b`, '--no-reconnect'], {
      timeoutMs: 30_000,
    })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(
      /^sse-probe diff: http:\/\/127\.0\.0\.1:\d+\/?(\?b)?: more than 1,000,000 events or 256 MiB of them, which diff keeps to compare: give a URL side an end \(-n, --end-event, --duration, -t\)\n$/,
    )
  })

  it('with --pings, comments count towards the limit too, as they are kept to compare', async () => {
    const server = await sseServer(':x\n'.repeat(MAX_LIVE_EVENTS + 1))
    const run = await runCli(['diff', '--pings', server.url, `${server.url}?b`, '--no-reconnect'], {
      timeoutMs: 30_000,
    })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(
      /: more than 1,000,000 events and comments or 256 MiB of them, which diff keeps to compare/,
    )
  })

  it('Ctrl-C while a pipe side has not been written stops the diff (it waited for a second one)', async () => {
    const pipe = join(work, 'never-written.fifo')
    execFileSync('mkfifo', [pipe])
    const run = await runCli(['diff', pipe, pipe], {
      onSpawn: (child) => void setTimeout(() => child.kill('SIGINT'), 1000),
      timeoutMs: 5000,
    })
    expect([run.exitCode, run.stderr]).toEqual([
      130,
      `sse-probe diff: ${pipe}: interrupted before it was read\n`,
    ])
  })

  it('--time-tolerance takes a duration too', async () => {
    const transcript = file(
      'timed.ndjson',
      [10, 20, 30]
        .map((t, i) =>
          JSON.stringify({
            type: 'event',
            t,
            attempt: 1,
            event: 'message',
            id: null,
            lastEventId: '',
            data: `${i}`,
            dt: null,
          }),
        )
        .join('\n'),
    )
    const later = file('later.ndjson', readFileSync(transcript, 'utf8').replaceAll('"t":', '"t":1'))
    const diff = (tolerance: string) =>
      runMain(['diff', '--timing', '--time-tolerance', tolerance, transcript, later, '--json'])
    // The first event 100 ms later: beyond 80ms, within 150ms.
    expect((await diff('80ms')).stdout).toContain(
      '"metric":"firstEventMs","leftValue":10,"rightValue":110',
    )
    expect((await diff('150ms')).exitCode).toBe(0)
    const bad = await diff('fast')
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/--time-tolerance fast: expected a percentage .* or a duration/)
  })

  it('--timing: a buffering relay differs from the direct stream in batching', async () => {
    const upstream = await startServer(async (_req, res) => {
      res.writeHead(200, SSE)
      for (let i = 1; i <= 8; i++) {
        res.write(`id: ${i}\ndata: {"n":${i}}\n\n`)
        await new Promise((resolve) => setTimeout(resolve, 60))
      }
      res.end('event: end\ndata: bye\n\n')
    })
    const relay = await bufferingRelay(upstream.url, 400)
    const plain = await runMain(['diff', '--json', upstream.url, relay.url])
    expect(plain.exitCode).toBe(0)
    const timed = await runMain(['diff', '--json', '--timing', upstream.url, relay.url])
    expect(timed.exitCode).toBe(1)
    const records = timed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    // The relay holds the first event back and writes several in one read.
    expect(records).toContainEqual(
      expect.objectContaining({ kind: 'timing', metric: 'firstEventMs' }),
    )
    const summary = records.at(-1)
    expect(summary.timing.right.maxEventsPerRead).toBeGreaterThan(
      summary.timing.left.maxEventsPerRead,
    )
    const pretty = await runMain(['diff', '--timing', '--no-color', upstream.url, relay.url])
    // Rounded as the summary rounds (6.3ms, 406ms, 1.02s), not 406.123ms.
    expect(pretty.stdout).toMatch(/first event +\d+(\.\d)?m?s +\d+(\.\d\d?)?m?s +✗/)
  })
})

describe('the library', () => {
  it('takes the contract options by their camelCase names', async () => {
    const { probe } = await import('../../src/index.ts')
    const server = await endless((i) => JSON.stringify({ progress: i * 40 }))
    const run = probe(server.url, {
      schema: `status=${fixture('status.schema.yaml')}`,
      failFast: true,
      timeout: '10s',
    })
    const records = []
    for await (const record of run) records.push(record)
    const summary = await run.summary
    expect(summary).toMatchObject({ reason: 'expectation-failed', exitCode: 1, events: 3 })
    expect(records.filter((r) => r.type === 'violation')).toMatchObject([
      { index: 3, id: '3', pointer: '/progress' },
    ])
  })

  it('refuses an --expect-within of 0 and a wait past 24 days, as the CLI does', async () => {
    const { probe } = await import('../../src/index.ts')
    const trigger = 'POST http://127.0.0.1:9/jobs'
    const cli = await runCli([
      '--trigger',
      trigger,
      '--expect-within',
      '0ms',
      'http://127.0.0.1:9/',
    ])
    expect(cli.exitCode).toBe(2)
    const bad = (options: object) => () => probe('http://127.0.0.1:9/', { trigger, ...options })
    expect(bad({ expectWithin: '0ms' })).toThrow(cli.stderr.replace(/^error: /, '').trim())
    expect(bad({ expectWithin: 0 })).toThrow(
      "option '--expect-within <duration>' argument '0' is invalid. expected milliseconds greater than zero",
    )
    // A longer timer fires at once (and Node prints a warning).
    for (const name of ['triggerDelay', 'expectWithin'])
      expect(bad({ [name]: 30 * 86_400_000 }), name).toThrow(/at most 24 days/)
  })

  it('an unusable schema rejects the summary with SseProbeUsageError, before any request', async () => {
    const { probe, SseProbeUsageError } = await import('../../src/index.ts')
    const server = await sseServer('data: x\n\n')
    const run = probe(server.url, { schema: join(work, 'absent.json') })
    await expect(run.summary).rejects.toThrow(SseProbeUsageError)
    await expect(run.summary).rejects.toThrow(/cannot read .*absent.json: no such file/)
    expect(server.requests).toHaveLength(0)
  })
})
