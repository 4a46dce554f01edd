/**
 * The SVG and HTML timelines.
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
 * Text widths are estimated from the number of characters (a renderer has no
 * font metrics without a browser), generously enough for common sans-serif
 * fonts.
 */
import { Spans } from "toolfan"
import { showValue, truncate } from "toolfan/shared"
import type { Attempt, Outcome, Row, SvgOptions, Timeline } from "../Timeline.js"
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
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

const palette = {
  text: "#111827",
  muted: "#6b7280",
  grid: "#eef0f3",
  stripe: "#f8fafc",
  wait: "#d1d5db",
  backoff: "#9ca3af"
} as const

/** The colour of each outcome. */
export const outcomeColors: Record<Outcome, string> = {
  ok: "#16a34a",
  failed: "#dc2626",
  timedOut: "#d97706",
  interrupted: "#7c3aed",
  unavailable: "#0891b2",
  defect: "#9f1239"
}

/** Escapes text for XML (and HTML) content and attribute values; drops characters XML 1.0 forbids. */
export const escapeXml = (text: string): string =>
  text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;")

/** A coordinate with at most one decimal: short and the same on every run. */
const n = (v: number): string => String(Math.round(v * 10) / 10)

/** Milliseconds for people: `5`, `5.1`, `1,250`. */
export const formatMs = (ms: number): string => {
  const rounded = Math.abs(ms) < 100 ? Math.round(ms * 10) / 10 : Math.round(ms)
  const [whole, fraction] = String(Math.abs(rounded)).split(".")
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return `${rounded < 0 ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`
}

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
  }
}

/** `search — attempt 2: failed, 20 ms, waited 5 ms, after a 100 ms backoff` */
const tooltip = (row: Row, attempt: Attempt, previous: Attempt | undefined): string =>
  `${row.name} — attempt ${attempt.attempt}: ` +
  `${labels[attempt.outcome]}, ${formatMs(attempt.end - attempt.start)} ms, ` +
  `waited ${formatMs(attempt.start - attempt.queuedAt)} ms` +
  (previous === undefined ? "" : `, after a ${formatMs(attempt.queuedAt - previous.end)} ms backoff`)

/** What the legend shows: only what the chart uses. */
interface LegendItem {
  readonly swatch: (x: number, cy: number) => string
  readonly swatchWidth: number
  readonly label: string
}

