#!/usr/bin/env node
// Node keeps the compiled bundle on disk (in the OS temp folder unless NODE_COMPILE_CACHE says
// where), so every run after the first skips compiling it.
import { enableCompileCache } from 'node:module'

enableCompileCache?.()
await import('../dist/cli.js')
