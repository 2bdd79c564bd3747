#!/usr/bin/env node
// An older Node would fail further on, with an error that says nothing of the version.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `sse-probe: needs Node.js 22.12 or later; this is Node.js ${process.version}\n`,
  )
  process.exit(2)
}
// Node keeps the compiled bundle on disk (in the OS temp folder unless NODE_COMPILE_CACHE says
// where), so every run after the first skips compiling it; dist/cli-main.cjs keeps its own cache
// in the same folder (src/cli/load-main.ts). getBuiltinModule rather than an import: the ES module
// facade of node:module also loads its source-map support.
process.getBuiltinModule('node:module').enableCompileCache?.()
const cli = new URL('../dist/cli.js', import.meta.url)
try {
  await import(cli.href)
} catch (error) {
  // A clone before its first build (npm ci does not build): one line, not a resolver stack trace.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || error.url !== cli.href) throw error
  const missing = process.getBuiltinModule('node:url').fileURLToPath(cli)
  process.stderr.write(
    `sse-probe: not built: ${missing} is missing; run npm run build (npm start builds and runs the demo)\n`,
  )
  process.exit(2)
}
