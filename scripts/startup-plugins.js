// esbuild plugins that keep out of a probe's start-up what it does not need before its first
// event. docs/performance.md says what each one saves.
import { readFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { relative, resolve } from 'node:path'
import { build } from 'esbuild'

/**
 * The banner of every file the build writes. Bundled CommonJS (undici) and the stand-ins below
 * call require(), only ever for Node's built-ins (checkBuiltinRequires makes sure):
 * process.getBuiltinModule() serves them without what createRequire() costs in every file
 * (importing node:module, resolving a path). Its import.meta also tells tools that guess a file's
 * module format from its text (publint) that this is an ES module.
 */
export const requireBuiltins = `const require = (id) => {
  const builtin = process.getBuiltinModule(id)
  if (builtin !== undefined) return builtin
  const chunk = import.meta.url
  throw new Error(\`Cannot find module '\${id}' from \${chunk}\`)
};`

/** Fails the build if a chunk would require() anything but a built-in. */
const checkBuiltinRequires = {
  name: 'check-builtin-requires',
  setup(build) {
    build.initialOptions.metafile = true
    build.onEnd(({ metafile }) => {
      for (const [file, output] of Object.entries(metafile?.outputs ?? {})) {
        for (const { path, kind } of output.imports) {
          if (kind === 'require-call' && !isBuiltin(path)) {
            throw new Error(`${file} requires ${path}, which the banner's require() cannot load`)
          }
        }
      }
    })
  },
}

/**
 * `import … from 'node:util'` makes Node build an ES module facade that reads every export, lazy
 * getters included (node:http's loads Node's own copy of undici, node:util's worker_threads).
 * This stand-in require()s the module and reads an export only where the bundle uses it: esbuild
 * drops the unused `/* @__PURE__ *\/` reads.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => {
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

/**
 * commander imports node:child_process (and with it dgram and process handles) for executable
 * subcommands, which sse-probe has none of. Its stand-in offers only the default import, and
 * loads the module when a property of it is first read. Registered before
 * builtinsThroughRequire, so that it wins.
 */
const childProcessOnUse = {
  name: 'child-process-on-use',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'on-use' } : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'on-use' }, ({ path }) => {
      // Named imports become functions that load the module on their first call.
      const functions = Object.entries(process.getBuiltinModule(path))
        .filter(([, value]) => typeof value === 'function')
        .map(([name]) => name)
      return {
        contents: `let builtin
const load = () => (builtin ??= require(${JSON.stringify(path)}))
export default new Proxy({}, { get: (_, name) => load()[name] })
${functions.map((name) => `export const ${name} = (...args) => load().${name}(...args)`).join('\n')}`,
        loader: 'js',
      }
    })
  },
}

/**
 * undici checks its invariants with assert(value) alone: node:assert (and the diffing it brings)
 * loads only when one fails, to throw its AssertionError.
 */
const assertOnFailure = {
  name: 'assert-on-failure',
  setup(build) {
    build.onResolve({ filter: /^node:assert$/ }, (args) =>
      args.kind === 'require-call' && /[\\/]undici[\\/]/.test(args.importer)
        ? { path: args.path, namespace: 'assert-on-failure' }
        : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'assert-on-failure' }, () => ({
      contents: `module.exports = (value, message) => {
  if (!value) require('node:assert')(value, message)
}`,
      loader: 'js',
    }))
  },
}

/**
 * undici's client loads its HTTP/2 half, and with it node:http2, node:tls and node:crypto, when it
 * is first required; a probe needs it only once a TLS origin has agreed to h2. The require of a
 * function becomes a function that requires it on its first call.
 */
const http2OnUse = {
  name: 'http2-on-use',
  setup(build) {
    const line = "const connectH2 = require('./client-h2.js')"
    build.onLoad({ filter: /undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8')
      if (!source.includes(line)) throw new Error(`${path} no longer has: ${line}`)
      const deferred = "const connectH2 = (...args) => require('./client-h2.js')(...args)"
      return { contents: source.replace(line, deferred), loader: 'js' }
    })
  },
}

// Where cli-main.cjs leaves the modules the heavy commands take from it.
const HOST = 'sse-probe.host'

/** The value exports of a source module, as esbuild sees them. */
async function exportsOf(path) {
  const { metafile } = await build({
    entryPoints: [path],
    bundle: false,
    write: false,
    metafile: true,
    format: 'esm',
    outdir: 'exports-of',
    logLevel: 'silent',
  })
  return Object.values(metafile.outputs)[0].exports
}

/**
 * For the heavy commands' build: an import of one of our modules outside `ownDirs` is served by
 * dist/cli-main.cjs, which has already loaded it (see hostModules). Records
 * each such module, by path from the project root, in `hosted`.
 */
export function hostImports(ownDirs, hosted) {
  return {
    name: 'host-imports',
    setup(build) {
      const root = build.initialOptions.absWorkingDir ?? process.cwd()
      const own = (path) =>
        ownDirs.some((dir) => !relative(resolve(root, dir), path).startsWith('..'))
      build.onResolve({ filter: /^\.\.?\// }, ({ path, resolveDir, importer }) => {
        const target = resolve(resolveDir, path)
        if (!own(importer) || own(target)) return undefined
        const key = relative(root, target)
        hosted.set(key, target)
        return { path: key, namespace: 'hosted' }
      })
      build.onLoad({ filter: /.*/, namespace: 'hosted' }, async ({ path }) => {
        const names = await exportsOf(hosted.get(path))
        const plain = names.filter((name) => name !== 'default')
        const lines = [
          `const hosted = globalThis[Symbol.for(${JSON.stringify(HOST)})][${JSON.stringify(path)}]`,
          `export const { ${plain.join(', ')} } = hosted`,
        ]
        if (names.includes('default')) lines.push('export default hosted.default')
        return { contents: lines.join('\n'), loader: 'js' }
      })
    },
  }
}

/**
 * For cli-main.cjs: leaves in a global the namespace of every module the heavy commands take from
 * it, and loads each heavy command (`heavy`: output name → source) from its chunk.
 */
export function hostModules(heavy, hosted) {
  return {
    name: 'host-modules',
    setup(build) {
      const root = build.initialOptions.absWorkingDir ?? process.cwd()
      const chunkOf = new Map(
        Object.entries(heavy).map(([name, source]) => [
          resolve(root, source),
          `./chunks/${name}.js`,
        ]),
      )
      build.onResolve({ filter: /^\.\.?\// }, ({ path, resolveDir, kind }) => {
        const chunk = kind === 'dynamic-import' && chunkOf.get(resolve(resolveDir, path))
        return chunk ? { path: chunk, external: true } : undefined
      })
      build.onLoad({ filter: /[\\/]src[\\/]cli[\\/]main\.ts$/ }, async ({ path }) => {
        const keys = [...hosted.keys()]
        const lines = [
          await readFile(path, 'utf8'),
          ...keys.map((key, i) => `import * as hosted${i} from ${JSON.stringify(hosted.get(key))}`),
          `globalThis[Symbol.for(${JSON.stringify(HOST)})] = { ${keys.map((key, i) => `${JSON.stringify(key)}: hosted${i}`).join(', ')} }`,
        ]
        return { contents: lines.join('\n'), loader: 'ts' }
      })
    },
  }
}

export const startupPlugins = [
  childProcessOnUse,
  builtinsThroughRequire,
  assertOnFailure,
  http2OnUse,
  checkBuiltinRequires,
]
