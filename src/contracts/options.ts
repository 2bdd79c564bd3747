import { SseProbeUsageError as UsageError } from '../engine/errors.ts'
import {
  checkedAs,
  type Duration,
  durationAs,
  type HeaderLines,
  headerLines,
  list,
  type ProbeOptions,
} from '../engine/options.ts'
import type { EventRecord } from '../engine/records.ts'
import { TRIGGER_DATA_FLAG, TRIGGER_FLAG, triggerArg, triggerDataArg } from '../engine/trigger.ts'
import { headerArg, invalidOption } from '../engine/validate.ts'
import type { DelayedTrigger } from './trigger.ts'

/**
 * The contract options (contracts.md) as the CLI's flags and the library's
 * camelCase options give them. Light on purpose: the CLI checks `hasContracts`
 * before it loads anything heavy, and the library validates with contractPlan
 * synchronously, as it does its other options.
 */
export interface ContractOptions {
  /** `--schema [<type>=]<file>`, repeatable. */
  schema?: string | readonly string[]
  openapi?: string
  operation?: string
  /** `--expect-order queued,running,done`, or the types as an array. */
  expectOrder?: string | readonly string[]
  /** `'<METHOD> <url>'`. */
  trigger?: string
  /** Text, or `@file`. */
  triggerData?: string
  /** "Name: value", several of them, or an object. */
  triggerHeader?: HeaderLines
  triggerDelay?: Duration
  expectWithin?: Duration
  failFast?: boolean
}

export const CONTRACT_OPTIONS = [
  'schema',
  'openapi',
  'operation',
  'expectOrder',
  'trigger',
  'triggerData',
  'triggerHeader',
  'triggerDelay',
  'expectWithin',
  'failFast',
] as const satisfies readonly (keyof ContractOptions)[]

/** Whether any contract option is set: only then is the validation code loaded. */
export function hasContracts(options: object): boolean {
  const given = options as Record<string, unknown>
  return CONTRACT_OPTIONS.some((name) => given[name] !== undefined && given[name] !== false)
}

/** The CLI's spelling of each, for messages. */
const CONTRACT_FLAGS: Record<(typeof CONTRACT_OPTIONS)[number], string> = {
  schema: '--schema [<type>=]<file>',
  openapi: '--openapi <file>',
  operation: '--operation <operationId>',
  expectOrder: '--expect-order <t1,t2,…>',
  trigger: TRIGGER_FLAG,
  triggerData: TRIGGER_DATA_FLAG,
  triggerHeader: '--trigger-header <"Name: value">',
  triggerDelay: '--trigger-delay <duration>',
  expectWithin: '--expect-within <duration>',
  failFast: '--fail-fast',
}

/** What the contracts need to know of the probe they take part in. */
export function contractFacts(options: ProbeOptions) {
  return {
    url: options.request.url,
    method: options.request.method,
    pingEvent: options.stream.pingEvent,
    endData: options.end.endData,
    // Looked up when asked: the CLI adds the LLM extension after the contracts'.
    isControlEvent: (record: EventRecord) =>
      options.extensions.some((extension) => extension.isControlEvent?.(record) ?? false),
    ...(options.expect.maxGapMs !== undefined && { maxGapMs: options.expect.maxGapMs }),
  }
}

/** The contract options, validated: what createContractExtensions builds its checks from. */
export interface ContractPlan {
  /** `--schema` specs as given; their files are read with the schemas. */
  schemas: string[]
  openapi?: string
  operation?: string
  order?: string[]
  trigger?: DelayedTrigger
  expectWithinMs?: number
  failFast: boolean
}

