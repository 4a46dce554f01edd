import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { findChromium, headless } from "../../examples/src/chromium.js"
import { Scheduler, Task } from "toolfan"
import { Timeline } from "../src/index.js"

// ---------------------------------------------------------------------------
// fixtures
// ---------------------------------------------------------------------------

/** An attempt; by default it was queued when it started (no wait). */
const at = (
  start: number,
  end: number,
  outcome: Timeline.Outcome,
  options?: { readonly queuedAt?: number; readonly attempt?: number }
): Timeline.Attempt => ({
  attempt: options?.attempt ?? 1,
  queuedAt: options?.queuedAt ?? start,
  start,
  end,
  outcome
})

/** A row whose attempts are numbered in order. */
const row = (name: string, attempts: ReadonlyArray<Timeline.Attempt>, group?: string): Timeline.Row => ({
  name,
  ...(group === undefined ? {} : { group }),
  attempts: attempts.map((a, i) => ({ ...a, attempt: i + 1 }))
})

const timeline = (...rows: ReadonlyArray<Timeline.Row>): Timeline.Timeline => ({ origin: 0, rows })

/** 0–300 ms at width 100: the scale is 5 ms per column, the axis 70 columns. */
const sample = timeline(
  row("fast", [at(0, 100, "ok")]),
  row("slow", [at(0, 200, "ok")]),
  row("flaky", [at(0, 50, "failed"), at(100, 200, "ok")]),
  row("queued", [at(100, 150, "ok", { queuedAt: 0 })]),
  row("hung", [at(0, 300, "timedOut")]),
  row("broken", [at(0, 100, "failed")])
)

const lines = (text: string): Array<string> => text.split("\n")

/** The line of task `name`. */
const line = (text: string, name: string): string => {
  const found = lines(text).find((l) => l.startsWith(`${name} `))
  if (found === undefined) throw new Error(`no row for ${name} in:\n${text}`)
  return found
}

/** The drawing of task `name`: what lies between the row's two borders. */
const bar = (text: string, name: string): string => {
  const l = line(text, name)
  return l.slice(l.indexOf("│") + 1, l.lastIndexOf("│"))
}

const count = (text: string, glyph: string): number => [...text].filter((c) => c === glyph).length

const strip = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, "")

/**
 * A small XML well-formedness check, enough for what the renderer writes:
 * every tag is closed in order, there is one root element, attributes are
 * quoted, and no raw `<` or stray `&` appears in text or attribute values.
 * Returns the problems found (none when well-formed).
 */
