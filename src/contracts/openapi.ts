import { basename, dirname, relative, resolve as resolvePath } from 'node:path'
import { $RefParser } from '@apidevtools/json-schema-ref-parser'
import {
  cwd,
  resolve as resolveUrl,
  safeDecodeURIComponent,
} from '@apidevtools/json-schema-ref-parser/dist/lib/util/url.js'
import type { AnySchema, AnySchemaObject, ErrorObject } from 'ajv'
import type { DataValidateFunction } from 'ajv/dist/types/index.js'
import { clipped, visible } from '../engine/escape.ts'
import { escapeRegex, forEachObject, isJsonObject, UsageError } from './engine.ts'
import {
  checkWith,
  compileSchema,
  createAjv,
  firstLine,
  nullableAsUnion,
  parseYamlText,
  readDocument,
  subschemaSlots,
  type ValueCheck,
} from './schema.ts'
import { createShapedJsonParser } from './shaped-json.ts'
import { selectBranches } from './unions.ts'

/**
 * `--openapi <file> [--operation <id>]`: the per-event schema of an
 * operation's `text/event-stream` response, as OpenAPI 3.2 defines it
 * (`itemSchema`) and as 3.0/3.1 documents write it (`schema`).
 */

export interface OpenApiCheck {
  /** The expectation's name: the flag, the file and the operation found. */
  name: string
  /** Validates an event object {data, event, id?, retry?}; pointers point into it. */
  check: ValueCheck
}

export interface OpenApiTarget {
  file: string
  operationId?: string
  url: URL
  method: string
}

type Json = Record<string, unknown>

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'query']
// The schema Ajv is given: the chosen schemas and the targets of the $refs that the ref parser
// leaves (circular ones), all of it the objects of the dereferenced document.
const DOC_ID = 'sse-probe:openapi'
const ITEM = 'x-sse-probe-item'
const CONTENT = 'x-sse-probe-content'
const JSON_KEYWORD = 'x-sse-probe-json'
const ID_KEYWORD = 'x-sse-probe-id'
const RETRY_KEYWORD = 'x-sse-probe-retry'
const CYCLE = 'x-sse-probe-cycle'
const SHARED = 'x-sse-probe-shared'

