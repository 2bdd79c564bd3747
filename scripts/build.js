// Bundles the library and the CLI into dist/, each on its own. The library (dist/index.js) never
// loads the CLI's commander, chalk or ora. The CLI:
// - dist/cli.js answers `--help` and `--version` by itself and runs dist/cli-main.cjs for any
//   other command;
// - dist/cli-main.cjs is every command in one script: a probe loads one file rather than a dozen
//   chunks, and src/cli/load-main.ts runs it with a code cache that holds every function a run
//   compiled (docs/performance.md);
// - what only `inspect` (Ink, React), the contract flags (Ajv, yaml) and a response that sets a
//   cookie (tough-cookie) need is built apart into dist/chunks/, loaded by those alone, and takes
//   the engine from cli-main.cjs instead of a copy.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'
import { hostImports, hostModules, requireBuiltins, startupPlugins } from './startup-plugins.js'

const dist = new URL('../dist/', import.meta.url)
rmSync(dist, { recursive: true, force: true })
const options = {
  outdir: 'dist',
  bundle: true,
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
  banner: { js: requireBuiltins },
  logLevel: 'warning',
  metafile: true,
}
const { metafile } = await build({
  ...options,
  // One statement a line: Node quotes the line of an uncaught error (a library user's bad option)
  // on stderr, and a minified line is tens of kilobytes.
  minifyWhitespace: false,
  entryPoints: { index: 'src/index.ts' },
  inject: ['scripts/node-globals.js'],
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: startupPlugins,
})
// The heavy chunks first: building them finds the modules of ours they take from cli-main.cjs.
const HEAVY = {
  'cli-inspect': 'src/inspect/run.tsx',
  'cli-contracts': 'src/contracts/index.ts',
  'cli-cookies': 'src/engine/cookie-store.ts',
}
// The sources each heavy chunk holds, its own; any other module of ours it imports is hosted.
const HEAVY_OWN = ['src/inspect', 'src/contracts', 'src/engine/cookie-store.ts']
const hosted = new Map()
const heavy = await build({
  ...options,
  entryPoints: HEAVY,
  entryNames: 'chunks/[name]',
  splitting: true,
  chunkNames: 'chunks/cli-[name]-[hash]',
  alias: { 'restore-cursor': './src/inspect/restore-cursor.ts' },
  plugins: [hostImports(HEAVY_OWN, hosted), ...startupPlugins],
})
// A script, not a module: src/cli/load-main.ts runs it with a V8 code cache of its own.
const cliMain = await build({
  ...options,
  entryPoints: { 'cli-main': 'src/cli/main.ts' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  banner: { js: '(function (require, module, exports, importChunk) {' },
  footer: { js: '})' },
  plugins: [hostModules(HEAVY, hosted), ...startupPlugins],
})
// A script's own import() would need vm's experimental USE_MAIN_CONTEXT_DEFAULT_LOADER, which
// warns on stderr: the heavy chunks come through importChunk(), the loader's import().
const cliMainFile = new URL('cli-main.cjs', dist)
const cliMainSource = readFileSync(cliMainFile, 'utf8').replaceAll(
  'import("./chunks/',
  'importChunk("./chunks/',
)
if (/\bimport\(/.test(cliMainSource)) throw new Error('cli-main.cjs has an import() of its own')
writeFileSync(cliMainFile, cliMainSource)
const cliMainHash = createHash('sha256').update(cliMainSource).digest('hex').slice(0, 16)
await build({
  ...options,
  entryPoints: { cli: 'src/cli/entry.ts' },
  define: { ...options.define, CLI_MAIN_HASH: JSON.stringify(cliMainHash) },
  plugins: startupPlugins,
})

/** The output files that loading `file` loads with it (static imports, followed). */
function staticClosure(outputs, file, seen = new Set()) {
  if (seen.has(file)) return seen
  seen.add(file)
  for (const { path, kind } of outputs[file].imports) {
    if (kind === 'import-statement' && !path.startsWith('node:')) staticClosure(outputs, path, seen)
  }
  return seen
}

function refuse(outputs, entry, what, pattern) {
  for (const file of staticClosure(outputs, entry)) {
    const input = Object.keys(outputs[file].inputs).find((name) => pattern.test(name))
    if (input) throw new Error(`${what} loads ${input} (through ${file})`)
  }
}

// Importing the library must not load the CLI's argument parser, colour, spinner or screen, nor
// the cookie jar before a response sets a cookie.
refuse(
  metafile.outputs,
  'dist/index.js',
  'the library',
  /node_modules\/(commander|chalk|ora|ink|react|react-reconciler|yoga-layout|tough-cookie|tldts|tldts-core)\//,
)
// Ink and React are for `inspect` alone, Ajv for the contract flags, tough-cookie for a response
// that sets a cookie: a plain probe starts without.
refuse(
  cliMain.metafile.outputs,
  'dist/cli-main.cjs',
  'cli-main.cjs',
  /node_modules\/(ink|react|react-reconciler|yoga-layout|ajv|yaml|tough-cookie|tldts|tldts-core)\//,
)
// The heavy chunks take the engine from cli-main.cjs: a copy would be a second undici, and a
// second SseProbeUsageError that main's instanceof would not know.
for (const [file, output] of Object.entries(heavy.metafile.outputs)) {
  const copy = Object.keys(output.inputs).find(
    (name) =>
      name.startsWith('src/') &&
      !HEAVY_OWN.some((own) => name === own || name.startsWith(`${own}/`)),
  )
  if (copy) throw new Error(`${file} carries a copy of ${copy}`)
}

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
