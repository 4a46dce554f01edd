/**
 * The HTML timeline: a self-contained page (no scripts, no stylesheets or
 * fonts to fetch) with the SVG chart and a table of every attempt, in
 * milliseconds from the start of the run.
 */
import { Spans } from "toolfan"
import { escapeXml, FONT, formatMs, outcomeColors, palette } from "./markup.js"
import type { SvgOptions, Timeline } from "./model.js"
import { renderSvg } from "./svg.js"
import { labels } from "./text.js"

/** The page's stylesheet: the chart's font and palette, numbers right-aligned, each outcome in its colour. */
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
