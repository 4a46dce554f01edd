/**
 * The adaptive cap over time as an SVG picture (docs/limits-adaptive.svg):
 * the cap as a step line, what the provider sustains as a dashed line, and a
 * red tick at each request it answered 429. Written by the limits section
 * when the bench is given `--svg=<dir>`.
 */

export interface CapChart {
  readonly title: string
  /** (ms since the start, the cap), in time order. */
  readonly samples: ReadonlyArray<readonly [number, number]>
  /** When (ms since the start) each refused request arrived. */
  readonly refusals: ReadonlyArray<number>
  /** The cap the provider sustains (its rate × its latency). */
  readonly fit: number
}

const W = 720
const H = 260
const LEFT = 44
const RIGHT = 16
const TOP = 34
const BOTTOM = 46

const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** The chart's SVG text. */
export const capChart = (c: CapChart): string => {
  const endMs = Math.max(1, ...c.samples.map(([t]) => t), ...c.refusals)
  const topCap = Math.max(c.fit + 1, ...c.samples.map(([, cap]) => cap))
  const x = (ms: number) => LEFT + (ms / endMs) * (W - LEFT - RIGHT)
  const y = (cap: number) => TOP + (1 - cap / topCap) * (H - TOP - BOTTOM)
  let path = ""
  for (let i = 0; i < c.samples.length; i++) {
    const [t, cap] = c.samples[i]!
    path += i === 0 ? `M${x(t).toFixed(1)},${y(cap).toFixed(1)}` : ` H${x(t).toFixed(1)} V${y(cap).toFixed(1)}`
  }
  const yTicks = Array.from({ length: Math.floor(topCap / 4) + 1 }, (_, i) => i * 4)
  const xTicks = Array.from({ length: Math.floor(endMs / 500) + 1 }, (_, i) => i * 500)
  const base = H - BOTTOM
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${LEFT}" y="18" font-size="13">${escape(c.title)}</text>`,
    ...yTicks.map((v) =>
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>` +
      `<text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`
    ),
    ...xTicks.map((t) => `<text x="${x(t)}" y="${base + 16}" text-anchor="middle">${t} ms</text>`),
    `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(c.fit)}" y2="${y(c.fit)}" stroke="#2a7" stroke-dasharray="5,4"/>`,
    `<text x="${W - RIGHT}" y="${y(c.fit) - 5}" text-anchor="end" fill="#2a7">what the provider sustains: ${c.fit}</text>`,
    `<path d="${path}" fill="none" stroke="#25c" stroke-width="2"/>`,
    ...c.refusals.map((t) => `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${base}" y2="${base - 8}" stroke="#d22"/>`),
    `<text x="${LEFT}" y="${H - 8}" fill="#d22">| a request answered 429 (${c.refusals.length})</text>`,
    `<text x="${LEFT + 220}" y="${H - 8}" fill="#25c">— the adaptive cap</text>`,
    `</svg>`,
    ""
  ].join("\n")
}
