import fastCheck from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createLlmExtension, type LlmExtensionOptions } from '../../src/llm/extension.ts'
import { detectProfile } from '../../src/llm/profiles.ts'
import type { LlmOutput, LlmSummary } from '../../src/llm/types.ts'

type Step = { t: number; data: string; event?: string } | { t: number; type: 'reconnect' | 'close' }

/** Feeds records to the extension as the engine would; returns what it decided. */
function run(steps: Step[], options: Partial<LlmExtensionOptions> = {}) {
  const outputs: LlmOutput[] = []
  const extension = createLlmExtension({
    mode: 'auto',
    onOutput: (o) => outputs.push(o),
    ...options,
  })
  const ends: { reason: string; message?: string }[] = []
  // After how many records the extension detached (the engine then stops handing it records).
  const detachedAfter: number[] = []
  let seen = 0
  const context = {
    now: () => 0,
    emit() {},
    end: (reason: string, message?: string) => ends.push({ reason, message }),
    detach: (which: unknown) => {
      if (which === extension) detachedAfter.push(seen)
    },
    signal: new AbortController().signal,
    request: { url: new URL('http://127.0.0.1/'), method: 'POST' },
  }
  for (const step of steps) {
    const record =
      'data' in step
        ? {
            type: 'event',
            t: step.t,
            attempt: 1,
            event: step.event ?? 'message',
            id: null,
            lastEventId: '',
            data: step.data,
            dt: null,
          }
        : {
            type: step.type,
            t: step.t,
            attempt: 2,
            delayMs: 0,
            lastEventId: null,
            cause: 'server-closed',
          }
    seen++
    extension.onRecord!(record as never, context as never)
  }
  const result = extension.finish!({ reason: 'server-closed', t: 0 })
  return {
    llm: result.summary?.llm as LlmSummary | undefined,
    expectations: result.expectations,
    ends,
    detachedAfter,
    outputs,
    extension,
  }
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'chatcmpl-t',
    object: 'chat.completion.chunk',
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  })
const text = (t: number, content: string) => ({ t, data: chunk({ content }) })

describe('detection', () => {
  it('recognises each profile by its first event', () => {
    expect(detectProfile('message', chunk({}))).toBe('openai-chat')
    expect(detectProfile('response.created', '{}')).toBe('openai-responses')
    expect(detectProfile('message', '{"type":"response.in_progress"}')).toBe('openai-responses')
    expect(detectProfile('message_start', '{"type":"message_start","message":{}}')).toBe(
      'anthropic',
    )
  })

  it('never fires on other streams', () => {
    expect(detectProfile('message', '{"type":"message_start"}')).toBeUndefined()
    expect(detectProfile('status', '{"progress":50,"choices":[]}')).toBeUndefined()
    expect(detectProfile('message', '[DONE]')).toBeUndefined()
    expect(detectProfile('message', '{"object":"chat.completion.chunk"')).toBeUndefined()
    const { llm, ends, expectations } = run(
      [{ t: 1, data: '{"a":1}' }, { t: 2, data: 'x' }, { t: 3, data: '[1]' }, text(4, 'late')],
      { expect: true },
    )
    expect(llm).toBeUndefined()
    expect(ends).toEqual([])
    expect(expectations).toEqual([
      { name: '--expect-llm', ok: false, actual: 'no LLM stream recognised' },
    ])
  })

  it('looks at the first three events with data only, then detaches from the probe', () => {
    const late = run([{ t: 1, data: '' }, { t: 1, data: 'a' }, { t: 2, data: 'b' }, text(3, 'hi')])
    expect(late.llm?.text).toBe('hi')
    expect(late.detachedAfter).toEqual([])
    const other = run([
      { t: 1, data: 'a' },
      { t: 1, data: '' },
      { t: 1, data: 'b' },
      { t: 2, data: 'c' },
      text(3, 'hi'),
    ])
    expect(other.llm).toBeUndefined()
    // Once, on the third event with data: the probe runs on as one without the profile.
    expect(other.detachedAfter).toEqual([4])
    // A forced profile never detaches.
    expect(
      run(
        [
          { t: 1, data: 'a' },
          { t: 1, data: 'b' },
          { t: 2, data: 'c' },
        ],
        { mode: 'openai-chat' },
      ).detachedAfter,
    ).toEqual([])
  })

  it('off ignores everything; a forced profile reads from the first event', () => {
    expect(run([text(1, 'hi')], { mode: 'off' }).llm).toBeUndefined()
    const forced = run([{ t: 1, data: '{"choices":[{"index":0,"delta":{"content":"hi"}}]}' }], {
      mode: 'openai-chat',
    })
    expect(forced.llm?.text).toBe('hi')
    expect(forced.extension.profile).toBe('openai-chat')
  })
})

