import { CONNECT_TIMEOUT_MS, type DemoFlags, toProbeOptions } from '../options.ts'
import { probeAndSummarise, type RunContext } from '../run.ts'
import { DEMO_RESTART_AFTER, startDemoEndpoint } from '../server/demo-endpoint.ts'
import { runUntilStopped } from '../server/local-server.ts'

// The demo takes about 5s; a probe that has not ended well after that is stuck, and says so.
const DEMO_TIMEOUT_MS = 20_000

/** `sse-probe demo`: the built-in endpoint, probed with the user's flags, or only served (--serve-only). */
export async function runDemo(flags: DemoFlags, context: RunContext): Promise<number> {
  if (flags.serveOnly) {
    const endpoint = await startDemoEndpoint({
      port: flags.port,
      log: (text) => context.stderr.write(text),
    })
    context.stdout.write(`${endpoint.url}\n`)
    context.stderr.write(
      'demo endpoint running: point a browser, curl -N or sse-probe at the URL above; Ctrl-C stops it\n',
    )
    return runUntilStopped(endpoint, context.process)
  }
  const endpoint = await startDemoEndpoint({ port: flags.port })
  try {
    const options = toProbeOptions(new URL(endpoint.url), {
      ...flags,
      connectTimeout: CONNECT_TIMEOUT_MS,
      timeout: flags.timeout ?? DEMO_TIMEOUT_MS,
    })
    if (options.format !== 'json' && !options.quiet) {
      context.stderr.write(
        `demo: a status stream on ${endpoint.url}; its server restarts after event ${DEMO_RESTART_AFTER}, and the probe resumes\n`,
      )
    }
    return await probeAndSummarise(options, undefined, context)
  } finally {
    await endpoint.close()
  }
}
