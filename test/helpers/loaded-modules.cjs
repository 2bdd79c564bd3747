// Preloaded with --require: when the process exits, writes the names of the Node built-ins it
// loaded, one a line, to the file named by LOADED_MODULES_FILE.
const { writeFileSync } = require('node:fs')

process.on('exit', () => {
  const builtins = process.moduleLoadList
    .filter((entry) => entry.startsWith('NativeModule '))
    .map((entry) => entry.slice('NativeModule '.length))
  writeFileSync(process.env.LOADED_MODULES_FILE, `${builtins.join('\n')}\n`)
})
