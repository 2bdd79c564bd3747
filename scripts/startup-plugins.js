// esbuild plugins that keep out of a probe's start-up what it does not need before its first
// event (docs/performance.md says what each one saves).
import { readFile } from 'node:fs/promises'

/**
 * Bundled CommonJS (undici) and the stand-ins below call require(), only ever for Node's
 * built-ins (checkBuiltinRequires makes sure). process.getBuiltinModule() serves them without
 * what createRequire() costs in every chunk: importing node:module and resolving a path.
 */
export const requireBuiltins = `const require = (id) => {
  const builtin = process.getBuiltinModule(id)
  if (builtin === undefined) throw new Error(\`Cannot find module '\${id}'\`)
  return builtin
};`

// commander imports node:child_process (and with it dgram and process handles) for executable
// subcommands, which sse-probe has none of. Only the default import is offered, and the module
// loads when a property of it is first read.
const loadedOnUse = new Set(['node:child_process'])

/**
 * `import … from 'node:util'` makes Node build an ES module facade that reads every export, lazy
 * getters included (node:http's loads Node's own copy of undici, node:util's worker_threads).
 * This stand-in require()s the module and reads an export only where the bundle uses it: esbuild
 * drops the unused `/* @__PURE__ *\/` reads.
 */
export const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined,
    )
    build.onResolve({ filter: /^node:assert$/ }, (args) =>
      args.kind === 'require-call' && /[\\/]undici[\\/]/.test(args.importer)
        ? { path: args.path, namespace: 'assert-on-failure' }
        : undefined,
    )
    // undici checks its invariants with assert(value) alone; node:assert (and the diffing it
    // brings) loads only when one fails, to throw its AssertionError.
    build.onLoad({ filter: /.*/, namespace: 'assert-on-failure' }, () => ({
      contents: `module.exports = (value, message) => {
  if (!value) require('node:assert')(value, message)
}`,
      loader: 'js',
    }))
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => {
      const specifier = JSON.stringify(path)
      if (loadedOnUse.has(path)) {
        const contents = `let builtin
export default new Proxy({}, { get: (_, name) => (builtin ??= require(${specifier}))[name] })`
        return { contents, loader: 'js' }
      }
      const names = Object.getOwnPropertyNames(process.getBuiltinModule(path)).filter(
        (name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default',
      )
      // Locals are numbered so that no export name (fs.read) can clash with them.
      const lines = [
        `const builtin = require(${specifier})`,
        'export default builtin',
        ...names.map((name, i) => `const e${i} = /* @__PURE__ */ (() => builtin.${name})()`),
        `export { ${names.map((name, i) => `e${i} as ${name}`).join(', ')} }`,
      ]
      return { contents: lines.join('\n'), loader: 'js' }
    })
  },
}

// undici's client loads its HTTP/2 half, and with it node:http2, node:tls and node:crypto, when
// it is first required; a probe needs it only once a TLS origin has agreed to h2.
const deferredRequires = [
  {
    file: /undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    line: "const connectH2 = require('./client-h2.js')",
  },
]

/** Turns `const f = require(x)` (a function) in one file into a function that requires x on its first call. */
export const deferRequires = {
  name: 'defer-requires',
  setup(build) {
    for (const { file, line } of deferredRequires) {
      build.onLoad({ filter: file }, async ({ path }) => {
        const source = await readFile(path, 'utf8')
        if (!source.includes(line)) throw new Error(`${path} no longer has: ${line}`)
        const [, name, specifier] = /^const (\w+) = require\(('[^']+')\)$/.exec(line)
        const deferred = `const ${name} = (...args) => require(${specifier})(...args)`
        return { contents: source.replace(line, deferred), loader: 'js' }
      })
    }
  },
}
