/**
 * The text timeline: one row per task on a shared time axis.
 *
 * ```
 * lookup │████████✓           │ ok
 * retry  │████✗·····░░██████✓ │ ok, 2 tries
 * queued │░░░░░░██████⊘       │ timed out
 *        └──────────┬─────────┘
 *         0         50        100 ms
 * ```
 *
 * `█` is an attempt, ended by its outcome mark (`✓ ✗ ⊘ ↯ ⊗ !`), `░` time spent
 * waiting for a slot (before the first attempt or before a retry), and `·`
 * the backoff between an attempt's end and the moment its retry is queued.
 *
 * Time is cut into columns of a 1-2-5 number of milliseconds (the finest on
 * which the run fits); column `c` covers `[c, c + 1) × msPerColumn`. A wait
 * shorter than one column is not drawn: at that scale it is timer noise.
 * Attempts of one task are kept at least one column apart, so that a retry
 * that starts at once is still seen as a second bar.
 *
 * {@link render} is a pure function of the timeline: colours only when asked
 * for, no clock, no `process`.
 */
import { Spans } from "toolfan"
import { showValue, truncate } from "toolfan/shared"
import type { Outcome, Row, TextOptions, Timeline } from "./model.js"
import { type Color, type Paint, painter, width as textWidth, wrap } from "./terminal.js"

/** The glyphs, in one place. */
export const glyphs = {
  attempt: "█",
  wait: "░",
  gap: "·",
  mark: {
    ok: "✓",
    failed: "✗",
    timedOut: "⊘",
    interrupted: "↯",
    unavailable: "⊗",
    defect: "!",
    hedgeLost: "⤫",
    coalesced: "≡"
  } satisfies Record<Outcome, string>
} as const

/** How each outcome is named (the legend lists them in the order of `Spans.outcomes`). */
export const labels: Record<Outcome, string> = {
  ok: "ok",
  failed: "failed",
  timedOut: "timed out",
  interrupted: "interrupted",
  unavailable: "unavailable",
  defect: "defect",
  hedgeLost: "cut (hedge lost)",
  coalesced: "coalesced"
}

const colors: Record<Outcome, Color> = {
  ok: "green",
  failed: "red",
  timedOut: "yellow",
  interrupted: "magenta",
  unavailable: "cyan",
  defect: "red",
  hedgeLost: "magenta",
  coalesced: "cyan"
}

/** Columns between two labels of the time axis. */
const TICK_COLUMNS = 10

/** The narrowest `width` accepted. */
const MIN_WIDTH = 40

/**
 * The time axis: how many milliseconds one column stands for, and how many
 * columns it has (a multiple of {@link TICK_COLUMNS}, so it ends on a label).
 */
export interface Scale {
  readonly msPerColumn: number
  readonly columns: number
}

/** The largest of `f` over `items`, at least `floor` (a loop: spreading 100,000 values overflows the stack). */
export const maxOf = <A>(items: ReadonlyArray<A>, f: (a: A) => number, floor: number): number => {
  let max = floor
  for (const item of items) max = Math.max(max, f(item))
  return max
}

/**
 * The last moment drawn: the latest end or queue time of any attempt. Every
 * time must be a finite number (a hand-built or deserialized timeline may
 * hold NaN, Infinity or a missing field, which no scale can draw).
 */
export const spanOf = (rows: ReadonlyArray<Row>): number => {
  let max = 0
  for (const row of rows) {
    for (const a of row.attempts) {
      for (const field of ["queuedAt", "start", "end"] as const) {
        const t = a[field]
        if (typeof t !== "number" || !Number.isFinite(t)) {
          throw new RangeError(`timeline row "${row.name}", attempt ${a.attempt}: ${field} must be a finite number of ms, got ${showValue(t)}`)
        }
      }
      max = Math.max(max, a.queuedAt, a.end)
    }
  }
  return max
}

/**
 * The finest 1-2-5 scale (1, 2, 5, 10, 20, 50 … ms per column) on which
 * `spanMs` fits in `maxColumns`, leaving room after the last bar for its
 * outcome mark and one blank column.
 */
