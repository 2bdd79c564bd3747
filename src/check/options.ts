import { type RawRequestFlags, type RequestOptions, toRequestOptions } from '../options.ts'

/** The flags of `check` as commander parsed them (see args.ts). */
export interface RawCheckFlags extends RawRequestFlags {
  window: number
  origin?: string
  endEvent?: string[]
  json?: boolean
  strict?: boolean
  color?: boolean
}

export interface CheckOptions extends RequestOptions {
  windowMs: number
  /** The page origin a browser would send; CORS is checked only when there is one. */
  origin?: string
  endEvents: string[]
  json: boolean
  strict: boolean
  color?: boolean
}

export function toCheckOptions(url: URL, flags: RawCheckFlags): CheckOptions {
  const request = toRequestOptions(url, flags)
  // A browser sends Origin on every cross-origin request, reconnects included; --origin wins over -H.
  const originHeader = request.headers.findLast(([name]) => name.toLowerCase() === 'origin')?.[1]
  const origin = flags.origin ?? originHeader
  const headers =
    flags.origin === undefined
      ? request.headers
      : [
          ...request.headers.filter(([name]) => name.toLowerCase() !== 'origin'),
          ['Origin', flags.origin] as [string, string],
        ]
  return {
    ...request,
    headers,
    windowMs: flags.window,
    origin,
    endEvents: flags.endEvent ?? ['end'],
    json: flags.json ?? false,
    strict: flags.strict ?? false,
    color: flags.color,
  }
}
