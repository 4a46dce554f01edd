/**
 * The benchmark harness: interleaved repetitions after a warm-up, medians,
 * min–max, ratios against a peer measured in the same process run, and the one
 * table `main.ts` prints.
 *
 * Every case of a section runs once per repetition, one after the other
 * (interleaved), so slow drifts of the machine hit every case alike; the
 * order rotates by one case each repetition, so that no case always runs
 * right after the same other one (and always collects its garbage). A ratio
 * is the median of the per-repetition ratios (case ÷ peer of the same
 * repetition). No forced GC between cases: a full collection before each case
 * made every figure 1.5–3× slower and noisier (the heap shrinks and has to
 * grow again), so a case may pay for some of the previous case's garbage, as
 * it would in an application; the rotation spreads that over every case.
 */
/** `--smoke`: tiny sizes and 3 repetitions, to keep the harness working (no timing assertions). */
export const smoke = process.argv.includes("--smoke")

/** Repetitions after the warm-up: ≥ 9 in a full run. */
export const REPS = smoke ? 3 : 9

/** Milliseconds `f` takes. */
export const timeMs = async (f: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await f()
  return performance.now() - start
}

/**
 * Throws unless every result is ok: results are values (a failed task does not
 * reject), and a figure of failed tasks would mean nothing.
 */
export const allOk = <T extends { readonly ok: boolean }>(results: ReadonlyArray<T>, what: string): ReadonlyArray<T> => {
  if (!results.every((r) => r.ok)) throw new Error(`${what}: a task failed`)
  return results
}

export const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** One repetition of a case: runs it and returns its figure (µs per task, ms, MB …). */
export type Case = () => Promise<number>

/**
 * Runs the cases `warmup + reps` times, interleaved (each repetition runs every
 * case in turn), and returns the figures of the repetitions
 * after the warm-up, case by case.
 */
export const measure = async <K extends string>(
  cases: Record<K, Case>,
  options: { readonly warmup: number; readonly reps?: number | undefined }
): Promise<Record<K, Array<number>>> => {
  const reps = options.reps ?? REPS
  const names = Object.keys(cases) as Array<K>
  const samples = Object.fromEntries(names.map((k) => [k, [] as Array<number>])) as Record<K, Array<number>>
  for (let rep = 0; rep < options.warmup + reps; rep++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + rep) % names.length]!
      const value = await cases[name]()
      if (rep >= options.warmup) samples[name].push(value)
    }
  }
  return samples
}

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** The median of the per-repetition ratios `xs[i] / ys[i]`. */
export const ratio = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): number =>
  median(xs.map((x, i) => x / ys[i]!))

/** The sizes of each section, printed under the table. */
export const notes: Array<string> = []
export const note = (text: string): void => {
  notes.push(text)
}

/** A row of the table. */
export interface Row {
  readonly section: string
  readonly case: string
  /** The figures of the repetitions. */
  readonly samples: ReadonlyArray<number>
  readonly unit: "µs/task" | "µs/item" | "µs" | "ms" | "MB" | "calls" | "%"
  /** The ratio against the peer (median of per-repetition ratios), if any. */
  readonly ratio?: number | undefined
  /** What the ratio is against ("peer" for a peer row). */
  readonly against?: string | undefined
  readonly target?: string | undefined
  /** Whether the target is met (undefined: no target). */
  readonly met?: boolean | undefined
}

const digits = (unit: Row["unit"], x: number): string => {
  switch (unit) {
    case "calls":
      return Math.round(x).toLocaleString("en-US")
    case "ms":
    case "MB":
    case "%":
      return x >= 100 ? x.toFixed(0) : x.toFixed(1)
    default:
      return x.toFixed(2)
  }
}

const formatRatio = (r: number): string => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r < 0.1 ? r.toFixed(3) : r.toFixed(2)) + "×"

/** The table, as Markdown with aligned columns (readable in a terminal, pasteable into docs). */
export const formatTable = (rows: ReadonlyArray<Row>): string => {
  const header = ["section", "case", "median", "min–max", "ratio", "against", "target", "met?"]
  const body = rows.map((r) => [
    r.section,
    r.case,
    `${digits(r.unit, median(r.samples))} ${r.unit}`,
    `${digits(r.unit, Math.min(...r.samples))}–${digits(r.unit, Math.max(...r.samples))}`,
    r.ratio === undefined ? "—" : formatRatio(r.ratio),
    r.against ?? "—",
    r.target ?? "—",
    r.met === undefined ? "—" : r.met ? "yes" : "no"
  ])
  const right = new Set([2, 3, 4])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    "| " + cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ") + " |"
  const rule = "|" + widths.map((w, i) => (right.has(i) ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|") + "|"
  return [line(header), rule, ...body.map(line)].join("\n")
}
