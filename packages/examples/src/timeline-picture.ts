/**
 * The picture of a timeline in the docs (`docs/timeline.svg`, and a PNG of
 * it, `docs/timeline.png`): a fixed, hand-built {@link picture} that looks
 * like one agent step, drawn by `Timeline.toSvg`. Being fixed, it renders the
 * same on every machine; test/timeline-picture.test.ts checks that the
 * committed SVG is the current rendering.
 *
 * Run it to write the files again after changing the renderer:
 *
 * ```sh
 * npx tsc -b && node packages/examples/dist/timeline-picture.js
 * ```
 *
 * The PNG is a screenshot taken by headless Chromium, when there is one.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Timeline } from "@toolfan/timeline"
import { findChromium, headless } from "./chromium.js"

/** The title of the picture. */
export const title = "One agent step: 9 tool calls, maxConcurrency 8, groups { web: 2, travel: 2, llm: 1 }"

/**
 * One agent step on a scheduler with `maxConcurrency: 8` and groups
 * `{ web: 2, travel: 2, llm: 1 }`, in milliseconds from the moment the tasks
 * were queued:
 *
 * - `fetchPage` fails at 45 ms, backs off 50 ms, then waits for a `web` slot
 *   (`search` and `news` hold both) until `news` is done at 130 ms;
 * - `news` waits for the `web` slot that `fetchPage`'s failure frees;
 * - `flights` fails at 75 ms and is retried after its backoff, at once;
 * - `hotels` runs out of its 300 ms timeout;
 * - `translate` waits for the one `llm` slot, then fails (its quota is used up).
 */
export const picture = (): Timeline.Timeline => {
  const once = (queuedAt: number, start: number, end: number, outcome: Timeline.Outcome, attempt = 1) => ({
    attempt,
    queuedAt,
    start,
    end,
    outcome
  })
  return {
    origin: 0,
    rows: [
      { name: "calendar", attempts: [once(0, 0, 120, "ok")] },
      { name: "weather", attempts: [once(0, 0, 160, "ok")] },
      { name: "search", group: "web", attempts: [once(0, 0, 210, "ok")] },
      { name: "fetchPage", group: "web", attempts: [once(0, 0, 45, "failed"), once(95, 130, 255, "ok", 2)] },
      { name: "flights", group: "travel", attempts: [once(0, 0, 75, "failed"), once(125, 125, 285, "ok", 2)] },
      { name: "hotels", group: "travel", attempts: [once(0, 0, 300, "timedOut")] },
      { name: "summarize", group: "llm", attempts: [once(0, 0, 140, "ok")] },
      { name: "news", group: "web", attempts: [once(0, 45, 130, "ok")] },
      { name: "translate", group: "llm", attempts: [once(0, 140, 215, "failed")] }
    ]
  }
}

/** The SVG of {@link picture}, as committed in `docs/timeline.svg`. */
export const pictureSvg = (): string => Timeline.toSvg(picture(), { title })

/** `docs/timeline.svg`, from this file's place in the repository (`src/` or `dist/`). */
export const svgPath: string = fileURLToPath(new URL("../../../docs/timeline.svg", import.meta.url))

/** Writes `docs/timeline.svg`, then `docs/timeline.png` when Chromium is installed. */
const main = (): void => {
  const svg = pictureSvg()
  fs.writeFileSync(svgPath, svg)
  console.log(`wrote ${svgPath}`)
  const chromium = findChromium()
  if (chromium === undefined) {
    console.log("no chromium found: docs/timeline.png not made")
    return
  }
  const [width, height] = [/ width="([\d.]+)"/, / height="([\d.]+)"/].map((re) => Math.ceil(Number(re.exec(svg)?.[1])))
  const png = svgPath.replace(/\.svg$/, ".png")
  headless(chromium, [
    "--hide-scrollbars",
    "--force-device-scale-factor=2",
    `--window-size=${width},${height}`,
    `--screenshot=${png}`
  ], pathToFileURL(svgPath).href)
  console.log(`wrote ${png}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main()
