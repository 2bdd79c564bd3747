const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** The longest delay a Node timer can wait (about 24.8 days); a longer one fires at once. */
export const MAX_DELAY_MS = 2 ** 31 - 1

const PARTS = /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g

/**
 * '250ms' | '5s' | '2m' | '1h' | '1.5s' | '1m30s' → milliseconds, or undefined. A unit is needed:
 * a bare number reads as seconds to users of curl and as milliseconds to users of `retry:`.
 * '0' alone needs none.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  if (!PARTS.test(trimmed)) return undefined
  let ms = 0
  for (const [, amount, unit] of trimmed.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!
  return ms
}

/**
 * A limit the user gave, exactly and in a form parseDuration reads back: 1234ms is 1.234s, not
 * formatDuration's 1.23s, and 1h is 1h, not 60m00s. For expectation names, which a user greps for.
 */
export function formatLimit(ms: number): string {
  // Six decimals drop the float noise of parsing (1.1s is 1100.0000000000002ms).
  const exact = (n: number) => String(Number(n.toFixed(6)))
  if (ms < 1000) return `${exact(ms)}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const seconds = (ms % 60_000) / 1000
  return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${exact(seconds)}s` : ''}`
}

/** A short human form of a duration: 850ms, 1.25s, 2m05s. */
export function formatDuration(ms: number): string {
  if (ms < 9.95) return `${ms.toFixed(1).replace(/\.0$/, '')}ms`
  // Each unit from where its rounding starts: 999.6ms is 1s, not 1000ms; 59.996s is 1m00s.
  if (ms < 999.5) return `${Math.round(ms)}ms`
  if (ms < 59_995) return `${(ms / 1000).toFixed(2).replace(/\.?0+$/, '')}s`
  const total = Math.round(ms / 1000)
  return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`
}
