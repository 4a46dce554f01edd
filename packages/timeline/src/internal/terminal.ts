/**
 * Small helpers for terminal text: a few ANSI colours (used only when the
 * caller asks: the renderers never look at `process`), widths and word
 * wrapping. Truncation is the core's (`toolfan/shared`), which cuts values
 * in its messages the same way.
 */

/** The styles the text renderer uses. */
export type Color = "green" | "red" | "yellow" | "magenta" | "cyan" | "dim" | "bold"

const codes: Record<Color, number> = { green: 32, red: 31, yellow: 33, magenta: 35, cyan: 36, dim: 2, bold: 1 }

/** Wraps `text` in a colour's escape codes (or not, see {@link painter}). */
export type Paint = (color: Color, text: string) => string

/** A painter that colours only when `on` is true. */
export const painter = (on: boolean): Paint => (color, text) =>
  on && text !== "" ? `\x1b[${codes[color]}m${text}\x1b[0m` : text

/** Removes ANSI colour codes. */
export const strip = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, "")

/**
 * Width of `text` in terminal columns: one per code point, colour codes
 * excluded (the renderers draw no wide characters; a wide one in a task's
 * name is counted as one column).
 */
export const width = (text: string): number => [...strip(text)].length

/** Lays `items` out on lines of at most `max` columns, with `separator` between items on a line. */
export const wrap = (items: ReadonlyArray<string>, max: number, separator = " "): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const item of items) {
    if (line !== "" && width(line + separator + item) > max) {
      lines.push(line)
      line = item
    } else {
      line = line === "" ? item : line + separator + item
    }
  }
  if (line !== "") lines.push(line)
  return lines
}
