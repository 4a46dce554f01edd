import { describe, expect, it } from "@effect/vitest"
import { TaskResult } from "toolfan"
import * as Report from "../src/report.js"
import { strip } from "../src/text.js"

/** A successful result that took `durationMs`. */
const ok = (name: string, durationMs: number) => TaskResult.succeed(name, name, { attempts: 1, durationMs, waitMs: 0 })

describe("Report", () => {
  describe("speedup", () => {
    it("speedup() - compares the sum of the tasks' times with the wall time", () => {
      expect(Report.speedup([ok("a", 200), ok("b", 300)], 300)).toBe([
        "one after another  500 ms  the sum of the 2 tasks' own times",
        "all at once        300 ms  the wall time of Scheduler.run",
        "speed-up             1.7×"
      ].join("\n"))
    })
  })

  describe("batching", () => {
    it("batchShapes() - shows the recorded batch sizes as they are", () => {
      expect(Report.batchShapes(50, [16, 16, 16, 2])).toBe("50 prompts → 4 batched LLM calls [16, 16, 16, 2]")
      expect(Report.batchShapes(1, [1])).toBe("1 prompt → 1 batched LLM call [1]")
      expect(Report.batchShapes(0, [])).toBe("0 prompts → 0 batched LLM calls []")
    })

    it("batchSpeedup() - compares n calls one by one (n × latency) with the batched wall time", () => {
      expect(Report.batchSpeedup(50, 120, 150)).toBe([
        "one by one  6,000 ms  50 calls × 120 ms",
        "batched       150 ms  the wall time of the 50 concurrent submits",
        "speed-up       40.0×"
      ].join("\n"))
    })

    it("batchSpeedup() - a wall time of 0 ms does not divide by zero", () => {
      expect(Report.batchSpeedup(2, 10, 0)).toMatch(/^speed-up\s+20\.0×$/m)
    })

    it("labelSamples() - one line per label, in order of first appearance, with a count and the first example", () => {
      const texts = ["a: yes", "b: no", "c: no", "d: yes", "e: no"]
      const labels = ["relevant", "irrelevant", "irrelevant", "relevant", "irrelevant"]
      expect(Report.labelSamples(texts, labels)).toBe([
        "relevant    2 of 5, e.g. a: yes",
        "irrelevant  3 of 5, e.g. b: no"
      ].join("\n"))
    })

    it("labelSamples() - cuts long examples to the width and colours only the label", () => {
      const long = "x".repeat(200)
      const out = Report.labelSamples([long], ["relevant"], { width: 40, color: true })
      expect(out.startsWith("\x1b[1mrelevant\x1b[0m")).toBe(true)
      expect([...strip(out)].length).toBe(40)
      expect(strip(out).endsWith("x…")).toBe(true)
      expect(Report.labelSamples([], [])).toBe("")
    })
  })

  describe("progress", () => {
    it("progressLine() - a bar of the settled tasks, the counts and what just happened", () => {
      const counts = { total: 10, queued: 1, running: 3, done: 6, failed: 1 }
      expect(Report.progressLine({ type: "retrying", task: "weather", index: 3, attempt: 1, error: undefined!, delayMs: 50, counts }, 10))
        .toBe("[######----] 6/10 done · 3 running · 1 queued · 1 failed   weather: retrying")
      const result = ok("docs", 5)
      expect(Report.progressLine({ type: "settled", task: "docs", index: 0, attempt: 1, result, counts }, 10))
        .toBe("[######----] 6/10 done · 3 running · 1 queued · 1 failed   docs: ok")
    })
  })
})