export async function loadOpenApi(target: OpenApiTarget): Promise<OpenApiCheck> {
  const flag = `--openapi ${target.file}`
  const document = await readDocument(target.file, '--openapi')
  const fields = isJsonObject(document) ? document : {}
  const version = typeof fields.openapi === 'string' ? fields.openapi : undefined
  // YAML reads an unquoted `swagger: 2.0` (or `openapi: 3.1`) as a number.
  const swagger = typeof fields.swagger === 'number' ? fields.swagger.toFixed(1) : fields.swagger
  if (typeof swagger === 'string' && version === undefined) {
    throw new UsageError(
      `${flag}: a Swagger ${swagger} document; --openapi reads OpenAPI 3.0, 3.1 and 3.2 (convert it first, e.g. with swagger2openapi)`,
    )
  }
  if (!version || !/^3\.[0-2]\./.test(version)) {
    throw new UsageError(
      `${flag}: not an OpenAPI 3.0, 3.1 or 3.2 document (its "openapi" field is ${JSON.stringify(fields.openapi ?? null)})`,
    )
  }
  // [OAS 3.1, 3.2] A Schema Object's $ref holds next to its siblings; 3.0 ignores them.
  const schemaTargets: SchemaTargets | undefined = version.startsWith('3.0.')
    ? undefined
    : new Map()
  if (schemaTargets) refsBesideSiblings(document, resolveUrl(cwd(), target.file), schemaTargets)
  const parseReferenced = referencedParser(schemaTargets)
  const parser = new $RefParser()
  let resolved: Json
  try {
    resolved = (await parser.dereference(target.file, document as Json, {
      // Only files next to the document: a contract check must not reach the network.
      resolve: { http: false },
      parse: {
        json: { order: 100, canParse: ['.json'], parse: parseReferenced },
        yaml: { order: 200, canParse: ['.yaml', '.yml'], parse: parseReferenced },
      },
      dereference: { circular: 'ignore' },
    })) as Json
    pointCyclesIntoDocument(resolved, parser)
  } catch (error) {
    throw new UsageError(
      `${flag}: cannot resolve its references: ${shortened(firstLine((error as Error).message))}${inFile(error, target.file)}`,
    )
  }
  const operation = findOperation(resolved, target, flag)
  const where = `${flag} (${operation.label})`
  const contentSchemas: unknown[] = []
  // Circular references stay $refs after dereferencing; the rewrite must see through them.
  const follow = (schema: unknown): unknown => {
    const ref = isJsonObject(schema) ? schema.$ref : undefined
    if (typeof ref !== 'string' || !ref.startsWith('#')) return schema
    try {
      return parser.$refs.get(ref)
    } catch {
      return schema
    }
  }
  const { schema: itemSchema, sentinel } = eventStreamSchema(operation.value, where, follow)
  selectBranches(resolved, follow)
  const item = rewriteData(itemSchema, contentSchemas, follow)
  const cycles = Array.isArray(resolved[CYCLE]) ? resolved[CYCLE] : []
  // Not the whole document: Ajv walks every object of what it is given for $ids, as a tree, and
  // the dereferenced document repeats each shared schema wherever it was referenced (OpenAI's
  // took 30 s). Only these are ever compiled.
  // After the rewrites above, which read the properties and branches that this hides in an anyOf.
  nullableAsUnion(item, ...contentSchemas, ...cycles)
  const shared: unknown[] = []
  referShared([item, ...contentSchemas, ...cycles], shared)
  const schema = { [ITEM]: item, [CONTENT]: contentSchemas, [CYCLE]: cycles, [SHARED]: shared }

  // 3.0's Schema Object is draft-04's (boolean exclusiveMinimum, nullable); 3.1 and 3.2 are 2020-12.
  const dialect = version.startsWith('3.0.') ? 'draft-04' : '2020-12'
  // The document's Ajv; with all errors for a document too wide for first-error code (compileSchema).
  const build = (allErrors: boolean) => {
    const ajv = createAjv(dialect, allErrors)
    // How a field is read for the schema it declares: `json` its text parsed, `lenient` parsed where
    // it is JSON, `digits` a number given as its digits.
    const parsing = (keyword: string, reading: 'json' | 'lenient' | 'digits') =>
      ajv.addKeyword({
        keyword,
        schemaType: 'number',
        errors: true,
        compile(index: number) {
          const inner = ajv.getSchema(`${DOC_ID}#/${CONTENT}/${index}`)!
          // Parsed by V8 now, as compileSchema does the item's: too wide, and it is compiled flat.
          inner(null)
          const parseJson = createShapedJsonParser()
          // [OAS 3.2] contentMediaType/contentSchema: the string is parsed and the result validated.
          const validate: DataValidateFunction = (data: unknown, context) => {
            const at = context?.instancePath ?? ''
            let value: unknown
            try {
              value =
                reading === 'digits'
                  ? String(data)
                  : typeof data === 'string'
                    ? parseJson(data)
                    : JSON.parse(data as string)
            } catch (error) {
              if (reading === 'json') {
                validate.errors = [
                  jsonError(
                    at,
                    typeof data === 'string'
                      ? `is not JSON: ${(error as Error).message}`
                      : 'must be a string of JSON',
                  ),
                ]
                return false
              }
              value = data
            }
            if (inner(value)) return true
            validate.errors = inner.errors!.map((e) => ({
              ...e,
              instancePath: at + e.instancePath,
            }))
            return false
          }
          return validate
        },
      })
    parsing(JSON_KEYWORD, 'json')
    // An id that is not JSON (`abc` for an integer id) fails as itself: `must be integer`.
    parsing(ID_KEYWORD, 'lenient')
    parsing(RETRY_KEYWORD, 'digits')
    ajv.addSchema(schema as AnySchemaObject, DOC_ID, undefined, false)
    return ajv
  }
  const validate = compileSchema(build(false), { $ref: `${DOC_ID}#/${ITEM}` }, where, () =>
    build(true),
  )
  const check = checkWith(validate)
  return {
    name: target.operationId ? `${flag} --operation ${target.operationId}` : flag,
    // The data that the document says ends the stream is a signal, not payload (as --end-data's).
    check:
      sentinel === undefined
        ? check
        : (event) => ((event as { data?: unknown }).data === sentinel ? undefined : check(event)),
  }
}

