// Injected into the library's bundle: its timers (undici's among them) are Node's whatever the
// globals say. A test environment may replace the global setTimeout: vitest's jsdom in a vm
// pool gives one whose timers are numbers, and undici's first unref() on one failed the probe
// with "connect-failed: fastNowTimeout?.unref is not a function".
export {
  clearImmediate,
  clearInterval,
  clearTimeout,
  setImmediate,
  setInterval,
  setTimeout,
} from 'node:timers'