export const chooseScale = (spanMs: number, maxColumns: number): Scale => {
  if (maxColumns < TICK_COLUMNS) throw new RangeError(`maxColumns must be ≥ ${TICK_COLUMNS}, got ${maxColumns}`)
  for (let i = 0;; i++) {
    const msPerColumn = [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3)
    const needed = Math.floor(spanMs / msPerColumn) + 2
    const columns = Math.ceil(needed / TICK_COLUMNS) * TICK_COLUMNS
    if (columns <= maxColumns) return { msPerColumn, columns }
  }
}

/** The short outcome shown at the end of a row: `ok`, `timed out`, `ok, 2 tries`, `not run`. */
export const summary = (row: Row): string => {
  const last = row.attempts[row.attempts.length - 1]
  if (last === undefined) return "not run"
  const n = row.attempts.length
  return n === 1 ? labels[last.outcome] : `${labels[last.outcome]}, ${n} tries`
}

interface Cell {
  readonly glyph: string
  readonly color: Color | undefined
}

/** Joins cells into text, with one escape sequence per run of equal colour. */
const paintCells = (cells: ReadonlyArray<Cell>, paint: Paint): string => {
  let out = ""
  let i = 0
  while (i < cells.length) {
    const color = cells[i]!.color
    let run = ""
    while (i < cells.length && cells[i]!.color === color) run += cells[i++]!.glyph
    out += color === undefined ? run : paint(color, run)
  }
  return out
}

/** The layout of a drawing: the columns given to names, to the axis and to what follows it. */
interface Layout {
  readonly nameWidth: number
  readonly summaryWidth: number
  readonly scale: Scale
}

/**
 * Splits `maxWidth` between the names, the axis and the summaries. A row is
 * `name │axis│ summary`; the axis' labels end with e.g. `350 ms` under the
 * right border, so what follows the axis is at least as wide as that.
 * Long names and summaries are cut so that the axis keeps at least two labels.
 */
const layout = (rows: ReadonlyArray<Row>, summaries: ReadonlyArray<string>, spanMs: number, maxWidth: number): Layout => {
  const longest = maxOf(rows, (r) => textWidth(r.name), 1)
  const minAxis = 2 * TICK_COLUMNS
  // name, " │", axis, "│ ", summary
  const summaryWidth = Math.min(maxOf(summaries, textWidth, 0), maxWidth - 1 - 2 - minAxis - 2)
  let rightWidth = Math.max(summaryWidth + 2, 9)
  for (;;) {
    const nameWidth = Math.max(1, Math.min(longest, maxWidth - rightWidth - 2 - minAxis))
    const scale = chooseScale(spanMs, maxWidth - nameWidth - 2 - rightWidth)
    const lastLabel = textWidth(`${scale.columns * scale.msPerColumn} ms`)
    if (lastLabel <= rightWidth) return { nameWidth, summaryWidth, scale }
    rightWidth = lastLabel // only for runs of many minutes: the last label has 7 digits or more
  }
}

/** What a drawing used, so that the legend lists only that. */
interface Used {
  wait: boolean
  gap: boolean
  readonly outcomes: Set<Outcome>
}

/** Checks `options.width`: the most columns a line may take. */
const checkWidth = (options: TextOptions | undefined): number => {
  const maxWidth = options?.width ?? 100
  if (typeof maxWidth !== "number" || !(maxWidth >= MIN_WIDTH) || !Number.isFinite(maxWidth)) {
    throw new RangeError(`width must be a finite number ≥ ${MIN_WIDTH}, got ${showValue(maxWidth)}`)
  }
  return maxWidth
}

