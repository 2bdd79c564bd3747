// Injected into the library's bundle: the globals it uses (undici's among them) are Node's,
// whatever a test environment makes of globalThis. Fake timers never fired a probe's timeout;
// vitest's jsdom in a vm pool gives timers that are numbers, whose unref() undici calls
// ("connect-failed: fastNowTimeout?.unref is not a function"); jest's jsdom has no TextDecoder.
// Fake timers replace `performance` too: check's window and a replay's timing read the clock.

export { performance } from 'node:perf_hooks'
export {
  clearImmediate,
  clearInterval,
  clearTimeout,
  setImmediate,
  setInterval,
  setTimeout,
} from 'node:timers'
export { TextDecoder, TextEncoder } from 'node:util'
