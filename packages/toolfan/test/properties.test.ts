import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { Scheduler, Task } from "../src/index.js"

interface Spec {
  readonly ms: number
  readonly priority: number
  readonly group: "a" | "b" | undefined
  readonly fails: boolean
}

const spec: FastCheck.Arbitrary<Spec> = FastCheck.record({
  ms: FastCheck.integer({ min: 1, max: 50 }),
  priority: FastCheck.integer({ min: 0, max: 3 }),
  group: FastCheck.constantFrom<"a" | "b" | undefined>("a", "b", undefined, undefined),
  fails: FastCheck.boolean()
})

interface Span {
  start: number
  end: number
}

/** Runs the specs on a fresh scheduler in virtual time and records every task's span. */
const simulate = (specs: ReadonlyArray<Spec>, cap: number, caps: { a: number; b: number }) =>
  Effect.gen(function*() {
    const spans: Array<Span> = specs.map(() => ({ start: -1, end: -1 }))
    let active = 0
    let peak = 0
    const groupActive = { a: 0, b: 0 }
    const groupPeak = { a: 0, b: 0 }
    const tasks = specs.map((s, i) =>
      Task.make(
        `t${i}`,
        Effect.gen(function*() {
          spans[i]!.start = yield* Clock.currentTimeMillis
          peak = Math.max(peak, ++active)
          if (s.group) groupPeak[s.group] = Math.max(groupPeak[s.group], ++groupActive[s.group])
          yield* Effect.sleep(s.ms)
          active--
          if (s.group) groupActive[s.group]--
          spans[i]!.end = yield* Clock.currentTimeMillis
          return s.fails ? yield* Effect.fail("planned failure") : i
        }),
        { priority: s.priority, ...(s.group ? { group: s.group } : {}) }
      )
    )
    const results = yield* Effect.scoped(Effect.gen(function*() {
      const scheduler = yield* Scheduler.make({ maxConcurrency: cap, groups: caps })
      const fiber = yield* Effect.fork(scheduler.run(tasks))
      while (fiber.unsafePoll() === null) yield* TestClock.adjust(2000)
      return yield* Fiber.join(fiber)
    }))
    return { results, spans, peak, groupPeak }
  })

const arbitraries = {
  specs: FastCheck.array(spec, { minLength: 1, maxLength: 30 }),
  cap: FastCheck.integer({ min: 1, max: 6 }),
  a: FastCheck.integer({ min: 1, max: 3 }),
  b: FastCheck.integer({ min: 1, max: 3 })
}

describe("Scheduler properties (random task mixes, caps, priorities and groups)", () => {
  it.effect.prop("one result per task, in order; the caps are never exceeded", arbitraries, ({ a, b, cap, specs }) =>
    Effect.gen(function*() {
      const { groupPeak, peak, results } = yield* simulate(specs, cap, { a, b })
      expect(results.map((r) => r.name)).toEqual(specs.map((_, i) => `t${i}`))
      results.forEach((r, i) => expect(r.ok).toBe(!specs[i]!.fails))
      expect(peak).toBeLessThanOrEqual(cap)
      expect(groupPeak.a).toBeLessThanOrEqual(a)
      expect(groupPeak.b).toBeLessThanOrEqual(b)
    }), { timeout: 30_000, fastCheck: { numRuns: 40 } })

  it.effect.prop("waiting tasks start by priority, then first-come-first-served", arbitraries, ({ a, b, cap, specs }) =>
    Effect.gen(function*() {
      const { spans } = yield* simulate(specs, cap, { a, b })
      // ungrouped tasks all wait in one queue from the start: whenever one
      // starts strictly before another, it comes first in (priority, order)
      const free = specs.flatMap((s, i) => (s.group === undefined ? [i] : []))
      for (const x of free) {
        for (const y of free) {
          if (spans[x]!.start < spans[y]!.start) {
            const px = specs[x]!.priority
            const py = specs[y]!.priority
            expect(px > py || (px === py && x < y), `t${x} (p${px}) started before t${y} (p${py})`).toBe(true)
          }
        }
      }
    }), { timeout: 30_000, fastCheck: { numRuns: 40 } })

  it.effect.prop("a full group never blocks other tasks: nobody ungrouped waits while a slot is free", arbitraries, ({ a, b, cap, specs }) =>
    Effect.gen(function*() {
      const { spans } = yield* simulate(specs, cap, { a, b })
      const times = [...new Set(spans.flatMap((s) => [s.start, s.end]))].sort((x, y) => x - y)
      const activeAt = (t: number) => spans.filter((s) => s.start <= t && t < s.end).length
      specs.forEach((s, y) => {
        if (s.group !== undefined) return
        for (const t of times) {
          if (t >= spans[y]!.start) break
          expect(activeAt(t), `t${y} waited at ${t} ms with a free slot`).toBe(cap)
        }
      })
    }), { timeout: 30_000, fastCheck: { numRuns: 40 } })
})
