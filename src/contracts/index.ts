import { existsSync, readFileSync } from 'node:fs'
import {
  durationArg,
  headerArg,
  methodArg,
  type ProbeExtension,
  UsageError,
  urlArg,
} from './engine.ts'
import { createGapWatch } from './gap.ts'
import { CONTRACT_FLAGS, type ContractOptions } from './options.ts'
import { createOrderExtension } from './order.ts'
import { loadSchema, parseSchemaSpec } from './schema.ts'
import { createTriggerExtension, type DelayedTrigger } from './trigger.ts'
import { createValidationExtension, type EventCheck } from './validate.ts'

export type { ContractOptions } from './options.ts'
export { CONTRACT_FLAGS, CONTRACT_OPTIONS, hasContracts } from './options.ts'

/** What the contracts need to know about the probe they take part in. */
export interface ProbeFacts {
  url: URL
  method: string
  pingEvent: string
  endData: readonly string[]
  /** `--expect-max-gap`, which `--fail-fast` watches as it happens. */
  maxGapMs?: number
}

/**
 * Validates the contract options and builds the extensions that check them.
 * Every schema and document is read and compiled here, before any request:
 * a file, schema, document or operation that cannot be used is a usage error.
 */
export async function createContractExtensions(
  options: ContractOptions,
  probe: ProbeFacts,
): Promise<ProbeExtension[]> {
  const failFast = options.failFast === true
  const extensions: ProbeExtension[] = []
  const checks: EventCheck[] = list(options.schema).map((text) => {
    const spec = parseSchemaSpec(text, existsSync)
    return {
      name: spec.name,
      ...(spec.type !== undefined && { type: spec.type }),
      target: 'data',
      check: loadSchema(spec),
    }
  })
  if (options.operation !== undefined && options.openapi === undefined) {
    throw new UsageError(
      `${CONTRACT_FLAGS.operation} picks an operation of --openapi <file>: give the document too`,
    )
  }
  if (options.openapi !== undefined) {
    // The reference parser loads only for OpenAPI documents.
    const { loadOpenApi } = await import('./openapi.ts')
    const { name, check } = await loadOpenApi({
      file: options.openapi,
      url: probe.url,
      method: probe.method,
      ...(options.operation !== undefined && { operationId: options.operation }),
    })
    checks.push({ name, target: 'event', check })
  }
  if (checks.length > 0)
    extensions.push(
      createValidationExtension(checks, {
        pingEvent: probe.pingEvent,
        endData: probe.endData,
        failFast,
      }),
    )
  if (options.expectOrder !== undefined)
    extensions.push(createOrderExtension(orderList(options.expectOrder), failFast))
  const expectWithinMs = duration('expectWithin', options.expectWithin)
  const trigger = triggerSpec(options)
  if (trigger)
    extensions.push(
      createTriggerExtension(trigger, {
        ...(expectWithinMs !== undefined && { expectWithinMs }),
        failFast,
        pingEvent: probe.pingEvent,
      }),
    )
  else if (expectWithinMs !== undefined)
    throw new UsageError(
      `${CONTRACT_FLAGS.expectWithin} counts from the trigger: give --trigger '<METHOD> <url>' too`,
    )
  if (failFast && probe.maxGapMs !== undefined) extensions.push(createGapWatch(probe.maxGapMs))
  return extensions
}

function triggerSpec(options: ContractOptions): DelayedTrigger | undefined {
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
  const parts = options.trigger.trim().split(/\s+/)
  const [method, target] =
    parts.length === 1 ? [options.triggerData === undefined ? 'GET' : 'POST', parts[0]!] : parts
  if (parts.length > 2 || target === undefined)
    throw invalid(
      'trigger',
      options.trigger,
      'expected a method and a URL, e.g. "POST http://127.0.0.1:8000/jobs"',
    )
  let headers: [string, string][] = []
  const header = options.triggerHeader
  const lines =
    typeof header === 'object' && !Array.isArray(header)
      ? Object.entries(header).map(([name, value]) => `${name}: ${value}`)
      : list(header)
  for (const line of lines)
    headers = check('triggerHeader', line, (text) => headerArg(text, headers))
  return {
    method: check('trigger', options.trigger, () => methodArg(method!)),
    url: check('trigger', options.trigger, () => urlArg(target)),
    headers,
    ...(options.triggerData !== undefined && { body: triggerBody(options.triggerData) }),
    delayMs: duration('triggerDelay', options.triggerDelay) ?? 0,
  }
}

function triggerBody(data: string): Buffer {
  if (!data.startsWith('@')) return Buffer.from(data)
  try {
    return readFileSync(data.slice(1))
  } catch (error) {
    throw invalid(
      'triggerData',
      data,
      `cannot read ${data.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
}

function orderList(value: string | string[]): string[] {
  const types = (Array.isArray(value) ? value : value.split(',')).map((type) => type.trim())
  if (types.length === 0 || types.some((type) => type === ''))
    throw invalid(
      'expectOrder',
      String(value),
      'expected event types separated by commas, e.g. queued,running,done',
    )
  return types
}

function duration(
  name: 'triggerDelay' | 'expectWithin',
  value: string | number | undefined,
): number | undefined {
  if (value === undefined || typeof value === 'number') return value
  return check(name, value, durationArg)
}

function check<T>(name: keyof typeof CONTRACT_FLAGS, value: string, parse: (text: string) => T): T {
  try {
    return parse(value)
  } catch (error) {
    if (error instanceof UsageError) throw invalid(name, value, error.message)
    throw error
  }
}

function invalid(name: keyof typeof CONTRACT_FLAGS, value: string, reason: string): UsageError {
  return new UsageError(
    `option '${CONTRACT_FLAGS[name]}' argument '${value}' is invalid. ${reason}`,
  )
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}
