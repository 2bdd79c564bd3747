import { formatDuration, formatLimit, type ProbeExtension } from './engine.ts'

/**
 * `--fail-fast` with `--expect-max-gap`: ends the probe the moment a silence
 * exceeds the gap, without waiting for the next message to measure it.
 * Silence counts from each open, as the expectation does; a reconnect wait is not the server's.
 */
export function createGapWatch(maxGapMs: number): ProbeExtension {
  let timer: NodeJS.Timeout | undefined
  let lastAt: number | undefined
  const name = `--expect-max-gap ${formatLimit(maxGapMs)}`
  return {
    onRecord(record, context) {
      if (record.type === 'close') {
        clearTimeout(timer)
        timer = lastAt = undefined
        return
      }
      if (record.type !== 'open' && record.type !== 'event' && record.type !== 'comment') return
      if (lastAt !== undefined && record.t - lastAt > maxGapMs) {
        return context.end(
          'expectation-failed',
          `${name}: ${formatDuration(record.t - lastAt)} without a message`,
        )
      }
      lastAt = record.t
      // One timer, pushed back by each message: cheap enough for every event of a fast stream.
      if (timer) timer.refresh()
      else
        timer = setTimeout(
          () =>
            context.end(
              'expectation-failed',
              `${name}: more than ${formatLimit(maxGapMs)} without a message`,
            ),
          maxGapMs + 1,
        )
    },
    finish() {
      clearTimeout(timer)
      return {}
    },
  }
}
