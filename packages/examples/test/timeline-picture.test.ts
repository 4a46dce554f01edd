import * as fs from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { picture, pictureSvg, svgPath } from "../src/timeline-picture.js"

describe("timeline picture", () => {
  it("docs/timeline.svg - is the current rendering of the picture", () => {
    const committed = fs.existsSync(svgPath) ? fs.readFileSync(svgPath, "utf8") : "(missing)"
    expect(
      committed === pictureSvg(),
      "docs/timeline.svg is out of date: run `npx tsc -b && node packages/examples/dist/timeline-picture.js` and commit it"
    ).toBe(true)
  })

  it("picture() - is a plausible step: retries after their backoff, waits, a timeout, several groups", () => {
    const rows = picture().rows
    expect(rows.length).toBeGreaterThanOrEqual(8)
    expect(new Set(rows.flatMap((r) => (r.group === undefined ? [] : [r.group])))).toEqual(new Set(["web", "travel", "llm"]))
    for (const row of rows) {
      row.attempts.forEach((a, i) => {
        expect(a.attempt).toBe(i + 1)
        expect(a.queuedAt).toBeLessThanOrEqual(a.start)
        expect(a.start).toBeLessThan(a.end)
        if (i > 0) expect(a.queuedAt).toBeGreaterThan(row.attempts[i - 1]!.end)
      })
    }
    const outcomes = rows.flatMap((r) => r.attempts.map((a) => a.outcome))
    expect(outcomes).toContain("timedOut")
    expect(outcomes).toContain("failed")
    expect(rows.some((r) => r.attempts.some((a) => a.start > a.queuedAt))).toBe(true)
  })
})