/** Draws the timeline as a self-contained SVG document; see the module's comment. */
export const renderSvg = (timeline: Timeline, options?: SvgOptions | undefined): string => {
  const width = checkWidth(options)
  const title = options?.title
  const rows = timeline.rows

  // the label column: as wide as the longest name or group, at most 30% of the chart
  const longest = maxOf(rows, (r) => Math.max([...r.name].length * CHAR_12, [...(r.group ?? "")].length * CHAR_10), 4)
  const labelWidth = Math.min(Math.ceil(longest) + 20, Math.floor(width * 0.3))
  const plotLeft = PAD + labelWidth
  const plotWidth = width - PAD - RIGHT_ROOM - plotLeft
  const spanMs = spanOf(rows)
  const axis = niceAxis(spanMs, Math.floor(plotWidth / 64))
  const x = (ms: number): number => plotLeft + (Math.max(0, ms) / axis.max) * plotWidth

  const top = PAD + (title === undefined ? 0 : TITLE_HEIGHT)
  const axisY = top + rows.length * LANE_HEIGHT + 4
  const parts: Array<string> = []
  const used = { wait: false, backoff: false, outcomes: new Set<Outcome>() }

  if (title !== undefined) {
    parts.push(
      `<text x="${PAD}" y="${PAD + 16}" font-size="16" font-weight="600" fill="${palette.text}">${
        escapeXml(truncate(title, Math.floor((width - 2 * PAD) / 9)))
      }</text>`
    )
  }

  // stripes, then the grid, under everything else
  rows.forEach((_, i) => {
    if (i % 2 === 1) {
      parts.push(
        `<rect x="${PAD}" y="${top + i * LANE_HEIGHT}" width="${n(width - 2 * PAD)}" height="${LANE_HEIGHT}" fill="${palette.stripe}"/>`
      )
    }
  })
  const ticks: Array<number> = []
  for (let t = 0; t <= axis.max + axis.step / 2; t += axis.step) ticks.push(t)
  for (const t of ticks) {
    parts.push(`<line x1="${n(x(t))}" y1="${top}" x2="${n(x(t))}" y2="${axisY}" stroke="${palette.grid}"/>`)
  }

  rows.forEach((row, i) => {
    const laneTop = top + i * LANE_HEIGHT
    const cy = laneTop + LANE_HEIGHT / 2
    const nameChars = Math.max(1, Math.floor((labelWidth - 20) / CHAR_12))
    const groupChars = Math.max(1, Math.floor((labelWidth - 20) / CHAR_10))
    if (row.group === undefined) {
      parts.push(`<text x="${PAD + 4}" y="${n(cy + 4)}" fill="${palette.text}">${escapeXml(truncate(row.name, nameChars))}</text>`)
    } else {
      parts.push(
        `<text x="${PAD + 4}" y="${n(cy - 2)}" fill="${palette.text}">${escapeXml(truncate(row.name, nameChars))}</text>`,
        `<text x="${PAD + 4}" y="${n(cy + 10)}" font-size="10" fill="${palette.muted}">${
          escapeXml(truncate(row.group, groupChars))
        }</text>`
      )
    }
    let previous: Attempt | undefined
    for (const attempt of row.attempts) {
      const color = outcomeColors[attempt.outcome]
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
          `rx="2" fill="${color}"/>`,
        marker(attempt.outcome, x(attempt.start) + barWidth + 7, cy)
      )
      used.outcomes.add(attempt.outcome)
      parts.push(`<g><title>${escapeXml(tooltip(row, attempt, previous))}</title>${shapes.join("")}</g>`)
      previous = attempt
    }
  })

  if (rows.length === 0) {
    parts.push(`<text x="${n(plotLeft)}" y="${top + 16}" fill="${palette.muted}">no task ran</text>`)
  }

  // the axis
  parts.push(`<line x1="${n(plotLeft)}" y1="${axisY}" x2="${n(x(axis.max))}" y2="${axisY}" stroke="${palette.muted}"/>`)
  ticks.forEach((t, i) => {
    const label = `${formatMs(t)}${i === ticks.length - 1 ? " ms" : ""}`
    parts.push(
      `<line x1="${n(x(t))}" y1="${axisY}" x2="${n(x(t))}" y2="${axisY + 4}" stroke="${palette.muted}"/>`,
      `<text x="${n(x(t))}" y="${axisY + 16}" font-size="10" text-anchor="middle" fill="${palette.muted}">${label}</text>`
    )
  })

  // the legend, wrapped to the width
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
  let lx = PAD
  let line = 0
  const legendTop = axisY + AXIS_HEIGHT - 4
  for (const item of items) {
    const itemWidth = item.swatchWidth + 6 + item.label.length * CHAR_11
    if (lx > PAD && lx + itemWidth > width - PAD) {
      lx = PAD
      line++
    }
    const cy = legendTop + line * LEGEND_LINE
    parts.push(
      item.swatch(lx, cy),
      `<text x="${n(lx + item.swatchWidth + 6)}" y="${n(cy + 4)}" font-size="11" fill="${palette.muted}">${
        escapeXml(item.label)
      }</text>`
    )
    lx += itemWidth + 14
  }
  const height = legendTop + (items.length === 0 ? 0 : (line + 1) * LEGEND_LINE) + PAD - 10

  const label = escapeXml(title ?? "Timeline of a toolfan run")
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" ` +
    `viewBox="0 0 ${n(width)} ${n(height)}" role="img" aria-label="${label}" font-family="${FONT}" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    `</svg>`
  ].join("\n") + "\n"
}

const css = `
body { margin: 24px; font: 14px/1.4 ${FONT}; color: ${palette.text}; background: #ffffff; }
figure { margin: 0 0 24px; }
svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: ${palette.muted}; padding-bottom: 6px; }
th, td { padding: 3px 12px 3px 0; text-align: left; border-bottom: 1px solid ${palette.grid}; }
th { color: ${palette.muted}; font-weight: 500; }
td.num { text-align: right; }
${
  Spans.outcomes.map((o) => `td.outcome-${o} { color: ${outcomeColors[o]}; }`).join("\n")
}
`.trim()

/** A self-contained HTML page: the SVG chart and a table of every attempt. */
export const renderHtml = (timeline: Timeline, options?: SvgOptions | undefined): string => {
  const svg = renderSvg(timeline, options)
  const title = options?.title ?? "Timeline of a toolfan run"
  const cell = (text: string, cls?: string) => `<td${cls === undefined ? "" : ` class="${cls}"`}>${escapeXml(text)}</td>`
  const body = timeline.rows.flatMap((row) =>
    row.attempts.map((a) =>
      "<tr>" +
      cell(row.name) +
      cell(row.group ?? "") +
      cell(String(a.attempt), "num") +
      cell(formatMs(a.queuedAt), "num") +
      cell(formatMs(a.start), "num") +
      cell(formatMs(a.end), "num") +
      cell(formatMs(a.start - a.queuedAt), "num") +
      cell(formatMs(a.end - a.start), "num") +
      cell(labels[a.outcome], `outcome-${a.outcome}`) +
      "</tr>"
    )
  )
  const head = ["task", "group", "attempt", "queued at", "start", "end", "waited", "ran", "outcome"]
    .map((h) => `<th>${h}</th>`).join("")
  return [
    "<!doctype html>",
    `<html lang="en">`,
    "<head>",
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeXml(title)}</title>`,
    `<style>\n${css}\n</style>`,
    "</head>",
    "<body>",
    `<figure>\n${svg}</figure>`,
    "<table>",
    "<caption>Every attempt, in milliseconds from the start of the run</caption>",
    `<thead><tr>${head}</tr></thead>`,
    "<tbody>",
    ...body,
    "</tbody>",
    "</table>",
    "</body>",
    "</html>",
    ""
  ].join("\n")
}