/**
 * The referenced file a ref parser error is about (a pointer missing there), as the document's
 * $refs name it; nothing when its message names it already or it is the document itself.
 */
function inFile(error: unknown, document: string): string {
  const source = (error as { source?: unknown }).source
  if (typeof source !== 'string' || source === '' || (error as Error).message.includes(source))
    return ''
  const file = relative(dirname(resolvePath(document)), resolvePath(source))
  return file === basename(document) ? '' : ` (in ${file})`
}

/**
 * The parser of a file that the document refers to, its $refs made absolute: one that the ref
 * parser leaves in place (a recursive schema) must still name its target once it sits inside the
 * document. Its schemas' $refs beside siblings are rewritten as the document's (split documents,
 * as `redocly split` writes them, hold their schemas in files of their own).
 */
function referencedParser(schemaTargets: SchemaTargets | undefined) {
  return (file: { url: string; data: Buffer | string }): unknown => {
    const text = file.data.toString().replace(/^\uFEFF/, '')
    const value = /\.json$/i.test(file.url) ? JSON.parse(text) : parseYamlText(text)
    forEachRef(value, (node, ref) => {
      node.$ref = resolveUrl(file.url, ref)
    })
    if (schemaTargets) refsBesideSiblings(value, file.url, schemaTargets)
    return value
  }
}

/** The pointers into each file (by its URL, decoded, without the hash) that schemas' $refs name. */
type SchemaTargets = Map<string, Set<string>>

const fileKey = (url: string) => safeDecodeURIComponent(url.split('#', 1)[0]!)

/** The value at a `#/a/b` pointer, undefined when there is none. */
function atPointer(root: unknown, hash: string): unknown {
  let node = root
  for (const token of hash.split('/').slice(1)) {
    if (!isJsonObject(node) && !Array.isArray(node)) return undefined
    const key = safeDecodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~')
    node = (node as Json)[key]
  }
  return node
}

/**
 * [OAS 3.1, 3.2] A Schema Object's `$ref` with keywords beside it (`$ref: Event` with `required:
 * [event]` and a `oneOf`, as the 3.2 specification's SSE example writes it) holds together with
 * them: the ref parser merges the target into the siblings instead, so the siblings' `required`,
 * `oneOf` or `enum` replaced the target's. As an `allOf` member both hold. Only in the document's
 * schemas (under `schema`, `itemSchema`, `components/schemas`): a Reference Object elsewhere (a
 * response's) keeps the ref parser's meaning. In a file the document refers to, also what the
 * schemas' $refs seen so far point at (`$ref: ./Status.yaml` makes that file a schema).
 */
function refsBesideSiblings(document: unknown, url: string, schemaTargets: SchemaTargets): void {
  const stack: unknown[] = []
  for (const hash of schemaTargets.get(fileKey(url)) ?? []) stack.push(atPointer(document, hash))
  forEachObject(document, (node) => {
    if (Array.isArray(node)) return
    for (const key of ['schema', 'itemSchema']) stack.push((node as Json)[key])
  })
  const components = isJsonObject(document) ? document.components : undefined
  const schemas = isJsonObject(components) ? components.schemas : undefined
  if (isJsonObject(schemas)) for (const schema of Object.values(schemas)) stack.push(schema)
  const seen = new WeakSet<object>()
  while (stack.length > 0) {
    const node = stack.pop()
    if (!isJsonObject(node) || seen.has(node)) continue
    seen.add(node)
    for (const [holder, key] of subschemaSlots(node)) stack.push(holder[key])
    const ref = node.$ref
    if (typeof ref !== 'string') continue
    const to = resolveUrl(url, ref)
    const hash = to.slice(to.split('#', 1)[0]!.length + 1)
    schemaTargets.set(fileKey(to), (schemaTargets.get(fileKey(to)) ?? new Set()).add(hash))
    // Into this very file (`#/definitions/Base`): a schema here too.
    if (fileKey(to) === fileKey(url)) stack.push(atPointer(document, hash))
    const own = Object.keys(node).filter((key) => !['$ref', 'summary', 'description'].includes(key))
    if (own.length === 0) continue
    delete node.$ref
    node.allOf = [{ $ref: ref }, ...(Array.isArray(node.allOf) ? node.allOf : [])]
  }
}

