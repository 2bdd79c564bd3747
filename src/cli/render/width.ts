import type stringWidthOf from 'string-width'

/**
 * Text as a terminal lays it out, in columns, with string-width. That package makes an
 * Intl.Segmenter as it loads (~280 M instructions of ICU set-up, ~100 ms here), and this module
 * is part of every command's bundle (inspect shares it): so string-width is loaded by
 * loadTextWidth(), which what lays text out in columns (inspect, --compact on a terminal) awaits
 * before it uses the functions below.
 */
let measure: typeof stringWidthOf | undefined
let graphemes: Intl.Segmenter | undefined

export interface TextWidth {
  stringWidth(text: string): number
  cut(text: string, width: number): string
}

export async function loadTextWidth(): Promise<TextWidth> {
  measure ??= (await import('string-width')).default
  graphemes ??= new Intl.Segmenter()
  return { stringWidth, cut }
}

/** Columns that text takes on a terminal (after loadTextWidth). */
export function stringWidth(text: string): number {
  return measure!(text)
}

/** Text of one column per UTF-16 unit: most data, measured and cut without segmenting it. */
export const NARROW = /^[\x20-\x7e]*$/

/** The characters as the terminal draws them, wide (CJK, emoji) or joined (ZWJ, accents). */
export function* characters(text: string): Generator<{ text: string; width: number }> {
  for (const { segment } of graphemes!.segment(text))
    yield { text: segment, width: widthOf(segment) }
}

/**
 * The widths of the characters met so far. string-width takes microseconds a call, segmenting
 * again what it is given: inspect's detail pane took 5 s to open a 600,000-emoji event (2 s for
 * a megabyte of Hindi), and again at each resize or `t`. Text repeats its characters: a lookup.
 */
const widths = new Map<string, number>()
/** Enough for any script's characters; past it (text of ever new emoji sequences) it starts anew. */
const WIDTHS_KEPT = 65_536

function widthOf(character: string): number {
  let width = widths.get(character)
  if (width === undefined) {
    if (widths.size >= WIDTHS_KEPT) widths.clear()
    width = measure!(character)
    widths.set(character, width)
  }
  return width
}

/** Cuts text to `width` columns, marking the cut with `…`; wide characters take two. */
export function cut(text: string, width: number): string {
  if (width <= 0) return ''
  if (NARROW.test(text))
    return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
  let used = 0
  let end = 0
  let fits = 0 // the end of the part that leaves a column for `…`
  for (const character of characters(text)) {
    if (used + character.width > width) return `${text.slice(0, fits)}…`
    used += character.width
    end += character.text.length
    if (used < width) fits = end
  }
  return text
}

/** Cuts text to its last `width` columns, marking the cut with a leading `…`: where typing goes on. */
export function cutStart(text: string, width: number): string {
  if (width <= 0) return ''
  if (stringWidth(text) <= width) return text
  const kept = [...characters(text)]
  let used = 1
  let start = kept.length
  while (start > 0 && used + kept[start - 1]!.width <= width) used += kept[--start]!.width
  return `…${kept
    .slice(start)
    .map((character) => character.text)
    .join('')}`
}
