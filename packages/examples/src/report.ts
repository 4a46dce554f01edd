/**
 * Text reports of a run: the results table and the speed-up line. Pure
 * functions of the results, like the timeline.
 */
import type { Progress, TaskResult } from "toolfan"
import { type Color, painter, truncate } from "./text.js"

/** Options shared by the reports. */
export interface Options {
  /** Most columns a line may take. Default: `100`. */
  readonly width?: number | undefined
  /** Colour with ANSI codes. Default: `false`. */
  readonly color?: boolean | undefined
}

type AnyResult = TaskResult.TaskResult<unknown, unknown>

/** `1,800 ms` */
export const ms = (millis: number): string => `${Math.round(millis).toLocaleString("en-US")} ms`

const statusColor = (result: AnyResult): Color => {
  if (result.ok) return "green"
  switch (result.error._tag) {
    case "TaskFailed":
    case "TaskDefect":
      return "red"
    case "TaskTimedOut":
      return "yellow"
    default:
      return "magenta"
  }
}

/** A value as one short line. */
const show = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value) ?? String(value)

/**
 * One line per result — name, status (`ok` or the error's tag), attempts,
 * `durationMs`, `waitMs` and the value — and, under a result that has no
 * value, its error message.
 */
export const resultsTable = (results: ReadonlyArray<AnyResult>, options?: Options | undefined): string => {
  const width = options?.width ?? 100
  const paint = painter(options?.color === true)
  const nameWidth = Math.max(4, ...results.map((r) => r.name.length))
  const statusWidth = Math.max(6, ...results.map((r) => (r.ok ? "ok" : r.error._tag).length))
  const numbers = (attempts: string, duration: string, wait: string) =>
    `${attempts.padStart(8)}  ${duration.padStart(8)}  ${wait.padStart(7)}`
  const head = `${"task".padEnd(nameWidth)}  ${"status".padEnd(statusWidth)}  ${numbers("attempts", "duration", "wait")}  `
  const valueWidth = width - head.length
  const lines = [paint("dim", `${head}value`)]
  for (const r of results) {
    const status = r.ok ? "ok" : r.error._tag
    const cells = `${r.name.padEnd(nameWidth)}  ${paint(statusColor(r), status)}${" ".repeat(statusWidth - status.length)}  ` +
      `${numbers(String(r.attempts), ms(r.durationMs), ms(r.waitMs))}`
    if (r.ok) {
      lines.push(`${cells}  ${truncate(show(r.value), valueWidth)}`)
    } else {
      lines.push(cells)
      lines.push(paint(statusColor(r), `  ↳ ${truncate(r.error.message, width - 4)}`))
    }
  }
  return lines.join("\n")
}

/** One row of a before/after comparison: label, time, note. */
type ComparisonRow = readonly [label: string, millis: number, note: string]

/** Two timed rows and the speed-up from the first to the second, in aligned columns. */
const comparison = (slow: ComparisonRow, fast: ComparisonRow, options: Options | undefined): string => {
  const paint = painter(options?.color === true)
  const factor = slow[1] / Math.max(1, fast[1])
  const rows = [slow, fast].map(([l, millis, note]) => [l, ms(millis), note] as const)
  const label = Math.max(...rows.map(([l]) => l.length))
  const value = Math.max(...rows.map(([, v]) => v.length))
  return [
    ...rows.map(([l, v, note]) => `${l.padEnd(label)}  ${v.padStart(value)}  ${paint("dim", note)}`),
    `${"speed-up".padEnd(label)}  ${paint("bold", `${factor.toFixed(1)}×`.padStart(value))}`
  ].join("\n")
}

/**
 * What running the tasks at once saved: the run's wall time against the sum
 * of every task's own time (`durationMs`, retries and backoffs included) —
 * what calling them one after another would have taken.
 */
export const speedup = (results: ReadonlyArray<AnyResult>, wallMs: number, options?: Options | undefined): string => {
  const serialMs = results.reduce((sum, r) => sum + r.durationMs, 0)
  return comparison(
    ["one after another", serialMs, `the sum of the ${results.length} tasks' own times`],
    ["all at once", wallMs, "the wall time of Scheduler.run"],
    options
  )
}

/**
 * The shapes of the batch calls, as recorded by the batch function:
 * `50 prompts → 4 batched LLM calls [16, 16, 16, 2]`.
 */
export const batchShapes = (items: number, shapes: ReadonlyArray<number>): string =>
  `${items} ${items === 1 ? "prompt" : "prompts"} → ${shapes.length} batched LLM ` +
  `${shapes.length === 1 ? "call" : "calls"} [${shapes.join(", ")}]`

/**
 * What batching saved: the batched step's wall time against `items` calls of
 * `latencyMs` made one by one.
 */
export const batchSpeedup = (
  items: number,
  latencyMs: number,
  wallMs: number,
  options?: Options | undefined
): string =>
  comparison(
    ["one by one", items * latencyMs, `${items} calls × ${ms(latencyMs)}`],
    ["batched", wallMs, `the wall time of the ${items} concurrent submits`],
    options
  )

/**
 * One line per label, in order of first appearance: how many texts got it,
 * and the first of them as an example.
 * `relevant     6 of 50, e.g. Lisbon: AI meetup announces its Thursday speakers`
 */
export const labelSamples = (
  texts: ReadonlyArray<string>,
  labels: ReadonlyArray<string>,
  options?: Options | undefined
): string => {
  const width = options?.width ?? 100
  const paint = painter(options?.color === true)
  const seen = new Map<string, { count: number; example: string }>()
  labels.forEach((label, i) => {
    const entry = seen.get(label)
    if (entry === undefined) seen.set(label, { count: 1, example: texts[i] ?? "" })
    else entry.count++
  })
  const labelWidth = Math.max(0, ...[...seen.keys()].map((l) => l.length))
  const total = String(labels.length)
  return [...seen].map(([label, { count, example }]) => {
    const head = `${label.padEnd(labelWidth)}  ${String(count).padStart(total.length)} of ${total}, e.g. `
    return `${paint("bold", label)}${head.slice(label.length)}${truncate(example, width - head.length)}`
  }).join("\n")
}

/**
 * A run's progress as one line: a bar of the settled tasks and the counts,
 * then what just happened, e.g.
 * `[######----] 6/10 done · 3 running · 1 queued · 1 failed   weather: retrying`.
 */
export const progressLine = (event: Progress.Event, barWidth = 20): string => {
  const { done, failed, queued, running, total } = event.counts
  const filled = total === 0 ? barWidth : Math.round((done / total) * barWidth)
  const bar = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`
  const what = event.type === "settled" ? (event.result.ok ? "ok" : event.result.error._tag) : event.type
  return `${bar} ${done}/${total} done · ${running} running · ${queued} queued · ${failed} failed   ${event.task}: ${what}`
}

/**
 * A progress listener drawing {@link progressLine} in place on a terminal, and
 * erasing it once every task has settled; `undefined` when `out` is not a
 * terminal (piped output stays as it is).
 */
export const progressOn = (out: NodeJS.WriteStream): Progress.Listener | undefined =>
  out.isTTY !== true ? undefined : (event) => {
    const last = event.counts.done === event.counts.total
    out.write(last ? "\r\x1b[2K" : `\r\x1b[2K   ${progressLine(event)}`)
  }