/**
 * The $refs that dereferencing left (cycles), in the document or into another file: Ajv is given
 * the chosen schemas only, so their targets (the very objects inlined elsewhere) are listed in the
 * document, and in what Ajv is given, and pointed at.
 */
function pointCyclesIntoDocument(document: Json, parser: $RefParser): void {
  const targets: unknown[] = []
  const pointers = new Map<unknown, string>()
  forEachRef(document, (node, ref) => {
    let target: unknown
    try {
      target = parser.$refs.get(ref)
    } catch {
      // Not a pointer the ref parser follows ($ref in an example's data): left as written.
      return
    }
    let pointer = pointers.get(target)
    if (pointer === undefined) {
      pointer = `#/${CYCLE}/${targets.push(target) - 1}`
      pointers.set(target, pointer)
    }
    node.$ref = pointer
    // Not inlined anywhere when the cycle closed at its first $ref: its own $refs are walked too.
    return target
  })
  if (targets.length > 0) document[CYCLE] = targets
}

/**
 * Each schema that the dereferenced document holds in several places is put in `shared` once and
 * referred to there: Ajv compiles a schema into every place it sits, and OpenAI's stream events,
 * whose parts share parts hundreds of times over, ran out of memory. Rewrites in place, last.
 */
function referShared(roots: unknown[], shared: unknown[]): void {
  const uses = new Map<object, number>()
  const nodes: Json[] = []
  // A stack, not recursion: a deep document must not overflow the call stack.
  const stack = [...roots]
  while (stack.length > 0) {
    const node = stack.pop()
    if (!isJsonObject(node)) continue
    const count = (uses.get(node) ?? 0) + 1
    uses.set(node, count)
    if (count > 1) continue
    nodes.push(node)
    for (const [holder, key] of subschemaSlots(node)) stack.push(holder[key])
  }
  const index = new Map<object, number>()
  for (const node of nodes) {
    for (const [holder, key] of subschemaSlots(node)) {
      const child = holder[key]
      if (!isJsonObject(child) || uses.get(child)! < 2) continue
      let at = index.get(child)
      if (at === undefined) {
        at = shared.push(child) - 1
        index.set(child, at)
      }
      // Absolute: a schema's own $id would change what `#/…` means beneath it.
      holder[key] = { $ref: `${DOC_ID}#/${SHARED}/${at}` }
    }
  }
}

/** Calls `visit` for every object with a string `$ref` under `root` (and under what it returns), each once. */
function forEachRef(root: unknown, visit: (node: Json, ref: string) => unknown): void {
  forEachObject(root, (node) => {
    const ref = (node as Json).$ref
    return !Array.isArray(node) && typeof ref === 'string' ? visit(node as Json, ref) : undefined
  })
}

/**
 * The ref parser names a chain of $refs too deep to follow by its whole pointer, thousands of
 * characters long, and suggests an option of its own that the CLI does not have.
 */
function shortened(text: string): string {
  const deep = /^Maximum dereference depth \((\d+)\) exceeded at (\S+)/.exec(text)
  if (!deep) return text
  const at = deep[2]!.length > 80 ? `${deep[2]!.slice(0, 80)}…` : deep[2]!
  return `$refs nested more than ${deep[1]} deep, at ${at}`
}

function jsonError(instancePath: string, message: string): ErrorObject {
  return { keyword: JSON_KEYWORD, instancePath, schemaPath: '', params: {}, message }
}

interface FoundOperation {
  value: Json
  label: string
}

