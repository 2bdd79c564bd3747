import { CONNECT_TIMEOUT_MS } from '../../engine/request.ts'
import { DEMO_RESTART_AFTER, startDemoEndpoint } from '../../server/demo-endpoint.ts'
import { startLlmDemoEndpoint } from '../../server/llm-demo-endpoint.ts'
import { runUntilStopped } from '../../server/local-server.ts'
import type { DemoFlags } from '../args.ts'
import type { RunContext } from '../context.ts'
import { displayOptionsFrom, probeOptionsFrom } from '../options.ts'
import { createTerminal } from '../output.ts'
import { probeAndSummarise } from './probe.ts'

// The demo takes about 5s; a probe that has not ended well after that is stuck, and says so.
const DEMO_TIMEOUT_MS = 20_000

const DEMOS = {
  status: {
    start: startDemoEndpoint,
    intro: (url: string) =>
      `demo: a status stream on ${url}; its server restarts after event ${DEMO_RESTART_AFTER}, and the probe resumes\n`,
  },
  llm: {
    start: startLlmDemoEndpoint,
    intro: (url: string) =>
      `demo: an OpenAI-style chat completion streamed from ${url} (POST), with a tool call and usage\n`,
  },
}

/** `sse-probe demo [llm]`: a built-in endpoint, probed with the user's flags, or only served (--serve-only). */
export async function runDemo(flags: DemoFlags, context: RunContext): Promise<number> {
  const terminal = createTerminal(context)
  const demo = DEMOS[flags.kind]
  if (flags.serveOnly) {
    const endpoint = await demo.start({ port: flags.port, log: terminal.err })
    terminal.out(`${endpoint.url}\n`)
    terminal.err(
      'demo endpoint running: point a browser, curl -N or sse-probe at the URL above; Ctrl-C stops it\n',
    )
    return runUntilStopped(endpoint, context)
  }
  const display = displayOptionsFrom(flags)
  const endpoint = await demo.start({ port: flags.port })
  try {
    // The model demo is asked as a model is: a POST with a chat request.
    const body =
      flags.kind === 'llm'
        ? Buffer.from(
            '{"model":"sse-probe-demo-1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is the weather in Zürich?"}]}',
          )
        : undefined
    const options = probeOptionsFrom(
      new URL(endpoint.url),
      { ...flags, connectTimeout: CONNECT_TIMEOUT_MS, timeout: flags.timeout ?? DEMO_TIMEOUT_MS },
      body,
    )
    if (display.format !== 'json' && !display.quiet) terminal.err(demo.intro(endpoint.url))
    return await probeAndSummarise(options, display, context, flags)
  } finally {
    await endpoint.close()
  }
}
