/**
 * Stands in for the `restore-cursor` package in the inspect chunk (scripts/build.js): that one
 * shows the cursor on stderr at exit even when stderr is a file, so that `2>log` ended with
 * ESC[?25h after the summary. Ink shows the cursor on the terminal itself when it unmounts.
 */
let armed = false

export default function restoreCursor(): void {
  if (armed || !process.stderr.isTTY) return
  armed = true
  process.once('exit', () => process.stderr.write('\x1b[?25h'))
}
