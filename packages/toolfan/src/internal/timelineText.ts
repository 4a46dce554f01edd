import type { TextOptions, Timeline } from "../Timeline.js"

/** @internal */
export const render = (timeline: Timeline, _options?: TextOptions | undefined): string =>
  timeline.rows.map((r) => `${r.name} ${r.attempts.map((a) => a.outcome).join(",")}`).join("\n")
