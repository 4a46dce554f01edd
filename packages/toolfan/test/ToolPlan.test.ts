import { assert, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Plan, Scheduler, Task, ToolPlan } from "../src/index.js"
import { Probe, runFor, thrown } from "./utils.js"

class Flaky extends Data.TaggedError("Flaky")<{}> {}

const withScheduler = (options?: Scheduler.Options) => Effect.provide(Scheduler.layer(options))

/** Tools whose calls sleep on the clock, recorded by `probe` under the call's `tag` argument. */
const toolsFor = (probe: Probe) => ({
  search: ToolPlan.tool(
    Schema.Struct({ q: Schema.String, tag: Schema.optional(Schema.String) }),
    ({ q, tag }) => probe.sleep(tag ?? q, 100, { items: [{ url: `https://example.com/${q}` }, { url: "https://example.com/2" }] })
  ),
  fetch: ToolPlan.tool(
    Schema.Struct({ url: Schema.String, tag: Schema.optional(Schema.String) }),
    ({ tag, url }) => probe.sleep(tag ?? url, 100, `<html>${url}</html>`)
  ),
  count: ToolPlan.tool(
    Schema.Struct({ n: Schema.NumberFromString }),
    ({ n }) => Effect.succeed(n + 1)
  )
})

/** A stream of calls, each emitted at its time (ms on the clock). */
const arriving = (calls: ReadonlyArray<readonly [number, unknown]>) =>
  Stream.fromIterable(calls).pipe(
    Stream.mapEffect(([at, call]) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.as(Effect.sleep(Math.max(0, at - now)), call as ToolPlan.Call))
    )
  )

const refusal = (r: { readonly error?: unknown }) => {
  const error = r.error as { readonly _tag: string; readonly error?: unknown } | undefined
  assert(error?._tag === "TaskFailed" && ToolPlan.isCallRefused(error.error), `not refused: ${String(error?._tag)}`)
  return error.error
}

