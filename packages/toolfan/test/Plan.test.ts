import { assert, describe, expect, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { Plan, Scheduler, Task } from "../src/index.js"
import { Probe, runFor, thrown } from "./utils.js"

class SearchError extends Data.TaggedError("SearchError")<{}> {}

const withScheduler = (options?: Scheduler.Options) => Effect.provide(Scheduler.layer(options))

describe("Plan", () => {
  describe("runPlan", () => {
    it.effect("passes dependency values and returns every result keyed by name", () =>
      Effect.gen(function*() {
        const plan = Plan.empty.pipe(
          Plan.add("search", Effect.succeed(["a.html", "b.html"])),
          Plan.add("weather", Effect.succeed("sunny")),
          Plan.add("fetch", ["search"], ({ search }) => Effect.succeed(`page ${search[0]}`)),
          Plan.add("answer", ["fetch", "weather"], ({ fetch, weather }) => Effect.succeed(`${fetch}, ${weather}`))
        )
        const results = yield* Scheduler.runPlan(plan)
        expect(Object.keys(results)).toEqual(["search", "weather", "fetch", "answer"])
        expect(results.answer.value).toBe("page a.html, sunny")
        expect(results.search.value).toEqual(["a.html", "b.html"])
      }).pipe(withScheduler()))

    it.effect("a dependent starts as soon as its own dependencies finish, not waiting for a slow unrelated branch", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const plan = Plan.empty.pipe(
          Plan.add("slow", probe.sleep("slow", 1000, "s")),
          Plan.add("fast", probe.sleep("fast", 100, "f")),
          Plan.add("afterFast", ["fast"], () => probe.sleep("afterFast", 100, "af")),
          Plan.add("afterBoth", ["slow", "afterFast"], () => probe.sleep("afterBoth", 10, "ab"))
        )
        const results = yield* runFor(1010, Scheduler.runPlan(plan))
        // level-by-level waves would start afterFast at 1000, with slow's level
        expect(probe.startOf("afterFast")).toBe(100)
        expect(probe.startOf("afterBoth")).toBe(1000)
        expect(results.afterBoth.value).toBe("ab")
        expect(results.afterFast.durationMs).toBe(100)
      }).pipe(withScheduler()))

    it.effect("a failure skips exactly its dependents, naming the dependency that failed", () =>
      Effect.gen(function*() {
        let ran = 0
        const count = <A>(a: A) => Effect.sync(() => (ran++, a))
        const plan = Plan.empty.pipe(
          Plan.add("search", Effect.fail(new SearchError())),
          Plan.add("weather", count("sunny")),
          Plan.add("fetch", ["search"], () => count("page")),
          Plan.add("summary", ["fetch"], () => count("summary")),
          Plan.add("forecast", ["weather"], ({ weather }) => count(`${weather} all week`))
        )
        const results = yield* Scheduler.runPlan(plan)
        expect(results.search.error?._tag).toBe("TaskFailed")
        assert(results.fetch.error?._tag === "TaskSkipped")
        expect(results.fetch.error.dependency).toBe("search")
        expect(results.fetch.error.message).toBe(`task "fetch" was skipped: its dependency "search" did not succeed`)
        assert(results.summary.error?._tag === "TaskSkipped")
        expect(results.summary.error.dependency).toBe("fetch")
        expect([results.fetch.attempts, results.fetch.durationMs]).toEqual([0, 0])
        expect(results.forecast.value).toBe("sunny all week")
        expect(ran).toBe(2)
      }).pipe(withScheduler()))

    it.effect("timeouts, retries, priorities and groups apply to plan tasks", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        let calls = 0
        const plan = Plan.empty.pipe(
          Plan.add("root", probe.sleep("root", 10, 1)),
          Plan.add("low", ["root"], () => probe.sleep("low", 10, 0), { priority: -1 }),
          Plan.add("high", ["root"], () => probe.sleep("high", 10, 0), { priority: 5 }),
          Plan.add("flaky", ["root"], () => Effect.suspend(() => (++calls < 2 ? Effect.never : Effect.succeed("ok"))), {
            timeout: 50,
            retries: 1,
            priority: 1
          })
        )
        const fiber = yield* Effect.fork(Scheduler.runPlan(plan))
        yield* TestClock.adjust(10)
        yield* TestClock.adjust(10)
        yield* TestClock.adjust(100)
        yield* TestClock.adjust(200)
        const results = yield* Fiber.join(fiber)
        expect(probe.startOrder()).toEqual(["root", "high", "low"])
        expect([results.flaky.value, results.flaky.attempts]).toEqual(["ok", 2])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("a deadline interrupts what is unfinished, including tasks waiting for dependencies", () =>
      Effect.gen(function*() {
        const plan = Plan.empty.pipe(
          Plan.add("quick", Effect.as(Effect.sleep(10), "q")),
          Plan.add("slow", Effect.sleep(5000)),
          Plan.add("after", ["slow"], () => Effect.succeed("never"))
        )
        const results = yield* runFor(100, Scheduler.runPlan(plan, { deadline: 100 }))
        expect(results.quick.value).toBe("q")
        assert(results.slow.error?._tag === "TaskInterrupted")
        assert(results.after.error?._tag === "TaskInterrupted")
        expect(results.after.error.reason).toBe("deadline")
      }).pipe(withScheduler()))

    it.effect("a throw while making a task from its dependencies is that task's defect", () =>
      Effect.gen(function*() {
        const plan = Plan.empty.pipe(
          Plan.add("a", Effect.succeed(1)),
          Plan.add("b", ["a"], (): Effect.Effect<number> => {
            throw new Error("bad planner code")
          }),
          Plan.add("c", ["b"], ({ b }) => Effect.succeed(b + 1))
        )
        const results = yield* Scheduler.runPlan(plan)
        expect(results.b.error?._tag).toBe("TaskDefect")
        expect(results.c.error?._tag).toBe("TaskSkipped")
      }).pipe(withScheduler()))
  })

  describe("make", () => {
    it.effect("builds a plan from specs in any order (e.g. from a model's planner)", () =>
      Effect.gen(function*() {
        const plan = Plan.make({
          answer: { dependencies: ["fetch"], run: ({ fetch }) => Effect.succeed(`answer from ${String(fetch)}`) },
          fetch: { dependencies: ["search"], run: ({ search }) => Effect.succeed(`page ${String(search)}`) },
          search: { run: () => Effect.succeed("a.html"), timeout: 1000 }
        })
        expect(plan.nodes.map((n) => n.name)).toEqual(["search", "fetch", "answer"])
        const results = yield* Scheduler.runPlan(plan)
        expect(results.answer.value).toBe("answer from page a.html")
      }).pipe(withScheduler()))

    it("refuses a cycle before anything runs, naming it", () => {
      const error = thrown(() =>
        Plan.make({
          a: { dependencies: ["c"], run: () => Effect.void },
          b: { dependencies: ["a"], run: () => Effect.void },
          c: { dependencies: ["b"], run: () => Effect.void }
        })
      )
      expect(error.message).toBe(`Plan.make: dependencies must be acyclic, got "a cycle: a → c → b → a" (string)`)
    })

    it("refuses an unknown dependency", () => {
      const error = thrown(() => Plan.make({ a: { dependencies: ["serch"], run: () => Effect.void } }))
      expect(error.message).toBe(`Plan.make: a.dependencies must be names of tasks in the plan ("a"), got "serch" (string)`)
    })
  })

  describe("edge cases", () => {
    it.effect("the same runPlan effect can run again, and twice at once", () =>
      Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        const plan = Plan.empty.pipe(
          Plan.add("a", Effect.as(Effect.sleep(10), 1)),
          Plan.add("b", ["a"], ({ a }) => Effect.succeed(a + 1))
        )
        const once = s.runPlan(plan)
        const [first, second] = yield* runFor(100, Effect.zip(once, once))
        const [x, y] = yield* runFor(100, Effect.all([once, once], { concurrency: 2 }))
        expect([first, second, x, y].map((r) => [r.a.value, r.b.value])).toEqual([[1, 2], [1, 2], [1, 2], [1, 2]])
        expect(yield* s.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler()))

    it("make - refuses a dependency that is not a string (e.g. a number from a model's JSON)", () => {
      const error = thrown(() =>
        Plan.make({ "1": { run: () => Effect.void }, b: { dependencies: [1 as unknown as string], run: () => Effect.void } })
      )
      expect(error.option).toBe("b.dependencies")
      expect(error.value).toBe(1)
    })

    it.effect("make - a chain of 10,000 tasks is ordered without overflowing the stack", () =>
      Effect.gen(function*() {
        const n = 10_000
        const specs: Record<string, Plan.Spec<number>> = {}
        for (let i = n - 1; i >= 0; i--) {
          specs[`t${i}`] = i === 0
            ? { run: () => Effect.succeed(0) }
            : { dependencies: [`t${i - 1}`], run: (v) => Effect.succeed((v[`t${i - 1}`] as number) + 1) }
        }
        const plan = Plan.make(specs)
        expect(plan.nodes[0]!.name).toBe("t0")
        expect(plan.nodes[n - 1]!.name).toBe(`t${n - 1}`)
        const results = yield* Scheduler.runPlan(plan)
        expect(results[`t${n - 1}`]!.value).toBe(n - 1)
      }).pipe(withScheduler()))

    it.effect("make - a task named \"__proto__\" (from JSON) has its result and passes its value on", () =>
      Effect.gen(function*() {
        const specs = JSON.parse(`{"__proto__": {}, "b": {"dependencies": ["__proto__"]}}`) as Record<string, Plan.Spec>
        ;(specs["__proto__"] as { run: Plan.Spec["run"] }).run = () => Effect.succeed("proto value")
        ;(specs["b"] as { run: Plan.Spec["run"] }).run = (v) => Effect.succeed(`got ${String(v["__proto__"])}`)
        const results = yield* Scheduler.runPlan(Plan.make(specs))
        expect(Object.keys(results)).toEqual(["__proto__", "b"])
        expect(results["b"]!.value).toBe("got proto value")
      }).pipe(withScheduler()))

    it.effect("a task cut by the deadline while queued reports the time it waited", () =>
      Effect.gen(function*() {
        const [, queued] = yield* runFor(300, Scheduler.run([
          Task.make("busy", Effect.sleep(1000)),
          Task.make("queued", Effect.void)
        ], { deadline: 200 }))
        expect(queued.error?._tag).toBe("TaskInterrupted")
        expect(queued.waitMs).toBe(200)
      }).pipe(withScheduler({ maxConcurrency: 1 })))
  })

  describe("add", () => {
    it("refuses a duplicate name and an unknown dependency", () => {
      const plan = Plan.empty.pipe(Plan.add("search", Effect.void))
      expect(thrown(() => plan.pipe(Plan.add("search", Effect.void))).message).toBe(
        `Plan.add: name must be unique within the plan (a task of that name is already in it), got "search" (string)`
      )
      expect(thrown(() => Plan.add(plan, "fetch", ["serch" as "search"], () => Effect.void)).message).toBe(
        `Plan.add: dependencies of "fetch" must be names of tasks added before it ("search"), got "serch" (string)`
      )
      expect(thrown(() => Plan.add(plan, "x", Effect.void, { timeout: -1 })).option).toBe("timeout")
    })

    it.effect("runPlan refuses what is not a plan", () =>
      Effect.sync(() => {
        expect(() => Scheduler.runPlan({ nodes: [] } as any)).toThrow("Scheduler.runPlan: plan must be a Plan")
      }))
  })
})
