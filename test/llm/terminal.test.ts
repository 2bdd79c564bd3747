// The LLM view in a real terminal, stdout and stderr both on it: what a user of the CLI sees.
import { describe, expect, it } from 'vitest'
import { chatCut, chatTokens, chatTools, serveLlmStreams } from '../helpers/llm-streams.ts'
import { runInTerminal, TERMINAL_TESTS } from '../helpers/tty.ts'

// Slow enough for the spinner to be drawn between the deltas.
const paced = <T extends { frames: string[] }>(stream: T) => ({ ...stream, pauseMs: 60 })

describe.runIf(TERMINAL_TESTS)('the LLM view on a terminal', () => {
  it('keeps the text of a line the spinner shares the terminal with, and the tool calls under it', async () => {
    const url = await serveLlmStreams({ chatTools: paced(chatTools) })
    const terminal = await runInTerminal(['-d', '{}', `${url}/chatTools`])
    expect(await terminal.exitCode()).toBe(0)
    const rows = terminal.screen()
    const text = rows.indexOf('Checking the weather in Zürich 🌦')
    expect(text, rows.join('\n')).toBeGreaterThan(0)
    expect(rows[text + 1]).toBe('⚙ get_weather {"city":"Z\\u00fcrich"}')
    expect(rows[text + 2]).toBe('⚙ search {"q":"say \\"hi\\" 😀"}')
    expect(rows[text + 3]).toMatch(/^── summary {2}end-data/)
  })

  it('ends the line of a cut answer before the status line that says so', async () => {
    const url = await serveLlmStreams({ chatCut: paced(chatCut) })
    const terminal = await runInTerminal(['-d', '{}', '--no-reconnect', `${url}/chatCut`])
    expect(await terminal.exitCode()).toBe(0)
    const rows = terminal.screen()
    const text = rows.indexOf('Half an ans')
    expect(text, rows.join('\n')).toBeGreaterThan(0)
    expect(rows[text + 1]).toMatch(/^ +\d+\.\d{3}s {2}■ connection broke/)
  })

  it('shows an emoji whose surrogate pair two deltas split, not two replacement characters', async () => {
    const words = ['Sunny ', '\ud83d', '\ude00 today']
    const url = await serveLlmStreams({ split: chatTokens(3, 1, 60, (i) => words[i]!) })
    const terminal = await runInTerminal(['-d', '{}', `${url}/split`])
    expect(await terminal.exitCode()).toBe(0)
    expect(terminal.screen()).toContain('Sunny 😀 today')
  })

  it('Ctrl-C mid-answer ends the partial line, then prints the summary with the LLM block (exit 130)', async () => {
    const url = await serveLlmStreams({ slow: chatTokens(100, 1, 100) })
    const terminal = await runInTerminal(['-d', '{}', `${url}/slow`])
    await terminal.waitFor(/t3 /)
    terminal.keys('C-c')
    expect(await terminal.exitCode()).toBe(130)
    const rows = terminal.screen()
    const summary = rows.findIndex((row) => row.startsWith('── summary  interrupted'))
    expect(summary, rows.join('\n')).toBeGreaterThan(0)
    expect(rows[summary - 1]).toMatch(/^t0 t1 t2 t3 (t\d+ )*t\d+$/)
    expect(rows.slice(summary).join('\n')).toMatch(/\nllm {10}openai-chat/)
  })

  it('keeps the text when stdout is piped to the terminal the spinner is on', async () => {
    const url = await serveLlmStreams({ chatTools: paced(chatTools) })
    const terminal = await runInTerminal(['-d', '{}', `${url}/chatTools`], { pipe: true })
    expect(await terminal.exitCode()).toBe(0)
    const rows = terminal.screen()
    expect(rows, rows.join('\n')).toContain('Checking the weather in Zürich 🌦')
    expect(rows.join('\n')).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /)
  })
})
