/**
 * Small helpers for the demo's terminal text: a few ANSI colours (off when the
 * output is not a terminal, so piped output and tests see plain text),
 * truncation and word wrapping. (The timeline is drawn by @toolfan/timeline's
 * `Timeline.toText`, which has its copy of these.)
 */

/** The styles the demo uses. */
export type Color = "green" | "red" | "yellow" | "magenta" | "dim" | "bold"

const codes: Record<Color, number> = { green: 32, red: 31, yellow: 33, magenta: 35, dim: 2, bold: 1 }

/** Wraps `text` in a colour's escape codes (or not, see {@link painter}). */
export type Paint = (color: Color, text: string) => string

/** A painter that colours only when `on` is true. */
export const painter = (on: boolean): Paint => (color, text) =>
  on && text !== "" ? `\x1b[${codes[color]}m${text}\x1b[0m` : text

/** Removes ANSI colour codes. */
export const strip = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, "")

/** Width of `text` in terminal columns: one per code point (the demo uses no wide characters). */
const width = (text: string): number => [...strip(text)].length

/** Cuts plain `text` to at most `max` columns, ending with "…" when cut. */
export const truncate = (text: string, max: number): string => {
  const chars = [...text]
  return chars.length <= max ? text : chars.slice(0, Math.max(0, max - 1)).join("") + "…"
}

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

/** Whether standard output is a terminal that should get colours (honours `NO_COLOR`). */
export const stdoutHasColor = (): boolean =>
  process.stdout.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""
