/**
 * Text reports of a run: the results table and the speed-up line. Pure
 * functions of the results, like the timeline.
 */
import type { TaskResult } from "toolfan"
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

/**
 * What running the tasks at once saved: the run's wall time against the sum
 * of every task's own time (`durationMs`, retries and backoffs included) —
 * what calling them one after another would have taken.
 */
export const speedup = (results: ReadonlyArray<AnyResult>, wallMs: number, options?: Options | undefined): string => {
  const paint = painter(options?.color === true)
  const serialMs = results.reduce((sum, r) => sum + r.durationMs, 0)
  const factor = serialMs / Math.max(1, wallMs)
  const rows: Array<[string, string, string]> = [
    ["one after another", ms(serialMs), `the sum of the ${results.length} tasks' own times`],
    ["all at once", ms(wallMs), "the wall time of Scheduler.run"]
  ]
  const label = Math.max(...rows.map(([l]) => l.length))
  const value = Math.max(...rows.map(([, v]) => v.length))
  return [
    ...rows.map(([l, v, note]) => `${l.padEnd(label)}  ${v.padStart(value)}  ${paint("dim", note)}`),
    `${"speed-up".padEnd(label)}  ${paint("bold", `${factor.toFixed(1)}×`.padStart(value))}`
  ].join("\n")
}
