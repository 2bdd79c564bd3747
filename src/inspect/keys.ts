import { characters } from '../cli/render/width.ts'
import type { Action, InspectState } from './state.ts'

/** What a key asks of the world outside the state: the runner performs these. */
export type Command =
  | { type: 'quit' }
  | { type: 'reconnect' }
  | { type: 'write' }
  | { type: 'suspend' }

/** The parts of Ink's `Key` the screen reads (named as Ink names them). */
export interface KeyInfo {
  upArrow?: boolean
  downArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  ctrl?: boolean
  meta?: boolean
  backspace?: boolean
  delete?: boolean
}

const CONTROL = /^[\x00-\x1f\x7f]$/

/** One key press → a state change, a command, or nothing. Pure, as the reducer. */
export function keyAction(
  state: InspectState,
  input: string,
  key: KeyInfo,
): Action | Command | undefined {
  if (key.ctrl && input === 'c') return { type: 'quit' }
  // Raw mode reads Ctrl-Z as a key: suspended as the terminal would, as less and vim do.
  if (key.ctrl && input === 'z') return { type: 'suspend' }
  if (state.editing) {
    if (key.return) return { type: 'filter-apply' }
    if (key.escape) return { type: 'filter-cancel' }
    // Terminals send DEL (0x7f) for Backspace, which Ink may report as either. One character as the
    // terminal draws it: a UTF-16 unit left half an emoji (a lone surrogate), a code point left 👍
    // of 👍🏽, ❤ of ❤️ and half a flag.
    if (key.backspace || key.delete) {
      const { text } = state.editing
      const last = [...characters(text)].at(-1)?.text ?? ''
      return { type: 'filter-edit', text: text.slice(0, text.length - last.length) }
    }
    // A control character read with other keys comes as text (Ctrl-U typed just after /): not
    // something to filter on, and it sat in the filter as \x15.
    if (key.ctrl || input === '' || CONTROL.test(input)) return undefined
    return { type: 'filter-edit', text: state.editing.text + input }
  }
  if (key.upArrow || input === 'k') return { type: 'move', by: -1 }
  if (key.downArrow || input === 'j') return { type: 'move', by: 1 }
  if (key.pageUp) return { type: 'page', by: -1 }
  if (key.pageDown) return { type: 'page', by: 1 }
  if (key.home || input === 'g') return { type: 'first' }
  if (key.end || input === 'G') return { type: 'last' }
  if (key.return) return { type: 'open-detail' }
  if (key.escape) return state.detail ? { type: 'close-detail' } : undefined
  switch (input) {
    case '/':
      return { type: 'filter-start' }
    case ' ':
      return { type: 'pause' }
    case 'h':
      return { type: 'toggle-pings' }
    case 't':
      return { type: 'toggle-time' }
    case 'c':
      return { type: 'clear' }
    case 'r':
      return { type: 'reconnect' }
    case 'w':
      return { type: 'write' }
    case 'q':
      return { type: 'quit' }
  }
  return undefined
}

/**
 * Pasted text (bracketed paste): typed into the `/` prompt on one line, line breaks and tabs as
 * spaces and other control characters left out; elsewhere ignored. Read as keys, a line break
 * in it applied the filter, and the rest ran as commands (`c` cleared the grid, `q` quit).
 */
export function pasteAction(state: InspectState, text: string): Action | undefined {
  if (!state.editing) return undefined
  const line = text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f-\x9f]/g, '')
  return line === '' ? undefined : { type: 'filter-edit', text: state.editing.text + line }
}

/**
 * Ink hands over several characters at once as one input (a paste, or keys typed faster than
 * they are read): each is then a key of its own, a carriage return being Enter.
 */
export function splitKeys(input: string, key: KeyInfo): [string, KeyInfo][] {
  // Esc and the next key in one read arrive as Alt+key (ESC j, ESC CR): no key here uses Alt, so
  // it is the two keys, or `Esc` `j` would scroll the pane instead of closing it.
  const { meta, ...rest } = key
  if (meta && !(key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.home || key.end))
    return [['', { escape: true }], ...splitKeys(input, rest)]
  if (input.length <= 1 || key.ctrl) return [[input, key]]
  return [...input].map((char) =>
    char === '\r' || char === '\n' ? ['', { return: true }] : [char, {}],
  )
}

export function isCommand(value: Action | Command): value is Command {
  return (
    value.type === 'quit' ||
    value.type === 'reconnect' ||
    value.type === 'write' ||
    value.type === 'suspend'
  )
}
