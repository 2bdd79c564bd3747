import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { createProgram } from '../../src/cli/args.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const pages = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`),
]
const read = (page: string) => readFileSync(join(root, page), 'utf8')

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-')
}

describe('the documentation', () => {
  it('the README is a page read in minutes, starting from the demo and the quick start of a clone', () => {
    expect(statSync(join(root, 'README.md')).size).toBeLessThan(16 * 1024)
    const readme = read('README.md')
    expect(readme).toContain('npx sse-probe demo')
    expect(readme).toContain('npm ci && npm start')
    expect(readme).toMatch(/\nnpm test +# .*about 3 to 4 minutes/)
  })

  it.each(pages)('every link of %s leads to a file, and to a heading there', (page) => {
    const text = read(page).replace(/```[\s\S]*?```/g, '')
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue
      const [path, hash] = target!.split('#')
      const file = path ? relative(root, join(root, dirname(page), path)) : page
      expect(existsSync(join(root, file)), `${page} links to ${target}`).toBe(true)
      if (hash === undefined) continue
      const headings = [...read(file).matchAll(/^#+ (.+)$/gm)].map(([, heading]) =>
        anchor(heading!),
      )
      expect(headings, `${page} links to ${target}`).toContain(hash)
    }
  })
})

describe('the flags the documentation names', () => {
  const { program } = createProgram({} as never)
  const flags = new Set(
    [program, ...program.commands]
      .flatMap((command) => command.options.map((option) => option.long!))
      .concat('--help'),
  )
  // Flags of other programs the pages mention: node's, npm's, jest's and the scripts' (bench, fuzz).
  const others = new Set([
    '--experimental-strip-types',
    '--experimental-vm-modules',
    '--jobs',
    '--llm-only',
    '--max-http-header-size',
    '--minutes',
    '--save-dev',
    '--seed',
    '--single-threaded',
    '--streams',
    '--test',
    '--update-docs',
  ])
  // performance.md quotes V8's flags too, in its measurements. `--expect-*` stands for a group.
  const named = (page: string) =>
    new Set(read(page).match(/(?<![\w-])--[a-z][a-z\d-]*[a-z\d](?![\w*…-])/g))

  it.each(pages.filter((page) => page !== 'docs/performance.md'))(
    '%s names only flags that exist',
    (page) => {
      const unknown = [...named(page)].filter((flag) => !flags.has(flag) && !others.has(flag))
      expect(unknown).toEqual([])
    },
  )

  it('every flag of every command is documented', () => {
    const documented = new Set(pages.flatMap((page) => [...named(page)]))
    expect([...flags].filter((flag) => !documented.has(flag))).toEqual([])
  })
})

/** The `sse-probe …` command lines of a page's code blocks (fenced or indented), synopses aside. */
function commandLines(text: string): string[] {
  const lines: string[] = []
  let fenced = false
  let pending = ''
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    else if (fenced || line.startsWith('    ')) {
      const command = pending + line.trim().replace(/^\$ /, '').replace(/^npx /, '')
      pending = command.endsWith('\\') ? command.slice(0, -1) : ''
      if (!pending && command.startsWith('sse-probe ') && !/ (<\w|\[\w|\[-)/.test(command)) {
        lines.push(command)
      }
    }
  }
  return lines
}

/** A command line's arguments as a shell passes them, up to a comment, pipe or redirection. */
function shellWords(line: string): string[] {
  const words: string[] = []
  for (const [, single, double, bare] of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    if (bare !== undefined && ['#', '|', '>', '&'].includes(bare)) break
    words.push(single ?? double ?? bare!)
  }
  return words.slice(1)
}

/** Parses argv as the CLI does, running nothing: what commander would say, or ''. */
async function parseError(argv: string[]): Promise<string> {
  const run = async () => 0
  const handlers = {
    probe: run,
    load: run,
    inspect: run,
    demo: run,
    serve: run,
    check: run,
    diff: run,
  }
  const { program } = createProgram(handlers, argv)
  let error = ''
  const quiet = (command: Command) =>
    command
      .exitOverride()
      .configureOutput({ writeOut: () => {}, writeErr: (text) => (error += text) })
  for (const command of [program, ...program.commands]) quiet(command)
  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (caught) {
    error ||= String(caught)
  }
  return error
}

describe('the commands the documentation shows', () => {
  const documented = pages.flatMap((page) =>
    commandLines(read(page)).map((line) => [page, line] as const),
  )
  // Every command's --help ends with examples, each a command line and what it shows.
  const { program } = createProgram({} as never)
  const examples = [program, ...program.commands].flatMap((command) => {
    let help = ''
    command.configureOutput({ writeOut: (text) => (help += text) }).outputHelp()
    const section = help.slice(help.lastIndexOf('\nExamples:\n'))
    return [...section.matchAll(/^ {2}(sse-probe .+?)(?: {2,}.*)?$/gm)].map(([, line]) => line!)
  })

  it.each(documented)('%s: %s', async (_page, line) => {
    expect(await parseError(shellWords(line))).toBe('')
  })

  it.each(examples)('--help: %s', async (line) => {
    expect(await parseError(shellWords(line))).toBe('')
  })

  it('are found: the pages and every --help show commands', () => {
    expect(documented.length).toBeGreaterThan(40)
    expect(examples.length).toBeGreaterThan(20)
  })
})
