// The class alone: the package's index also bundles its WebAssembly build and a
// compression library (140 KB) that percentiles do not need.
import * as int32 from 'hdr-histogram-js/dist/Int32Histogram.js'
import { roundMs } from '../engine/records.ts'

// A CommonJS module marked __esModule: Node hands its exports object over as `default`, bundlers its `default`.
type Int32HistogramClass = typeof int32.default.default
const Int32Histogram: Int32HistogramClass =
  int32.default.default ?? (int32.default as unknown as Int32HistogramClass)

const POWERS_OF_TWO = Float64Array.from({ length: 64 }, (_, k) => 2 ** k)

/**
 * The library's index of a value, with its powers of two from a table: it calls Math.pow twice for
 * every value recorded (about 600 instructions, 2 % of `load`'s per event). Same formula, same
 * indexes.
 */
class Histogram extends Int32Histogram {
  override countsArrayIndex(value: number): number {
    if (value < 0) throw new Error('Histogram recorded value cannot be negative.')
    const bucketIndex = Math.max(
      Math.floor(Math.log2(value)) - this.subBucketHalfCountMagnitude - this.unitMagnitude,
      0,
    )
    const subBucketIndex = Math.floor(value / POWERS_OF_TWO[bucketIndex + this.unitMagnitude]!)
    const bucketBaseIndex = (bucketIndex + 1) * POWERS_OF_TWO[this.subBucketHalfCountMagnitude]!
    return bucketBaseIndex + subBucketIndex - this.subBucketHalfCount
  }
}

/** Past 2^53 the histogram's arithmetic loses integers, and its percentiles go wrong. */
const MAX_MICROSECONDS = Number.MAX_SAFE_INTEGER

export interface Percentiles {
  p50: number
  p95: number
  p99: number
  max: number
}

export interface LatencyHistogram {
  /**
   * Milliseconds; a negative value (clocks that disagree) counts as 0, one beyond 285 years (a send
   * time of -1e300 in --latency-field) as that: the histogram's buckets end there.
   */
  record(ms: number): void
  /** A method, not a getter: an object literal with a getter is a dictionary, slow to call record() on. */
  count(): number
  /** null when nothing was recorded. */
  percentiles(): Percentiles | null
}

/**
 * An HDR histogram of milliseconds, as autocannon keeps its latencies: constant
 * memory and 3 significant digits, whatever the number of samples. Stored in
 * microseconds so that sub-millisecond latencies on a local network keep their digits.
 */
export function createLatencyHistogram(): LatencyHistogram {
  const histogram = new Histogram(1, 2, 3)
  histogram.autoResize = true
  return {
    record(ms) {
      histogram.recordValue(ms > 0 ? Math.min(Math.round(ms * 1000), MAX_MICROSECONDS) : 0)
    },
    count() {
      return histogram.totalCount
    },
    percentiles() {
      if (histogram.totalCount === 0) return null
      const max = histogram.maxValue
      // A percentile is the top of its bucket, which can lie above the largest value recorded.
      const at = (p: number) => roundMs(Math.min(histogram.getValueAtPercentile(p), max) / 1000)
      return { p50: at(50), p95: at(95), p99: at(99), max: roundMs(max / 1000) }
    },
  }
}