/** By operationId when given; otherwise the path template that matches the URL's path, for its method. */
export function findOperation(
  document: Json,
  target: Pick<OpenApiTarget, 'operationId' | 'url' | 'method'>,
  flag: string,
): FoundOperation {
  const paths = isJsonObject(document.paths) ? document.paths : {}
  const operations: { template: string; method: string; value: Json; servers: unknown }[] = []
  for (const [template, item] of Object.entries(paths)) {
    if (!isJsonObject(item)) continue
    // [OAS 3.2] Methods without a field of their own (LINK, PURGE) are under additionalOperations.
    const additional = isJsonObject(item.additionalOperations) ? item.additionalOperations : {}
    const entries = [
      ...METHODS.map((method) => [method, item[method]] as const),
      ...Object.entries(additional).map(
        ([method, value]) => [method.toLowerCase(), value] as const,
      ),
    ]
    for (const [method, value] of entries) {
      if (isJsonObject(value))
        operations.push({
          template,
          method,
          value,
          servers: value.servers ?? item.servers ?? document.servers,
        })
    }
  }
  const label = (o: (typeof operations)[number]) =>
    `${o.method.toUpperCase()} ${o.template}${typeof o.value.operationId === 'string' ? `, ${o.value.operationId}` : ''}`
  if (target.operationId !== undefined) {
    const found = operations.find((o) => o.value.operationId === target.operationId)
    if (!found)
      throw new UsageError(
        `${flag}: no operation with operationId ${JSON.stringify(target.operationId)}${knownIds(operations)}`,
      )
    return { value: found.value, label: label(found) }
  }
  const method = target.method.toLowerCase()
  const path = segments(target.url.pathname).map(decodeSegment)
  const matching = (basesOf: (o: (typeof operations)[number]) => string[], anyMethod = false) =>
    operations.flatMap((o) => {
      if (o.method !== method && !anyMethod) return []
      const scores = basesOf(o).flatMap((base) => {
        const score = matchScore(path, segments(base + o.template))
        return score ? [score] : []
      })
      return scores.length > 0 ? [{ ...o, score: scores.sort(bySpecificity)[0]! }] : []
    })
  let candidates = matching((o) => serverPaths(o.servers))
  // The app probed without the path its servers add (directly, not through the proxy or gateway
  // that mounts it there: FastAPI's root_path): the paths alone.
  if (candidates.length === 0) candidates = matching(() => [''])
  const [found, runnerUp] = candidates.sort((a, b) => bySpecificity(a.score, b.score))
  if (!found) {
    // The path is there for another method: the probe was sent without -X (or -d for a POST).
    const others = [...matching((o) => serverPaths(o.servers), true), ...matching(() => [''], true)]
    const hint = others[0]
      ? `, only ${[...new Set(others.map(label))].join('; ')} (give -X ${others[0].method.toUpperCase()}, or --operation <operationId>)`
      : ` (give --operation <operationId>)${knownIds(operations)}`
    throw new UsageError(`${flag}: no operation for ${target.method} ${target.url.pathname}${hint}`)
  }
  if (runnerUp && bySpecificity(found.score, runnerUp.score) === 0) {
    throw new UsageError(
      `${flag}: ${target.method} ${target.url.pathname} matches both ${label(found)} and ${label(runnerUp)} (give --operation <operationId>)`,
    )
  }
  return { value: found.value, label: label(found) }
}

function knownIds(operations: { value: Json }[]): string {
  const ids = operations.map((o) => o.value.operationId).filter((id) => typeof id === 'string')
  return ids.length > 0
    ? `; operations: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`
    : ''
}

/** The path part of each server URL (variables in it match any segment); '' when there are none. */
function serverPaths(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0) return ['']
  return servers.map((server) =>
    isJsonObject(server) && typeof server.url === 'string'
      ? serverPath(server.url, isJsonObject(server.variables) ? server.variables : {})
      : '',
  )
}

/**
 * [OAS] What follows the origin, which variables may spell (`{scheme}://{host}:{port}/v1`) or
 * stand for (`{endpoint}/openai`, as TypeSpec writes for Azure: the path of its default, if
 * any); a relative URL (`./v1`) is taken from the root. A variable right after the host whose
 * default is a path (`{scheme}://{host}{basePath}`, as Swagger 2.0's fields are carried over)
 * begins the path.
 */
function serverPath(url: string, variables: Json): string {
  const defaultOf = (name: string) => {
    const variable = variables[name]
    return isJsonObject(variable) && typeof variable.default === 'string' ? variable.default : ''
  }
  let path = url.replace(/[?#].*$/, '')
  const origin = /^(?:(?:[a-z][a-z0-9+.-]*|\{[^}]*\}):)?\/\/[^/]*/i.exec(path)
  const leading = /^\{([^}]*)\}/.exec(path)
  if (origin) {
    path = path.slice(origin[0].length)
    const authority = origin[0].slice(origin[0].indexOf('//') + 2)
    for (const variable of authority.matchAll(/\{([^}]*)\}/g)) {
      const value = defaultOf(variable[1]!)
      if (!value.startsWith('/')) continue
      path = value + authority.slice(variable.index + variable[0].length) + path
      break
    }
  } else if (leading) {
    const value = defaultOf(leading[1]!)
    const base = value.includes('//') ? serverPath(value, {}) : value.startsWith('/') ? value : ''
    path = base + path.slice(leading[0].length)
  }
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
}

