import { describe, expect, it } from "@effect/vitest"
import { strip } from "../src/text.js"
import * as Timeline from "../src/timeline.js"

/** 0–300 ms at width 100: the scale is 5 ms per column, the axis 70 columns. */
const rows: ReadonlyArray<Timeline.Row> = [
  { name: "fast", attempts: [{ start: 0, end: 100, outcome: "ok" }] },
  { name: "slow", attempts: [{ start: 0, end: 200, outcome: "ok" }] },
  {
    name: "flaky",
    attempts: [{ start: 0, end: 50, outcome: "failed" }, { start: 100, end: 200, outcome: "ok" }]
  },
  { name: "queued", attempts: [{ start: 100, end: 150, outcome: "ok" }] },
  { name: "hung", attempts: [{ start: 0, end: 300, outcome: "timedOut" }] },
  { name: "broken", attempts: [{ start: 0, end: 100, outcome: "failed" }] }
]

const lines = (text: string): Array<string> => text.split("\n")

/** The row of task `name`. */
const row = (text: string, name: string): string => {
  const line = lines(text).find((l) => l.startsWith(`${name} `))
  if (line === undefined) throw new Error(`no row for ${name} in:\n${text}`)
  return line
}

/** The drawing of task `name`: what lies between the row's two borders. */
const bar = (text: string, name: string): string => {
  const line = row(text, name)
  return line.slice(line.indexOf("│") + 1, line.lastIndexOf("│"))
}

const count = (text: string, glyph: string): number => [...text].filter((c) => c === glyph).length

