import type { ProbeOptions } from '../engine/options.ts'

/**
 * The contract options (contracts.md) as the CLI's flags and the library's
 * camelCase options give them. Light on purpose: the CLI checks `hasContracts`
 * before it loads anything heavy.
 */
export interface ContractOptions {
  /** `--schema [<type>=]<file>`, repeatable. */
  schema?: string | string[]
  openapi?: string
  operation?: string
  /** `--expect-order queued,running,done`, or the types as an array. */
  expectOrder?: string | string[]
  /** `'<METHOD> <url>'`. */
  trigger?: string
  /** Text, or `@file`. */
  triggerData?: string
  /** "Name: value", several of them, or an object. */
  triggerHeader?: string | string[] | Record<string, string>
  /** A string with a unit, or milliseconds. */
  triggerDelay?: string | number
  expectWithin?: string | number
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
export const CONTRACT_FLAGS: Record<(typeof CONTRACT_OPTIONS)[number], string> = {
  schema: '--schema [<type>=]<file>',
  openapi: '--openapi <file>',
  operation: '--operation <operationId>',
  expectOrder: '--expect-order <t1,t2,…>',
  trigger: "--trigger '<METHOD> <url>'",
  triggerData: '--trigger-data <text|@file>',
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
    ...(options.expect.maxGapMs !== undefined && { maxGapMs: options.expect.maxGapMs }),
  }
}
