const LF = 10
const CR = 13
const COLON = 58
const SPACE = 32

type LineState = 'line-start' | 'colon' | 'space' | 'no-space' | 'other'

/**
 * eventsource-parser drops the one space that may follow a comment's colon;
 * the contract's comment `text` is everything after the colon. This follows
 * the raw text fed to the parser just enough to put that space back, also when
 * a comment line is split across chunks (or arrives byte by byte).
 */
export function createCommentText() {
  let chunk = ''
  let cursor = 0
  // How the line still open at the end of the previous chunk began.
  let carried: LineState = 'line-start'
  // Whether the first comment of this chunk is the one carried over from earlier chunks.
  let carriedComment: boolean | undefined

  // Where the next "\n:" and "\r:" are, searched again only once passed, so that many comments
  // in one chunk do not rescan it each time (-1: none left in this chunk, -2: not searched yet).
  let afterLf = -2
  let afterCr = -2

  /** The next colon that starts a line: after LF or CR (data lines are full of other colons). */
  function nextCommentColon(): number {
    if (cursor === 0 && carried === 'line-start' && chunk.charCodeAt(0) === COLON) return 0
    if (afterLf !== -1 && afterLf < cursor) afterLf = chunk.indexOf('\n:', cursor)
    if (afterCr !== -1 && afterCr < cursor) afterCr = chunk.indexOf('\r:', cursor)
    if (afterLf === -1 && afterCr === -1) return -1
    return (afterLf === -1 ? afterCr : afterCr === -1 ? afterLf : Math.min(afterLf, afterCr)) + 1
  }

  function classify(line: string): LineState {
    if (line === '') return 'line-start'
    if (line.charCodeAt(0) !== COLON) return 'other'
    if (line.length === 1) return 'colon'
    return line.charCodeAt(1) === SPACE ? 'space' : 'no-space'
  }

  return {
    /** Call before feeding the parser a decoded chunk. */
    beforeFeed(text: string) {
      chunk = text
      cursor = 0
      afterLf = -2
      afterCr = -2
      if (carried === 'colon' && text.length > 0)
        carried = text.charCodeAt(0) === SPACE ? 'space' : 'no-space'
      carriedComment = carried === 'space' ? true : carried === 'no-space' ? false : undefined
    },
    /** Call after feeding: remembers how the trailing, unfinished line began. */
    afterFeed() {
      // Backwards from the end: chunks nearly always end with a line end, so this stops at once.
      let lastLineEnd = chunk.length - 1
      while (
        lastLineEnd >= 0 &&
        chunk.charCodeAt(lastLineEnd) !== LF &&
        chunk.charCodeAt(lastLineEnd) !== CR
      )
        lastLineEnd--
      if (lastLineEnd !== -1) carried = classify(chunk.slice(lastLineEnd + 1, lastLineEnd + 3))
      else if (carried === 'line-start') carried = classify(chunk.slice(0, 2))
    },
    /** The comment as the contract reports it, from the parser's version. */
    text(parsed: string): string {
      if (carriedComment !== undefined) {
        const space = carriedComment
        carriedComment = undefined
        return space ? ` ${parsed}` : parsed
      }
      const i = nextCommentColon()
      if (i === -1) return parsed
      cursor = i + 1
      return chunk.charCodeAt(i + 1) === SPACE ? ` ${parsed}` : parsed
    },
    reset() {
      carried = 'line-start'
      carriedComment = undefined
    },
  }
}
