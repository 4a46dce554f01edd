/**
 * The SVG timeline.
 *
 * The SVG is one self-contained document: no scripts, no stylesheets or fonts
 * to fetch, presentation in attributes only (so it looks the same in a
 * browser, an image viewer or a Markdown preview), and nothing that changes
 * between two renderings of the same timeline (no dates, no random ids), so a
 * rendering can be committed and compared. Each task has a lane: its name
 * (cut with "…" when long) and group at the left, then per attempt a light
 * bar for the wait for a slot, a bar coloured by the outcome, a marker drawn
 * with shapes (not font glyphs, which a viewer may lack) and a dotted line
 * for the backoff before it; hovering an attempt shows its `<title>`.
 *
 * The chart is drawn in layers, each appended to one list of parts in the
 * order a viewer paints them: the title, the lane stripes and grid, the
 * lanes, the axis, then a legend of only what was drawn.
 *
 * Text widths are estimated from the number of characters (a renderer has no
 * font metrics without a browser), generously enough for common sans-serif
 * fonts.
 */
import { Spans } from "toolfan"
import { showValue, truncate } from "toolfan/shared"
import { escapeXml, FONT, formatMs, outcomeColors, palette } from "./markup.js"
import type { Attempt, Outcome, Row, SvgOptions, Timeline } from "./model.js"
import { labels, maxOf, spanOf } from "./text.js"

/** The narrowest `width` accepted, in pixels. */
const MIN_WIDTH = 200

const PAD = 16
const TITLE_HEIGHT = 32
const LANE_HEIGHT = 32
const BAR_HEIGHT = 14
const AXIS_HEIGHT = 36
const LEGEND_LINE = 20
/** Estimated width of one character at the sizes used: names (12 px), groups and legend (10–11 px). */
const CHAR_12 = 7.2
const CHAR_11 = 6.4
const CHAR_10 = 6
/** Room right of the plot, for the last attempt's marker and the last tick's label. */
const RIGHT_ROOM = 28

/** A coordinate with at most one decimal: short and the same on every run. */
const n = (v: number): string => String(Math.round(v * 10) / 10)

/**
 * The time axis: the finest 1-2-5 step (1, 2, 5, 10 … ms) that covers
 * `spanMs` in at most `maxTicks` intervals.
 */
export const niceAxis = (spanMs: number, maxTicks: number): { readonly step: number; readonly max: number } => {
  for (let i = 0;; i++) {
    const step = [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3)
    const intervals = Math.max(1, Math.ceil(spanMs / step))
    if (intervals <= Math.max(1, maxTicks)) return { step, max: intervals * step }
  }
}

/** Checks `options.width`: the chart's width in pixels. */
const checkWidth = (options: SvgOptions | undefined): number => {
  const width = options?.width ?? 960
  if (typeof width !== "number" || !(width >= MIN_WIDTH) || !Number.isFinite(width)) {
    throw new RangeError(`width must be a finite number ≥ ${MIN_WIDTH}, got ${showValue(width)}`)
  }
  return width
}

