import type { SvgOptions, Timeline } from "../Timeline.js"

/** @internal */
export const renderSvg = (timeline: Timeline, _options?: SvgOptions | undefined): string =>
  `<svg xmlns="http://www.w3.org/2000/svg">${timeline.rows.length}</svg>`

/** @internal */
export const renderHtml = (timeline: Timeline, options?: SvgOptions | undefined): string =>
  `<!doctype html><html><body>${renderSvg(timeline, options)}</body></html>`
