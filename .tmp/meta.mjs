import { build } from 'esbuild'
import { builtinsThroughRequire, deferRequires } from '/work/wt-startup/scripts/startup-plugins.js'
const r = await build({ entryPoints: { cli: 'src/cli/entry.ts', index: 'src/index.ts' }, outdir: '/tmp/sust/metaout', bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node22', minifyWhitespace: true, minifySyntax: true, legalComments: 'none', chunkNames: 'chunks/[name]-[hash]', metafile: true, write: true, plugins: [builtinsThroughRequire, deferRequires], logLevel: 'error' })
for (const [out, o] of Object.entries(r.metafile.outputs)) {
  if (o.bytes < 100000) continue
  console.log(out, o.bytes)
  for (const [inp, v] of Object.entries(o.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput).slice(0, 45)) console.log('  ', v.bytesInOutput, inp.replace(/.*node_modules\//, ''))
}