/** The outcome's marker, centred on (`cx`, `cy`), on a white disc so it reads over a dotted line. */
const marker = (outcome: Outcome, cx: number, cy: number): string => {
  const color = outcomeColors[outcome]
  const stroke = `fill="none" stroke="${color}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"`
  const disc = `<circle cx="${n(cx)}" cy="${n(cy)}" r="6.5" fill="#ffffff"/>`
  const p = (x: number, y: number) => `${n(cx + x)} ${n(cy + y)}`
  switch (outcome) {
    case "ok":
      return `${disc}<path d="M${p(-4, 0)} L${p(-1.2, 3)} L${p(4, -3.5)}" ${stroke}/>`
    case "failed":
      return `${disc}<path d="M${p(-3.5, -3.5)} L${p(3.5, 3.5)} M${p(3.5, -3.5)} L${p(-3.5, 3.5)}" ${stroke}/>`
    case "timedOut": // a clock
      return `${disc}<circle cx="${n(cx)}" cy="${n(cy)}" r="5" ${stroke}/>` +
        `<path d="M${p(0, -3)} L${p(0, 0)} L${p(2.5, 1.5)}" ${stroke}/>`
    case "interrupted": // a stop sign
      return `${disc}<rect x="${n(cx - 4)}" y="${n(cy - 4)}" width="8" height="8" rx="1" fill="${color}"/>`
    case "unavailable": // ⊗
      return `${disc}<circle cx="${n(cx)}" cy="${n(cy)}" r="5" ${stroke}/>` +
        `<path d="M${p(-2.5, -2.5)} L${p(2.5, 2.5)} M${p(2.5, -2.5)} L${p(-2.5, 2.5)}" ${stroke}/>`
    case "defect": // a warning triangle
      return `${disc}<path d="M${p(0, -5)} L${p(5, 4)} L${p(-5, 4)} Z" ${stroke}/>` +
        `<path d="M${p(0, -1.5)} L${p(0, 1)} M${p(0, 2.8)} L${p(0, 2.9)}" ${stroke}/>`
    case "hedgeLost": // a slash: cut because the other attempt won
      return `${disc}<path d="M${p(-3.5, 3.5)} L${p(3.5, -3.5)}" ${stroke}/>`
    case "coalesced": // ≡: served another task's result
      return `${disc}<path d="M${p(-3.5, -2.5)} L${p(3.5, -2.5)} M${p(-3.5, 0)} L${p(3.5, 0)} M${p(-3.5, 2.5)} L${p(3.5, 2.5)}" ${stroke}/>`
  }
}

/** `search — attempt 2: failed, 20 ms, waited 5 ms, after a 100 ms backoff` */
const tooltip = (row: Row, attempt: Attempt, previous: Attempt | undefined): string =>
  `${row.name} — attempt ${attempt.attempt}: ` +
  `${labels[attempt.outcome]}, ${formatMs(attempt.end - attempt.start)} ms, ` +
  `waited ${formatMs(attempt.start - attempt.queuedAt)} ms` +
  (previous === undefined ? "" : `, after a ${formatMs(attempt.queuedAt - previous.end)} ms backoff`)

/** Where everything goes, fixed before anything is drawn. */
interface Geometry {
  readonly width: number
  /** Width of the column of names and groups. */
  readonly labelWidth: number
  readonly plotLeft: number
  /** Top of the first lane (below the title, if any). */
  readonly top: number
  readonly axisY: number
  /** The axis' last tick, in ms. */
  readonly axisMax: number
  /** The times of the axis' ticks, from 0 to `axisMax`. */
  readonly ticks: ReadonlyArray<number>
  /** The x of a time in ms (a negative time at 0). */
  readonly x: (ms: number) => number
}

/** What the chart drew, so that the legend shows only that. */
interface Used {
  wait: boolean
  backoff: boolean
  readonly outcomes: Set<Outcome>
}

/** What the legend shows: only what the chart uses. */
interface LegendItem {
  readonly swatch: (x: number, cy: number) => string
  readonly swatchWidth: number
  readonly label: string
}

/** Lays the chart out: the label column, the plot, its time axis and where the lanes and the axis go. */
const geometry = (rows: ReadonlyArray<Row>, width: number, title: string | undefined): Geometry => {
  // the label column: as wide as the longest name or group, at most 30% of the chart
  const longest = maxOf(rows, (r) => Math.max([...r.name].length * CHAR_12, [...(r.group ?? "")].length * CHAR_10), 4)
  const labelWidth = Math.min(Math.ceil(longest) + 20, Math.floor(width * 0.3))
  const plotLeft = PAD + labelWidth
  const plotWidth = width - PAD - RIGHT_ROOM - plotLeft
  const axis = niceAxis(spanOf(rows), Math.floor(plotWidth / 64))
  const top = PAD + (title === undefined ? 0 : TITLE_HEIGHT)
  const ticks: Array<number> = []
  for (let t = 0; t <= axis.max + axis.step / 2; t += axis.step) ticks.push(t)
  return {
    width,
    labelWidth,
    plotLeft,
    top,
    axisY: top + rows.length * LANE_HEIGHT + 4,
    axisMax: axis.max,
    ticks,
    x: (ms) => plotLeft + (Math.max(0, ms) / axis.max) * plotWidth
  }
}

/** The title above the chart, cut to its width. */
const drawTitle = (title: string, width: number): string =>
  `<text x="${PAD}" y="${PAD + 16}" font-size="16" font-weight="600" fill="${palette.text}">${
    escapeXml(truncate(title, Math.floor((width - 2 * PAD) / 9)))
  }</text>`

