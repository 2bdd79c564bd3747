import { constants } from 'node:buffer'
import {
  Ajv,
  type AnySchema,
  type CodeOptions,
  type ErrorObject,
  MissingRefError,
  type ValidateFunction,
} from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import AjvDraft04Module from 'ajv-draft-04'
import addFormatsModule from 'ajv-formats'
import { parse as parseYaml } from 'yaml'
import { clipped, fileProblem, readWhole, UsageError, userRegex } from './engine.ts'
import { localFollow, selectBranches } from './unions.ts'

/** One thing wrong with a value: where (a JSON pointer) and what. */
export interface Problem {
  pointer: string
  message: string
}

/** Checks one value; undefined when it is valid. Compiled once, called per event. */
export type ValueCheck = (value: unknown) => Problem | undefined

export type Dialect = '2020-12' | '2019-09' | 'draft-07' | 'draft-04'

// ajv-formats is CommonJS whose default export is the plugin function itself.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule })
  .default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv

// CommonJS whose default export is the class itself.
const AjvDraft04 = ((AjvDraft04Module as unknown as { default?: typeof AjvDraft04Module })
  .default ?? AjvDraft04Module) as unknown as typeof Ajv

/** The dialect a schema's `$schema` names; 2020-12 when it names none. */
export function dialectOf(schema: unknown): Dialect {
  const uri =
    typeof schema === 'object' && schema !== null
      ? (schema as { $schema?: unknown }).$schema
      : undefined
  if (typeof uri !== 'string') return '2020-12'
  if (uri.includes('2019-09')) return '2019-09'
  if (uri.includes('draft-04')) return 'draft-04'
  if (/draft-0[67]/.test(uri)) return 'draft-07'
  return '2020-12'
}

