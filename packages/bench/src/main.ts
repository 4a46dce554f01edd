/**
 * The benchmark suite: runs every section and prints one table.
 *
 *   npm run bench              # the full suite (≈ 4 minutes on 2 cores)
 *   npm run bench -- --smoke   # tiny sizes, 3 repetitions: keeps the harness working (no timing assertions)
 *   npm run bench -- --only=redis,batching   # some sections only
 *   npm run bench -- --only=limits --svg=docs   # also draws docs/limits-adaptive.svg
 *
 * Every figure is the median of ≥ 9 interleaved repetitions after a warm-up
 * (3 with --smoke); a ratio is the median of the per-repetition ratios against
 * a peer measured in the same process run.
 */
import * as os from "node:os"
import { formatTable, notes, REPS, type Row, smoke } from "./harness.js"
import * as batching from "./sections/batching.js"
import * as headline from "./sections/headline.js"
import * as hedging from "./sections/hedging.js"
import * as limits from "./sections/limits.js"
import * as makespan from "./sections/makespan.js"
import * as million from "./sections/million.js"
import * as overhead from "./sections/overhead.js"
import * as plans from "./sections/plans.js"
import * as priority from "./sections/priority.js"
import * as redis from "./sections/redis.js"
import * as scale from "./sections/scale.js"
import * as traced from "./sections/traced.js"

const sections: ReadonlyArray<readonly [string, { readonly run: () => Promise<Array<Row>> }]> = [
  ["overhead", overhead],
  ["traced", traced],
  ["makespan", makespan],
  ["headline", headline],
  ["plans", plans],
  ["batching", batching],
  ["scale", scale],
  ["million", million],
  ["priority", priority],
  ["redis", redis],
  ["limits", limits],
  ["hedging", hedging]
]

const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",")
const started = performance.now()
const rows: Array<Row> = []
for (const [name, section] of sections) {
  if (only !== undefined && !only.includes(name)) continue
  const t = performance.now()
  process.stderr.write(`bench: ${name}…`)
  rows.push(...(await section.run()))
  process.stderr.write(` ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
}
const seconds = ((performance.now() - started) / 1000).toFixed(0)
console.log(
  `toolfan bench${smoke ? " --smoke" : ""}: node ${process.version}, ${os.availableParallelism()} cores, ` +
    `${new Date().toISOString().slice(0, 10)}, median of ${REPS} interleaved repetitions after a warm-up, ${seconds} s`
)
console.log(formatTable(rows))
console.log("")
for (const text of notes) console.log(`- ${text}`)
if (smoke) console.log("- smoke run: sizes this small only check that the harness works; the figures mean nothing")
