/**
 * Reading a timeline from spans: the attempt spans of toolfan's scheduler
 * (one per attempt, with the `Spans.attributes` it writes) become one row per
 * task. A task is known by its run and its place in that run (names may
 * repeat), or by its name for spans without them; its rows are ordered by
 * first start, its attempts by number, and times are counted from the
 * earliest moment any attempt was queued.
 */
import type * as Tracer from "effect/Tracer"
import { Spans } from "toolfan"
import type { Attempt, Outcome, Row, Timeline } from "./model.js"

/** One ended attempt span, read; times in epoch milliseconds. */
interface Raw {
  /** The task: its run and place in it (names may repeat), or its name for spans without them. */
  readonly key: string
  readonly name: string
  readonly group: string | undefined
  readonly attempt: number
  readonly start: number
  readonly end: number
  readonly wait: number
  readonly outcome: Outcome
}

/** A row being built: `first` is its earliest start, to sort the rows by. */
interface RowDraft {
  readonly name: string
  readonly group: string | undefined
  first: number
  readonly attempts: Array<Attempt>
}

const nanosToMillis = (n: bigint): number => Number(n / 1000n) / 1000

/** Reads an ended attempt span of the scheduler; `undefined` for any other span. */
const readSpan = (span: Tracer.Span): Raw | undefined => {
  const { attributes } = Spans
  const name = span.attributes.get(attributes.taskName)
  if (typeof name !== "string" || span.status._tag !== "Ended") return undefined
  const group = span.attributes.get(attributes.group)
  const outcome = span.attributes.get(attributes.outcome)
  const run = span.attributes.get(attributes.runId)
  const index = span.attributes.get(attributes.taskIndex)
  return {
    key: run === undefined || index === undefined ? `name:${name}` : `${String(run)}:${String(index)}`,
    name,
    group: typeof group === "string" && group !== "none" ? group : undefined,
    attempt: Number(span.attributes.get(attributes.attempt) ?? 1),
    start: nanosToMillis(span.status.startTime),
    end: nanosToMillis(span.status.endTime),
    wait: Number(span.attributes.get(attributes.queueWaitMs) ?? 0),
    outcome: Spans.isOutcome(outcome) ? outcome : "ok"
  }
}

/** The earliest moment an attempt was queued (`Infinity` when there are none). */
const originOf = (raws: ReadonlyArray<Raw>): number => {
  let origin = Number.POSITIVE_INFINITY
  for (const r of raws) origin = Math.min(origin, r.start - r.wait)
  return origin
}

/** Groups the attempts by task, with times from `origin`, in the order their tasks first appear. */
const groupByTask = (raws: ReadonlyArray<Raw>, origin: number): Map<string, RowDraft> => {
  const rows = new Map<string, RowDraft>()
  for (const r of raws) {
    let row = rows.get(r.key)
    if (row === undefined) {
      row = { name: r.name, group: r.group, first: r.start, attempts: [] }
      rows.set(r.key, row)
    }
    row.first = Math.min(row.first, r.start)
    row.attempts.push({
      attempt: r.attempt,
      queuedAt: r.start - r.wait - origin,
      start: r.start - origin,
      end: r.end - origin,
      outcome: r.outcome
    })
  }
  return rows
}

/** The finished row: no `group` key when it has none, attempts by number. */
const toRow = (draft: RowDraft): Row => ({
  name: draft.name,
  ...(draft.group === undefined ? {} : { group: draft.group }),
  attempts: draft.attempts.sort((a, b) => a.attempt - b.attempt)
})

/** Builds a timeline from spans; see `Timeline.fromSpans`. */
export const fromSpans = (spans: Iterable<Tracer.Span>): Timeline => {
  const raws: Array<Raw> = []
  for (const span of spans) {
    const raw = readSpan(span)
    if (raw !== undefined) raws.push(raw)
  }
  const origin = originOf(raws)
  const sorted = [...groupByTask(raws, origin).values()].sort((a, b) => a.first - b.first)
  return { origin: raws.length === 0 ? 0 : origin, rows: sorted.map(toRow) }
}
