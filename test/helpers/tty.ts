import { execFileSync, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { onTestFinished } from 'vitest'
import { CLI } from './cli.ts'

const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0
/**
 * Whether to run the terminal tests: they type into tmux. In CI a missing tmux fails them
 * (.ci/run installs it); elsewhere they are skipped, and say so.
 */
export const TERMINAL_TESTS = HAS_TMUX || Boolean(process.env.CI)
if (!TERMINAL_TESTS)
  console.warn(
    'terminal tests: skipped, tmux is not installed (apt-get install tmux, as .ci/run does)',
  )

export interface Terminal {
  /** What the terminal shows now, one string per row, trailing blanks trimmed. */
  screen(): string[]
  /** Types keys, in tmux's send-keys words ('hello', 'C-c', 'Enter'). */
  keys(...keys: string[]): void
  /** Makes the terminal this many columns wide. */
  resize(columns: number): void
  /** Waits until the screen matches; returns it. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Waits for the CLI to exit; its exit code. */
  exitCode(timeoutMs?: number): Promise<number>
}

let sessions = 0

/**
 * Runs the built CLI in a real terminal (a detached tmux session on a server of its own,
 * so that a test neither sees nor disturbs anyone's tmux), killed when the test ends.
 */
export async function runInTerminal(
  args: string[],
  { columns = 100, rows = 30, pipe = false } = {},
): Promise<Terminal> {
  if (!HAS_TMUX)
    throw new Error('tmux is not installed, but CI is set: .ci/run should have installed it')
  const socket = `sse-probe-test-${process.pid}-${++sessions}`
  const tmux = (...words: string[]) =>
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...words], { encoding: 'utf8' })
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`
  // pipe: stdout goes through `cat` to the same terminal, as `| tee` has it.
  const command = `${[process.execPath, CLI, ...args].map(quote).join(' ')}${pipe ? ' | cat' : ''}`
  // The exit code is printed where the test can read it, and the pane stays for the last screen.
  tmux(
    'new-session',
    '-d',
    '-x',
    String(columns),
    '-y',
    String(rows),
    '-s',
    'cli',
    `env -u FORCE_COLOR NO_COLOR=1 ${command}; echo "[exit $?]"; sleep 600`,
  )
  const socketPath = tmux('display-message', '-p', '#{socket_path}').trim()
  onTestFinished(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server'])
    rmSync(socketPath, { force: true })
  })
  const screen = () =>
    tmux('capture-pane', '-p', '-t', 'cli')
      .replace(/\n+$/, '')
      .split('\n')
      .map((row) => row.trimEnd())
  async function waitFor(pattern: RegExp, timeoutMs = 10_000) {
    const started = performance.now()
    for (;;) {
      const text = screen().join('\n')
      if (pattern.test(text)) return text
      if (performance.now() - started > timeoutMs)
        throw new Error(`the terminal never showed ${pattern}; it shows:\n${text}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return {
    screen,
    keys: (...keys) => void tmux('send-keys', '-t', 'cli', ...keys),
    resize: (width) => void tmux('resize-window', '-t', 'cli', '-x', String(width)),
    waitFor,
    async exitCode(timeoutMs) {
      const text = await waitFor(/\[exit \d+\]/, timeoutMs)
      return Number(/\[exit (\d+)\]/.exec(text)![1])
    },
  }
}
