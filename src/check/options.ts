import { namedTypes } from '../engine/options.ts'
import { type RequestInput, type RequestOptions, toRequestOptions } from '../engine/request.ts'

export interface CheckOptions extends RequestOptions {
  windowMs: number
  /** The page origin a browser would send; CORS is checked only when there is one. */
  origin?: string
  endEvents: string[]
  /** Warnings fail too. */
  strict: boolean
}

/** The options as validated values: what the CLI's flags and the library's options become. */
export interface CheckInput extends RequestInput {
  windowMs?: number
  origin?: string
  endEvents?: string[]
  strict?: boolean
}

const DEFAULT_WINDOW_MS = 20_000

export function toCheckOptions(input: CheckInput): CheckOptions {
  const request = toRequestOptions(input)
  // A browser sends Origin on every cross-origin request, reconnects included; --origin wins over -H.
  const originHeader = request.headers.findLast(([name]) => name.toLowerCase() === 'origin')?.[1]
  const origin = input.origin ?? originHeader
  const headers =
    input.origin === undefined
      ? request.headers
      : [
          ...request.headers.filter(([name]) => name.toLowerCase() !== 'origin'),
          ['Origin', input.origin] as [string, string],
        ]
  const endEvents = input.endEvents ?? ['end']
  namedTypes('endEvent', endEvents)
  return {
    ...request,
    headers,
    windowMs: input.windowMs ?? DEFAULT_WINDOW_MS,
    ...(origin !== undefined && { origin }),
    endEvents,
    strict: input.strict ?? false,
  }
}
