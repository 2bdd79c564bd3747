import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { CLI } from './cli.ts'

export const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0

export interface Terminal {
  /** The directory the command runs in (where `w` writes). */
  dir: string
  /** The visible screen as text; with `escapes`, with its colours and styles as SGR sequences. */
  screen(options?: { escapes?: boolean }): string
  /** The pane's modes (tmux formats): alternate screen, cursor shown, lines wrapped (DECAWM). */
  modes(): { alternateScreen: boolean; cursorShown: boolean; autowrap: boolean }
  /** `stty -a` in the terminal once the command has exited: echo and icanon back on. */
  sttyAfter(): string
  /** tmux key names (`Up`, `Enter`, `Escape`, `C-c`, `Space`) or literal text with `{ literal }`. */
  keys(...keys: string[]): void
  type(text: string): void
  /** Pastes text as a terminal does: bracketed (ESC[200~ … ESC[201~) when the program asked for it. */
  paste(text: string): void
  /** Resizes the terminal, as a user drags its window's corner. */
  resize(width: number, height: number): void
  /** Waits until the screen satisfies the test; fails with the last screen. */
  waitFor(test: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>
  /**
   * Closes the terminal as a window manager closes its window, under a shell that ignores the
   * hang-up (so the command gets no SIGHUP, only the end of its input); the shell is killed later.
   */
  hangUp(): void
  /** Resolves with the exit code once the command has exited. */
  exited(timeoutMs?: number): Promise<number>
  stderr(): string
  pid(): number
}

let sessions = 0

/**
 * Runs the built CLI in a real pseudo-terminal (a detached tmux session on a private socket),
 * so that the tests see the screen a user sees and type the keys a user types.
 */
export function runInTerminal(
  args: string[],
  {
    width = 120,
    height = 30,
    env = {},
    files = {},
    stdin,
    stderrOnTerminal = false,
  }: {
    width?: number
    height?: number
    env?: Record<string, string>
    /** Files to put in the working directory first (a schema), by name. */
    files?: Record<string, string>
    /** A file of the working directory to read stdin from, instead of the terminal. */
    stdin?: string
    /** stderr on the terminal, as a user has it, instead of stderr.txt (stderr() is then empty). */
    stderrOnTerminal?: boolean
  } = {},
): Terminal {
  const dir = mkdtempSync(join(tmpdir(), 'sse-probe-inspect-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  const socket = `sse-probe-test-${process.pid}-${++sessions}`
  const tmux = (...tmuxArgs: string[]) =>
    execFileSync('tmux', ['-L', socket, ...tmuxArgs], { encoding: 'utf8' })
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`
  const command = [
    // For hangUp(): the session's leader (this shell) stays when the terminal goes.
    "trap '' HUP",
    // As runCli: colour as the terminal (not the test runner's environment) decides.
    'unset FORCE_COLOR NO_COLOR',
    ...Object.entries(env).map(([name, value]) => `export ${name}=${quote(value)}`),
    `cd ${quote(dir)}`,
    'echo $$ > shell.txt',
    'echo BEFORE-INSPECT',
    // In the foreground, so that the terminal is its stdin; the inner shell becomes it (exec) to give its pid.
    `sh -c ${quote(`echo $$ > pid.txt; exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}${stderrOnTerminal ? '' : ' 2>stderr.txt'}${stdin ? ` <${quote(stdin)}` : ''}`)}`,
    // The terminal's settings first: code.txt tells the test that both are there.
    'code=$?',
    'stty -a > stty.txt',
    'echo $code > code.txt',
    'sleep 600',
  ].join('; ')
  tmux('new-session', '-d', '-x', String(width), '-y', String(height), 'sh', '-c', command)
  onTestFinished(() => {
    try {
      tmux('kill-server')
    } catch {
      // already gone
    }
    // The shell ignores SIGHUP: ended with its group (its sleep) here.
    try {
      process.kill(-Number(readFileSync(join(dir, 'shell.txt'), 'utf8')), 'SIGKILL')
    } catch {
      // already gone
    }
  })
  const screen = (options: { escapes?: boolean } = {}) =>
    tmux('capture-pane', '-p', ...(options.escapes ? ['-e'] : []))
  const poll = async <T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = get()
      if (value !== undefined) return value
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; screen:\n${screen()}\nstderr:\n${stderr()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const stderr = () => {
    const path = join(dir, 'stderr.txt')
    return existsSync(path) ? readFileSync(path, 'utf8') : ''
  }
  return {
    dir,
    screen,
    keys: (...keys) => void tmux('send-keys', ...keys),
    type: (text) => void tmux('send-keys', '-l', text),
    paste: (text) => {
      tmux('set-buffer', '--', text)
      tmux('paste-buffer', '-p', '-d')
    },
    resize: (width, height) =>
      void tmux('resize-window', '-x', String(width), '-y', String(height)),
    hangUp: () => void tmux('kill-server'),
    waitFor: (test, what, timeoutMs = 10_000) =>
      poll(
        () => {
          const text = screen()
          return test(text) ? text : undefined
        },
        what,
        timeoutMs,
      ),
    exited: (timeoutMs = 10_000) =>
      poll(
        () => {
          const path = join(dir, 'code.txt')
          const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : ''
          return text === '' ? undefined : Number(text)
        },
        'the command to exit',
        timeoutMs,
      ),
    stderr,
    modes: () => {
      const [alternate, cursor, wrap] = tmux(
        'display-message',
        '-p',
        '#{alternate_on} #{cursor_flag} #{wrap_flag}',
      )
        .trim()
        .split(' ')
      return {
        alternateScreen: alternate === '1',
        cursorShown: cursor === '1',
        autowrap: wrap === '1',
      }
    },
    sttyAfter: () => readFileSync(join(dir, 'stty.txt'), 'utf8'),
    pid: () => Number(readFileSync(join(dir, 'pid.txt'), 'utf8')),
  }
}