describe("ToolPlan", () => {
  describe("references", () => {
    it.effect("run() - substitutes string and $ref references, with paths, and returns results in arrival order", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const results = yield* runFor(1000, ToolPlan.run([
          { id: "s", tool: "search", args: { q: "ai" } },
          { id: "f1", tool: "fetch", args: { url: "$s.items.0.url" } },
          { id: "f2", tool: "fetch", args: { url: { $ref: "s", path: ["items", 1, "url"] } } },
          { id: "f3", tool: "fetch", args: { url: { $ref: "f1" }, tag: "$$literal" } }
        ], toolsFor(probe)))
        expect(results.map((r) => r.name)).toEqual(["s", "f1", "f2", "f3"])
        expect(results.map((r) => r.value)).toEqual([
          { items: [{ url: "https://example.com/ai" }, { url: "https://example.com/2" }] },
          "<html>https://example.com/ai</html>",
          "<html>https://example.com/2</html>",
          "<html><html>https://example.com/ai</html></html>"
        ])
        // dependencies come from the references: f1, f2 after s; f3 after f1; "$$literal" is the text "$literal"
        expect(probe.startOf("https://example.com/ai")).toBe(100)
        expect(probe.startOf("https://example.com/2")).toBe(100)
        expect(probe.startOf("$literal")).toBe(200)
      }).pipe(withScheduler()))

    it.effect("run() - decodes the substituted arguments with the tool's parameters Schema", () =>
      Effect.gen(function*() {
        const results = yield* ToolPlan.run([
          { id: "a", tool: "count", args: { n: "41" } },
          { id: "b", tool: "count", args: { n: "7" } }
        ], toolsFor(new Probe()))
        expect(results.map((r) => r.value)).toEqual([42, 8])
      }).pipe(withScheduler()))

    it.effect("run() - a reference inside arrays and nested objects is found and replaced", () =>
      Effect.gen(function*() {
        const echo = ToolPlan.tool(Schema.Unknown, (args) => Effect.succeed(args))
        const results = yield* ToolPlan.run([
          { id: "one", tool: "echo", args: { v: 1 } },
          { id: "two", tool: "echo", args: { list: ["$one.v", { deep: ["$one"] }], text: "costs $5 and $$5" } }
        ], { echo })
        expect(results[1]!.value).toEqual({ list: [1, { deep: [{ v: 1 }] }], text: "costs $5 and $$5" })
      }).pipe(withScheduler()))

    it.effect("run() - output decides what references read of a tool's value", () =>
      Effect.gen(function*() {
        const wrapped = ToolPlan.tool(Schema.Unknown, () => Effect.succeed({ envelope: { n: 3 } }), { output: (v) => v.envelope })
        const echo = ToolPlan.tool(Schema.Unknown, (args) => Effect.succeed(args))
        const results = yield* ToolPlan.run([
          { id: "w", tool: "wrapped" },
          { id: "e", tool: "echo", args: "$w.n" }
        ], { wrapped, echo })
        expect(results[0]!.value).toEqual({ envelope: { n: 3 } })
        expect(results[1]!.value).toBe(3)
      }).pipe(withScheduler()))
  })

  describe("refusals", () => {
    it.effect("run() - refuses an unknown tool, naming the available ones, and skips only its dependents", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const results = yield* runFor(1000, ToolPlan.run([
          { id: "s", tool: "serch", args: { q: "ai" } },
          { id: "f", tool: "fetch", args: { url: "$s.items.0.url" } },
          { id: "ok", tool: "search", args: { q: "ok" } }
        ], toolsFor(probe)))
        const refused = refusal(results[0]!)
        expect(refused.reason).toBe("UnknownTool")
        expect(refused.message).toBe(
          `call "s": unknown tool "serch"; the available tools are: search, fetch, count. Call one of them by its exact name`
        )
        expect([results[0]!.attempts, results[0]!.durationMs]).toEqual([0, 0])
        assert(results[1]!.error?._tag === "TaskSkipped")
        expect(results[1]!.error.dependency).toBe("s")
        expect(results[2]!.ok).toBe(true)
        expect(probe.startOrder()).toEqual(["ok"])
      }).pipe(withScheduler()))

    it.effect("run() - refuses a reference to an id that never arrives, at the end of the plan", () =>
      Effect.gen(function*() {
        const results = yield* runFor(1000, ToolPlan.run([
          { id: "s", tool: "search", args: { q: "ai" } },
          { id: "f", tool: "fetch", args: { url: "$serch.items.0.url" } }
        ], toolsFor(new Probe())))
        const refused = refusal(results[1]!)
        expect(refused.reason).toBe("UnknownReference")
        expect(refused.message).toBe(
          `call "f": args.url references "$serch.items.0.url", but no call with id "serch" is in the plan ` +
            `(its ids: "s", "f"). Reference the id of a call of the plan`
        )
        expect(results[0]!.ok).toBe(true)
      }).pipe(withScheduler()))

    it.effect("run() - refuses every call of a cycle, the moment it closes, and skips their dependents", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const calls = arriving([
          [0, { id: "a", tool: "fetch", args: { url: "$c" } }],
          [0, { id: "b", tool: "fetch", args: { url: "$a" } }],
          [0, { id: "d", tool: "fetch", args: { url: "$b" } }],
          [100, { id: "c", tool: "fetch", args: { url: "$b" } }],
          [500, { id: "e", tool: "search", args: { q: "e" } }]
        ])
        const fiber = yield* Effect.fork(ToolPlan.run(calls, toolsFor(probe)))
        yield* TestClock.adjust(100)
        // refused at 100, when "c" closed the cycle, not at the end of the plan (500)
        const results = yield* runFor(1000, Fiber.join(fiber))
        for (const i of [0, 1, 3]) expect(refusal(results[i]!).reason).toBe("Cycle")
        expect(refusal(results[0]!).message).toBe(
          `call "a": its arguments depend on its own output through a cycle (c → b → a → c); ` +
            `a call may only reference calls that do not depend on it`
        )
        assert(results[2]!.error?._tag === "TaskSkipped")
        expect(results[2]!.error.dependency).toBe("b")
        expect(results[4]!.ok).toBe(true)
      }).pipe(withScheduler()))

    it.effect("run() - refuses a reference to the call's own output", () =>
      Effect.gen(function*() {
        const results = yield* ToolPlan.run([{ id: "a", tool: "fetch", args: { url: "$a.x" } }], toolsFor(new Probe()))
        const refused = refusal(results[0]!)
        expect(refused.reason).toBe("Cycle")
        expect(refused.message).toBe(`call "a": args.url references "$a.x", the call's own output; reference other calls only`)
      }).pipe(withScheduler()))

    it.effect("run() - refuses a path that is not in the referenced output, saying what is there", () =>
      Effect.gen(function*() {
        const results = yield* runFor(1000, ToolPlan.run([
          { id: "s", tool: "search", args: { q: "ai" } },
          { id: "f", tool: "fetch", args: { url: "$s.items.5.url" } },
          { id: "g", tool: "fetch", args: { url: "$s.links" } }
        ], toolsFor(new Probe())))
        const five = refusal(results[1]!)
        expect(five.reason).toBe("MissingPath")
        expect(five.message).toBe(
          `call "f": args.url references "$s.items.5.url", but items in the output of "s" is an array of 2, ` +
            `with no entry "5". Reference a path that exists in that output`
        )
        expect(refusal(results[2]!).message).toContain(`the output of "s" is {"items":`)
        expect(refusal(results[2]!).message).toContain(`with no key "links" (its keys: items)`)
      }).pipe(withScheduler()))

    it.effect("run() - refuses arguments the Schema rejects, naming each field, and never runs the tool", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const results = yield* runFor(1000, ToolPlan.run([
          { id: "s", tool: "search", args: { q: 42 } },
          { id: "n", tool: "count", args: { n: "many" } },
          { id: "after", tool: "fetch", args: { url: "$n" } }
        ], toolsFor(probe)))
        const q = refusal(results[0]!)
        expect(q.reason).toBe("InvalidArguments")
        expect(q.message).toBe(
          `call "s": invalid arguments: q: Expected string, actual 42. Call it again with arguments that match the tool's parameters`
        )
        expect(refusal(results[1]!).message).toContain(`n: Unable to decode "many" into a number`)
        expect(results[2]!.error?._tag).toBe("TaskSkipped")
        expect(probe.starts).toEqual([])
      }).pipe(withScheduler()))

    it.effect("run() - a malformed call, a repeated id or a malformed reference fails that call, not the plan", () =>
      Effect.gen(function*() {
        const results = yield* runFor(1000, ToolPlan.run([
          42,
          { id: "s", tool: "search", args: { q: "ai" } },
          { id: "s", tool: "search", args: { q: "again" } },
          { id: "f", tool: "fetch", args: { url: "$ s" } },
          { id: "g", tool: "fetch", args: { url: { $ref: "s", path: "items.0.url", extra: 1 } } },
          { tool: "fetch" },
          { id: "h", args: {} },
          { id: "after", tool: "fetch", args: { url: "$h" } }
        ] as Array<ToolPlan.Call>, toolsFor(new Probe())))
        expect(results.map((r) => r.name)).toEqual(["#0", "s", "s", "f", "g", "#5", "h", "after"])
        expect(refusal(results[0]!).message).toBe(
          `call #0 (position 0 in the plan) is not a call: expected { "id": "<unique id>", "tool": "<tool name>", "args": { ... } }, got 42`
        )
        expect(results[1]!.ok).toBe(true)
        expect(refusal(results[2]!).reason).toBe("DuplicateId")
        expect(refusal(results[3]!).message).toContain(`args.url is "$ s", which is not a reference`)
        expect(refusal(results[4]!).reason).toBe("MalformedReference")
        expect(refusal(results[5]!).reason).toBe("MalformedCall")
        expect(refusal(results[6]!).message).toBe(
          `call "h": not a call: expected { "id": "<unique id>", "tool": "<tool name>", "args": { ... } }, got {"id":"h","args":{}}`
        )
        // a call referencing a malformed one is skipped, naming it
        assert(results[7]!.error?._tag === "TaskSkipped")
        expect(results[7]!.error.dependency).toBe("h")
      }).pipe(withScheduler()))

    it.effect("run() - a refusal is never retried, whatever the tool's retries", () =>
      Effect.gen(function*() {
        const strict = ToolPlan.tool(Schema.Struct({ n: Schema.Number }), () => Effect.succeed(1), { retries: 3 })
        const [r] = yield* ToolPlan.run([{ id: "x", tool: "strict", args: {} }], { strict })
        expect(refusal(r!).reason).toBe("InvalidArguments")
        expect(r!.attempts).toBe(0)
      }).pipe(withScheduler()))

    it("tool() and run() - bad tools and options throw an InvalidOption naming them", () => {
      expect(thrown(() => ToolPlan.tool({} as never, () => Effect.void)).message).toContain("ToolPlan.tool: parameters must be a Schema")
      expect(thrown(() => ToolPlan.tool(Schema.String, () => Effect.void, { timeout: -5 })).message).toContain("timeout")
      expect(thrown(() => ToolPlan.run([], { bad: { run: () => Effect.void } } as never)).message).toContain(
        "ToolPlan.run: tools.bad must be a tool made with ToolPlan.tool"
      )
      expect(thrown(() => ToolPlan.run(5 as never, {})).message).toContain("ToolPlan.run: calls must be an Iterable or a Stream")
      expect(thrown(() => ToolPlan.run([], {}, { deadline: -1 })).message).toContain("deadline")
    })
  })

  describe("streaming", () => {
    it.effect("run() - starts call k before call k+1 has arrived when it references nothing pending", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const calls = arriving([
          [0, { id: "s1", tool: "search", args: { q: "one" } }],
          [100, { id: "s2", tool: "search", args: { q: "two" } }],
          [200, { id: "f", tool: "fetch", args: { url: "$s1.items.0.url", tag: "f" } }],
          [250, { id: "g", tool: "fetch", args: { url: "$s2.items.0.url", tag: "g" } }],
          [800, { id: "h", tool: "search", args: { q: "three" } }]
        ])
        const fiber = yield* Effect.fork(ToolPlan.run(calls, toolsFor(probe)))
        yield* TestClock.adjust(50)
        // s1 runs while s2 has not arrived yet
        expect(probe.startOf("one")).toBe(0)
        expect(probe.startOf("two")).toBeUndefined()
        const results = yield* runFor(1000, Fiber.join(fiber))
        expect(probe.startOf("two")).toBe(100)
        // f arrives at 200, its reference settled at 100: it starts on arrival; g waits for s2 (200) then its arrival (250)
        expect(probe.startOf("f")).toBe(200)
        expect(probe.startOf("g")).toBe(250)
        expect(probe.startOf("three")).toBe(800)
        expect(results.every((r) => r.ok)).toBe(true)
      }).pipe(withScheduler()))

    it.effect("run() - a call waits for a referenced call that arrives later, and starts when it succeeds", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const calls = arriving([
          [0, { id: "f", tool: "fetch", args: { url: "$s.items.0.url", tag: "f" } }],
          [300, { id: "s", tool: "search", args: { q: "late" } }]
        ])
        const results = yield* runFor(1000, ToolPlan.run(calls, toolsFor(probe)))
        expect(probe.startOf("f")).toBe(400)
        expect(results.map((r) => r.value)).toEqual(["<html>https://example.com/late</html>", expect.anything()])
      }).pipe(withScheduler()))

    it.effect("run() - returns once the stream has ended and every call has settled", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const calls = arriving([[0, { id: "s", tool: "search", args: { q: "a" } }], [700, { id: "t", tool: "search", args: { q: "b" } }]])
        const fiber = yield* Effect.fork(ToolPlan.run(calls, toolsFor(probe)))
        yield* TestClock.adjust(699)
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust(100)
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust(1)
        const exit = yield* Fiber.await(fiber)
        assert(Exit.isSuccess(exit))
        expect(exit.value.length).toBe(2)
      }).pipe(withScheduler()))

    it.effect("run() - the cap, groups and retries apply to streamed calls", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        let tries = 0
        const slow = ToolPlan.tool(Schema.String, (tag) => probe.sleep(tag, 100, tag), { group: "web" })
        const flaky = ToolPlan.tool(Schema.Unknown, () => Effect.suspend(() => ++tries < 3 ? Effect.fail(new Flaky()) : Effect.succeed("ok")), {
          retries: 2,
          schedule: undefined
        })
        const calls = arriving([
          [0, { id: "a", tool: "slow", args: "a" }],
          [0, { id: "b", tool: "slow", args: "b" }],
          [0, { id: "c", tool: "slow", args: "c" }],
          [0, { id: "x", tool: "flaky" }]
        ])
        const results = yield* runFor(5000, ToolPlan.run(calls, { slow, flaky }))
        expect(probe.peak).toBe(2)
        expect(probe.startOf("c")).toBe(100)
        expect([results[3]!.value, results[3]!.attempts]).toEqual(["ok", 3])
      }).pipe(withScheduler({ groups: { web: 2 } })))

    it.effect("run() - timeouts and priorities apply to calls", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const step = (priority: number) => ToolPlan.tool(Schema.String, (tag) => probe.sleep(tag, 100, tag), { priority })
        const hang = ToolPlan.tool(Schema.Unknown, () => Effect.never, { timeout: 50 })
        const results = yield* runFor(1000, ToolPlan.run([
          { id: "first", tool: "low", args: "first" },
          { id: "low", tool: "low", args: "low" },
          { id: "high", tool: "high", args: "high" },
          { id: "stuck", tool: "hang" }
        ], { low: step(0), high: step(5), hang }))
        // one slot: "first" takes it, then the higher priority goes before the earlier call
        expect(probe.startOrder()).toEqual(["first", "high", "low"])
        assert(results[3]!.error?._tag === "TaskTimedOut")
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - a plan run from inside a task of the same scheduler borrows its slot (no deadlock at cap 1)", () =>
      Effect.gen(function*() {
        const inner = ToolPlan.tool(Schema.Number, (n) => Effect.as(Effect.sleep(10), n * 2))
        const outer = ToolPlan.tool(Schema.Number, (n) =>
          Effect.map(ToolPlan.run([{ id: "a", tool: "inner", args: n }, { id: "b", tool: "inner", args: "$a" }], { inner }), (rs) => rs[1]!.value))
        const results = yield* runFor(100, ToolPlan.run([{ id: "o", tool: "outer", args: 5 }], { outer }))
        expect(results[0]!.value).toBe(20)
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - onProgress counts each call as it arrives", () =>
      Effect.gen(function*() {
        const totals: Array<string> = []
        const calls = arriving([[0, { id: "a", tool: "count", args: { n: "1" } }], [100, { id: "b", tool: "count", args: { n: "2" } }]])
        yield* runFor(200, ToolPlan.run(calls, toolsFor(new Probe()), { onProgress: (e) => totals.push(`${e.type} ${e.task} ${e.counts.total}`) }))
        expect(totals).toEqual(["started a 1", "settled a 1", "started b 2", "settled b 2"])
      }).pipe(withScheduler()))

    it.effect("run() - at the deadline stops reading the stream and returns, the running calls interrupted", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const calls = Stream.concat(
          arriving([[0, { id: "s", tool: "search", args: { q: "a" } }], [50, { id: "slow", tool: "fetch", args: { url: "$s.items.0.url" } }]]),
          Stream.never
        )
        const results = yield* runFor(150, ToolPlan.run(calls, toolsFor(probe), { deadline: 150 }))
        expect(results[0]!.ok).toBe(true)
        assert(results[1]!.error?._tag === "TaskInterrupted")
        expect(results[1]!.error.reason).toBe("deadline")
      }).pipe(withScheduler()))

    it.effect("run() - a failing stream fails the run with its error and interrupts the calls", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const calls = Stream.concat(
          arriving([[0, { id: "s", tool: "search", args: { q: "a" } }]]),
          Stream.fail("connection lost" as const)
        )
        const exit = yield* Effect.exit(runFor(10, ToolPlan.run(calls, toolsFor(probe))))
        expect(exit).toStrictEqual(Exit.fail("connection lost"))
        expect(probe.ends.map((e) => e.name)).toEqual(["a"])
        expect(yield* Scheduler.stats).toMatchObject({ active: 0, pending: 0 })
      }).pipe(withScheduler()))

    it.effect("run() - interrupting it interrupts the calls and leaves the scheduler usable", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const calls = Stream.concat(arriving([[0, { id: "s", tool: "search", args: { q: "a" } }]]), Stream.never)
        const fiber = yield* Effect.fork(ToolPlan.run(calls, toolsFor(probe)))
        yield* TestClock.adjust(10)
        yield* Fiber.interrupt(fiber)
        expect(probe.active).toBe(0)
        const again = yield* ToolPlan.run([{ id: "c", tool: "count", args: { n: "1" } }], toolsFor(probe))
        expect(again[0]!.value).toBe(2)
      }).pipe(withScheduler()))
  })

  describe("the bench's workload (packages/bench, section plans), in virtual time", () => {
    // 8 calls, one every 100 ms from 0, the stream ending at 800 ms; a DAG of depth 3; tools of 200–600 ms
    const plan = [
      { id: "search_a", ms: 500, refs: [] },
      { id: "search_b", ms: 400, refs: [] },
      { id: "fetch_a", ms: 300, refs: ["search_a"] },
      { id: "fetch_b", ms: 200, refs: ["search_b"] },
      { id: "weather", ms: 300, refs: [] },
      { id: "summarize", ms: 300, refs: ["fetch_a", "fetch_b"] },
      { id: "stock", ms: 200, refs: [] },
      { id: "compare", ms: 300, refs: ["weather", "stock"] }
    ]
    const work = ToolPlan.tool(
      Schema.Struct({ ms: Schema.Number, inputs: Schema.Array(Schema.Boolean) }),
      ({ ms }) => Effect.as(Effect.sleep(ms), { done: true })
    )
    const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.map(Effect.timed(self), ([d]) => Duration.toMillis(d)))
        yield* TestClock.adjust(10_000)
        return yield* Fiber.join(fiber)
      })

    it.effect("streaming dispatch ends at max(plan end, critical path) = 1100 ms; whole plan then runPlan 1900; one call per turn 4900", () =>
      Effect.gen(function*() {
        const calls = plan.map((c, i) => [i * 100, { id: c.id, tool: "work", args: { ms: c.ms, inputs: c.refs.map((r) => `$${r}.done`) } }] as const)
        const streamed = Stream.concat(arriving(calls), Stream.drain(Stream.fromEffect(Effect.sleep(100))))
        const streaming = yield* elapsed(ToolPlan.run(streamed, { work }))
        const dag = Plan.make(Object.fromEntries(plan.map((c) => [c.id, { dependencies: c.refs, run: () => Effect.sleep(c.ms) }])))
        const whole = yield* elapsed(Effect.zipRight(Effect.sleep(800), Scheduler.runPlan(dag)))
        const react = Effect.forEach(plan, (c) => Effect.zipRight(Effect.sleep(300), Scheduler.run([Task.make(c.id, Effect.sleep(c.ms))])))
        const oneByOne = yield* elapsed(react)
        expect([streaming, whole, oneByOne]).toEqual([1100, 1900, 4900])
        expect(oneByOne / streaming).toBeGreaterThanOrEqual(1.8)
      }).pipe(withScheduler()))
  })
})
