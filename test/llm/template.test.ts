// The templates that read most deltas without a parse must read exactly what the full parse does.
import { createParser } from 'eventsource-parser'
import fastCheck from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DATA_JSON } from '../../src/engine/json-text.ts'
import { createAssembler, type ProfileParser, type Sink } from '../../src/llm/assembler.ts'
import { fullParser } from '../../src/llm/profiles.ts'
import { withTemplates } from '../../src/llm/template.ts'
import type { LlmProfile } from '../../src/llm/types.ts'
import * as streams from '../helpers/llm-streams.ts'

interface Event {
  type: string
  data: string
}

const sse = (text: string): Event[] => {
  const events: Event[] = []
  const parser = createParser({
    onEvent: (message) => events.push({ type: message.event ?? 'message', data: message.data }),
  })
  parser.feed(text)
  return events
}

/** What an assembler makes of the events, with or without templates, and how many full parses that took. */
function read(profile: LlmProfile, events: Event[], templates: boolean) {
  let parses = 0
  const full = fullParser(profile)
  const counted: ProfileParser = (type, data, sink) => {
    parses++
    return full(type, data, sink)
  }
  const assembler = createAssembler(profile, templates ? withTemplates(counted) : counted, 0)
  const records = events.map(({ data }) => ({ data }) as { data: string; [DATA_JSON]?: string })
  // Four events a read: a template's are put off to the end of theirs, or to a call of another.
  const signals = events.map((event, i) => {
    return assembler.event(event.type, event.data, Math.floor(i / 4), records[i])
  })
  const summary = assembler.summary([])
  // What a template gives the --json writer must be what JSON.stringify would have written.
  let jsonTexts = 0
  for (const record of records) {
    if (record[DATA_JSON] === undefined) continue
    expect(record[DATA_JSON]).toBe(JSON.stringify(record.data))
    jsonTexts++
  }
  return { summary, signals, parses, jsonTexts }
}

/** Reads the events both ways: equal in every field; the full parses the templates took. */
function readsAsFullParse(profile: LlmProfile, events: Event[]): number {
  const templated = read(profile, events, true)
  const full = read(profile, events, false)
  expect(templated.summary).toEqual(full.summary)
  expect(templated.signals).toEqual(full.signals)
  return templated.parses
}

const chat = (delta: object, extra: object = {}) => ({
  type: 'message',
  data: JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'gpt-test',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
    ...extra,
  }),
})
const anthropic = (type: string, data: object) => ({
  type,
  data: JSON.stringify({ type, ...data }),
})
const responses = (type: string, sequence: number, data: object, obfuscation?: string) => ({
  type,
  data: JSON.stringify({
    type,
    sequence_number: sequence,
    ...data,
    ...(obfuscation !== undefined && { obfuscation }),
  }),
})

