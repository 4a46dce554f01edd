/**
 * The Promise API at a million tasks against p-limit: time and peak RSS of
 * the whole process, each repetition of each case in a child process of its
 * own (3 repetitions, interleaved; the tasks are made inside the timed region).
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { measure, note, ratio, type Row, smoke } from "../harness.js"

const exec = promisify(execFile)
const child = fileURLToPath(new URL("./million-child.js", import.meta.url))

export const run = async (): Promise<Array<Row>> => {
  const n = smoke ? 10_000 : 1_000_000
  const rss: Record<"toolfan" | "p-limit", Array<number>> = { toolfan: [], "p-limit": [] }
  const runChild = (which: "toolfan" | "p-limit") => async () => {
    const { stdout } = await exec(process.execPath, [child, which, String(n)], { maxBuffer: 1 << 20 })
    const sample = JSON.parse(stdout.trim().split("\n").pop()!) as { ms: number; rssMB: number }
    rss[which].push(sample.rssMB)
    return sample.ms
  }
  const s = await measure({ "p-limit": runChild("p-limit"), toolfan: runChild("toolfan") }, { warmup: 0, reps: 3 })
  const section = "million"
  const count = n.toLocaleString("en-US")
  note(`million: ${count} no-op promise tasks at concurrency 64, made inside the timed region; each repetition in a child process; peak RSS of the whole process`)
  const timeRatio = ratio(s.toolfan, s["p-limit"])
  const rssRatio = ratio(rss.toolfan, rss["p-limit"])
  return [
    { section, case: `p-limit, ${count} tasks: time`, samples: s["p-limit"], unit: "ms", against: "peer" },
    {
      section,
      case: `Promise API, ${count} tasks: time`,
      samples: s.toolfan,
      unit: "ms",
      ratio: timeRatio,
      against: "p-limit",
      target: "≤ 1.2×",
      met: timeRatio <= 1.2
    },
    { section, case: `p-limit, ${count} tasks: peak RSS`, samples: rss["p-limit"], unit: "MB", against: "peer" },
    {
      section,
      case: `Promise API, ${count} tasks: peak RSS`,
      samples: rss.toolfan,
      unit: "MB",
      ratio: rssRatio,
      against: "p-limit",
      target: "≤ 1.2×",
      met: rssRatio <= 1.2
    }
  ]
}