describe('timing on the wire', () => {
  it('TTFT and TTFO from the send time of the connection that streamed, ITL between deltas', () => {
    const { llm } = run([
      { t: 100, data: chunk({ role: 'assistant', content: '' }) },
      { t: 120, data: chunk({ reasoning_content: 'hmm' }) },
      text(150, 'a'),
      text(150, 'b'),
      text(190, 'c'),
    ])
    expect(llm).toMatchObject({
      ttftMs: 120,
      ttfoMs: 150,
      deltas: 4,
      reads: 3,
      maxDeltasPerRead: 2,
    })
    expect(llm!.itlMs).toEqual({ p50: 30, p95: 40, max: 40 })
  })

  it('a reconnect restarts the clock and the answer; problems add up', () => {
    const { llm } = run([
      text(10, 'first'),
      { t: 50, type: 'close' },
      { t: 1000, type: 'reconnect' },
      text(1200, 'second'),
      { t: 1300, data: '[DONE]' },
    ])
    expect(llm).toMatchObject({ ttftMs: 200, text: 'second', deltas: 1 })
    expect(llm!.problems.map((p) => p.code)).toEqual(['no-end-marker'])
  })

  it('a reconnect after a connection that sent only its role chunk: TTFT from the re-sent request', () => {
    const { llm } = run([
      { t: 10, data: chunk({ role: 'assistant', content: '' }) },
      { t: 50, type: 'close' },
      { t: 1000, type: 'reconnect' },
      { t: 1100, data: chunk({ role: 'assistant', content: '' }) },
      { t: 1200, data: chunk({ reasoning_content: 'hmm' }) },
      text(1300, 'answer'),
      { t: 1300, data: '[DONE]' },
    ])
    expect(llm).toMatchObject({ ttftMs: 200, ttfoMs: 300, text: 'answer', deltas: 2 })
  })

  it('tokens per second over first to last delta; null when all came in one read or usage is unknown', () => {
    const usage = { usage: { prompt_tokens: 3, completion_tokens: 20 } }
    expect(
      run([text(0, 'a'), text(1000, 'b'), { t: 1000, data: chunk({}, usage) }]).llm!
        .tokensPerSecond,
    ).toBe(20)
    expect(
      run([text(5, 'a'), text(5, 'b'), { t: 5, data: chunk({}, usage) }]).llm!.tokensPerSecond,
    ).toBeNull()
    expect(run([text(0, 'a'), text(1000, 'b')]).llm).toMatchObject({
      tokensPerSecond: null,
      usage: null,
      inputTokens: null,
    })
  })

  it('batched: 20 deltas or more and a median of 4 or more per read', () => {
    const batch = (perRead: number, count: number) =>
      Array.from({ length: count }, (_, i) => text(Math.floor(i / perRead) * 30, 'x'))
    expect(run(batch(4, 20)).extension.batched).toBe(true)
    expect(run(batch(3, 30)).extension.batched).toBe(false)
    expect(run(batch(5, 15)).extension.batched).toBe(false)
    // Reads of 3 and 5 deltas in turn: a median of 4 (the mean of the middle two), of 3 and 4: 3.5.
    const alternating = (a: number, b: number, reads: number) =>
      Array.from({ length: reads }, (_, read) =>
        Array.from({ length: read % 2 ? b : a }, () => text(read * 30, 'x')),
      ).flat()
    expect(run(alternating(3, 5, 6)).extension.batched).toBe(true)
    expect(run(alternating(3, 4, 6)).extension.batched).toBe(false)
  })
})

