import { forEachObject, isJsonObject, pointerTokens } from './engine.ts'

/**
 * Discriminated unions: a `oneOf` or `anyOf` whose branches fix one property
 * to their own values (`const`, `enum`, or a discriminator's `mapping` or, without one, the
 * branches' names under `components/schemas`), as
 * pydantic, ASP.NET, TypeSpec and hand-written OpenAPI documents write a
 * choice of event types (TypeSpec's terminal event fixes none). Ajv reports such a union's failure with the first
 * branch's error (`/event must be equal to constant: "status"` for an `end`
 * event whose data is wrong); rewritten so that only the branch the value
 * selects is checked, the violation is the one in that branch.
 */

type Json = Record<string, unknown>
type Follow = (schema: unknown) => unknown
type Value = string | number | boolean

/**
 * Rewrites, in place, every discriminated union under `root` into an equivalent
 * `allOf`: the value must be one of the branches' values, and the branch for
 * the value must hold (or, where some branches fix no value, the union of that
 * branch and those). Without the property the union stays as it was, unless an
 * explicit `discriminator` names it: then it is required.
 */
export function selectBranches(root: unknown, follow: Follow): void {
  forEachObject(root, (node) => {
    if (!Array.isArray(node))
      for (const key of ['oneOf', 'anyOf'] as const) rewriteUnion(node as Json, key, follow)
  })
}

function rewriteUnion(schema: Json, key: 'oneOf' | 'anyOf', follow: Follow): void {
  const branches = schema[key]
  if (!Array.isArray(branches) || branches.length < 2) return
  const discriminator = isJsonObject(schema.discriminator) ? schema.discriminator : {}
  const named = typeof discriminator.propertyName === 'string' ? discriminator.propertyName : null
  const candidates =
    named === null
      ? [...new Set(branches.flatMap((branch) => Object.keys(propertiesOf(branch, follow))))]
      : [named]
  let best: { property: string; values: Value[][]; fixed: number } | undefined
  for (const property of candidates) {
    const values = branches.map((branch) => {
      const own = new Set([
        ...fixedValues(branch, property, follow),
        ...mappedValues(discriminator.mapping, branch, follow),
      ])
      // [OAS] Without a value of its own, a branch of a discriminator is selected by its name.
      return [...(own.size > 0 || named === null ? own : componentNames(branch, follow))]
    })
    const all = values.flat()
    const fixed = values.filter((v) => v.length > 0).length
    if (new Set(all).size === all.length && fixed > (best?.fixed ?? 0))
      best = { property, values, fixed }
  }
  // One branch that fixes the property tells nothing about the others unless all the others do.
  if (!best || (best.fixed < 2 && best.fixed < branches.length)) return
  const { property, values } = best
  const all = values.flat()
  // Branches that do not fix the property (TypeSpec's terminal event, its unnamed variants) may
  // hold whatever its value: they stay in the union next to the branch that the value selects.
  const open = branches.filter((_, i) => values[i]!.length === 0)
  const union = (selected: unknown[]) => (selected.length === 1 ? selected[0] : { [key]: selected })
  const is = (v: Value[]) => ({
    required: [property],
    properties: { [property]: v.length === 1 ? { const: v[0] } : { enum: v } },
  })
  // [OAS] The property an explicit discriminator names must be present (pydantic, too, rejects a
  // tagged union's value without its tag), unless a 3.2 `defaultMapping` picks a branch for it.
  const required = named !== null && discriminator.defaultMapping === undefined
  const select = {
    if: { required: [property] },
    then: open.length === 0 ? { properties: { [property]: { enum: all } } } : {},
    else: required ? { required: [property] } : { [key]: branches },
  }
  const checks = branches.flatMap((branch, i) =>
    values[i]!.length === 0 ? [] : [{ if: is(values[i]!), then: union([branch, ...open]) }],
  )
  const others =
    open.length === 0
      ? []
      : [
          {
            if: { required: [property], properties: { [property]: { not: { enum: all } } } },
            then: union(open),
          },
        ]
  delete schema[key]
  schema.allOf = [
    ...(Array.isArray(schema.allOf) ? schema.allOf : []),
    select,
    ...checks,
    ...others,
  ]
}

/** The properties a branch declares, its own and those of its `allOf` members. */
function propertiesOf(branch: unknown, follow: Follow): Json {
  const schema = follow(branch)
  if (!isJsonObject(schema)) return {}
  const own = isJsonObject(schema.properties) ? schema.properties : {}
  const members = Array.isArray(schema.allOf) ? schema.allOf : []
  return Object.assign({}, ...members.map((m) => propertiesOf(m, follow)), own)
}

/** The values a branch allows for the property, when it fixes them with `const` or `enum`. */
function fixedValues(branch: unknown, property: string, follow: Follow): Value[] {
  const schema = follow(propertiesOf(branch, follow)[property])
  if (!isJsonObject(schema)) return []
  const values = 'const' in schema ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : []
  return values.every(isPrimitive) ? values : []
}

/** [OAS] `discriminator.mapping`: the values whose schema (a reference or a component's name) is this branch. */
function mappedValues(mapping: unknown, branch: unknown, follow: Follow): Value[] {
  if (!isJsonObject(mapping)) return []
  const target = follow(branch)
  return Object.entries(mapping).flatMap(([value, ref]) => {
    if (typeof ref !== 'string') return []
    const $ref = ref.includes('/') || ref.startsWith('#') ? ref : `#/components/schemas/${ref}`
    return follow({ $ref }) === target ? [value] : []
  })
}

/** [OAS] The names under `components/schemas` of a branch: the discriminator's implicit mapping. */
function componentNames(branch: unknown, follow: Follow): Value[] {
  const components = { $ref: '#/components/schemas' }
  const schemas = follow(components)
  if (schemas === components || !isJsonObject(schemas)) return []
  const target = follow(branch)
  return Object.keys(schemas).filter((name) => follow(schemas[name]) === target)
}

/** A follow for one document: its `#/…` references, by JSON pointer (escapes and %-encoding decoded). */
export function localFollow(root: unknown): Follow {
  return (schema) => {
    const ref = isJsonObject(schema) ? schema.$ref : undefined
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema
    let tokens: string[]
    try {
      tokens = pointerTokens(ref.slice(1), decodeURIComponent)
    } catch {
      return schema
    }
    let node: unknown = root
    for (const token of tokens) {
      if (!isJsonObject(node) && !Array.isArray(node)) return schema
      node = (node as Json)[token]
    }
    return node ?? schema
  }
}

function isPrimitive(value: unknown): value is Value {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}
