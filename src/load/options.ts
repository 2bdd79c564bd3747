import { SseProbeUsageError as UsageError } from '../engine/errors.ts'
import { pointerTokens } from '../engine/json-pointer.ts'
import type { ProbeOptions } from '../engine/options.ts'
import type { TriggerSpec } from '../engine/trigger.ts'
import type { LlmMode } from '../llm/types.ts'

/** `--expect-connected 2000` or `--expect-connected 95%`. */
export interface ConnectedExpectation {
  text: string
  count: number
}

export interface LoadOptions {
  /** What every connection does: the probe's request, stream and end options and its --expect-*. */
  probe: ProbeOptions
  connections: number
  rampMs: number
  /** How long all connections are held once the ramp is over. */
  durationMs: number
  intervalMs: number
  json: boolean
  quiet: boolean
  color?: boolean
  trigger?: TriggerSpec
  /** --latency-field as a parsed JSON pointer. */
  latencyField?: { text: string; path: string[] }
  expectConnected?: ConnectedExpectation
  expectMaxErrors?: number
  expectFanoutP95Ms?: number
  /** --llm and --expect-llm, for each connection: its profile's end marker ends it, a streamed error is an error. */
  llm: { mode: LlmMode; expect: boolean }
  export?: 'k6'
}

// One client address reaches one server port through at most ~64k ephemeral ports; beyond a
// million the per-connection counters alone would be a mistake, not a test.
const MAX_CONNECTIONS = 1_000_000

/** -c: how many connections one process holds. */
export function connectionsArg(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError('expected a whole number of at least 1')
  const count = Number(text)
  if (count < 1 || count > MAX_CONNECTIONS) {
    throw new UsageError(`expected a number from 1 to ${MAX_CONNECTIONS}`)
  }
  return count
}

/** --expect-connected: a count, or a percentage of -c (resolved once -c is known). */
export function connectedArg(text: string): (target: number) => ConnectedExpectation {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim())
  if (!match || (match[2] === '' && match[1]!.includes('.')))
    throw new UsageError(
      'expected a number of connections such as 2000, or a percentage such as 95%',
    )
  const value = Number(match[1])
  if (match[2] === '%' && value > 100) throw new UsageError('expected a percentage of at most 100%')
  return (target) => {
    // More than -c opens could never hold: a mistake in the command, not a failed run.
    if (match[2] === '' && value > target)
      throw new UsageError(
        `--expect-connected ${text} is more than the ${target} connections -c opens`,
      )
    return { text, count: match[2] === '%' ? percentOf(match[1]!, target) : value }
  }
}

/**
 * `percent`% of `target`, rounded up, in exact arithmetic: in floating point 55% of 100 is
 * 55.00000000000001, and 56 connections were expected.
 */
function percentOf(percent: string, target: number): number {
  const [whole, fraction = ''] = percent.split('.')
  const divisor = 100n * 10n ** BigInt(fraction.length)
  return Number((BigInt(whole! + fraction) * BigInt(target) + divisor - 1n) / divisor)
}

/** [RFC 6901] a JSON pointer: '' (the whole value) or '/a/0/b', with ~1 for '/' and ~0 for '~'. */
export function jsonPointerArg(text: string): NonNullable<LoadOptions['latencyField']> {
  if (text !== '' && !text.startsWith('/'))
    throw new UsageError("expected a JSON pointer such as /sentAt or /meta/ts (starting with '/')")
  return { text, path: pointerTokens(text) }
}

export function exportArg(text: string): 'k6' {
  if (text !== 'k6') throw new UsageError('expected k6 (the only export format)')
  return 'k6'
}