function segments(path: string): string[] {
  return path.replace(/^\/+|\/+$/g, '').split('/')
}

/** Each segment decoded on its own: an encoded "/" (%2F) stays inside its path parameter. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * How specifically a path template matches the path, segment by segment: a literal segment
 * beats any template, then the more literal characters the better (`{name}.json` before
 * `{id}.{ext}`); undefined when it does not match.
 */
function matchScore(path: string[], template: string[]): number[] | undefined {
  if (path.length !== template.length) return undefined
  const score: number[] = []
  for (const [i, part] of template.entries()) {
    const pieces = part.split(/(\{[^}]*\})/).filter((piece) => piece !== '')
    // [OAS] A literal is written percent-encoded (`my%20job`, `caf%C3%A9`); the path is decoded.
    const literal = pieces.filter((p) => !p.startsWith('{')).map(decodeSegment)
    let next = 0
    const pattern = pieces
      .map((p) => (p.startsWith('{') ? '.+' : escapeRegex(literal[next++]!)))
      .join('')
    if (!new RegExp(`^${pattern}$`, 's').test(path[i]!)) return undefined
    score.push(literal.length === pieces.length ? Infinity : literal.join('').length)
  }
  return score
}

/** [OAS] Concrete paths match before templated ones: the first more literal segment wins. */
function bySpecificity(a: number[], b: number[]): number {
  for (const [i, value] of a.entries()) if (value !== b[i]) return b[i]! - value
  return 0
}

/**
 * The 200 response's `text/event-stream` per-event schema: `itemSchema` (3.2), else `schema` (as
 * Schemathesis reads 3.0/3.1); and the data of the event that ends the stream, where Speakeasy's
 * `x-speakeasy-sse-sentinel` names it (`[DONE]`).
 */
function eventStreamSchema(
  operation: Json,
  where: string,
  follow: (schema: unknown) => unknown,
): { schema: AnySchema; sentinel?: string } {
  const responses = isJsonObject(operation.responses) ? operation.responses : {}
  // [OAS] `default` stands for every status the operation lists no response for, 200 among them.
  const status = ['200', '2XX', 'default'].find((key) => isJsonObject(responses[key]))
  if (status === undefined) throw new UsageError(`${where}: the operation has no 200 response`)
  const response = responses[status] as Json
  const content = isJsonObject(response.content) ? response.content : {}
  const key = Object.keys(content).find(
    (type) => type.split(';')[0]!.trim().toLowerCase() === 'text/event-stream',
  )
  const media = key === undefined ? undefined : content[key]
  if (key !== undefined && !isJsonObject(media))
    throw new UsageError(`${where}: its ${status} response's ${key} content is not an object`)
  if (!isJsonObject(media)) throw new UsageError(noEventStream(where, status, Object.keys(content)))
  const sentinel = media['x-speakeasy-sse-sentinel']
  const signal = typeof sentinel === 'string' ? { sentinel } : {}
  if (media.itemSchema !== undefined) {
    if (!isJsonObject(media.itemSchema) && typeof media.itemSchema !== 'boolean')
      throw new UsageError(`${where}: its text/event-stream itemSchema is not a schema`)
    return { schema: media.itemSchema as AnySchema, ...signal }
  }
  if (!isJsonObject(media.schema) && typeof media.schema !== 'boolean')
    throw new UsageError(`${where}: its text/event-stream content has no itemSchema or schema`)
  return { schema: eventOfStream(media.schema, where, follow), ...signal }
}

const EVENT_FIELDS = ['data', 'event', 'id', 'retry']
const isEventField = (name: string) => EVENT_FIELDS.includes(name)