const xmlProblems = (xml: string): Array<string> => {
  const problems: Array<string> = []
  const stack: Array<string> = []
  let roots = 0
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g
  const checkText = (text: string, where: string) => {
    const bare = text.replace(entity, "")
    if (bare.includes("&")) problems.push(`a stray "&" in ${where}: ${JSON.stringify(text.slice(0, 60))}`)
    if (bare.includes("<")) problems.push(`a raw "<" in ${where}`)
  }
  const token = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<\/([A-Za-z][\w:.-]*)\s*>|<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)|(<)/g
  for (const m of xml.matchAll(token)) {
    const [, close, open, attributes, selfClosing, text, stray] = m
    if (stray !== undefined) {
      problems.push(`a "<" that starts no tag at ${m.index}: ${JSON.stringify(xml.slice(m.index, m.index + 40))}`)
    } else if (text !== undefined) {
      if (stack.length === 0 && text.trim() !== "") problems.push(`text outside the root: ${JSON.stringify(text)}`)
      checkText(text, "text")
    } else if (close !== undefined) {
      const top = stack.pop()
      if (top !== close) problems.push(`</${close}> closes <${top ?? "nothing"}>`)
    } else if (open !== undefined) {
      for (const a of (attributes ?? "").matchAll(/[\w:.-]+\s*=\s*"([^"]*)"/g)) checkText(a[1]!, `an attribute of <${open}>`)
      if (stack.length === 0) roots++
      if (selfClosing !== "/") stack.push(open)
    }
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(" > ")}`)
  if (roots !== 1) problems.push(`${roots} root elements`)
  return problems
}

// ---------------------------------------------------------------------------
// text
// ---------------------------------------------------------------------------

describe("Timeline", () => {
  describe("toText", () => {
    const out = Timeline.toText(sample)

    it("toText() - draws one row per task, in the timeline's order, ending with its outcome", () => {
      const names = lines(out).filter((l) => l.includes("│")).map((l) => l.split(" ")[0])
      expect(names).toEqual(["fast", "slow", "flaky", "queued", "hung", "broken"])
      expect(line(out, "fast")).toMatch(/│ ok$/)
      expect(line(out, "flaky")).toMatch(/│ ok, 2 tries$/)
      expect(line(out, "hung")).toMatch(/│ timed out$/)
      expect(line(out, "broken")).toMatch(/│ failed$/)
    })

    it("toText() - draws bars whose lengths are proportional to the attempts' durations", () => {
      expect(count(bar(out, "fast"), "█")).toBe(20) // 100 ms at 5 ms per column
      expect(count(bar(out, "slow"), "█")).toBe(40) // 200 ms
      expect(count(bar(out, "hung"), "█")).toBe(60) // 300 ms
      expect(bar(out, "fast")).toMatch(/^█{20}✓ +$/)
      expect(bar(out, "hung")).toMatch(/^█{60}⊘ +$/)
      expect(bar(out, "broken")).toMatch(/^█{20}✗ +$/)
    })

    it("toText() - shows a retry as a second segment after a backoff gap", () => {
      // 0–50 ms failed (10 columns, then ✗), 50–100 ms backoff, 100–200 ms ok (20 columns, then ✓)
      expect(bar(out, "flaky")).toMatch(/^█{10}✗·{9}█{20}✓ +$/)
    })

    it("toText() - shows time queued for a slot before the first attempt", () => {
      expect(bar(out, "queued")).toMatch(/^░{20}█{10}✓ +$/)
      const late = Timeline.toText(timeline(row("late", [at(100, 150, "ok", { queuedAt: 50 })])))
      expect(bar(late, "late")).toMatch(/^ {25}░{25}█{25}✓ +$/) // 2 ms per column here
    })

    it("toText() - shows time queued for a slot before a retry, after its backoff", () => {
      // 0–20 failed, backoff to 50, queued 50–70, 70–100 ok; 5 ms per column
      const retry = Timeline.toText(
        timeline(row("retry", [at(0, 20, "failed"), at(70, 100, "ok", { queuedAt: 50 })])),
        { width: 60 }
      )
      expect(bar(retry, "retry")).toMatch(/^█{4}✗·{5}░{4}█{6}✓ +$/)
      expect(retry).toContain("░ queued for a slot")
      expect(retry).toContain("· backoff before a retry")
    })

    it("toText() - draws no wait shorter than one column", () => {
      const noisy = Timeline.toText(timeline(...sample.rows, row("noisy", [at(3, 103, "ok", { queuedAt: 0 })])))
      expect(bar(noisy, "noisy")).toMatch(/^█{20}✓ +$/)
    })

    it("toText() - keeps one column between attempts even without a backoff", () => {
      const now = Timeline.toText(timeline(row("again", [at(0, 50, "timedOut"), at(50, 100, "ok")])))
      expect(bar(now, "again")).toMatch(/^█+⊘·█+✓ +$/)
    })

    it("toText() - marks an attempt whose group limit was unavailable with ⊗", () => {
      const gone = Timeline.toText(timeline(row("shared", [at(0, 10, "unavailable")])), { width: 60 })
      expect(bar(gone, "shared")).toMatch(/^█{10}⊗ +$/)
      expect(line(gone, "shared")).toMatch(/│ unavailable$/)
      expect(gone).toContain("⊗ unavailable")
      expect(Timeline.toText(timeline(row("shared", [at(0, 10, "unavailable")])), { color: true })).toContain("\x1b[36m")
    })

    it("toText() - labels the time axis every 10 columns and ends it with the unit", () => {
      const [axis, labels] = lines(out).filter((l) => !l.includes("│") && l.trim() !== "").slice(0, 2)
      expect(axis!.trim()).toBe(`└${"─".repeat(10)}${`┬${"─".repeat(9)}`.repeat(6)}┘`)
      expect(labels!.trim()).toBe("0         50        100       150       200       250       300       350 ms")
      // every row's right border sits above the axis' right corner
      expect(line(out, "fast").indexOf("│", 8)).toBe(axis!.indexOf("┘"))
    })

    it("toText() - names in the legend only the glyphs that appear", () => {
      const legend = lines(out).slice(-2).join(" ")
      for (const item of ["█ attempt", "░ queued", "· backoff", "✓ ok", "✗ failed", "⊘ timed out", "1 column = 5 ms"]) {
        expect(legend).toContain(item)
      }
      expect(legend).not.toContain("↯")
      expect(legend).not.toContain("⊗")
      const plain = Timeline.toText(timeline(row("a", [at(0, 10, "ok")])))
      expect(plain).not.toContain("░")
      expect(plain).not.toContain("·")
    })

    it("toText() - fits every line in the width, cutting long names and summaries", () => {
      const long = timeline(
        ...sample.rows,
        row("a-rather-long-tool-name", [at(0, 2500, "ok")]),
        row("many", [at(0, 10, "interrupted"), at(20, 30, "unavailable"), at(40, 50, "interrupted")])
      )
      for (const width of [100, 72, 41.5, 40]) {
        for (const l of lines(Timeline.toText(long, { width }))) expect([...l].length).toBeLessThanOrEqual(width)
      }
      const hours = timeline(row("batch", [at(0, 5 * 3600_000, "ok")]))
      for (const l of lines(Timeline.toText(hours, { width: 40 }))) expect([...l].length).toBeLessThanOrEqual(40)
    })

    it("toText() - refuses a width under 40, naming the option and the value", () => {
      expect(() => Timeline.toText(sample, { width: 39 })).toThrow(RangeError)
      expect(() => Timeline.toText(sample, { width: 39 })).toThrow("width must be a finite number ≥ 40, got 39 (number)")
      expect(() => Timeline.toText(sample, { width: Number.NaN })).toThrow("width must be a finite number ≥ 40, got NaN")
      expect(() => Timeline.toText(sample, { width: Infinity })).toThrow("got Infinity")
    })

    it("toText() - colours only when asked, and the colours change nothing else", () => {
      expect(out).not.toContain("\x1b[")
      const coloured = Timeline.toText(sample, { color: true })
      expect(coloured).toContain("\x1b[32m") // green for ok
      expect(coloured).toContain("\x1b[31m") // red for failed
      expect(strip(coloured)).toBe(out)
    })

    it("toText() - shows a task that never ran as an empty row, and an empty timeline as a bare axis", () => {
      const out = Timeline.toText(timeline(...sample.rows, row("skipped", [])))
      expect(bar(out, "skipped").trim()).toBe("")
      expect(line(out, "skipped")).toMatch(/│ not run$/)
      expect(Timeline.toText(timeline(), { width: 40 })).toBe([
        "  └──────────┘",
        "   0         10 ms",
        "█ attempt   1 column = 1 ms"
      ].join("\n"))
    })

    it("toText() - matches the reference drawing", () => {
      const out = Timeline.toText(
        timeline(
          row("lookup", [at(0, 40, "ok")]),
          row("retry", [at(0, 20, "failed"), at(50, 80, "ok")]),
          row("queued", [at(30, 60, "timedOut", { queuedAt: 0 })])
        ),
        { width: 60 }
      )
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

  // ---------------------------------------------------------------------------
  // a real run
  // ---------------------------------------------------------------------------

  describe("capture", () => {
    /** Fails its first call, after `ms`; then succeeds after `ms`. */
    const flaky = (ms: number) => {
      let calls = 0
      return Effect.suspend(() => ++calls === 1 ? Effect.fail("transient") : Effect.succeed(calls)).pipe(Effect.delay(ms))
    }

    it.effect("capture() + toText() - draws a run's retries, timeout and queueing exactly", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Timeline.capture(Scheduler.run([
          // fails at 20 ms, backs off 50 ms, then waits for the web slot that "fetch" holds until 100 ms
          Task.make("search", flaky(20), { group: "web", retries: 1, schedule: Schedule.spaced("50 millis") }),
          Task.make("slow", Effect.sleep(500), { timeout: "100 millis" }),
          Task.make("fine", Effect.sleep(40)),
          // queued behind "search" (the web group runs one at a time)
          Task.make("fetch", Effect.sleep(80), { group: "web" })
        ])))
        yield* TestClock.adjust(1000)
        const [results, recorded] = yield* Fiber.join(fiber)
        expect(results.map((r) => r.ok)).toEqual([true, false, true, true])
        expect(recorded.rows.map((r) => [r.name, r.attempts.map((a) => [a.queuedAt, a.start, a.end, a.outcome])]))
          .toEqual([
            ["search", [[0, 0, 20, "failed"], [70, 100, 120, "ok"]]],
            ["slow", [[0, 0, 100, "timedOut"]]],
            ["fine", [[0, 0, 40, "ok"]]],
            ["fetch", [[0, 20, 100, "ok"]]]
          ])
        expect(Timeline.toText(recorded, { width: 60 })).toBe([
          "search │████✗·········░░░░░░████✓     │ ok, 2 tries",
          "slow   │████████████████████⊘         │ timed out",
          "fine   │████████✓                     │ ok",
          "fetch  │░░░░████████████████✓         │ ok",
          "       └──────────┬─────────┬─────────┘",
          "        0         50        100       150 ms",
          "█ attempt   ░ queued for a slot   · backoff before a retry",
          "✓ ok   ✗ failed   ⊘ timed out   1 column = 5 ms"
        ].join("\n"))
      }).pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 4, groups: { web: 1 } }))))

    it.effect("capture() - records each task's attempts, waits and backoff gaps, in ms from the run's start", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Timeline.capture(Scheduler.run([
          Task.make("search", flaky(20), { group: "web", retries: 1, schedule: Schedule.spaced("100 millis") }),
          Task.make("fetch", Effect.sleep(50))
        ])))
        yield* TestClock.adjust(1000)
        const [results, recorded] = yield* Fiber.join(fiber)
        expect(results.map((r) => r.ok)).toEqual([true, true])
        expect(recorded.rows).toEqual([
          {
            name: "search",
            group: "web",
            attempts: [
              { attempt: 1, queuedAt: 0, start: 0, end: 20, outcome: "failed" },
              { attempt: 2, queuedAt: 120, start: 120, end: 140, outcome: "ok" }
            ]
          },
          { name: "fetch", attempts: [{ attempt: 1, queuedAt: 0, start: 0, end: 50, outcome: "ok" }] }
        ])
      }).pipe(Effect.provide(Scheduler.layer())))
  })

  describe("capture, tasks sharing a name", () => {
    it.effect("capture() - tasks of the same name (one tool called three times, and again in a second run) get a row each", () =>
      Effect.gen(function*() {
        const search = (ms: number) => Task.make("search", Effect.sleep(ms))
        const fiber = yield* Effect.fork(Timeline.capture(Effect.zipRight(
          Scheduler.run([search(30), search(20), search(10)]),
          Scheduler.run([search(5)])
        )))
        yield* TestClock.adjust(100)
        const [, recorded] = yield* Fiber.join(fiber)
        expect(recorded.rows.map((r) => [r.name, r.attempts.map((a) => [a.attempt, a.start, a.end])])).toEqual([
          ["search", [[1, 0, 30]]],
          ["search", [[1, 0, 20]]],
          ["search", [[1, 0, 10]]],
          ["search", [[1, 30, 35]]]
        ])
      }).pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 4 }))))
  })

  describe("capture, hedged and coalesced tasks", () => {
    it.effect("capture() - a hedged task's row shows both attempts, the loser cut; a coalesced task shows its wait", () =>
      Effect.gen(function*() {
        let calls = 0
        const slowThenFast = Effect.suspend(() => Effect.sleep(++calls === 1 ? 1000 : 30))
        const fiber = yield* Effect.fork(Timeline.capture(Scheduler.run([
          Task.make("search", slowThenFast, { idempotent: true, hedge: { after: 100, budget: 1 } }),
          Task.make("page", Effect.sleep(50), { coalesce: "page" }),
          Task.make("page", Effect.sleep(50), { coalesce: "page" })
        ])))
        yield* TestClock.adjust(130)
        const [results, recorded] = yield* Fiber.join(fiber)
        expect(results.map((r) => [r.hedge, r.coalesced])).toEqual([["won", false], [undefined, false], [undefined, true]])
        expect(recorded.rows.map((r) => [r.name, r.attempts.map((a) => [a.attempt, a.start, a.end, a.outcome])])).toEqual([
          ["search", [[1, 0, 130, "hedgeLost"], [2, 100, 130, "ok"]]],
          ["page", [[1, 0, 50, "ok"]]],
          ["page", [[0, 0, 50, "coalesced"]]]
        ])
        expect(Timeline.toText(recorded)).toContain("cut (hedge lost)")
      }).pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 4 }))))
  })

  describe("bad or large timelines", () => {
    it("toText(), toSvg() and toHtml() refuse a time that is not a finite number, naming it", () => {
      const broken = [
        timeline(row("a", [at(0, Number.NaN, "ok")])),
        timeline(row("a", [at(0, Number.POSITIVE_INFINITY, "ok")])),
        timeline(row("a", [{ attempt: 1, queuedAt: 0, start: 0, outcome: "ok" } as unknown as Timeline.Attempt]))
      ]
      for (const t of broken) {
        for (const render of [Timeline.toText, Timeline.toSvg, Timeline.toHtml]) {
          expect(() => render(t)).toThrow(RangeError)
          expect(() => render(t)).toThrow(/row "a", attempt 1: end must be a finite number of ms/)
        }
      }
    })

    it("renders 100,000 attempts (no spreading of huge arrays into Math.max)", () => {
      const attempts = Array.from({ length: 100_000 }, (_, i) => at(i, i + 1, "failed"))
      const big = timeline(row("busy", attempts), row("calm", [at(0, 10, "ok")]))
      expect(Timeline.toText(big, { width: 80 }).split("\n")[0]).toMatch(/^busy │.*│ failed, 100000 tries$/)
      expect(Timeline.toSvg(big).length).toBeGreaterThan(100_000)
    })

    it("toText() - names with characters outside the BMP keep the rows aligned", () => {
      const lines = Timeline.toText(timeline(row("𝐱a", [at(0, 50, "ok")]), row("weather", [at(0, 100, "ok")])), { width: 60 })
        .split("\n")
      const bar = (line: string) => [...line].indexOf("│")
      expect(bar(lines[0]!)).toBe(bar(lines[1]!))
    })
  })

  // ---------------------------------------------------------------------------
  // SVG and HTML
  // ---------------------------------------------------------------------------

  const tricky = `<b>&"quoted"</b>`
  const rich = timeline(
    row("calendar", [at(0, 120, "ok")]),
    row("search", [at(0, 40, "failed"), at(105, 180, "ok", { queuedAt: 90 })], "web"),
    row(tricky, [at(30, 90, "ok", { queuedAt: 0 })], "web & co"),
    row("hotels", [at(0, 300, "timedOut")]),
    row("shared", [at(10, 20, "unavailable"), at(30, 35, "interrupted"), at(40, 41, "defect")]),
    row("a-very-long-tool-name-that-will-not-fit-in-the-label-column-of-a-narrow-chart", [at(0, 10, "ok")])
  )
  const attempts = rich.rows.reduce((sum, r) => sum + r.attempts.length, 0)

  describe("toSvg", () => {
    const svg = Timeline.toSvg(rich, { title: `Run <1> & "co"` })

    it("toSvg() - writes a well-formed SVG document with its namespace, and no script or external resource", () => {
      expect(xmlProblems(svg)).toEqual([])
      expect(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg"`)).toBe(true)
      expect(svg).toMatch(/width="960" height="\d+(\.\d)?" viewBox="0 0 960 /)
      expect(svg).not.toMatch(/<script|href=|url\(|@import|javascript:/i)
      for (const width of [200, 480, 1600]) expect(xmlProblems(Timeline.toSvg(rich, { width }))).toEqual([])
      expect(xmlProblems(Timeline.toSvg(timeline()))).toEqual([])
    })

    it("toSvg() - the checker itself catches broken markup", () => {
      expect(xmlProblems(`<svg><g></svg>`)).not.toEqual([])
      expect(xmlProblems(`<svg><text>a < b</text></svg>`)).not.toEqual([])
      expect(xmlProblems(`<svg><text>a & b</text></svg>`)).not.toEqual([])
      expect(xmlProblems(`<svg a="<"/>`)).not.toEqual([])
      expect(xmlProblems(`<svg/><svg/>`)).not.toEqual([])
    })

    it("toSvg() - escapes every name, group and the title", () => {
      expect(svg).toContain("&lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt;")
      expect(svg).not.toContain(tricky)
      expect(svg).toContain(">web &amp; co<")
      expect(svg).toContain("Run &lt;1&gt; &amp; &quot;co&quot;")
      for (const name of ["calendar", "search", "hotels", "shared"]) expect(svg).toContain(`>${name}<`)
    })

    it("toSvg() - cuts a long name with an ellipsis", () => {
      expect(svg).not.toContain("a-very-long-tool-name-that-will-not-fit-in-the-label-column-of-a-narrow-chart<")
      expect(Timeline.toSvg(rich, { width: 400 })).toMatch(/>a-very-long[^<]*…</)
    })

    it("toSvg() - gives every attempt one <title> tooltip saying what happened", () => {
      const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1])
      expect(titles).toHaveLength(attempts)
      expect(titles).toContain("search — attempt 1: failed, 40 ms, waited 0 ms")
      expect(titles).toContain("search — attempt 2: ok, 75 ms, waited 15 ms, after a 50 ms backoff")
      expect(titles).toContain("hotels — attempt 1: timed out, 300 ms, waited 0 ms")
      expect(titles).toContain("&lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt; — attempt 1: ok, 60 ms, waited 30 ms")
    })

    it("toSvg() - colours attempts by outcome and draws waits and backoffs", () => {
      for (const color of ["#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#9f1239"]) expect(svg).toContain(color)
      expect(svg).toContain(`stroke-dasharray=`) // the backoff of "search"
      expect(svg).toContain(`fill="#d1d5db"`) // a wait for a slot
      for (const label of ["ok", "failed", "timed out", "interrupted", "unavailable", "defect", "waiting for a slot", "backoff before a retry"]) {
        expect(svg).toContain(`>${label}</text>`)
      }
      // the legend lists only what the chart uses
      const plain = Timeline.toSvg(timeline(row("a", [at(0, 10, "ok")])))
      expect(plain).not.toContain("failed")
      expect(plain).not.toContain("waiting for a slot")
    })

    it("toSvg() - labels the time axis with 1-2-5 steps in ms", () => {
      const labels = [...svg.matchAll(/text-anchor="middle"[^>]*>([^<]*)</g)].map((m) => m[1])
      expect(labels).toEqual(["0", "50", "100", "150", "200", "250", "300 ms"])
      const narrow = [...Timeline.toSvg(rich, { width: 400 }).matchAll(/text-anchor="middle"[^>]*>([^<]*)</g)].map((m) => m[1])
      expect(narrow).toEqual(["0", "100", "200", "300 ms"])
    })

    it("toSvg() - is deterministic: the same timeline gives the same document", () => {
      expect(Timeline.toSvg(rich, { title: `Run <1> & "co"` })).toBe(svg)
      expect(Timeline.toSvg(structuredClone(rich), { title: `Run <1> & "co"` })).toBe(svg)
    })

    it("toSvg() - refuses a width under 200, naming the option and the value", () => {
      expect(() => Timeline.toSvg(rich, { width: 199 })).toThrow(RangeError)
      expect(() => Timeline.toSvg(rich, { width: 199 })).toThrow("width must be a finite number ≥ 200, got 199 (number)")
      expect(() => Timeline.toSvg(rich, { width: Number.NaN })).toThrow("got NaN")
      expect(() => Timeline.toHtml(rich, { width: 10 })).toThrow("width must be a finite number ≥ 200, got 10 (number)")
    })
  })

  describe("toHtml", () => {
    const html = Timeline.toHtml(rich, { title: "A <run>" })

    it("toHtml() - a self-contained page with the SVG, a charset and no external resource", () => {
      expect(html.startsWith("<!doctype html>")).toBe(true)
      expect(html).toContain(`<meta charset="utf-8">`)
      expect(html).toContain(Timeline.toSvg(rich, { title: "A <run>" }))
      expect(html).toContain("<title>A &lt;run&gt;</title>")
      expect(html).not.toMatch(/<script|<link|src=|href=|url\(|@import/i)
    })

    it("toHtml() - lists every attempt in a table row, escaped", () => {
      const rows = [...html.matchAll(/<tr><td>([\s\S]*?)<\/tr>/g)].map((m) => m[0])
      expect(rows).toHaveLength(attempts)
      expect(rows).toContain(
        `<tr><td>search</td><td>web</td><td class="num">2</td><td class="num">90</td><td class="num">105</td>` +
          `<td class="num">180</td><td class="num">15</td><td class="num">75</td><td class="outcome-ok">ok</td></tr>`
      )
      expect(rows.some((r) => r.startsWith("<tr><td>&lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt;</td><td>web &amp; co</td>")))
        .toBe(true)
      expect(html).toContain("<th>queued at</th>")
    })
  })

  // ---------------------------------------------------------------------------
  // in a real browser
  // ---------------------------------------------------------------------------

  describe("in a browser", () => {
    const chromium = findChromium()
    const required = process.env["TOOLFAN_REQUIRE_CHROMIUM"] === "1"
    if (chromium === undefined && !required) {
      console.warn(
        "\n⚠️  ⚠️  ⚠️  Timeline.test.ts: no chromium found (/usr/bin/chromium or on PATH): the browser checks of " +
          "Timeline.toHtml are SKIPPED. Install chromium, or set TOOLFAN_REQUIRE_CHROMIUM=1 to make this a failure.\n"
      )
    }
    const browserIt = chromium === undefined && !required ? it.skip : it

    /** Runs headless chromium on the page with `args`; returns its standard output. */
    const browse = (html: string, args: ReadonlyArray<string>, run: (page: string, dir: string) => void) => {
      if (chromium === undefined) {
        throw new Error("TOOLFAN_REQUIRE_CHROMIUM=1 but no chromium was found at /usr/bin/chromium or on PATH")
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toolfan-timeline-"))
      try {
        const page = path.join(dir, "timeline.html")
        fs.writeFileSync(page, html)
        const stdout = headless(chromium, args.map((a) => a.replace("{dir}", dir)), pathToFileURL(page).href)
        run(stdout, dir)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }

    const html = Timeline.toHtml(rich, { title: "toolfan timeline" })

    browserIt("toHtml() - chromium parses the page: the DOM has the SVG and every task's name", { timeout: 120_000 }, () => {
      browse(html, ["--dump-dom"], (dom) => {
        expect(dom).toContain("<svg")
        for (const name of ["calendar", "search", "hotels", "shared"]) expect(dom).toContain(name)
        // the tricky name came through as text, not as markup
        expect(dom).toContain(`&lt;b&gt;&amp;"quoted"&lt;/b&gt;`)
        expect(dom).not.toContain(tricky)
        expect([...dom.matchAll(/<tr><td>/g)]).toHaveLength(attempts)
      })
    })

    browserIt("toHtml() - chromium draws the page (a screenshot of more than 5 kB)", { timeout: 120_000 }, () => {
      browse(html, ["--screenshot={dir}/shot.png", "--window-size=1000,600"], (_, dir) => {
        const shot = path.join(dir, "shot.png")
        expect(fs.existsSync(shot)).toBe(true)
        expect(fs.statSync(shot).size).toBeGreaterThan(5 * 1024)
      })
    })
  })
})