describe('what is stitched', () => {
  it('an empty delta is not a token', () => {
    const { llm } = run([
      { t: 1, data: chunk({ content: '' }) },
      { t: 2, data: chunk({ content: null }) },
      { t: 3, data: '[DONE]' },
    ])
    expect(llm).toMatchObject({ deltas: 0, ttftMs: null, itlMs: null })
    expect(llm!.problems).toEqual([
      {
        code: 'no-deltas',
        message: 'the stream carried no text, reasoning or tool-call arguments',
      },
    ])
  })

  it('invalid tool arguments are a problem, and fail --expect-llm', () => {
    const call = (args: string, head = false) => ({
      index: 0,
      ...(head && { id: 'c1', function: { name: 'f', arguments: args } }),
      ...(!head && { function: { arguments: args } }),
    })
    const { llm, expectations } = run(
      [
        { t: 1, data: chunk({ tool_calls: [call('{"a":', true)] }) },
        { t: 2, data: chunk({ tool_calls: [call('1')] }) },
        { t: 3, data: '[DONE]' },
      ],
      { expect: true },
    )
    expect(llm!.toolCalls).toEqual([{ id: 'c1', name: 'f', arguments: '{"a":1', valid: false }])
    expect(llm!.problems).toHaveLength(1)
    expect(llm!.problems[0]!.code).toBe('invalid-tool-arguments')
    expect(llm!.problems[0]!.message).toMatch(/^tool call 0 \(f\): arguments are not JSON: /)
    expect(expectations).toEqual([
      { name: '--expect-llm', ok: false, actual: 'invalid-tool-arguments' },
    ])
  })

  it('[DONE] ends with end-data; a clean stream holds --expect-llm', () => {
    const { ends, expectations } = run(
      [text(1, 'hi'), { t: 2, data: '[DONE]' }, { t: 3, type: 'close' }],
      { expect: true },
    )
    expect(ends).toEqual([{ reason: 'end-data', message: undefined }])
    expect(expectations).toEqual([{ name: '--expect-llm', ok: true, actual: 'openai-chat' }])
  })

  it('message_stop ends with end-event; the model is the first non-empty one', () => {
    const ev = (type: string, data: object) => ({
      t: 1,
      event: type,
      data: JSON.stringify({ type, ...data }),
    })
    const { ends, llm } = run([
      ev('message_start', { message: { model: '', usage: { input_tokens: 1, output_tokens: 1 } } }),
      ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }),
      ev('message_stop', {}),
    ])
    expect(ends).toEqual([{ reason: 'end-event', message: undefined }])
    expect(llm).toMatchObject({
      model: null,
      finishReason: 'end_turn',
      usage: { input_tokens: 1, output_tokens: 7 },
      outputTokens: 7,
    })
  })

  it('live output: text and reasoning as they come, a tool call once complete, first choice only', () => {
    const tool = (id: string | undefined, index: number, args: string) => ({
      index,
      ...(id && { id }),
      function: { ...(id && { name: `f${index}` }), arguments: args },
    })
    const { outputs } = run([
      { t: 1, data: chunk({ reasoning: 'r' }) },
      text(2, 'a'),
      {
        t: 3,
        data: JSON.stringify({
          object: 'chat.completion.chunk',
          choices: [{ index: 1, delta: { content: 'other' } }],
        }),
      },
      { t: 4, data: chunk({ tool_calls: [tool('c0', 0, '{}')] }) },
      { t: 5, data: chunk({ tool_calls: [tool('c1', 1, '{"x"')] }) },
      { t: 6, data: chunk({ tool_calls: [tool(undefined, 1, ':1}')] }) },
      {
        t: 7,
        data: JSON.stringify({
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }],
        }),
      },
    ])
    expect(outputs).toEqual([
      { kind: 'reasoning', text: 'r' },
      { kind: 'text', text: 'a' },
      { kind: 'tool-call', call: { id: 'c0', name: 'f0', arguments: '{}', valid: true } },
      { kind: 'tool-call', call: { id: 'c1', name: 'f1', arguments: '{"x":1}', valid: true } },
    ])
  })

  it('a refusal: shown live, apart, no delta; no-deltas quotes its start on one line', () => {
    // 99 characters, then an emoji: the quote ends before it, not between its halves.
    const refusal = `No.\n${'x'.repeat(95)}😀 and more`
    const { llm, outputs } = run([
      { t: 1, data: chunk({ role: 'assistant', content: '', refusal: null }) },
      { t: 2, data: chunk({ refusal: refusal.slice(0, 50) }) },
      { t: 3, data: chunk({ refusal: refusal.slice(50) }) },
      { t: 4, data: chunk({}, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) },
      { t: 5, data: '[DONE]' },
    ])
    expect(outputs).toEqual([
      { kind: 'refusal', text: refusal.slice(0, 50) },
      { kind: 'refusal', text: refusal.slice(50) },
    ])
    expect(llm).toMatchObject({ text: '', deltas: 0, ttftMs: null, finishReason: 'stop' })
    expect(llm!.problems).toEqual([
      {
        code: 'no-deltas',
        message: `the model refused: "No.\\n${'x'.repeat(95)}"… (the stream carried no text, reasoning or tool-call arguments)`,
      },
    ])
  })

  it('no-deltas names the choice that refused, and an Anthropic refusal by its stop reason', () => {
    const choices = (...cs: unknown[]) =>
      JSON.stringify({ object: 'chat.completion.chunk', choices: cs })
    const chat = run([
      { t: 1, data: choices({ index: 0, delta: { role: 'assistant' } }) },
      { t: 2, data: choices({ index: 1, delta: { refusal: 'No.' } }) },
      { t: 3, data: '[DONE]' },
    ])
    expect(chat.llm!.problems[0]!.message).toMatch(/^the model refused \(choice 1\): "No\." \(/)
    const anthropic = run([
      { t: 1, event: 'message_start', data: '{"type":"message_start","message":{"model":"c"}}' },
      {
        t: 2,
        event: 'message_delta',
        data: '{"type":"message_delta","delta":{"stop_reason":"refusal"}}',
      },
      { t: 3, event: 'message_stop', data: '{"type":"message_stop"}' },
    ])
    expect(anthropic.llm!.problems).toEqual([
      {
        code: 'no-deltas',
        message:
          'the model refused (stop reason refusal): the stream carried no text, reasoning or tool-call arguments',
      },
    ])
  })

  it('long answers: text, reasoning and arguments of thousands of pieces, in order', () => {
    const pieces = Array.from({ length: 2500 }, (_, i) => `p${i};`)
    // The first fragment names the call, as the providers do.
    const args = (i: number) =>
      i === 0
        ? { id: 'c', function: { name: 'f', arguments: '[' } }
        : { function: { arguments: '1' } }
    const { llm } = run(
      pieces.flatMap((piece, i) => [
        text(i, piece),
        { t: i, data: chunk({ reasoning_content: piece }) },
        { t: i, data: chunk({ tool_calls: [{ index: 0, ...args(i) }] }) },
      ]),
    )
    expect(llm!.text).toBe(pieces.join(''))
    expect(llm!.reasoning).toBe(pieces.join(''))
    expect(llm!.toolCalls[0]!.arguments).toBe(`[${'1'.repeat(2499)}`)
    expect(llm!.deltas).toBe(7500)
  })

  it('a text of tens of thousands of pieces comes back code unit for code unit: halves of a pair, lone surrogates, NUL', () => {
    const latin1 = [' é', '\u00ff', 'x'.repeat(40), '\u0000', '']
    const kinds = [...latin1, '\ud83d', '\ude00', '\ud800', '日本']
    // Latin-1 alone for the first batches (a byte a character), then anything.
    const pieces = Array.from(
      { length: 40_000 },
      (_, i) => `${i < 5000 ? latin1[i % latin1.length] : kinds[i % kinds.length]}${i}`,
    )
    const { llm } = run(pieces.map((piece, i) => text(i, piece)))
    expect(llm!.text.length).toBeGreaterThan(400_000)
    expect(llm!.text).toBe(pieces.join(''))
    const { llm: narrow } = run(pieces.slice(0, 5000).map((piece, i) => text(i, piece)))
    expect(narrow!.text).toBe(pieces.slice(0, 5000).join(''))
  })

  it('a Responses function call without argument deltas takes the arguments of its item', () => {
    const ev = (type: string, data: object) => ({
      t: 1,
      event: type,
      data: JSON.stringify({ type, ...data }),
    })
    const item = (args: string) => ({
      type: 'function_call',
      id: 'fc',
      call_id: 'call_1',
      name: 'f',
      arguments: args,
    })
    const { llm } = run([
      ev('response.created', { response: { model: 'm', output: [] } }),
      ev('response.output_item.added', { output_index: 0, item: item('') }),
      ev('response.output_item.done', { output_index: 0, item: item('{"a":1}') }),
      ev('response.incomplete', {
        response: { status: 'incomplete', usage: { input_tokens: 1, output_tokens: 2 } },
      }),
    ])
    expect(llm).toMatchObject({
      toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":1}', valid: true }],
      finishReason: 'incomplete',
      outputTokens: 2,
    })
  })

  it('a Responses text part given whole is text once: not again after its deltas, whatever names the part', () => {
    const ev = (type: string, data: object) => ({
      t: 1,
      event: type,
      data: JSON.stringify({ type, ...data }),
    })
    const message = (text: string, id?: string) => ({
      type: 'message',
      id,
      content: [{ type: 'output_text', text }],
    })
    const at = (named: { output_index?: number; item_id?: string }) => [
      ev('response.created', { response: { model: 'm', output: [] } }),
      ev('response.output_text.delta', { ...named, content_index: 0, delta: 'Hel' }),
      ev('response.output_text.delta', { ...named, content_index: 0, delta: 'lo' }),
      ev('response.output_text.done', { ...named, content_index: 0, text: 'Hello' }),
      ev('response.content_part.done', {
        ...named,
        content_index: 0,
        part: { type: 'output_text', text: 'Hello' },
      }),
      ev('response.output_item.done', { ...named, item: message('Hello', named.item_id) }),
      // A second part, given whole only: text after the first.
      ev('response.output_text.done', { ...named, content_index: 1, text: ' there' }),
      ev('response.completed', { response: { status: 'completed', output: [message('x')] } }),
    ]
    for (const named of [{ output_index: 0, item_id: 'msg' }, { item_id: 'msg' }, {}])
      expect(run(at(named)).llm, JSON.stringify(named)).toMatchObject({
        text: 'Hello there',
        deltas: 3,
        problems: [],
      })
    // Deltas that name no content index: the first part's, which the item's done names by position.
    const unindexed = run([
      ev('response.created', { response: { model: 'm', output: [] } }),
      ev('response.output_text.delta', { output_index: 0, item_id: 'msg', delta: 'Hello' }),
      ev('response.output_item.done', { output_index: 0, item: message('Hello', 'msg') }),
      ev('response.completed', { response: { status: 'completed', output: [] } }),
    ])
    expect(unindexed.llm).toMatchObject({ text: 'Hello', deltas: 1 })
    // An in-progress snapshot's text is not the answer: the final response's is.
    const snapshot = run([
      ev('response.created', { response: { model: 'm', output: [] } }),
      ev('response.in_progress', { response: { status: 'in_progress', output: [message('Hel')] } }),
      ev('response.completed', { response: { status: 'completed', output: [message('Hello')] } }),
    ])
    expect(snapshot.llm).toMatchObject({ text: 'Hello', finishReason: 'completed' })
  })

  it('Anthropic input_json_delta of a block that is not a tool use is no call, as the SDK ignores it', () => {
    const ev = (type: string, data: object) => ({
      t: 1,
      event: type,
      data: JSON.stringify({ type, ...data }),
    })
    const { llm } = run([
      ev('message_start', { message: { model: 'm', usage: { input_tokens: 1 } } }),
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
      ev('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{' },
      }),
      ev('content_block_delta', {
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{' },
      }),
      ev('message_stop', {}),
    ])
    expect(llm).toMatchObject({ text: 'Hi', toolCalls: [], problems: [] })
  })
})

