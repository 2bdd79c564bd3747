import { CONNECT_TIMEOUT_MS } from '../../engine/request.ts'
import { DEMO_RESTART_AFTER, startDemoEndpoint } from '../../server/demo-endpoint.ts'
import { runUntilStopped } from '../../server/local-server.ts'
import type { DemoFlags } from '../args.ts'
import { createTerminal } from '../output.ts'
import {
  displayOptionsFrom,
  probeAndSummarise,
  probeOptionsFrom,
  type RunContext,
} from './probe.ts'

// The demo takes about 5s; a probe that has not ended well after that is stuck, and says so.
const DEMO_TIMEOUT_MS = 20_000

/** `sse-probe demo`: the built-in endpoint, probed with the user's flags, or only served (--serve-only). */
export async function runDemo(flags: DemoFlags, context: RunContext): Promise<number> {
  const terminal = createTerminal(context)
  if (flags.serveOnly) {
    const endpoint = await startDemoEndpoint({ port: flags.port, log: terminal.err })
    terminal.out(`${endpoint.url}\n`)
    terminal.err(
      'demo endpoint running: point a browser, curl -N or sse-probe at the URL above; Ctrl-C stops it\n',
    )
    return runUntilStopped(endpoint, context.process)
  }
  const display = displayOptionsFrom(flags)
  const endpoint = await startDemoEndpoint({ port: flags.port })
  try {
    const options = probeOptionsFrom(
      new URL(endpoint.url),
      { ...flags, connectTimeout: CONNECT_TIMEOUT_MS, timeout: flags.timeout ?? DEMO_TIMEOUT_MS },
      undefined,
    )
    if (display.format !== 'json' && !display.quiet) {
      terminal.err(
        `demo: a status stream on ${endpoint.url}; its server restarts after event ${DEMO_RESTART_AFTER}, and the probe resumes\n`,
      )
    }
    return await probeAndSummarise(options, display, context)
  } finally {
    await endpoint.close()
  }
}
