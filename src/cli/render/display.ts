import { counted } from '../../engine/counted.ts'
import { SseProbeUsageError } from '../../engine/errors.ts'

/** How the pretty format shows events: what the display flags ask for. Counting never changes. */
export interface PrettyView {
  compact: boolean
  only: string[]
  exclude: string[]
  grep?: RegExp
  timestamps: 'relative' | 'wall'
  dataOnly: boolean
  /** --full: never cut long data (by default it is cut on a terminal). */
  full: boolean
  prettyJson: boolean
}

/** The display flags as commander parsed them (addOutputOptions in args.ts). */
export interface ViewFlags {
  compact?: boolean
  only?: string[]
  exclude?: string[]
  grep?: RegExp
  timestamps?: PrettyView['timestamps']
  dataOnly?: boolean
  full?: boolean
  prettyJson?: boolean
}

export function toPrettyView(flags: ViewFlags): PrettyView {
  return {
    compact: flags.compact ?? false,
    only: flags.only ?? [],
    exclude: flags.exclude ?? [],
    grep: flags.grep,
    timestamps: flags.timestamps ?? 'relative',
    dataOnly: flags.dataOnly ?? false,
    full: flags.full ?? false,
    prettyJson: flags.prettyJson ?? false,
  }
}

/** The flags given that choose or shape event blocks: with an LLM stream, they ask for those. */
export function blockFlags(view: PrettyView): string[] {
  return [
    view.compact && '--compact',
    view.only.length > 0 && '--only',
    view.exclude.length > 0 && '--exclude',
    view.grep && '--grep',
    view.dataOnly && '--data-only',
    view.prettyJson && '--pretty-json',
  ].filter((flag) => typeof flag === 'string')
}

/**
 * The display flags given that a format other than pretty ignores: json shows every record as it
 * is, raw the body (its status lines on stderr keep --timestamps).
 */
export function ignoredFlags(view: PrettyView, format: 'json' | 'raw'): string[] {
  const flags = [...blockFlags(view), ...(view.full ? ['--full'] : [])]
  if (format === 'json' && view.timestamps === 'wall') flags.push('--timestamps wall')
  return flags
}

export function timestampsArg(text: string): PrettyView['timestamps'] {
  if (text !== 'relative' && text !== 'wall')
    throw new SseProbeUsageError('expected relative or wall')
  return text
}

/** Whether an event is shown: --only, --exclude and --grep. */
export function showsEvent(display: PrettyView, event: string, data: string): boolean {
  if (display.only.length > 0 && !display.only.includes(event)) return false
  if (display.exclude.includes(event)) return false
  return display.grep === undefined || display.grep.test(data)
}

/** Comments have no type and no data: a display that asks for some types or data hides them. */
export function showsComments(display: PrettyView): boolean {
  return display.only.length === 0 && display.grep === undefined && !display.dataOnly
}

const CUT_LINES = 20
const CUT_BYTES = 4096
const utf8 = new TextEncoder()
const cutBuffer = new Uint8Array(CUT_BYTES)

/**
 * Long data on a terminal: its first 20 lines (at most 4 KiB), then what was left out. Returns
 * the lines to show and the note, or undefined when the data fits.
 */
export function cutLongData(text: string): { shown: string; note: string } | undefined {
  let end = 0
  for (let line = 0; line < CUT_LINES; line++) {
    const next = text.indexOf('\n', end)
    if (next === -1) {
      end = text.length
      break
    }
    end = next + 1
  }
  // At most 4 KiB of UTF-8, never half a character: encodeInto stops before one that does not fit.
  if (end > CUT_BYTES / 4) end = utf8.encodeInto(text.slice(0, end), cutBuffer).read
  if (end >= text.length) return undefined
  const shown = text.slice(0, end).replace(/\n$/, '')
  const rest = text.slice(end)
  const moreLines = rest.split('\n').length - (text[end - 1] === '\n' ? 0 : 1)
  const size = formatSize(Buffer.byteLength(rest))
  return {
    shown,
    note: `… ${moreLines > 0 ? `${counted(moreLines, 'more line')} (${size})` : `${size} more`}, --full to see all`,
  }
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 10 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 2) return `${Math.round(bytes / 1024)} KiB`
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
}
