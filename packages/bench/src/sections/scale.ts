/**
 * Scale: 10,000 against 100,000 tasks queued at once (no-op tasks,
 * maxConcurrency 64) — time per task and peak memory. Each repetition of
 * each case runs in a child process of its own (`node --expose-gc`).
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { measure, note, ratio, type Row, smoke } from "../harness.js"

const exec = promisify(execFile)
const child = fileURLToPath(new URL("./scale-child.js", import.meta.url))

interface Sample {
  readonly usPerTask: number
  readonly rssMB: number
  readonly heapMB: number
}

export const run = async (): Promise<Array<Row>> => {
  const small = smoke ? 1_000 : 10_000
  const large = smoke ? 10_000 : 100_000
  const warmupN = smoke ? 500 : 5_000
  const got: Record<"small" | "large", Array<Sample>> = { small: [], large: [] }
  const runChild = (which: "small" | "large", n: number) => async () => {
    const { stdout } = await exec(process.execPath, ["--expose-gc", child, String(n), String(warmupN)])
    const sample = JSON.parse(stdout.trim().split("\n").pop()!) as Sample
    got[which].push(sample)
    return sample.usPerTask
  }
  // the warm-up happens inside each child (3 runs of warmupN tasks)
  const s = await measure({ small: runChild("small", small), large: runChild("large", large) }, { warmup: 0 })
  const rss = (w: "small" | "large") => got[w].map((x) => x.rssMB)
  const heap = (w: "small" | "large") => got[w].map((x) => x.heapMB)
  const k = (n: number) => `${n / 1000}k`
  const section = "scale"
  note(`scale: ${k(small)} vs ${k(large)} no-op tasks queued at once, maxConcurrency 64, each repetition in a child process (node --expose-gc); peak = max sampled RSS/heapUsed minus the baseline after warm-up and GC`)
  const timeRatio = ratio(s.large, s.small)
  const maxRss = Math.max(...rss("large"))
  // one row per size for a memory measure; the large one is compared with the small one
  const memoryRows = (
    what: string,
    samples: (size: "small" | "large") => Array<number>,
    goal: { readonly target?: string; readonly met?: boolean }
  ): Array<Row> => [
    { section, case: `${k(small)} tasks: peak ${what} over baseline`, samples: samples("small"), unit: "MB", against: "peer" },
    {
      section,
      case: `${k(large)} tasks: peak ${what} over baseline`,
      samples: samples("large"),
      unit: "MB",
      ratio: ratio(samples("large"), samples("small")),
      against: `${k(small)} tasks (linear: ${large / small}×)`,
      ...goal
    }
  ]
  return [
    { section, case: `${k(small)} tasks: time per task`, samples: s.small, unit: "µs/task", against: "peer" },
    {
      section,
      case: `${k(large)} tasks: time per task`,
      samples: s.large,
      unit: "µs/task",
      ratio: timeRatio,
      against: `${k(small)} tasks`,
      target: "≤ 1.3×",
      met: timeRatio <= 1.3
    },
    ...memoryRows("RSS", rss, { target: "< 300 MB (max)", met: maxRss < 300 }),
    ...memoryRows("heapUsed", heap, {})
  ]
}
