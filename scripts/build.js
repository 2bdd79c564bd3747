// Bundles the CLI into dist/ with code splitting: `--help` and `--version` load
// only the small entry chunk, the probe's dependencies load when a probe runs.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'

const dist = new URL('../dist/', import.meta.url)
rmSync(dist, { recursive: true, force: true })
await build({
  entryPoints: { cli: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  jsx: 'automatic',
  // React picks its development build unless told otherwise; Ink loads react-devtools-core only
  // with DEV=true and when it is installed, which a bundle never has.
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['react-devtools-core'],
  chunkNames: 'chunks/[name]-[hash]',
  // Some bundled CommonJS (undici) calls require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
})

// commander's help, rendered once at the width it uses when not on a terminal (80),
// so that `sse-probe --help` starts as fast as `--version`.
const help = execFileSync(process.execPath, [new URL('cli.js', dist).pathname, '--help'], {
  encoding: 'utf8',
})
writeFileSync(new URL('help.txt', dist), help)
