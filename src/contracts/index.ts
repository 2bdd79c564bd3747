import { existsSync } from 'node:fs'
import type { EventRecord, ProbeExtension } from './engine.ts'
import { createGapWatch } from './gap.ts'
import type { ContractPlan } from './options.ts'
import { createOrderExtension } from './order.ts'
import { loadSchema, parseSchemaSpec } from './schema.ts'
import { createTriggerExtension } from './trigger.ts'
import { createValidationExtension, type EventCheck } from './validate.ts'

/** What the contracts need to know about the probe they take part in. */
export interface ProbeFacts {
  url: URL
  method: string
  pingEvent: string
  endData: readonly string[]
  /** Whether an event is another extension's signal (an LLM end marker), not payload. */
  isControlEvent(record: EventRecord): boolean
  /** `--expect-max-gap`, which `--fail-fast` watches as it happens. */
  maxGapMs?: number
}

/**
 * Builds the extensions that check the contract options (validated by contractPlan). Every
 * schema and document is read and compiled here, before any request: a file, schema, document
 * or operation that cannot be used is a usage error.
 */
export async function createContractExtensions(
  plan: ContractPlan,
  probe: ProbeFacts,
): Promise<ProbeExtension[]> {
  const { failFast } = plan
  const extensions: ProbeExtension[] = []
  const checks: EventCheck[] = []
  for (const text of plan.schemas) {
    const spec = parseSchemaSpec(text, existsSync)
    checks.push({
      name: spec.name,
      ...(spec.type !== undefined && { type: spec.type }),
      target: 'data',
      check: await loadSchema(spec),
    })
  }
  if (plan.openapi !== undefined) {
    // The reference parser loads only for OpenAPI documents.
    const { loadOpenApi } = await import('./openapi.ts')
    const { name, check } = await loadOpenApi({
      file: plan.openapi,
      url: probe.url,
      method: probe.method,
      ...(plan.operation !== undefined && { operationId: plan.operation }),
    })
    checks.push({ name, target: 'event', check })
  }
  if (checks.length > 0)
    extensions.push(
      createValidationExtension(checks, {
        pingEvent: probe.pingEvent,
        endData: probe.endData,
        isControlEvent: probe.isControlEvent,
        failFast,
      }),
    )
  if (plan.order) extensions.push(createOrderExtension(plan.order, failFast))
  if (plan.trigger)
    extensions.push(
      createTriggerExtension(plan.trigger, {
        ...(plan.expectWithinMs !== undefined && { expectWithinMs: plan.expectWithinMs }),
        failFast,
        pingEvent: probe.pingEvent,
      }),
    )
  if (failFast && probe.maxGapMs !== undefined) extensions.push(createGapWatch(probe.maxGapMs))
  return extensions
}
