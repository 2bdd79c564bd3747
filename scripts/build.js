// Bundles the CLI and the library into dist/ with code splitting: `--help` and `--version` load
// only the small entry chunk, the probe's dependencies load when a probe runs, and the library
// (dist/index.js) shares the engine's chunks without loading the CLI's commander, chalk or ora.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'

const dist = new URL('../dist/', import.meta.url)
rmSync(dist, { recursive: true, force: true })
const { metafile } = await build({
  entryPoints: { cli: 'src/cli/entry.ts', index: 'src/index.ts' },
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
  metafile: true,
})

/** The output files that loading `file` loads with it (static imports, followed). */
function staticClosure(file, seen = new Set()) {
  if (seen.has(file)) return seen
  seen.add(file)
  for (const { path, kind } of metafile.outputs[file].imports) {
    if (kind === 'import-statement' && !path.startsWith('node:')) staticClosure(path, seen)
  }
  return seen
}

function refuse(entry, what, pattern) {
  for (const file of staticClosure(entry)) {
    const input = Object.keys(metafile.outputs[file].inputs).find((name) => pattern.test(name))
    if (input) throw new Error(`${what} loads ${input} (through ${file})`)
  }
}

// Importing the library must not load the CLI's argument parser, colour, spinner or screen.
refuse(
  'dist/index.js',
  'the library',
  /node_modules\/(commander|chalk|ora|ink|react|react-reconciler|yoga-layout)\//,
)
// Ink and React are for `inspect` alone: the plain probe starts without them.
const probeChunk = Object.keys(metafile.outputs).find(
  (file) => 'src/cli/commands/probe.ts' in metafile.outputs[file].inputs,
)
refuse(probeChunk, 'the probe command', /node_modules\/(ink|react|react-reconciler|yoga-layout)\//)

// commander's help, rendered once at the width it uses when not on a terminal (80),
// so that `sse-probe --help` starts as fast as `--version`.
const help = execFileSync(process.execPath, [new URL('cli.js', dist).pathname, '--help'], {
  encoding: 'utf8',
})
writeFileSync(new URL('help.txt', dist), help)

// The library's types, generated from the source. Declarations keep the source's `.ts` import
// paths; published, they point at the `.d.ts` files beside them as `.js`.
const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
const types = new URL('types/', dist)
for (const file of readdirSync(types, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.d.ts')) continue
  const path = new URL(file, types)
  const text = readFileSync(path, 'utf8')
  writeFileSync(path, text.replace(/(from ['"]\.{1,2}\/[^'"]*)\.ts(['"])/g, '$1.js$2'))
}
