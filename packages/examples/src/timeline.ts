/**
 * A per-task timeline drawn with text: one row per task on a shared time axis.
 *
 * ```
 * lookup │████████✓           │ ok
 * retry  │████✗·····██████✓   │ ok, 2 tries
 * queued │░░░░░░██████⊘       │ timed out
 *        └──────────┬─────────┘
 *         0         50        100 ms
 * ```
 *
 * `█` is an attempt, ended by its outcome mark (`✓ ✗ ⊘ ↯ !`), `░` is time spent
 * queued for a slot before the first attempt, and `·` the pause between
 * attempts (the retry backoff, plus any wait for a slot before the retry).
 *
 * {@link render} is a pure function of the data, so it is tested on fixed
 * input; colours are used only when asked for.
 */
import { type Color, painter, truncate, width as textWidth, wrap } from "./text.js"

/**
 * How an attempt ended.
 */
export type Outcome = "ok" | "failed" | "timedOut" | "interrupted" | "defect"

/**
 * One attempt, in milliseconds from the timeline's origin.
 */
export interface Span {
  readonly start: number
  readonly end: number
  readonly outcome: Outcome
}

/**
 * One task: its attempts in order and when it entered the queue.
 */
export interface Row {
  readonly name: string
  /** When the task was queued, in ms from the origin. Default: `0`. */
  readonly queuedAt?: number | undefined
  /** Its attempts, in order; empty if it never started. */
  readonly attempts: ReadonlyArray<Span>
}

/**
 * Rendering options.
 */
export interface Options {
  /** Most columns a line may take. At least 40. Default: `100`. */
  readonly width?: number | undefined
  /** Colour the bars and marks with ANSI codes. Default: `false`. */
  readonly color?: boolean | undefined
}

/** The glyphs, in one place. */
export const glyphs = {
  attempt: "█",
  wait: "░",
  gap: "·",
  mark: { ok: "✓", failed: "✗", timedOut: "⊘", interrupted: "↯", defect: "!" } satisfies Record<Outcome, string>
} as const

const labels: Record<Outcome, string> = {
  ok: "ok",
  failed: "failed",
  timedOut: "timed out",
  interrupted: "interrupted",
  defect: "defect"
}

const colors: Record<Outcome, Color> = {
  ok: "green",
  failed: "red",
  timedOut: "yellow",
  interrupted: "magenta",
  defect: "red"
}

/** Columns between two labels of the time axis. */
const TICK_COLUMNS = 10

/**
 * The time axis: how many milliseconds one column stands for, and how many
 * columns it has (a multiple of {@link TICK_COLUMNS}, so it ends on a label).
 */
export interface Scale {
  readonly msPerColumn: number
  readonly columns: number
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

/** The short outcome shown at the end of a row: `ok`, `timed out`, `ok, 2 tries`. */
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
const paintCells = (cells: ReadonlyArray<Cell>, paint: (color: Color, text: string) => string): string => {
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

/**
 * Draws the timeline: one row per task, the time axis, and a legend naming
 * the glyphs that appear. Every line fits in `options.width` columns.
 */
export const render = (rows: ReadonlyArray<Row>, options?: Options | undefined): string => {
  const maxWidth = options?.width ?? 100
  if (!(maxWidth >= 40)) throw new RangeError(`width must be ≥ 40, got ${maxWidth}`)
  const paint = painter(options?.color === true)
  const summaries = rows.map(summary)
  const summaryWidth = Math.max(0, ...summaries.map(textWidth))
  // a row is: name, " │", the axis, "│ ", summary; the axis labels end with "350 ms" under the "│"
  const rightWidth = Math.max(summaryWidth + 2, 9)
  // long names are cut to leave the axis at least 2 labels wide
  const longest = Math.max(0, ...rows.map((r) => textWidth(r.name)))
  const nameWidth = Math.max(1, Math.min(longest, maxWidth - rightWidth - 2 - 2 * TICK_COLUMNS))
  const spanMs = Math.max(0, ...rows.flatMap((r) => [r.queuedAt ?? 0, ...r.attempts.map((a) => a.end)]))
  const { columns, msPerColumn } = chooseScale(spanMs, maxWidth - nameWidth - 2 - rightWidth)
  // column c covers [c, c + 1) × msPerColumn; flooring keeps a few ms of start-up noise in column 0
  const column = (ms: number): number => Math.max(0, Math.floor(ms / msPerColumn))

  const used = { wait: false, gap: false, outcomes: new Set<Outcome>() }
  const lines = rows.map((row, r) => {
    const cells: Array<Cell> = Array.from({ length: columns }, () => ({ glyph: " ", color: undefined }))
    const fill = (from: number, to: number, glyph: string, color: Color | undefined) => {
      for (let c = Math.max(0, from); c < Math.min(to, columns); c++) cells[c] = { glyph, color }
    }
    const first = row.attempts[0]
    const queuedAt = row.queuedAt ?? 0
    // a wait shorter than one column is timer noise, not worth a glyph
    if (first !== undefined && first.start - queuedAt >= msPerColumn) {
      fill(column(queuedAt), column(first.start), glyphs.wait, "dim")
      used.wait = true
    }
    let mark = -1 // the column of the previous attempt's outcome mark
    for (const attempt of row.attempts) {
      let from = column(attempt.start)
      if (mark >= 0) {
        from = Math.max(from, mark + 2) // keep at least one column between attempts
        fill(mark + 1, from, glyphs.gap, "dim")
        used.gap = true
      }
      const to = Math.max(from + 1, column(attempt.end))
      fill(from, to, glyphs.attempt, colors[attempt.outcome])
      fill(to, to + 1, glyphs.mark[attempt.outcome], colors[attempt.outcome])
      used.outcomes.add(attempt.outcome)
      mark = to
    }
    const last = row.attempts[row.attempts.length - 1]
    const tail = last === undefined ? paint("dim", summaries[r]!) : paint(colors[last.outcome], summaries[r]!)
    return `${truncate(row.name, nameWidth).padEnd(nameWidth)} │${paintCells(cells, paint)}│ ${tail}`.trimEnd()
  })

  const indent = " ".repeat(nameWidth + 1)
  let axis = ""
  for (let c = 0; c < columns; c++) axis += c > 0 && c % TICK_COLUMNS === 0 ? "┬" : "─"
  let ticks = ""
  for (let c = 0; c <= columns; c += TICK_COLUMNS) ticks = ticks.padEnd(c) + String(c * msPerColumn)
  lines.push(paint("dim", `${indent}└${axis}┘`))
  lines.push(paint("dim", `${indent} ${ticks} ms`))

  const legend = [`${glyphs.attempt} attempt`]
  if (used.wait) legend.push(`${glyphs.wait} queued for a slot`)
  if (used.gap) legend.push(`${glyphs.gap} backoff before a retry`)
  for (const outcome of Object.keys(labels) as Array<Outcome>) {
    if (used.outcomes.has(outcome)) legend.push(`${glyphs.mark[outcome]} ${labels[outcome]}`)
  }
  legend.push(`1 column = ${msPerColumn} ms`)
  for (const line of wrap(legend, maxWidth, "   ")) lines.push(paint("dim", line))
  return lines.join("\n")
}