/** Appends to `out` what lies under everything else: a stripe on every other lane, then the grid. */
const drawBackground = (out: Array<string>, g: Geometry, lanes: number): void => {
  for (let i = 1; i < lanes; i += 2) {
    out.push(
      `<rect x="${PAD}" y="${g.top + i * LANE_HEIGHT}" width="${n(g.width - 2 * PAD)}" height="${LANE_HEIGHT}" fill="${palette.stripe}"/>`
    )
  }
  for (const t of g.ticks) {
    out.push(`<line x1="${n(g.x(t))}" y1="${g.top}" x2="${n(g.x(t))}" y2="${g.axisY}" stroke="${palette.grid}"/>`)
  }
}

/** Appends to `out` a lane's label: the task's name, and its group under it. */
const drawLabel = (out: Array<string>, g: Geometry, row: Row, cy: number): void => {
  const nameChars = Math.max(1, Math.floor((g.labelWidth - 20) / CHAR_12))
  const groupChars = Math.max(1, Math.floor((g.labelWidth - 20) / CHAR_10))
  if (row.group === undefined) {
    out.push(`<text x="${PAD + 4}" y="${n(cy + 4)}" fill="${palette.text}">${escapeXml(truncate(row.name, nameChars))}</text>`)
  } else {
    out.push(
      `<text x="${PAD + 4}" y="${n(cy - 2)}" fill="${palette.text}">${escapeXml(truncate(row.name, nameChars))}</text>`,
      `<text x="${PAD + 4}" y="${n(cy + 10)}" font-size="10" fill="${palette.muted}">${
        escapeXml(truncate(row.group, groupChars))
      }</text>`
    )
  }
}

/** One attempt, with its tooltip: the backoff before it, its wait for a slot, its bar and its marker. */
const drawAttempt = (g: Geometry, row: Row, attempt: Attempt, previous: Attempt | undefined, cy: number, used: Used): string => {
  const { x } = g
  const shapes: Array<string> = []
  if (previous !== undefined && attempt.queuedAt > previous.end) {
    used.backoff = true
    shapes.push(
      `<line x1="${n(x(previous.end))}" y1="${n(cy)}" x2="${n(x(attempt.queuedAt))}" y2="${n(cy)}" ` +
        `stroke="${palette.backoff}" stroke-width="1.5" stroke-dasharray="1.5 3" stroke-linecap="round"/>`
    )
  }
  if (attempt.start > attempt.queuedAt) {
    used.wait = true
    shapes.push(
      `<rect x="${n(x(attempt.queuedAt))}" y="${n(cy - 4)}" width="${n(x(attempt.start) - x(attempt.queuedAt))}" ` +
        `height="8" fill="${palette.wait}"/>`
    )
  }
  const barWidth = Math.max(2, x(attempt.end) - x(attempt.start))
  shapes.push(
    `<rect x="${n(x(attempt.start))}" y="${n(cy - BAR_HEIGHT / 2)}" width="${n(barWidth)}" height="${BAR_HEIGHT}" ` +
      `rx="2" fill="${outcomeColors[attempt.outcome]}"/>`,
    marker(attempt.outcome, x(attempt.start) + barWidth + 7, cy)
  )
  used.outcomes.add(attempt.outcome)
  return `<g><title>${escapeXml(tooltip(row, attempt, previous))}</title>${shapes.join("")}</g>`
}

/** Appends to `out` the `i`th task's lane: its label, then its attempts. */
const drawLane = (out: Array<string>, g: Geometry, row: Row, i: number, used: Used): void => {
  const cy = g.top + i * LANE_HEIGHT + LANE_HEIGHT / 2
  drawLabel(out, g, row, cy)
  let previous: Attempt | undefined
  for (const attempt of row.attempts) {
    out.push(drawAttempt(g, row, attempt, previous, cy, used))
    previous = attempt
  }
}