/** Validates everything that needs no schema: a bad value is a usage error before any request. */
export function contractPlan(options: ContractOptions, streamUrl: URL): ContractPlan {
  const text = (name: ContractName, value: unknown) => {
    if (value === undefined || typeof value === 'string') return value
    throw invalid(name, String(value), 'expected a string')
  }
  if (options.failFast !== undefined && typeof options.failFast !== 'boolean')
    throw invalid('failFast', String(options.failFast), 'expected true or false')
  const openapi = text('openapi', options.openapi)
  const operation = text('operation', options.operation)
  if (operation !== undefined && openapi === undefined) {
    throw new UsageError(
      `${CONTRACT_FLAGS.operation} picks an operation of --openapi <file>: give the document too`,
    )
  }
  const expectWithinMs = duration('expectWithin', options.expectWithin)
  const trigger = triggerSpec(options, streamUrl)
  if (!trigger && expectWithinMs !== undefined)
    throw new UsageError(
      `${CONTRACT_FLAGS.expectWithin} counts from the trigger: give --trigger '<METHOD> <url>' too`,
    )
  return {
    schemas: list(options.schema).map((spec) => text('schema', spec)!),
    ...(openapi !== undefined && { openapi }),
    ...(operation !== undefined && { operation }),
    ...(options.expectOrder !== undefined && { order: orderList(options.expectOrder) }),
    ...(trigger && { trigger }),
    ...(expectWithinMs !== undefined && { expectWithinMs }),
    failFast: options.failFast === true,
  }
}

type ContractName = keyof typeof CONTRACT_FLAGS

function triggerSpec(options: ContractOptions, streamUrl: URL): DelayedTrigger | undefined {
  if (options.trigger === undefined) {
    const orphan = (['triggerData', 'triggerHeader', 'triggerDelay'] as const).find(
      (name) => options[name] !== undefined,
    )
    if (orphan)
      throw new UsageError(
        `${CONTRACT_FLAGS[orphan]} belongs to a trigger: give --trigger '<METHOD> <url>' too`,
      )
    return undefined
  }
  const { trigger, triggerData } = options
  if (typeof trigger !== 'string') throw invalid('trigger', String(trigger), 'expected a string')
  if (triggerData !== undefined && typeof triggerData !== 'string')
    throw invalid('triggerData', String(triggerData), 'expected a string')
  const request = triggerArg(trigger, triggerData !== undefined, streamUrl)
  let headers: [string, string][] = []
  for (const line of headerLines(CONTRACT_FLAGS.triggerHeader, options.triggerHeader))
    headers = check('triggerHeader', line, (value) => headerArg(value, headers))
  return {
    ...request,
    headers,
    ...(triggerData !== undefined && { body: triggerDataArg(triggerData) }),
    delayMs: duration('triggerDelay', options.triggerDelay) ?? 0,
  }
}

function orderList(value: unknown): string[] {
  const types = typeof value === 'string' ? value.split(',') : value
  if (
    !Array.isArray(types) ||
    types.length === 0 ||
    types.some((type) => typeof type !== 'string' || type.trim() === '')
  )
    throw invalid(
      'expectOrder',
      String(value),
      'expected event types separated by commas, e.g. queued,running,done',
    )
  const list = types.map((type: string) => type.trim())
  // The types seen are collapsed, so a list that repeats one in a row could never hold.
  const repeated = list.find((type, i) => type === list[i - 1])
  if (repeated !== undefined)
    throw invalid(
      'expectOrder',
      String(value),
      `${repeated} twice in a row: repeats collapse, list it once`,
    )
  return list
}

// As the CLI parses them: --expect-within of 0 could never hold, and no wait beyond a timer's
// 24 days (a longer one fires at once, with a warning printed by Node).
const duration = (name: 'triggerDelay' | 'expectWithin', value: unknown) =>
  durationAs(CONTRACT_FLAGS[name], value as Duration | undefined, name === 'expectWithin')

const check = <T>(name: ContractName, value: string, parse: (text: string) => T): T =>
  checkedAs(CONTRACT_FLAGS[name], value, parse)

function invalid(name: ContractName, value: string, reason: string): UsageError {
  return invalidOption(CONTRACT_FLAGS[name], value, reason)
}
