import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Most tests wait on servers, timers and child processes, not the CPU: on a 2-core machine
    // vitest's default (one worker per core but one) runs the files one after another.
    maxWorkers: 3,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default', './test/helpers/plain-summary.ts'],
  },
})