/**
 * The event in a 3.0/3.1 `schema`, which generators write for the whole stream: [OAS 3.2] an
 * array of events (Huma, springdoc's `Flux`) gives its `items`, an array of data (poem, `Flux<T>`)
 * the event's data; a schema that names a field the
 * event does not have, and not `data`, describes its data (a `$ref` to the payload's model, as
 * FastAPI and NestJS users write it); FastAPI's `type: string` for any non-JSON response class
 * describes the stream's text, merged into the `$ref` a user adds (its object keywords kept) or
 * alone (no events).
 */
function eventOfStream(
  original: AnySchema,
  where: string,
  follow: (schema: unknown) => unknown,
): AnySchema {
  let schema = follow(original)
  if (!isJsonObject(schema)) return original
  if (schema.type === 'array') {
    // Huma's and springdoc's ServerSentEvent items are events; poem's `EventStream<T>` and
    // springdoc's `Flux<T>` items are T, each event's data: read as JSON where T is not a string.
    const items = (schema.items ?? true) as AnySchema
    const named = [...fieldsNamed(items, follow)]
    if (named.includes('data') || (named.length > 0 && named.every(isEventField))) return items
    return { type: 'object', required: ['data'], properties: { data: items } }
  }
  if (schema.type === 'string') {
    const { type: _, ...rest } = schema
    if (!OBJECT_KEYWORDS.some((keyword) => keyword in rest))
      throw new UsageError(
        `${where}: its text/event-stream schema describes the stream as one string, not each event (give the content an itemSchema, or use --schema)`,
      )
    schema = rest
  }
  // The event's schema names its data, or only its other fields; a payload's model may well have
  // an `id` of its own (OpenAI's chunks do).
  const named = [...fieldsNamed(schema, follow)]
  if (named.includes('data') || named.every(isEventField)) return schema as AnySchema
  const data = { type: 'string', contentMediaType: 'application/json', contentSchema: schema }
  return { type: 'object', required: ['data'], properties: { data } }
}

const BRANCH_KEYWORDS = ['allOf', 'oneOf', 'anyOf']
const OBJECT_KEYWORDS = ['properties', 'required', 'additionalProperties', ...BRANCH_KEYWORDS]

/** The property names a schema declares or requires, in itself and its branches. */
function fieldsNamed(
  original: unknown,
  follow: (schema: unknown) => unknown,
  names = new Set<string>(),
  seen = new Set<unknown>(),
): Set<string> {
  const schema = follow(original)
  if (!isJsonObject(schema) || seen.has(schema)) return names
  seen.add(schema)
  if (isJsonObject(schema.properties))
    for (const name of Object.keys(schema.properties)) names.add(name)
  if (Array.isArray(schema.required))
    for (const name of schema.required) if (typeof name === 'string') names.add(name)
  for (const key of BRANCH_KEYWORDS) {
    const branches = schema[key]
    if (Array.isArray(branches)) for (const b of branches) fieldsNamed(b, follow, names, seen)
  }
  return names
}

/**
 * Rewrites the schemas of `data` in the event object (in every branch) so that
 * the data is parsed as JSON and validated where the document says it is JSON:
 * `contentMediaType: application/json` with a `contentSchema` (the OAS meaning),
 * or a schema that does not accept a string at all (an object, as ASP.NET writes).
 * Likewise an `id` whose schema does not accept a string is read as JSON, and a `retry` whose
 * schema does not accept a number as its digits.
 */
