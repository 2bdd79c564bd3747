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

  function startsLine(i: number): boolean {
    if (i === 0) return carried === 'line-start'
    const before = chunk.charCodeAt(i - 1)
    return before === LF || before === CR
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
      if (carried === 'colon' && text.length > 0) carried = text.charCodeAt(0) === SPACE ? 'space' : 'no-space'
      carriedComment = carried === 'space' ? true : carried === 'no-space' ? false : undefined
    },
    /** Call after feeding: remembers how the trailing, unfinished line began. */
    afterFeed() {
      const lastLineEnd = Math.max(chunk.lastIndexOf('\n'), chunk.lastIndexOf('\r'))
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
      let i = chunk.indexOf(':', cursor)
      while (i !== -1 && !startsLine(i)) i = chunk.indexOf(':', i + 1)
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
