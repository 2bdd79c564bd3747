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
  /** `n` gaps of 0 ms (events of one network read), counted rather than stored. */
  addZeros(n: number): void
  result(): GapStats | null
}

export function createGapStats(): GapStatsCollector {
  let count = 0
  let min = Infinity
  let max = -Infinity
  // Gaps of 0 ms are only counted (they fall in bucket 0): the results are the same as if they
  // were stored. The other gaps: exact samples, then the histogram; the samples array stays an
  // array (emptied), so the code that adds never sees its types change.
  let zeros = 0
  const samples: number[] = []
  // Allocated only once the exact samples overflow: most sessions never need it.
  let buckets: Float64Array | undefined

  const bucketOf = (ms: number) =>
    ms <= SMALLEST_MS
      ? 0
      : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / SMALLEST_MS) / LOG_GROWTH))
  const bucketValue = (bucket: number) => (bucket === 0 ? 0 : SMALLEST_MS * BUCKET_GROWTH ** bucket)

  function overflow() {
    buckets = new Float64Array(BUCKETS)
    for (const ms of samples) buckets[bucketOf(ms)]!++
    samples.length = 0
  }

  function percentile(p: number): number {
    const rank = Math.max(1, Math.ceil((p / 100) * count))
    if (!buckets) {
      const sorted = samples.sort((a, b) => a - b)
      // The zeros sit after any negative gap (a hand-edited transcript's).
      let below = 0
      while (below < sorted.length && sorted[below]! < 0) below++
      if (rank <= below) return sorted[rank - 1]!
      return rank <= below + zeros ? 0 : sorted[rank - zeros - 1]!
    }
    let seen = zeros
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += buckets[bucket]!
      if (seen >= rank) return Math.min(max, Math.max(min, bucketValue(bucket)))
    }
    return max
  }

  function addZeros(n: number) {
    if (n <= 0) return
    count += n
    zeros += n
    if (min > 0) min = 0
    if (max < 0) max = 0
    if (!buckets && count > EXACT_SAMPLES) overflow()
  }

  return {
    add(ms) {
      if (ms === 0) return addZeros(1)
      count++
      if (ms < min) min = ms
      if (ms > max) max = ms
      if (buckets) buckets[bucketOf(ms)]!++
      else if (samples.push(ms) + zeros > EXACT_SAMPLES) overflow()
    },
    addZeros,
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
