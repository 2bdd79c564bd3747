import { createParser } from 'eventsource-parser'
import { createAssembler } from '../src/llm/assembler.ts'
import { fullParser } from '../src/llm/profiles.ts'
import { withTemplates } from '../src/llm/template.ts'
const text = await (await fetch(`http://127.0.0.1:8767/${process.argv[2]}`)).text()
const events: { type: string; data: string }[] = []
createParser({ onEvent: (m) => events.push({ type: m.event ?? 'message', data: m.data }) }).feed(text)
for (let round = 0; round < 8; round++) {
  const slot = { text: undefined as string | undefined }
  const a = createAssembler('openai-chat', withTemplates(fullParser('openai-chat'), slot), 0)
  const t0 = performance.now()
  for (const e of events) a.event(e.type, e.data, 0)
  if (round > 5) console.log((performance.now() - t0).toFixed(1))
}