describe('templates of Chat chunks (the fast path)', () => {
  it('leaves a chunk with usage or an error beside its text to the full parse', () => {
    const usage = { completion_tokens: 2 }
    const { llm, ends } = run([
      text(1, 'a'),
      // Read fast, and the template of the next ones, which differ from it by more than the text.
      text(2, 'b'),
      { t: 2, data: chunk({ content: 'c' }, { usage }) },
      text(3, 'd'),
      { t: 3, data: chunk({ content: 'e' }, { id: 'x' }) },
      { t: 3, data: chunk({ content: 'f' }, { error: { message: 'boom' } }) },
    ])
    expect(llm).toMatchObject({ text: 'abcde', usage, outputTokens: 2 })
    expect(ends).toEqual([{ reason: 'stream-error', message: 'boom' }])
  })

  it('leaves a raw control character in the text to the full parse, which rejects it as JSON does', () => {
    const raw = (content: string) => ({ t: 3, data: chunk({ content: 'X' }).replace('X', content) })
    const escaped = run([text(1, 'a'), text(2, 'b'), raw('c\\u0001'), text(4, 'd')])
    expect(escaped.llm!.text).toBe('abc\u0001d')
    // The SDKs' JSON.parse throws on it: the stream fails there.
    const { llm, ends } = run([text(1, 'a'), text(2, 'b'), raw('c\u0001'), text(4, 'd')])
    expect(llm!.text).toBe('ab')
    expect(ends).toEqual([
      { reason: 'stream-error', message: expect.stringContaining('data that is not JSON') },
    ])
  })

  it('learns from and reads no chunk that means more, or less, to a full parse than its text', () => {
    const x = chunk({ content: 'X' })
    // What a full parse reads in each: its text, or nothing, and a usage; or no JSON, the end.
    const odd: [string, string, string | undefined, object | null][] = [
      ['a control character in the id', x.replace('{', '{"id":"\u0001",'), undefined, null],
      ['cut JSON', x.slice(0, -1), undefined, null],
      ['a second choices', x.replace(/}$/, ',"choices":[]}'), '', null],
      ['choices nested', `${x.replace('"choices"', '"choices":[],"in":{"choices"')}}`, '', null],
      [
        'a usage key with an escape',
        x.replace('{', '{"us\\u0061ge":{"completion_tokens":5},'),
        'X',
        { completion_tokens: 5 },
      ],
    ]
    // As the first text chunk read fast (a template is learnt from it), and after a template
    // that failed on it.
    for (const start of [['a'], ['a', 'b']])
      for (const [name, data, said, usage] of odd) {
        const { llm, ends } = run([
          ...start.map((t) => text(1, t)),
          { t: 2, data },
          text(3, 'Z'),
          text(4, 'Z'),
        ])
        const stitched = said === undefined ? start.join('') : `${start.join('')}${said}ZZ`
        expect(llm, name).toMatchObject({ text: stitched, usage })
        expect(ends.map((e) => e.reason)).toEqual(said === undefined ? ['stream-error'] : [])
      }
    const error = x.replace('{', '{"\\u0065rror":{"message":"boom"},')
    expect(run([text(1, 'a'), { t: 2, data: error }]).ends).toEqual([
      { reason: 'stream-error', message: 'boom' },
    ])
  })

  it('a template takes any padding OpenAI adds after the choices, and nothing else', () => {
    const padded = (content: string, obfuscation: string) => ({
      t: 1,
      data: chunk({ content }, { usage: null, obfuscation }),
    })
    const { llm } = run([
      text(1, 'a'),
      padded('b', 'Qm'),
      padded('c', 'x9Zk'),
      padded('"d"', ''),
      padded('e', 'p"q'),
      { t: 2, data: padded('f', 'r').data.replace('"r"', '"r","usage":{"completion_tokens":9}') },
    ])
    expect(llm).toMatchObject({ text: 'abc"d"ef', usage: { completion_tokens: 9 } })
  })

  it('stitches exactly what a full parse does, whatever the text and the chunk around it', () => {
    const fc = fastCheck
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.constantFrom('"', '\\', '"content":"x"', '\u2028', 'é😀', 'error', '"usage":{}'),
          ),
          { maxLength: 8 },
        ),
        fc.boolean(),
        // OpenAI's padding: alike in a run of chunks, or different in each.
        fc.option(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u0001'))),
        fc.boolean(),
        (texts, logprobs, padding, perChunk) => {
          const chunks = texts.map((content, i) => ({
            t: i + 2,
            data: JSON.stringify({
              id: 'c',
              object: 'chat.completion.chunk',
              model: 'm',
              choices: [
                {
                  index: 0,
                  delta: { content },
                  logprobs: logprobs ? { content: [] } : null,
                  finish_reason: null,
                },
              ],
              ...(padding !== null && { obfuscation: perChunk ? `${padding}${i}` : padding }),
            }),
          }))
          const { llm } = run([text(1, 'start:'), ...chunks])
          expect(llm!.text).toBe(`start:${texts.join('')}`)
          expect(llm!.deltas).toBe(1 + texts.filter((t) => t !== '').length)
        },
      ),
    )
  })
})