/** JSON as Python's json.dumps writes it: a space after `:` and `,`, and (ensure_ascii) \u escapes for all but ASCII. */
const pythonJson = (value: unknown): string =>
  (Array.isArray(value)
    ? `[${value.map(pythonJson).join(', ')}]`
    : typeof value === 'object' && value !== null
      ? `{${Object.entries(value)
          .map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`)
          .join(', ')}}`
      : JSON.stringify(value)
  ).replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** Deltas of each profile and shape: an event for each string, as the providers write them. */
const SHAPES: Record<string, [LlmProfile, (text: string, i: number) => Event]> = {
  'Chat text': ['openai-chat', (text) => chat({ content: text })],
  'Chat text with padding': [
    'openai-chat',
    (text, i) => chat({ content: text }, { usage: null, obfuscation: 'Qx9'.slice(i % 3) }),
  ],
  'Chat reasoning_content': ['openai-chat', (text) => chat({ reasoning_content: text })],
  'Chat tool arguments': [
    'openai-chat',
    (text) => chat({ tool_calls: [{ index: 1, function: { arguments: text } }] }),
  ],
  'vLLM text (stop_reason)': [
    'openai-chat',
    (text) => ({
      type: 'message',
      data: JSON.stringify({
        id: 'chatcmpl-v',
        object: 'chat.completion.chunk',
        model: 'llama',
        choices: [{ index: 0, delta: { content: text }, finish_reason: null, stop_reason: null }],
      }),
    }),
  ],
  'Azure text (keys in order)': [
    'openai-chat',
    (text) => ({
      type: 'message',
      data: JSON.stringify({
        choices: [
          {
            content_filter_results: { hate: { filtered: false, severity: 'safe' } },
            delta: { content: text },
            finish_reason: null,
            index: 0,
          },
        ],
        id: 'chatcmpl-az',
        model: 'gpt-4o',
        object: 'chat.completion.chunk',
      }),
    }),
  ],
  'Anthropic text_delta': [
    'anthropic',
    (text) => anthropic('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
  ],
  'Anthropic thinking_delta': [
    'anthropic',
    (thinking) =>
      anthropic('content_block_delta', {
        index: 0,
        delta: { type: 'thinking_delta', thinking },
      }),
  ],
  'Anthropic input_json_delta': [
    'anthropic',
    (partial_json) =>
      anthropic('content_block_delta', {
        index: 2,
        delta: { type: 'input_json_delta', partial_json },
      }),
  ],
  'Responses output_text (counter, padding)': [
    'openai-responses',
    (delta, i) =>
      responses(
        'response.output_text.delta',
        i + 4,
        { item_id: 'msg_1', output_index: 1, content_index: 0, delta, logprobs: [] },
        'pad'.slice(i % 3),
      ),
  ],
  // Two varying values before the delta, and escapes in the fixed bytes: the JSON text of each
  // data is then pieced together by a walk through the head.
  'Responses output_text (padding first, an escaped model)': [
    'openai-responses',
    (delta, i) => ({
      type: 'response.output_text.delta',
      data: `{"type":"response.output_text.delta","sequence_number":${i + 4},"obfuscation":"${'pad'.slice(i % 3)}","item_id":"msg_\\u00e9\\"1\\/","delta":${JSON.stringify(delta)},"sequence_number":${i},"obfuscation":"x${i}"}`,
    }),
  ],
  'Responses function_call_arguments': [
    'openai-responses',
    (delta, i) =>
      responses('response.function_call_arguments.delta', i + 9, {
        item_id: 'fc_1',
        output_index: 2,
        delta,
      }),
  ],
}

/** The events a stream starts with, so that what follows is a tool call's arguments or text. */
const OPENING: Record<LlmProfile, Event[]> = {
  'openai-chat': [
    chat({ role: 'assistant', content: '' }),
    chat({ tool_calls: [{ index: 1, id: 'call_1', function: { name: 'f', arguments: '' } }] }),
  ],
  anthropic: [
    anthropic('message_start', { message: { model: 'claude', usage: { input_tokens: 3 } } }),
    anthropic('content_block_start', {
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
    }),
  ],
  'openai-responses': [
    responses('response.created', 0, { response: { model: 'gpt', output: [] } }),
    responses('response.output_item.added', 1, {
      output_index: 2,
      item: { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '' },
    }),
  ],
}

const deltas = (shape: string, texts: string[]) => {
  const [profile, event] = SHAPES[shape]!
  return { profile, events: [...OPENING[profile], ...texts.map(event)] }
}