describe("Timeline", () => {
  describe("render", () => {
    const out = Timeline.render(rows)

    it("render() - draws one row per task, in input order, ending with its outcome", () => {
      const names = lines(out).filter((l) => l.includes("│")).map((l) => l.split(" ")[0])
      expect(names).toEqual(["fast", "slow", "flaky", "queued", "hung", "broken"])
      expect(row(out, "fast")).toMatch(/│ ok$/)
      expect(row(out, "flaky")).toMatch(/│ ok, 2 tries$/)
      expect(row(out, "hung")).toMatch(/│ timed out$/)
      expect(row(out, "broken")).toMatch(/│ failed$/)
    })

    it("render() - draws bars whose lengths are proportional to the attempts' durations", () => {
      expect(count(bar(out, "fast"), "█")).toBe(20) // 100 ms at 5 ms per column
      expect(count(bar(out, "slow"), "█")).toBe(40) // 200 ms
      expect(count(bar(out, "hung"), "█")).toBe(60) // 300 ms
      expect(bar(out, "fast")).toMatch(/^█{20}✓ +$/)
      expect(bar(out, "hung")).toMatch(/^█{60}⊘ +$/)
      expect(bar(out, "broken")).toMatch(/^█{20}✗ +$/)
    })

    it("render() - shows a retry as a second segment after a backoff gap", () => {
      // 0–50 ms failed (10 columns, then ✗), 50–100 ms backoff, 100–200 ms ok (20 columns, then ✓)
      expect(bar(out, "flaky")).toMatch(/^█{10}✗·{9}█{20}✓ +$/)
    })

    it("render() - shows time queued for a slot before the first attempt", () => {
      expect(bar(out, "queued")).toMatch(/^░{20}█{10}✓ +$/)
      const late = Timeline.render([{ name: "late", queuedAt: 50, attempts: [{ start: 100, end: 150, outcome: "ok" }] }])
      expect(bar(late, "late")).toMatch(/^ {25}░{25}█{25}✓ +$/) // 2 ms per column here
    })

    it("render() - draws no wait for a delay shorter than one column", () => {
      const noisy = Timeline.render([...rows, { name: "noisy", attempts: [{ start: 3, end: 103, outcome: "ok" }] }])
      expect(bar(noisy, "noisy")).toMatch(/^█{20}✓ +$/)
    })

    it("render() - keeps one column between attempts even without a backoff", () => {
      const now = Timeline.render([
        { name: "again", attempts: [{ start: 0, end: 50, outcome: "timedOut" }, { start: 50, end: 100, outcome: "ok" }] }
      ])
      expect(bar(now, "again")).toMatch(/^█+⊘·█+✓ +$/)
    })

    it("render() - labels the time axis every 10 columns and ends it with the unit", () => {
      const [axis, labels] = lines(out).filter((l) => !l.includes("│") && l.trim() !== "").slice(0, 2)
      expect(axis!.trim()).toBe(`└${"─".repeat(10)}${`┬${"─".repeat(9)}`.repeat(6)}┘`)
      expect(labels!.trim()).toBe("0         50        100       150       200       250       300       350 ms")
      // every row's right border sits above the axis' right corner
      expect(row(out, "fast").indexOf("│", 8)).toBe(axis!.indexOf("┘"))
    })

    it("render() - names in the legend only the glyphs that appear", () => {
      const legend = lines(out).slice(-2).join(" ")
      for (const item of ["█ attempt", "░ queued", "· backoff", "✓ ok", "✗ failed", "⊘ timed out", "1 column = 5 ms"]) {
        expect(legend).toContain(item)
      }
      expect(legend).not.toContain("↯")
      const plain = Timeline.render([{ name: "a", attempts: [{ start: 0, end: 10, outcome: "ok" }] }])
      expect(plain).not.toContain("░")
      expect(plain).not.toContain("·")
    })

    it("render() - fits every line in the width", () => {
      const long = [...rows, { name: "a-rather-long-tool-name", attempts: [{ start: 0, end: 2500, outcome: "ok" as const }] }]
      for (const width of [100, 72, 40]) {
        for (const line of lines(Timeline.render(long, { width }))) {
          expect([...line].length).toBeLessThanOrEqual(width)
        }
      }
    })

    it("render() - colours only when asked, and the colours change nothing else", () => {
      expect(out).not.toContain("\x1b[")
      const coloured = Timeline.render(rows, { color: true })
      expect(coloured).toContain("\x1b[32m") // green for ok
      expect(coloured).toContain("\x1b[31m") // red for failed
      expect(strip(coloured)).toBe(out)
    })

    it("render() - shows a task that never ran as an empty row", () => {
      const out = Timeline.render([...rows, { name: "skipped", attempts: [] }])
      expect(bar(out, "skipped").trim()).toBe("")
      expect(row(out, "skipped")).toMatch(/│ not run$/)
    })

    it("render() - matches the reference drawing", () => {
      const out = Timeline.render([
        { name: "lookup", attempts: [{ start: 0, end: 40, outcome: "ok" }] },
        { name: "retry", attempts: [{ start: 0, end: 20, outcome: "failed" }, { start: 50, end: 80, outcome: "ok" }] },
        { name: "queued", attempts: [{ start: 30, end: 60, outcome: "timedOut" }] }
      ], { width: 60 })
      expect(out).toBe([
        "lookup │████████✓           │ ok",
        "retry  │████✗·····██████✓   │ ok, 2 tries",
        "queued │░░░░░░██████⊘       │ timed out",
        "       └──────────┬─────────┘",
        "        0         50        100 ms",
        "█ attempt   ░ queued for a slot   · backoff before a retry",
        "✓ ok   ✗ failed   ⊘ timed out   1 column = 5 ms"
      ].join("\n"))
    })
  })

  describe("chooseScale", () => {
    it("chooseScale() - picks the finest 1-2-5 scale on which the span fits", () => {
      expect(Timeline.chooseScale(300, 79)).toEqual({ msPerColumn: 5, columns: 70 })
      expect(Timeline.chooseScale(300, 400)).toEqual({ msPerColumn: 1, columns: 310 })
      expect(Timeline.chooseScale(3000, 79)).toEqual({ msPerColumn: 50, columns: 70 })
      expect(Timeline.chooseScale(0, 10)).toEqual({ msPerColumn: 1, columns: 10 })
    })

    it("chooseScale() - refuses fewer than 10 columns", () => {
      expect(() => Timeline.chooseScale(100, 9)).toThrow("maxColumns must be ≥ 10, got 9")
    })
  })
})
