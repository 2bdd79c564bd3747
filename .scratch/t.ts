import { createParser } from 'eventsource-parser'
import { createAssembler } from '../src/llm/assembler.ts'
import { fullParser } from '../src/llm/profiles.ts'
import { withTemplates } from '../src/llm/template.ts'
const path = process.argv[2]
const text = await (await fetch(`http://127.0.0.1:8767/${path}`)).text()
const events: { type: string; data: string }[] = []
createParser({ onEvent: (m) => events.push({ type: m.event ?? 'message', data: m.data }) }).feed(text)
for (let round = 0; round < 3; round++) {
  const slot = { text: undefined as string | undefined }
  const a = createAssembler('openai-chat', withTemplates(fullParser('openai-chat'), slot), 0)
  let t0 = performance.now(); let n = 0
  for (const e of events) { a.event(e.type, e.data, 0); if (slot.text !== undefined) n++ }
  const t1 = performance.now()
  let s = 0; for (const e of events) s += JSON.stringify(e.data).length
  const t2 = performance.now()
  const full = createAssembler('openai-chat', fullParser('openai-chat'), 0)
  for (const e of events) full.event(e.type, e.data, 0)
  const t3 = performance.now()
  console.log(path, 'templated', (t1 - t0).toFixed(1), 'ms; jsonTexts', n, '; stringify', (t2 - t1).toFixed(1), '; full parse', (t3 - t2).toFixed(1))
}