// Syntax that means something else without `u` (\u{…}, \p{…}, a surrogate escape that `u` pairs
// with the next), and characters beyond U+FFFF.
const UNICODE_ONLY = /\\[pPu]\{|\\u[dD][89a-fA-F]|[\ud800-\udfff]/
// A character beyond U+FFFF (a surrogate pair), and what stands for it in the protected expression.
const PAIR = /[\ud800-\udbff][\udc00-\udfff]/g
const ONE_UNIT = '\uffff'

/**
 * Ajv's engine for `pattern` and `patternProperties`, which JSON Schema compiles with `u`. A
 * pattern valid with `u` and without its own syntax cannot name a character beyond U+FFFF: it
 * matches one as any other non-word character, one code point. So the protected expression (V8's
 * linear engine takes no `u`) runs on the text with each such character one code unit, U+FFFF.
 */
const schemaRegExp: NonNullable<CodeOptions['regExp']> = Object.assign(
  (pattern: string, flags: string) => {
    const unicode = new RegExp(pattern, flags)
    if (!flags.includes('u') || UNICODE_ONLY.test(pattern)) return unicode
    const plain = userRegex(pattern, flags.replace('u', ''))
    return {
      test: (text: string) => plain.test(text.replace(PAIR, ONE_UNIT)),
      // Ajv keeps one compiled pattern per key, and keys it by this text.
      toString: () => unicode.toString(),
    }
  },
  { code: 'new RegExp' },
)

/**
 * An Ajv instance for a dialect, with formats. Not strict: unknown keywords are
 * annotations in JSON Schema (and generators write `example`, `x-…`, `nullable`).
 * First error only: a violation is one line, and stopping early is what keeps
 * validating every event cheap.
 */
export function createAjv(dialect: Dialect, allErrors = false): Ajv {
  // No validation against the meta-schema: compiling it costs more than the whole schema, and
  // compiling checks the keywords anyway (a wrong type, a bad regex, a misplaced value).
  // No logger: an unknown format is ignored, as JSON Schema says, without a warning on stderr.
  const options = {
    strict: false,
    allErrors,
    allowUnionTypes: true,
    validateSchema: false,
    logger: false,
    code: { regExp: schemaRegExp },
  } as const
  const ajv =
    dialect === '2020-12'
      ? new Ajv2020(options)
      : dialect === '2019-09'
        ? new Ajv2019(options)
        : dialect === 'draft-04'
          ? new AjvDraft04(options)
          : new Ajv(options)
  addFormats(ajv)
  ajv.addFormat('duration', ISO_DURATION)
  return ajv
}

/**
 * `duration` as ISO 8601 writes it, and as parsers (Java's Duration, Temporal, .NET, pydantic)
 * read it: RFC 3339's grammar, which ajv-formats checks, plus a sign and a fraction of the last
 * unit. pydantic writes a `timedelta` so: `PT1M30.5S`, `-PT23H59M59.999995S`.
 */
const ISO_DURATION =
  /^[-+]?P(?!$)(?:\d+(?:[.,]\d+)?W|(?:\d+Y)?(?:\d+M)?(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?)?)$/

/** The file name a URL's document would be saved under: its last path segment, or document.json. */
function savedName(url: string): string {
  const last = url
    .replace(/[?#].*$/, '')
    .split('/')
    .slice(3)
    .pop()
  return last || 'document.json'
}

/**
 * A JSON or YAML file, parsed; a file that cannot be read or parsed is a usage error naming it.
 * Read in the event loop, as a string at most: `<(command)` whose writer never comes stops at
 * Ctrl-C, and a device (/dev/zero) is refused rather than read until memory runs out.
 */
export async function readDocument(file: string, flag: string): Promise<unknown> {
  let text: string
  try {
    const tooLarge = () =>
      new UsageError(`${flag}: cannot read ${file}: more than ${constants.MAX_STRING_LENGTH} bytes`)
    text = (await readWhole(file, constants.MAX_STRING_LENGTH, tooLarge))
      .toString('utf8')
      .replace(/^\uFEFF/, '')
  } catch (error) {
    if (error instanceof UsageError) throw error
    // A FastAPI user's first try is the /openapi.json it serves: "no such file" would not say why.
    if (/^https?:\/\//i.test(file))
      throw new UsageError(
        `${flag}: ${file} is a URL, and the option reads a file: save it first, e.g. curl -o ${savedName(file)} '${file}'`,
      )
    throw new UsageError(`${flag}: cannot read ${file}: ${fileProblem(error)}`)
  }
  try {
    return JSON.parse(text)
  } catch (jsonError) {
    if (/\.json$/i.test(file))
      throw new UsageError(`${flag}: ${file} is not valid JSON: ${(jsonError as Error).message}`)
  }
  try {
    return parseYamlText(text)
  } catch (yamlError) {
    throw new UsageError(
      `${flag}: ${file} is neither JSON nor valid YAML: ${firstLine((yamlError as Error).message)}`,
    )
  }
}

/**
 * YAML as OpenAPI documents are written: merge keys (`<<: *base`) merged, as YAML 1.1 tools
 * (PyYAML, SnakeYAML, js-yaml) do, rather than kept as a property named `<<` that no validator
 * reads; an anchor used hundreds of times (a shared response, PyYAML's `*id001`) is no attack.
 * Warnings (an unresolved `!tag`, read as plain text) are not emitted: yaml would print them as
 * process warnings, on the CLI's stderr and from inside the library, which prints nothing.
 */
export function parseYamlText(text: string): unknown {
  return parseYaml(text, {
    merge: true,
    maxAliasCount: 100_000,
    prettyErrors: false,
    logLevel: 'error',
  })
}

// A violation is one line: what a schema or the data adds to its message is cut to about this.
const MAX_SHOWN = 100

/** A value as JSON, cut (never inside a surrogate pair) when longer than MAX_SHOWN. */
function shown(value: unknown): string {
  return clipped(JSON.stringify(value), MAX_SHOWN)
}

/** An enum's values, as many as fit in MAX_SHOWN: an enum of hundreds (time zones) stays one line. */
function shownValues(values: readonly unknown[]): string {
  const texts: string[] = []
  let length = 0
  for (const value of values) {
    const text = shown(value)
    if (texts.length > 0 && length + text.length > MAX_SHOWN) {
      return `${texts.join(', ')}, … (${values.length} values)`
    }
    texts.push(text)
    length += text.length + 2
  }
  return texts.join(', ')
}

/**
 * The first error, or, where it is the first of a union's branches that each only fix a type
 * (pydantic's `Optional[str]`: `anyOf: [{type: string}, {type: null}]`, and `nullable: true` as
 * rewritten), one error naming every type: `must be string or null`, not just the first branch's.
 */
function unionOfTypes(errors: ErrorObject[]): ErrorObject {
  const first = errors[0]!
  const union = errors.findIndex((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
  const branches = errors.slice(0, union)
  if (
    union < 2 ||
    errors[union]!.instancePath !== first.instancePath ||
    !branches.every((e) => e.keyword === 'type' && e.instancePath === first.instancePath)
  )
    return first
  const types = branches.map((e) => (e.params as { type: string }).type)
  return { ...first, message: `must be ${[...new Set(types)].join(' or ')}` }
}

/**
 * RFC 3339 times need an offset, which a naive Python `datetime` or `time` (pydantic writes them
 * as they are) lacks: the one reason most such values fail, said with the violation.
 */
const ZONED: Record<string, string> = {
  'date-time': 'RFC 3339, with a time zone offset: 2026-01-01T10:00:00Z',
  time: 'RFC 3339, with a time zone offset: 10:00:00Z',
}

/** Ajv's error as a pointer and a message that says what was expected. */
function describeAjvError(error: ErrorObject): Problem {
  const params = error.params as Record<string, unknown>
  let message = error.message ?? `fails ${error.keyword}`
  if (error.keyword === 'additionalProperties') message += `: ${shown(params.additionalProperty)}`
  else if (error.keyword === 'unevaluatedProperties')
    message += `: ${shown(params.unevaluatedProperty)}`
  else if (error.keyword === 'enum')
    message += `: ${shownValues(params.allowedValues as unknown[])}`
  else if (error.keyword === 'const') message += `: ${shown(params.allowedValue)}`
  else if (error.keyword === 'format' && ZONED[params.format as string])
    message += ` (${ZONED[params.format as string]})`
  return { pointer: error.instancePath, message }
}

/**
 * Compiles a schema, turning Ajv's complaints into a usage error with the given prefix. `flat`:
 * an Ajv that reports all errors, for a schema too wide for the first-error code.
 */
export function compileSchema(
  ajv: Ajv,
  schema: AnySchema,
  where: string,
  flat?: () => Ajv,
): ValidateFunction {
  try {
    const validate = ajv.compile(schema)
    // Ajv's `$async: true` makes a validator that returns a promise: every event would pass, and
    // the first invalid one (or the call below) reject with no one to hear it.
    if ('$async' in validate) throw new Error('$async (asynchronous validation) is not supported')
    // Ajv's first-error code nests a block in the one before for each check of an object (an
    // object of 1,500 properties: 1,500 deep), and V8 parses a function at its first call: a
    // RangeError then would be taken for data too deep on every event. Called now, it is the
    // schema's. Ajv's all-errors code is flat: slower only on invalid data, and it holds.
    validate(null)
    return validate
  } catch (error) {
    if (error instanceof RangeError && flat) return compileSchema(flat(), schema, where)
    // Ajv's code generation recurses: a $ref that only refers to itself, or thousands of nested
    // checks in one schema, overflow the stack.
    const reason =
      error instanceof RangeError
        ? 'too large or too deeply nested to compile, or a $ref that refers only to itself'
        : (otherDocument(error) ?? firstLine((error as Error).message))
    throw new UsageError(`${where}: unusable schema: ${reason}`)
  }
}

/**
 * A `$ref` to another file or a URL (`common.json#/$defs/Id`), which Ajv reports as a reference it
 * cannot resolve "from id #": said for what it is. Nothing is fetched or read for it: a `--schema`
 * file is one document (an OpenAPI document's files were inlined before this).
 */
function otherDocument(error: unknown): string | undefined {
  if (!(error instanceof MissingRefError)) return undefined
  const ref = /^can't resolve reference (.*) from id /.exec(error.message)?.[1]
  if (ref === undefined || ref.startsWith('#')) return undefined
  return `$ref ${ref}: not in this file (a $ref to another file or a URL is not followed: put the schema under $defs)`
}

export function checkWith(validate: ValidateFunction): ValueCheck {
  return (value) => {
    try {
      return validate(value) ? undefined : describeAjvError(unionOfTypes(validate.errors!))
    } catch (error) {
      // A recursive schema recurses as deep as the data: a server's `[[[[…` overflows the stack.
      if (!(error instanceof RangeError)) throw error
      return { pointer: '', message: 'nested too deeply to validate' }
    }
  }
}

/** `--schema [<type>=]<file>`: the event type it is for (none: every type) and the file. */
export interface SchemaSpec {
  /** The flag as the user gave it, for messages and the expectation's name. */
  name: string
  type?: string
  file: string
}

/** Splits `status=status.json`; a path that merely contains `=` stays a path when it exists as given. */
export function parseSchemaSpec(text: string, exists: (file: string) => boolean): SchemaSpec {
  const name = `--schema ${text}`
  const match = /^([^=/\\]+)=(.+)$/.exec(text)
  if (match && !exists(text)) return { name, type: match[1]!, file: match[2]! }
  if (text === '') throw new UsageError(`--schema: expected [<type>=]<file>`)
  return { name, file: text }
}

/** Loads and compiles one `--schema` file: the check for the parsed data of an event. */
export async function loadSchema(spec: SchemaSpec): Promise<ValueCheck> {
  const schema = await readDocument(spec.file, spec.name)
  if (
    typeof schema !== 'boolean' &&
    (typeof schema !== 'object' || schema === null || Array.isArray(schema))
  ) {
    throw new UsageError(`${spec.name}: ${spec.file} is not a JSON Schema (expected an object)`)
  }
  // Its fields are unknown keywords, which hold for any data: every event would pass.
  const api = apiDocument(schema)
  if (api) {
    throw new UsageError(
      `${spec.name}: ${spec.file} is an ${api} document, not a JSON Schema${api === 'OpenAPI' ? ' (give it to --openapi)' : ''}`,
    )
  }
  selectBranches(schema, localFollow(schema))
  nullableAsUnion(schema)
  const dialect = dialectOf(schema)
  // `--schema status=status.json` names its file already.
  const where = spec.name.endsWith(spec.file) ? spec.name : `${spec.name}: ${spec.file}`
  return checkWith(
    compileSchema(createAjv(dialect), schema as AnySchema, where, () => createAjv(dialect, true)),
  )
}

/** The kind of API description a document is (by its version field), if it is one. */
function apiDocument(document: unknown): string | undefined {
  if (!isSchemaObject(document)) return undefined
  if (typeof document.openapi === 'string' || typeof document.swagger === 'string') return 'OpenAPI'
  if (typeof document.asyncapi === 'string') return 'AsyncAPI'
  return undefined
}

// Where a schema holds schemas (JSON Schema 2020-12 and draft-04, OpenAPI's itemSchema): its
// nullable is rewritten there, never in data (`const`, `enum`, `example`) or a property's name.
const SUBSCHEMA = [
  ...['additionalProperties', 'additionalItems', 'not', 'if', 'then', 'else', 'contains'],
  ...['propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema', 'itemSchema'],
  // One schema for every item (2020-12, and draft-04 without a list).
  'items',
]
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']
const SUBSCHEMA_MAPS = [
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
]
// What stays on a rewritten schema: what names it, and what others reach it by ($defs).
const IN_PLACE = new Set(['$id', '$schema', '$anchor', '$dynamicAnchor', '$defs', 'definitions'])

/**
 * Rewrites, in place, every `nullable: true` of the schemas under `roots` into "this or null"
 * (`anyOf`), as Schemathesis reads it: generators write it to mean null is allowed, also where Ajv
 * would refuse the whole schema (without `type`: springdoc's and NestJS's `nullable` next to
 * `allOf: [$ref]`) or still reject null (an `enum` without null).
 */
export function nullableAsUnion(...roots: unknown[]): void {
  const seen = new WeakSet<object>()
  // A stack, not recursion: a deep document must not overflow the call stack.
  const stack: unknown[] = [...roots]
  while (stack.length > 0) {
    const node = stack.pop()
    if (!isSchemaObject(node) || seen.has(node)) continue
    seen.add(node)
    for (const [holder, key] of subschemaSlots(node)) stack.push(holder[key])
    if (node.nullable !== true) continue
    const branch: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(node)) {
      if (IN_PLACE.has(key) || key === 'nullable') continue
      branch[key] = value
      delete node[key]
    }
    delete node.nullable
    node.anyOf = [branch, { type: 'null' }]
  }
}

/** Where a schema holds a schema: the object or list that holds it, and its key there. */
export type Slot = [holder: Record<string | number, unknown>, key: string | number]

/** The places in a schema object that hold schemas (never data: `const`, `enum`, `example`). */
export function subschemaSlots(node: Record<string, unknown>): Slot[] {
  const slots: Slot[] = []
  for (const key of SUBSCHEMA) if (isSchemaObject(node[key])) slots.push([node, key])
  for (const key of SUBSCHEMA_LISTS) {
    const list = node[key]
    if (Array.isArray(list)) for (const i of list.keys()) slots.push([list as never, i])
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = node[key]
    if (isSchemaObject(map)) for (const name of Object.keys(map)) slots.push([map, name])
  }
  return slots
}

const isSchemaObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export function firstLine(text: string): string {
  return text.split('\n', 1)[0]!
}
