// Bundles the CLI into dist/ with code splitting: `--help` and `--version` load
// only the small entry chunk, the probe's dependencies load when a probe runs.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { build } from 'esbuild'
// `import … from 'node:util'` makes Node build an ES module facade that reads every export, lazy
// getters included (node:http's loads Node's own copy of undici, node:util's worker_threads).
// This stand-in require()s the module and reads an export only where the bundle uses it: esbuild
// drops the unused `/* @__PURE__ */` reads.
// commander imports node:child_process (and with it net, dgram, ...) for executable
// subcommands, which sse-probe has none of: only the default import is offered, and the module
// loads when a property of it is first read.
const loadedOnUse = new Set(['node:child_process'])
const onUse = (path) => `let builtin
export default new Proxy({}, { get: (_, name) => (builtin ??= require(${JSON.stringify(path)}))[name] })`

const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => {
      if (loadedOnUse.has(path)) return { contents: onUse(path), loader: 'js' }
      const names = Object.getOwnPropertyNames(process.getBuiltinModule(path)).filter(
        (name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default',
      )
      // Locals are numbered so that no export name (fs.read) can clash with them.
      const lines = [
        `const builtin = require(${JSON.stringify(path)})`,
        'export default builtin',
        ...names.map((name, i) => `const e${i} = /* @__PURE__ */ (() => builtin.${name})()`),
        `export { ${names.map((name, i) => `e${i} as ${name}`).join(', ')} }`,
      ]
      return { contents: lines.join('\n'), loader: 'js' }
    })
  },
}

// undici's client loads its HTTP/2 half, and with it node:http2, node:tls and node:crypto, when
// it is first required; the probe needs it only once a TLS origin has agreed to h2. Each entry
// turns `const x = require(y)` in one file into a function that requires y on its first call.
const deferredRequires = [
  { file: /undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/, line: "const connectH2 = require('./client-h2.js')" },
]
const deferRequires = {
  name: 'defer-requires',
  setup(build) {
    for (const { file, line } of deferredRequires) {
      build.onLoad({ filter: file }, async ({ path }) => {
        const source = await readFile(path, 'utf8')
        if (!source.includes(line)) throw new Error(`${path} no longer has: ${line}`)
        const [, name, specifier] = /^const (\w+) = require\(('[^']+')\)$/.exec(line)
        return {
          contents: source.replace(line, `const ${name} = (...args) => require(${specifier})(...args)`),
          loader: 'js',
        }
      })
    }
  },
}

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
  chunkNames: 'chunks/[name]-[hash]',
  // Some bundled CommonJS (undici) calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [builtinsThroughRequire, deferRequires],
})

// commander's help, rendered once at the width it uses when not on a terminal (80),
// so that `sse-probe --help` starts as fast as `--version`.
const help = execFileSync(process.execPath, [new URL('cli.js', dist).pathname, '--help'], { encoding: 'utf8' })
writeFileSync(new URL('help.txt', dist), help)
