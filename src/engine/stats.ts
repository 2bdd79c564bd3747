import { type GapStats, roundMs } from './records.ts'

// Exact percentiles for the samples of a typical debugging session; past that,
// a log-scale histogram (1 % relative error) keeps memory flat for millions of events.
const EXACT_SAMPLES = 4096
const BUCKET_GROWTH = 1.01
const LOG_GROWTH = Math.log(BUCKET_GROWTH)
const SMALLEST_MS = 0.001
// Gaps up to 2^31 ms (the longest wait a timer allows) fit in this many buckets; longer ones share the last.
const BUCKETS = Math.ceil(Math.log(2 ** 31 / SMALLEST_MS) / LOG_GROWTH) + 1

export interface GapStatsCollector {
  add(ms: number): void
  result(): GapStats | null
}

export function createGapStats(): GapStatsCollector {
  let count = 0
  let min = Infinity
  let max = -Infinity
  let samples: number[] | undefined = []
  // Allocated only once the exact samples overflow: most sessions never need it.
  let buckets: Float64Array | undefined

  const bucketOf = (ms: number) =>
    ms <= SMALLEST_MS
      ? 0
      : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / SMALLEST_MS) / LOG_GROWTH))
  const bucketValue = (bucket: number) => (bucket === 0 ? 0 : SMALLEST_MS * BUCKET_GROWTH ** bucket)

  function addToHistogram(ms: number) {
    buckets![bucketOf(ms)]!++
  }

  function percentile(p: number): number {
    const rank = Math.max(1, Math.ceil((p / 100) * count))
    if (samples) return [...samples].sort((a, b) => a - b)[rank - 1]!
    let seen = 0
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += buckets![bucket]!
      if (seen >= rank) return Math.min(max, Math.max(min, bucketValue(bucket)))
    }
    return max
  }

  return {
    add(ms) {
      count++
      if (ms < min) min = ms
      if (ms > max) max = ms
      if (samples) {
        samples.push(ms)
        if (samples.length > EXACT_SAMPLES) {
          buckets = new Float64Array(BUCKETS)
          samples.forEach(addToHistogram)
          samples = undefined
        }
      } else {
        addToHistogram(ms)
      }
    },
    result() {
      if (count === 0) return null
      return {
        min: roundMs(min),
        p50: roundMs(percentile(50)),
        p95: roundMs(percentile(95)),
        max: roundMs(max),
      }
    },
  }
}
