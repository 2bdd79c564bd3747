import { main } from './cli.ts'

// A last resort: whatever slipped through is one line, not a stack trace.
process.on('uncaughtException', (error) => {
  process.stderr.write(`sse-probe: internal error: ${error.message}\n`)
  process.exit(70)
})

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  process,
})
