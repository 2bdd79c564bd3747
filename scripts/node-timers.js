// Injected into the library's bundle: its timers (undici's among them) are Node's whatever the
// globals say. Tests replace the globals: fake timers never fired a probe's timeout, and
// vitest's jsdom in a vm pool gives timers that are numbers, whose unref() undici calls
// ("connect-failed: fastNowTimeout?.unref is not a function").
export {
  clearImmediate,
  clearInterval,
  clearTimeout,
  setImmediate,
  setInterval,
  setTimeout,
} from 'node:timers'
