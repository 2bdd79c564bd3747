import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

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