describe('templates', () => {
  for (const shape of Object.keys(SHAPES))
    it(`read a run of ${shape} deltas with the full parse of the first alone`, () => {
      const texts = Array.from({ length: 100 }, (_, i) => ` tok${i}`)
      const { profile, events } = deltas(shape, texts)
      // The opening events, the first delta and its check with another string.
      expect(readsAsFullParse(profile, events)).toBe(OPENING[profile].length + 2)
      // The JSON text of each data the template read (all but the first delta) for --json.
      expect(read(profile, events, true).jsonTexts).toBe(texts.length - 1)
    })

  it('read deltas with escapes, quotes, keys and any character as the full parse does', () => {
    fastCheck.assert(
      fastCheck.property(
        fastCheck.constantFrom(...Object.keys(SHAPES)),
        fastCheck.array(
          fastCheck.oneof(
            fastCheck.string({ unit: 'binary' }),
            fastCheck.constantFrom(
              '"',
              '\\',
              '',
              '"content":"x"',
              '"text":"',
              'gpt-test',
              'msg_1',
              '\u2028',
              'é😀',
              '\ud800',
              'error',
              '"usage":{}',
            ),
          ),
          { maxLength: 12 },
        ),
        (shape, texts) => {
          const { profile, events } = deltas(shape, ['plain', ...texts])
          readsAsFullParse(profile, events)
        },
      ),
    )
  })

  it('read the bytes providers write (\\u escapes, raw control characters, cut JSON) as the full parse does', () => {
    for (const shape of Object.keys(SHAPES)) {
      const { profile, events } = deltas(shape, ['a', 'b', 'c\u00e9', 'd', 'e', 'f'])
      const [, , , unicode, control, cut] = events.slice(OPENING[profile].length - 1)
      unicode!.data = unicode!.data.replace('é', '\\u00e9')
      control!.data = control!.data.replace('e', '\u0001')
      cut!.data = cut!.data.slice(0, -1)
      readsAsFullParse(profile, events)
    }
  })

  it('leave events of another type, or that mean more than a delta, to the full parse', () => {
    const text = (t: string) =>
      anthropic('content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } })
    const { signals, summary } = read(
      'anthropic',
      [
        text('a'),
        text('b'),
        anthropic('ping', {}),
        text('c'),
        // The same bytes sent as an `error` event: the stream failed.
        { ...text('d'), type: 'error' },
      ],
      true,
    )
    expect(summary.text).toBe('abc')
    expect(signals.at(-1)).toEqual({ error: expect.any(String) })
    const usage = { completion_tokens: 2 }
    readsAsFullParse('openai-chat', [
      chat({ content: 'a' }),
      chat({ content: 'b' }),
      chat({ content: 'c' }, { usage }),
      chat({ content: 'd' }, { error: { message: 'boom' } }),
    ])
  })

  it('are not learnt where the string is found elsewhere in the bytes, or what is found is not what was read', () => {
    const model = chat({ content: 'gpt-test' })
    // A \u escape in the text, and the same string, as written by JSON.stringify, as a key.
    const key = {
      ...chat({ content: 'choices' }),
      data: chat({ content: 'X' }).data.replace('"X"', '"\\u0063hoices"'),
    }
    const then = [chat({ content: 'a' }), chat({ content: 'b' }), chat({ content: 'c' })]
    // The model's name is found twice: not learnt. The second is learnt (one more parse, its
    // check), the others read by it.
    expect(readsAsFullParse('openai-chat', [model, ...then])).toBe(3)
    // Found once, but as a key: its check (with another string there) reads no text. Learnt, it
    // would read 'other' as the text of the next.
    const otherKey = { ...key, data: key.data.replace('"choices"', '"other"') }
    expect(readsAsFullParse('openai-chat', [key, otherKey, ...then])).toBe(5)
  })

  it('are not made of more bytes around the delta than V8 compiles into a regular expression', () => {
    // V8 compiles no run of more than 32,767 fixed characters ("too large"), nor thousands of
    // varying fields ("stack overflow"): it threw on the second event, each time.
    const pad = 'p'.repeat(40_000)
    const fields = Object.fromEntries(
      Array.from({ length: 10_000 }, (_, i) => [`k${i}`, { obfuscation: 'x' }]),
    )
    for (const extra of [{ id: pad }, { trace: pad }, fields]) {
      const events = ['a', 'b', 'c'].map((text) => chat({ content: text }, extra))
      expect(readsAsFullParse('openai-chat', events)).toBe(3)
    }
  })

  it("read a delta of millions of escaped characters (past V8's backtracking stack) as the full parse does", () => {
    // The template's expression took a step per character or escape of the string and threw.
    const big = `${'c'.repeat(9_000_000)}\n`
    readsAsFullParse('openai-chat', [
      chat({ content: 'a' }),
      chat({ content: 'b' }),
      chat({ content: big }),
    ])
    // Written with escapes of its own, where the template is learnt by reading the data's strings.
    const events = ['你', '好', '你'.repeat(3_000_000), '好'].map((text) => {
      const event = chat({ content: text })
      return { ...event, data: pythonJson(JSON.parse(event.data)) }
    })
    readsAsFullParse('openai-chat', events)
  })

  it('learn the values that change from chunk to chunk where the profile reads none (an id, a timestamp) or only its usage', () => {
    const texts = Array.from({ length: 100 }, (_, i) => ` t${i}`)
    // The first delta and its check; the first that differs, and its check with other values.
    const perChunk: [string, (i: number) => object, number][] = [
      ['an id per chunk', (i) => ({ id: `chatcmpl-${i}` }), 4],
      ['a timestamp per chunk', (i) => ({ created: 1700000000 + i }), 4],
      ['a timestamp per second', (i) => ({ created: 1700000000 + Math.floor(i / 30) }), 4],
      [
        'an id per chunk, and padding',
        (i) => ({ id: `c${i}`, obfuscation: 'xyz'.slice(i % 3) }),
        4,
      ],
      // Once more when the fingerprint first changes; then the three are taken as any value.
      [
        'both, and a fingerprint now and then',
        (i) => ({ id: `c${i}`, created: 1700000000 + i, system_fingerprint: `fp_${i >> 3}` }),
        6,
      ],
    ]
    // As JSON.stringify writes them, and as Python's json.dumps does (a space after `:` and `,`).
    for (const write of [(data: string) => data, (data: string) => pythonJson(JSON.parse(data))])
      for (const [name, extra, parses] of perChunk) {
        const events = texts.map((text, i) => {
          const event = chat({ content: text }, extra(i))
          return { ...event, data: write(event.data) }
        })
        expect(readsAsFullParse('openai-chat', events), name).toBe(parses)
        expect(read('openai-chat', events, true).jsonTexts, name).toBe(texts.length - parses / 2)
      }
    // Usage counted in every chunk (vLLM's continuous_usage_stats): the last chunk a template read
    // is parsed once more for its usage, at the summary.
    const counted = texts.map((text, i) =>
      chat(
        { content: text },
        { usage: { prompt_tokens: 9, total_tokens: 10 + i, completion_tokens: i + 1 } },
      ),
    )
    expect(readsAsFullParse('openai-chat', counted)).toBe(4 + 1)
    expect(read('openai-chat', counted, true).summary.usage).toEqual({
      prompt_tokens: 9,
      total_tokens: 109,
      completion_tokens: 100,
    })
    // And before the next event parsed whole, whose usage then replaces it.
    const last = { prompt_tokens: 9, total_tokens: 11, completion_tokens: 2 }
    const recounted = [...counted, chat({}, { usage: last })]
    expect(read('openai-chat', recounted, true).summary.usage).toEqual(last)
    readsAsFullParse('openai-chat', recounted)
    // Not the values a profile keeps apart from the sink's calls: which Responses item and part
    // carried text (its text given whole at its end is then not text again).
    const item = (id: string, index: number) => [
      ...texts.map((text, i) =>
        responses('response.output_text.delta', i, {
          item_id: id,
          output_index: index,
          content_index: 0,
          delta: text,
        }),
      ),
      responses('response.output_text.done', 0, {
        item_id: id,
        output_index: index,
        content_index: 0,
        text: texts.join(''),
      }),
    ]
    const items = [...item('msg_a', 0), ...item('msg_b', 1), ...item('msg_c', 2)]
    expect(read('openai-responses', items, true).summary.text).toBe(texts.join('').repeat(3))
    expect(readsAsFullParse('openai-responses', items)).toBe(2 + 2 + 2 + 2 + 1)
  })

  it("read deltas that a server writes with escapes of its own (json.dumps's \\u4f60) from the first", () => {
    const texts = Array.from({ length: 100 }, (_, i) => `${'你好世界'[i % 4]}${i % 10 ? '' : '\n'}`)
    for (const shape of ['Chat text', 'Chat tool arguments', 'Azure text (keys in order)']) {
      const { profile, events } = deltas(shape, texts)
      const written = events.map((event) => ({
        ...event,
        data: pythonJson(JSON.parse(event.data)),
      }))
      expect(written.at(-1)!.data).toContain('\\u')
      // The first delta and its check: the template's expression reads the others.
      expect(readsAsFullParse(profile, written), shape).toBe(OPENING[profile].length + 2)
    }
  })

  it('stop learning once templates keep failing (a model per chunk): every event is parsed whole', () => {
    const events = Array.from({ length: 100 }, (_, i) =>
      chat({ content: `t${i}` }, { model: `m${i}` }),
    )
    // The first nine are learnt (one more parse each): the eighth template that served fewer than
    // its worth ends the learning. A model is no chunk's id or time: never taken as any value.
    expect(readsAsFullParse('openai-chat', events)).toBe(100 + 9)
  })

  it('take a changing id or time as any value only where the parse makes the same calls with another', () => {
    // A parser that reads `created`: usage once it passes 10 (null before, which changes nothing).
    const parse: ProfileParser = (_type, data, sink) => {
      const { created, text } = JSON.parse(data)
      sink.text(0, text)
      sink.usage(created > 10 ? { created } : null)
      return undefined
    }
    const callsOf = (parser: ProfileParser) => {
      const calls: unknown[][] = []
      const sink = Object.fromEntries(
        ['model', 'choice', 'text', 'reasoning', 'refusal']
          .concat(['toolStart', 'toolArguments', 'toolDone', 'finish', 'usage'])
          .map((method) => [method, (...args: unknown[]) => calls.push([method, ...args])]),
      ) as unknown as Sink
      for (let i = 1; i <= 20; i++)
        parser('message', JSON.stringify({ created: i, text: `t${i}` }), sink)
      return calls.filter(([method, arg]) => method === 'text' || arg !== null)
    }
    // The second event's check, with 12 for 2, makes a usage call: `created` is not taken as any
    // value, and the template of each event serves none.
    expect(callsOf(withTemplates(parse))).toEqual(callsOf(parse))
  })

  it('take values that change as any value only where the full parse reads the same', () => {
    // Values that vary as ids and timestamps do, and as values the profile reads do (the model,
    // a choice's or tool call's index, reasoning beside the text, the finish reason, usage), in
    // every mix.
    const value = fastCheck.oneof(
      fastCheck.constantFrom('a', 'b', 'x\\"y', '', '\u00e9'),
      fastCheck.constantFrom(0, 1, 12, -1, 1.5, null, true),
    )
    const chunk = fastCheck.record(
      {
        id: value,
        created: value,
        model: fastCheck.constantFrom('m1', 'm2'),
        index: fastCheck.constantFrom(0, 0, 0, 1),
        tool: fastCheck.constantFrom(undefined, 0, 1),
        reasoning: fastCheck.constantFrom('', '', 'r'),
        finish: fastCheck.constantFrom(null, null, 'stop'),
        usage: fastCheck.constantFrom(undefined, null, 'fixed', 'counted'),
      },
      { requiredKeys: ['id', 'created'] },
    )
    fastCheck.assert(
      fastCheck.property(fastCheck.array(chunk, { minLength: 2, maxLength: 40 }), (chunks) => {
        const events = chunks.map(
          ({ id, created, model, index, tool, reasoning, finish, usage }, i) => ({
            type: 'message',
            data: JSON.stringify({
              id,
              object: 'chat.completion.chunk',
              created,
              model,
              choices: [
                {
                  index: index ?? 0,
                  delta:
                    tool === undefined
                      ? { content: `t${i}`, reasoning_content: reasoning }
                      : { tool_calls: [{ index: tool, function: { arguments: `a${i}` } }] },
                  finish_reason: finish ?? null,
                },
              ],
              ...(usage !== undefined && {
                usage:
                  usage === 'fixed'
                    ? { completion_tokens: 3 }
                    : usage === 'counted'
                      ? { prompt_tokens: 2, completion_tokens: i }
                      : null,
              }),
            }),
          }),
        )
        readsAsFullParse('openai-chat', events)
      }),
    )
  })

  it('read every stream of the SDK-oracle tests as the full parse does, with its deltas repeated', () => {
    const profiles: [string, LlmProfile][] = [
      ['chat', 'openai-chat'],
      ['anthropic', 'anthropic'],
      ['responses', 'openai-responses'],
    ]
    for (const [name, stream] of Object.entries(streams)) {
      const profile = profiles.find(([prefix]) => name.startsWith(prefix))?.[1]
      if (!profile || typeof stream !== 'object' || !('frames' in stream)) continue
      const events = sse(stream.frames.join(''))
      readsAsFullParse(profile, events)
      readsAsFullParse(
        profile,
        events.flatMap((event) => (/delta/.test(event.data) ? [event, event, event] : [event])),
      )
    }
  })
})
