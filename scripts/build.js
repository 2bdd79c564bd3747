// Bundles the CLI into dist/ with code splitting: `--help` and `--version` load
// only the small entry chunk, the probe's dependencies load when a probe runs.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

// `import … from 'node:http'` makes Node build an ES module facade that reads every export,
// lazy getters included: node:http's loads Node's own copy of undici (~15% of start-up).
// require() hands over the module object, and the getters stay untouched.
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      // Only plain values are re-exported: reading a getter is what this avoids.
      const descriptors = Object.getOwnPropertyDescriptors(require(args.path))
      const names = Object.keys(descriptors).filter(
        (name) => 'value' in descriptors[name] && /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default',
      )
      const module = `__builtin_${args.path.replace(/\W/g, '_')}`
      return {
        contents: `const ${module} = require(${JSON.stringify(args.path)})\nexport default ${module}\n${names.map((name) => `export const ${name} = ${module}.${name}`).join('\n')}`,
        loader: 'js',
      }
    })
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
  plugins: [builtinsThroughRequire],
})

// commander's help, rendered once at the width it uses when not on a terminal (80),
// so that `sse-probe --help` starts as fast as `--version`.
const help = execFileSync(process.execPath, [new URL('cli.js', dist).pathname, '--help'], { encoding: 'utf8' })
writeFileSync(new URL('help.txt', dist), help)
