import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"

// Semantics 12: memory is bounded by what is live. Each scenario runs in a
// child process of its own (node --expose-gc, against the built dist/, which
// `npm test` builds first) and reports the heap after a forced collection
// before and after many tasks have come and gone while one task is stuck. The
// bound is on memory, never on time: what a finished or cut task leaves behind
// (its job, result, run) is ~1.5 KB, so a leak of 20,000–30,000 of them is
// 30–60 MB, far above the bound.
const fixture = fileURLToPath(new URL("./fixtures/memory.mjs", import.meta.url))

interface Report {
  readonly growthMB: number
  readonly bytesPerTask?: number
  readonly stats: { readonly active: number; readonly pending: number; readonly delayed: number }
}

const measure = (scenario: string, n: number): Promise<Report> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, ["--expose-gc", fixture, scenario, String(n)], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the process did not exit cleanly: ${error.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!))
    })
  })

/** Heap growth allowed (MB) once the warm-up is done: nothing the scenario made is live at the end. */
const BOUND_MB = 4

describe("memory", () => {
  it("run() - while a long run goes on, each settled task keeps its result only, not its job", async () => {
    const report = await measure("one-run", 30_000)
    // measured: ~270 bytes a task (its result, its slot in the results, the Task the caller made); ~555 while the
    // run also kept every settled task's job
    expect(report.bytesPerTask).toBeLessThan(400)
  }, 90_000)

  it("stream() - a long stream keeps no result it has handed out", async () => {
    const report = await measure("one-stream", 30_000)
    // measured: ~32 bytes a task (the run's slot for each job); ~219 while the run also kept every result
    expect(report.bytesPerTask).toBeLessThan(100)
  }, 90_000)

  describe("timer lanes", () => {
    it("run() - one attempt stuck with a 30 s timeout keeps no finished task of that timeout in memory", async () => {
      const report = await measure("timeout-lane", 30_000)
      expect(report.stats).toEqual({ active: 1, pending: 0, delayed: 0 })
      expect(report.growthMB).toBeLessThan(BOUND_MB)
    }, 90_000)

    it("run() - one run stuck with a 30 s deadline keeps no finished run of that deadline in memory", async () => {
      const report = await measure("deadline-lane", 20_000)
      expect(report.growthMB).toBeLessThan(BOUND_MB)
    }, 90_000)
  })

  describe("queues", () => {
    it("run() - tasks cut by a deadline while queued behind a stuck task leave the ready queue at once", async () => {
      const report = await measure("ready-deadline", 30_000)
      expect(report.stats).toEqual({ active: 1, pending: 0, delayed: 0 })
      expect(report.growthMB).toBeLessThan(BOUND_MB)
    }, 90_000)

    it("run() - tasks of an interrupted run leave the ready queue at once", async () => {
      const report = await measure("ready-abort", 30_000)
      expect(report.growthMB).toBeLessThan(BOUND_MB)
    }, 90_000)

    it("run() - tasks cut by a deadline while waiting for their group leave the group's queue at once", async () => {
      const report = await measure("group-deadline", 30_000)
      expect(report.growthMB).toBeLessThan(BOUND_MB)
    }, 90_000)
  })
})
