/**
 * Patterns from the user (--expect-data, --grep, inspect's filter, a schema's `pattern`) run on
 * what a server sends. One that backtracks catastrophically (`^(a+)+$` on `aaa…a!`) would hold
 * the event loop, and every timeout with it, for minutes. V8 can finish such a match in its
 * linear-time engine instead, once a match has backtracked 50,000 times: set once, before the
 * first such pattern is made (V8 reads it as it compiles one). That engine takes no `u` flag.
 */
let guarded = false
function guardBacktracking(): void {
  if (guarded) return
  guarded = true
  process
    .getBuiltinModule('node:v8')
    .setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')
}

/** A regular expression from the user, protected from catastrophic backtracking (without `u`). */
export function userRegex(source: string | RegExp, flags?: string): RegExp {
  guardBacktracking()
  return new RegExp(source, flags)
}
