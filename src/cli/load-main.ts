import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { getCompileCacheDir } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'

type Require = (id: string) => unknown
type ImportChunk = (path: string) => Promise<unknown>

// When the cache is taken: what a run needs up to its first events is compiled by then, and a long
// run's garbage collections have not yet dropped the bytecode of its start-up, used only once.
const CACHE_AFTER_MS = 250

/**
 * Runs dist/cli-main.cjs (every command in one script, wrapped by the build in
 * `(function (require, module, exports, importChunk) { … })`) and returns its exports.
 * `importChunk` is its import() of the heavy commands' chunks, which are ES modules.
 *
 * Its V8 code cache is taken once the run is under way (or at exit, if sooner), so that it holds
 * every function the run compiled to get there: Node's compile cache, taken when a module is
 * compiled, holds only the top level, and every run would compile the rest again
 * (docs/performance.md). The cache lives in Node's compile
 * cache folder (none when that is off: NODE_DISABLE_COMPILE_CACHE), named by the script's content
 * hash and what else `cacheName` says; Node names that folder by its version and V8 flags.
 */
export function loadCliMain<Exports>(file: URL, cacheName: string): Exports {
  const path = fileURLToPath(file)
  const dir = getCompileCacheDir()
  const cacheFile = dir && join(dir, `sse-probe-cli-main-${cacheName}`)
  const cachedData = cacheFile ? readIfThere(cacheFile) : undefined
  const script = new Script(readFileSync(path, 'utf8'), {
    filename: path,
    cachedData,
  })
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    const saveOnce = () => {
      clearTimeout(timer)
      process.off('exit', saveOnce)
      save(cacheFile, script)
    }
    const timer = setTimeout(saveOnce, CACHE_AFTER_MS).unref()
    process.once('exit', saveOnce)
  }
  const module = { exports: {} as Exports }
  const run = script.runInThisContext() as (
    require: Require,
    m: typeof module,
    e: Exports,
    importChunk: ImportChunk,
  ) => void
  run(requireBuiltin, module, module.exports, (chunk) => import(new URL(chunk, file).href))
  return module.exports
}

/** The bundle requires only Node's built-ins (the build checks). */
function requireBuiltin(id: string): unknown {
  const builtin = process.getBuiltinModule(id)
  if (builtin === undefined) throw new Error(`Cannot find module '${id}'`)
  return builtin
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

/** Written whole or not at all: another sse-probe may be reading it. A cache is never a reason to fail. */
function save(file: string, script: Script) {
  const partial = `${file}.${process.pid}`
  try {
    writeFileSync(partial, script.createCachedData())
    renameSync(partial, file)
  } catch {
    // A full disk, or a folder where the file goes: a partial file left here would be one more
    // for every run, in a temp folder that is not cleaned up.
    try {
      unlinkSync(partial)
    } catch {}
  }
}
