// Preloaded with --require: when the process exits, writes the names of the Node built-ins it
// loaded, one a line, to the file named by LOADED_MODULES_FILE; `Intl.Segmenter` if one was
// made (ICU's set-up for it costs ~100 ms, which a plain probe must not pay); and `chunk:NAME` for
// each of dist/chunks/ that was imported.
const { writeFileSync } = require('node:fs')
const { registerHooks } = require('node:module')

const chunks = []
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    const chunk = /\/dist\/chunks\/([^/]+)$/.exec(resolved.url)
    if (chunk) chunks.push(`chunk:${chunk[1]}`)
    return resolved
  },
})

let segmenters = 0
Intl.Segmenter = new Proxy(Intl.Segmenter, {
  construct(target, args, newTarget) {
    segmenters++
    return Reflect.construct(target, args, newTarget)
  },
})

process.on('exit', () => {
  const builtins = process.moduleLoadList
    .filter((entry) => entry.startsWith('NativeModule '))
    .map((entry) => entry.slice('NativeModule '.length))
  if (segmenters > 0) builtins.push('Intl.Segmenter')
  builtins.push(...chunks)
  writeFileSync(process.env.LOADED_MODULES_FILE, `${builtins.join('\n')}\n`)
})