function rewriteData(
  original: AnySchema,
  contentSchemas: unknown[],
  follow: (schema: unknown) => unknown,
  seen = new WeakSet<object>(),
): AnySchema {
  const schema = follow(original)
  if (!isJsonObject(schema) || seen.has(schema)) return original
  seen.add(schema)
  // A field's schema, read through one of the document Ajv's keywords (loadOpenApi's `parsing`).
  const readAs = (keyword: string, inner: unknown, rest: Json = {}) => {
    contentSchemas.push(inner)
    return { ...rest, [keyword]: contentSchemas.length - 1 }
  }
  const properties = schema.properties
  if (isJsonObject(properties) && properties.data !== undefined) {
    const data = follow(properties.data)
    const contentSchema = contentKeyword(data, 'contentSchema', follow)
    if (
      isJsonObject(data) &&
      isJsonMediaType(contentKeyword(data, 'contentMediaType', follow)) &&
      contentSchema !== undefined
    ) {
      // One in an allOf member stays there: without the vocabulary, Ajv only annotates with it.
      const { contentSchema: _, ...rest } = data
      schema.properties = { ...properties, data: readAs(JSON_KEYWORD, contentSchema, rest) }
    } else if (!accepts(data, 'string', follow)) {
      schema.properties = { ...properties, data: readAs(JSON_KEYWORD, properties.data) }
    }
  }
  // Huma declares the id an integer, and writes `id: 5`: read as a number there. springdoc
  // declares `retry` a string (a Java Duration), and Spring writes its milliseconds: read as digits.
  const fields = isJsonObject(schema.properties) ? schema.properties : {}
  for (const [field, keyword, kind] of [
    ['id', ID_KEYWORD, 'string'],
    ['retry', RETRY_KEYWORD, 'number'],
  ] as const) {
    if (fields[field] === undefined || accepts(fields[field], kind, follow)) continue
    schema.properties = { ...(schema.properties as Json), [field]: readAs(keyword, fields[field]) }
  }
  for (const key of BRANCH_KEYWORDS) {
    const branches = schema[key]
    if (Array.isArray(branches))
      for (const branch of branches) rewriteData(branch as AnySchema, contentSchemas, follow, seen)
  }
  for (const key of ['if', 'then', 'else'])
    rewriteData(schema[key] as AnySchema, contentSchemas, follow, seen)
  return original
}

/**
 * A content keyword of a schema, or of a member of its `allOf`: where a `$ref` with siblings put
 * the target (`$ref: JsonText` beside a `contentSchema`).
 */
function contentKeyword(
  original: unknown,
  key: 'contentMediaType' | 'contentSchema',
  follow: (schema: unknown) => unknown,
  seen = new Set<unknown>(),
): unknown {
  const schema = follow(original)
  if (!isJsonObject(schema) || seen.has(schema)) return undefined
  seen.add(schema)
  if (schema[key] !== undefined) return schema[key]
  const members = Array.isArray(schema.allOf) ? schema.allOf : []
  for (const member of members) {
    const value = contentKeyword(member, key, follow, seen)
    if (value !== undefined) return value
  }
  return undefined
}

function isJsonMediaType(value: unknown): boolean {
  return typeof value === 'string' && /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(value)
}

/** Whether a schema lets a string (a number) through, as far as its type, const, enum and branches say. */
function accepts(
  original: unknown,
  kind: 'string' | 'number',
  follow: (schema: unknown) => unknown,
  depth = 0,
): boolean {
  const schema = follow(original)
  // A union that refers to itself: assume it may be either, so the field is left as it is.
  if (!isJsonObject(schema) || depth > 20) return schema !== false
  const type = schema.type
  if (typeof type === 'string' || Array.isArray(type)) {
    const types = ([] as unknown[]).concat(type)
    return types.includes(kind) || (kind === 'number' && types.includes('integer'))
  }
  if ('const' in schema) return typeof schema.const === kind
  if (Array.isArray(schema.enum)) return schema.enum.some((value) => typeof value === kind)
  const branchAccepts = (branch: unknown) => accepts(branch, kind, follow, depth + 1)
  if (Array.isArray(schema.oneOf)) return schema.oneOf.some(branchAccepts)
  if (Array.isArray(schema.anyOf)) return schema.anyOf.some(branchAccepts)
  if (Array.isArray(schema.allOf)) return schema.allOf.every(branchAccepts)
  return true
}

/**
 * The usage error for a response without `text/event-stream` content. FastAPI cannot see the
 * stream of an endpoint that returns sse-starlette's EventSourceResponse: it documents it as
 * `application/json`, or with no content at all when that class is the `response_class`.
 */
function noEventStream(where: string, status: string, types: string[]): string {
  const base = `${where}: its ${status} response has no text/event-stream content`
  const shown = types.slice(0, 3).map((type) => visible(clipped(type, 60)))
  const declared = `${shown.join(', ')}${types.length > 3 ? ', …' : ''}`
  const why =
    types.length === 0
      ? 'it declares no content, as FastAPI does for response_class=EventSourceResponse from sse-starlette'
      : `it declares ${declared}; FastAPI does so for an endpoint that returns sse-starlette's EventSourceResponse`
  return `${base} (${why}): check the data with --schema [<type>=]<file> instead`
}
