import type { Writable } from 'node:stream'
import stringWidth from 'string-width'

// cli-spinners' "dots", as ora draws them.
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const FRAME_MS = 80
const CTRL_C = 0x03
const CTRL_Z = 0x1a
const HIDE_CURSOR = '\x1b[?25l'
const SHOW_CURSOR = '\x1b[?25h'
const ERASE_LINE = '\r\x1b[2K'
const ERASE_LINE_ABOVE = '\x1b[1A\x1b[2K'

export interface TtyStream extends Writable {
  isTTY?: boolean
  columns?: number
}

export interface StatusLine {
  /** Erases the line, so that output can be written where it was. */
  clear(): void
  /** Draws the line again, with its text as of now. */
  render(): void
  /**
   * While held, the line is not drawn: output that stopped in the middle of a line (a model's
   * text) stays where it is, instead of being followed by the line and erased with it.
   */
  hold(held: boolean): void
  /** Erases it for good and gives the terminal back as it was. */
  stop(): void
}

/**
 * A spinner line at the bottom of a terminal, its text asked for at every frame (so that it
 * never lags behind what was printed above it), cut to the terminal's width. With `keyboard`
 * (a terminal stdin that nothing else reads: stdout is the terminal too, not `| less`), that
 * stdin is in raw mode while it spins, so that keys typed meanwhile are not echoed into the line.
 */
export function startStatusLine(
  stream: TtyStream,
  text: () => string,
  keyboard?: NodeJS.ReadStream,
): StatusLine {
  let frame = 0
  // Columns the line takes on screen; 0 when it is not drawn.
  let drawn = 0
  let held = false
  const columns = () => stream.columns || 80

  function clear() {
    if (drawn === 0) return
    // A terminal made narrower reflows the line onto more rows, leaving the cursor on the last.
    stream.write(`${ERASE_LINE}${ERASE_LINE_ABOVE.repeat(Math.ceil(drawn / columns()) - 1)}\r`)
    drawn = 0
  }

  function render() {
    clear()
    if (held) return
    // One column spare, so that the cursor never waits past the edge to wrap.
    const line = truncate(`${FRAMES[frame]} ${text()}`, columns() - 1)
    stream.write(line)
    drawn = stringWidth(line)
  }

  const timer = setInterval(() => {
    frame = (frame + 1) % FRAMES.length
    render()
  }, FRAME_MS)
  timer.unref()
  stream.on('resize', render)
  const keys =
    keyboard?.isTTY && typeof keyboard.setRawMode === 'function' ? swallowKeys(keyboard) : undefined
  // A second Ctrl-C exits at once: the cursor must not stay hidden.
  const showCursor = () => stream.write(SHOW_CURSOR)
  process.once('exit', showCursor)
  stream.write(HIDE_CURSOR)
  render()

  return {
    clear,
    render,
    hold(on) {
      held = on
    },
    stop() {
      clearInterval(timer)
      stream.off('resize', render)
      clear()
      keys?.restore()
      process.off('exit', showCursor)
      showCursor()
    },
  }
}

/**
 * Raw mode on a terminal stdin: typed keys are read and dropped, and the keys that raw mode
 * no longer turns into signals do what they did: Ctrl-C interrupts, Ctrl-Z suspends.
 */
function swallowKeys(stdin: NodeJS.ReadStream) {
  const wasRaw = stdin.isRaw
  const wasPaused = stdin.isPaused()
  const resume = () => stdin.setRawMode(true)
  const onData = (chunk: Buffer) => {
    if (chunk.includes(CTRL_C)) process.kill(process.pid, 'SIGINT')
    else if (chunk.includes(CTRL_Z)) {
      // The shell's `fg` continues the process; the terminal is the shell's meanwhile.
      stdin.setRawMode(wasRaw)
      process.once('SIGCONT', resume)
      process.kill(process.pid, 'SIGTSTP')
    }
  }
  stdin.setRawMode(true)
  stdin.on('data', onData)
  stdin.resume()
  return {
    restore() {
      stdin.off('data', onData)
      process.off('SIGCONT', resume)
      stdin.setRawMode(wasRaw)
      if (wasPaused) stdin.pause()
    },
  }
}

/** The text cut to `width` columns, with an ellipsis when something was cut. */
function truncate(text: string, width: number): string {
  if (stringWidth(text) <= width) return text
  let fitted = ''
  let used = 1 // the ellipsis
  for (const character of text) {
    used += stringWidth(character)
    if (used > width) break
    fitted += character
  }
  return `${fitted}…`
}
