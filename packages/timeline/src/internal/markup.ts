/**
 * What the SVG chart (`svg.ts`) and the HTML page (`html.ts`) share: the
 * font, the palette and each outcome's colour, XML escaping and the way
 * milliseconds are written for people.
 */
import type { Outcome } from "./model.js"

/** The font stack of the chart and the page: common sans-serif fonts, none to fetch. */
export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

/** The colours of everything but the outcomes. */
export const palette = {
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
  defect: "#9f1239",
  hedgeLost: "#64748b",
  coalesced: "#2563eb"
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

/** Milliseconds for people: `5`, `5.1`, `1,250`. */
export const formatMs = (ms: number): string => {
  const rounded = Math.abs(ms) < 100 ? Math.round(ms * 10) / 10 : Math.round(ms)
  const [whole, fraction] = String(Math.abs(rounded)).split(".")
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return `${rounded < 0 ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`
}