/** The cells of one row's axis: its waits, backoffs, attempts and outcome marks; notes in `used` what it drew. */
const drawCells = (row: Row, { columns, msPerColumn }: Scale, used: Used): Array<Cell> => {
  // flooring keeps a few ms of start-up noise in column 0
  const column = (ms: number): number => Math.max(0, Math.floor(ms / msPerColumn))
  const cells: Array<Cell> = Array.from({ length: columns }, () => ({ glyph: " ", color: undefined }))
  /** Fills columns `[from, to)`; whether anything was drawn. */
  const fill = (from: number, to: number, glyph: string, color: Color | undefined): boolean => {
    const [a, b] = [Math.max(0, from), Math.min(to, columns)]
    for (let c = a; c < b; c++) cells[c] = { glyph, color }
    return a < b
  }
  let mark = -1 // the column of the previous attempt's outcome mark
  for (const attempt of row.attempts) {
    // keep at least one column between attempts
    const from = mark < 0 ? column(attempt.start) : Math.max(column(attempt.start), mark + 2)
    // a wait shorter than one column is timer noise, not worth a glyph
    const waited = attempt.start - attempt.queuedAt >= msPerColumn
    const waitFrom = waited ? Math.min(from, Math.max(column(attempt.queuedAt), mark + 1)) : from
    if (mark >= 0 && fill(mark + 1, waitFrom, glyphs.gap, "dim")) used.gap = true
    if (fill(waitFrom, from, glyphs.wait, "dim")) used.wait = true
    const to = Math.max(from + 1, column(attempt.end))
    fill(from, to, glyphs.attempt, colors[attempt.outcome])
    fill(to, to + 1, glyphs.mark[attempt.outcome], colors[attempt.outcome])
    used.outcomes.add(attempt.outcome)
    mark = to
  }
  return cells
}

/** One row: `name │axis│ summary`, the name and summary cut to the drawing's widths. */
const drawRow = (row: Row, rowSummary: string, drawing: Layout, paint: Paint, used: Used): string => {
  const cells = drawCells(row, drawing.scale, used)
  const last = row.attempts[row.attempts.length - 1]
  const text = truncate(rowSummary, drawing.summaryWidth)
  const tail = last === undefined ? paint("dim", text) : paint(colors[last.outcome], text)
  const name = truncate(row.name, drawing.nameWidth)
  // padded by columns (code points), not UTF-16 units as padEnd would
  return `${name}${" ".repeat(drawing.nameWidth - textWidth(name))} │${paintCells(cells, paint)}│ ${tail}`.trimEnd()
}

/** The time axis under the rows (not painted): its line, with a `┬` at each label, and the labels. */
const drawAxis = (nameWidth: number, { columns, msPerColumn }: Scale): Array<string> => {
  const indent = " ".repeat(nameWidth + 1)
  let axis = ""
  for (let c = 0; c < columns; c++) axis += c > 0 && c % TICK_COLUMNS === 0 ? "┬" : "─"
  let ticks = ""
  for (let c = 0; c <= columns; c += TICK_COLUMNS) ticks = ticks.padEnd(c) + String(c * msPerColumn)
  return [`${indent}└${axis}┘`, `${indent} ${ticks} ms`]
}

/** The legend's items: the glyphs the drawing used, then the scale. */
const legend = (used: Used, msPerColumn: number): Array<string> => {
  const items = [`${glyphs.attempt} attempt`]
  if (used.wait) items.push(`${glyphs.wait} queued for a slot`)
  if (used.gap) items.push(`${glyphs.gap} backoff before a retry`)
  for (const outcome of Spans.outcomes) {
    if (used.outcomes.has(outcome)) items.push(`${glyphs.mark[outcome]} ${labels[outcome]}`)
  }
  items.push(`1 column = ${msPerColumn} ms`)
  return items
}

/** Draws the timeline: see the module's comment. Every line fits in `options.width` columns. */
export const render = (timeline: Timeline, options?: TextOptions | undefined): string => {
  const maxWidth = checkWidth(options)
  const paint = painter(options?.color === true)
  const rows = timeline.rows
  const summaries = rows.map(summary)
  const drawing = layout(rows, summaries, spanOf(rows), maxWidth)
  const used: Used = { wait: false, gap: false, outcomes: new Set<Outcome>() }
  const lines = rows.map((row, r) => drawRow(row, summaries[r]!, drawing, paint, used))
  for (const line of drawAxis(drawing.nameWidth, drawing.scale)) lines.push(paint("dim", line))
  for (const line of wrap(legend(used, drawing.scale.msPerColumn), maxWidth, "   ")) lines.push(paint("dim", line))
  return lines.join("\n")
}