/** Appends to `out` the time axis: its line, then a tick and a label per step, the last one with "ms". */
const drawAxis = (out: Array<string>, g: Geometry): void => {
  const { x, axisY, ticks } = g
  out.push(`<line x1="${n(g.plotLeft)}" y1="${axisY}" x2="${n(x(g.axisMax))}" y2="${axisY}" stroke="${palette.muted}"/>`)
  ticks.forEach((t, i) => {
    const label = `${formatMs(t)}${i === ticks.length - 1 ? " ms" : ""}`
    out.push(
      `<line x1="${n(x(t))}" y1="${axisY}" x2="${n(x(t))}" y2="${axisY + 4}" stroke="${palette.muted}"/>`,
      `<text x="${n(x(t))}" y="${axisY + 16}" font-size="10" text-anchor="middle" fill="${palette.muted}">${label}</text>`
    )
  })
}

/** The legend's items: the outcomes drawn (in the order of `Spans.outcomes`), then waits and backoffs if any. */
const legendItems = (used: Used): Array<LegendItem> => {
  const items: Array<LegendItem> = []
  for (const outcome of Spans.outcomes) {
    if (!used.outcomes.has(outcome)) continue
    items.push({
      swatchWidth: 30,
      label: labels[outcome],
      swatch: (lx, cy) =>
        `<rect x="${n(lx)}" y="${n(cy - 5)}" width="14" height="10" rx="2" fill="${outcomeColors[outcome]}"/>` +
        marker(outcome, lx + 21, cy)
    })
  }
  if (used.wait) {
    items.push({
      swatchWidth: 18,
      label: "waiting for a slot",
      swatch: (lx, cy) => `<rect x="${n(lx)}" y="${n(cy - 4)}" width="18" height="8" fill="${palette.wait}"/>`
    })
  }
  if (used.backoff) {
    items.push({
      swatchWidth: 18,
      label: "backoff before a retry",
      swatch: (lx, cy) =>
        `<line x1="${n(lx)}" y1="${n(cy)}" x2="${n(lx + 18)}" y2="${n(cy)}" stroke="${palette.backoff}" ` +
        `stroke-width="1.5" stroke-dasharray="1.5 3" stroke-linecap="round"/>`
    })
  }
  return items
}

/** Appends to `out` the legend under the axis, wrapped to the width; returns the chart's height. */
const drawLegend = (out: Array<string>, g: Geometry, items: ReadonlyArray<LegendItem>): number => {
  let lx = PAD
  let line = 0
  const legendTop = g.axisY + AXIS_HEIGHT - 4
  for (const item of items) {
    const itemWidth = item.swatchWidth + 6 + item.label.length * CHAR_11
    if (lx > PAD && lx + itemWidth > g.width - PAD) {
      lx = PAD
      line++
    }
    const cy = legendTop + line * LEGEND_LINE
    out.push(
      item.swatch(lx, cy),
      `<text x="${n(lx + item.swatchWidth + 6)}" y="${n(cy + 4)}" font-size="11" fill="${palette.muted}">${
        escapeXml(item.label)
      }</text>`
    )
    lx += itemWidth + 14
  }
  return legendTop + (items.length === 0 ? 0 : (line + 1) * LEGEND_LINE) + PAD - 10
}

/** The `<svg>` document around the parts, on a white background, labelled for screen readers. */
const svgDocument = (width: number, height: number, title: string | undefined, parts: ReadonlyArray<string>): string => {
  const label = escapeXml(title ?? "Timeline of a toolfan run")
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" ` +
    `viewBox="0 0 ${n(width)} ${n(height)}" role="img" aria-label="${label}" font-family="${FONT}" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    `</svg>`
  ].join("\n") + "\n"
}

/** Draws the timeline as a self-contained SVG document; see the module's comment. */
export const renderSvg = (timeline: Timeline, options?: SvgOptions | undefined): string => {
  const width = checkWidth(options)
  const title = options?.title
  const rows = timeline.rows
  const g = geometry(rows, width, title)
  const parts: Array<string> = []
  const used: Used = { wait: false, backoff: false, outcomes: new Set<Outcome>() }
  if (title !== undefined) parts.push(drawTitle(title, width))
  drawBackground(parts, g, rows.length)
  rows.forEach((row, i) => drawLane(parts, g, row, i, used))
  if (rows.length === 0) {
    parts.push(`<text x="${n(g.plotLeft)}" y="${g.top + 16}" fill="${palette.muted}">no task ran</text>`)
  }
  drawAxis(parts, g)
  const height = drawLegend(parts, g, legendItems(used))
  return svgDocument(width, height, title, parts)
}
