#!/usr/bin/env node
// Node keeps the compiled bundle on disk (in the OS temp folder unless NODE_COMPILE_CACHE says
// where), so every run after the first skips compiling it; dist/cli-main.cjs keeps its own cache
// in the same folder (src/cli/load-main.ts). getBuiltinModule rather than an import: the ES module
// facade of node:module also loads its source-map support.
process.getBuiltinModule('node:module').enableCompileCache?.()
await import('../dist/cli.js')
