import * as AiError from "@effect/ai/AiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { assert, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { GroupLimit, InvalidOption, Scheduler } from "toolfan"
import { ToolRunner } from "../src/index.js"

class LookupError extends Schema.TaggedError<LookupError>()("LookupError", { reason: Schema.String }) {}

const Search = Tool.make("search", { parameters: { query: Schema.String }, success: Schema.String })
const FetchPage = Tool.make("fetch_page", { parameters: { url: Schema.String }, success: Schema.String })
const Weather = Tool.make("weather", { parameters: { city: Schema.String }, success: Schema.String })
const Calc = Tool.make("calc", { parameters: { a: Schema.Number, b: Schema.Number }, success: Schema.Number })
const Slow = Tool.make("slow", { success: Schema.String })
/** Fails with its own error (failureMode "error": plain @effect/ai fails the turn). */
const Flaky = Tool.make("flaky", { success: Schema.String, failure: LookupError })
/** Fails with its own error, returned as a result (failureMode "return"). */
const Lookup = Tool.make("lookup", { success: Schema.String, failure: LookupError, failureMode: "return" })
const Crash = Tool.make("crash", { success: Schema.String })

const Tools = Toolkit.make(Search, FetchPage, Weather, Calc, Slow, Flaky, Lookup, Crash)

/** Per-test state of the fake tools. */
interface State {
  /** Attempts of `flaky` so far. */
  flakyAttempts: number
  /** How many attempts of `flaky` fail before it answers. */
  flakyFailures: number
  /** Calls in flight and the most seen at once, per tool. */
  active: number
  maxActive: number
}

const newState = (flakyFailures = 0): State => ({ flakyAttempts: 0, flakyFailures, active: 0, maxActive: 0 })

/** A tool that takes 30 ms and counts how many run at once. */
const thirtyMs = <A>(state: State, value: A) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      state.active++
      state.maxActive = Math.max(state.maxActive, state.active)
    }),
    () => Effect.as(Effect.sleep("30 millis"), value),
    () => Effect.sync(() => state.active--)
  )

const handlers = (state: State) =>
  Tools.toLayer({
    search: ({ query }) => thirtyMs(state, `results for ${query}`),
    fetch_page: ({ url }) => thirtyMs(state, `<html>${url}</html>`),
    weather: ({ city }) => thirtyMs(state, `sunny in ${city}`),
    calc: ({ a, b }) => thirtyMs(state, a + b),
    slow: () => Effect.as(Effect.sleep("1 second"), "late"),
    flaky: () =>
      Effect.suspend(() =>
        ++state.flakyAttempts <= state.flakyFailures
          ? Effect.fail(new LookupError({ reason: `attempt ${state.flakyAttempts} failed` }))
          : Effect.succeed(`answered on attempt ${state.flakyAttempts}`)
      ),
    lookup: () => Effect.fail(new LookupError({ reason: "no such entry" })),
    crash: () => Effect.die(new Error("index out of range"))
  })

/** An encoded tool call, as a provider returns it. */
const call = (id: string, name: string, params: unknown): Response.PartEncoded => ({
  type: "tool-call",
  id,
  name,
  params
})

const fourCalls: Array<Response.PartEncoded> = [
  { type: "text", text: "Let me look that up." },
  call("call_1", "search", { query: "agent observability" }),
  call("call_2", "fetch_page", { url: "https://example.com" }),
  call("call_3", "weather", { city: "Lisbon" }),
  call("call_4", "calc", { a: 2, b: 3 })
]

/** A fake model whose every response is `parts`. */
const fakeModel = (parts: ReadonlyArray<Response.PartEncoded>) =>
  Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: () => Effect.succeed([...parts]),
      streamText: () => Stream.empty
    })
  )

/** Runs `self` on the test clock and returns its value and the virtual milliseconds it took. */
const timed = <A, E>(self: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const value = yield* self
      return { value, ms: (yield* Clock.currentTimeMillis) - start }
    }))
    yield* TestClock.adjust("10 seconds")
    return yield* Fiber.join(fiber)
  })

const runner = ToolRunner.make(Tools)

/** Resolves the tool calls among `parts` with `r` on a fresh scheduler. */
const resolveWith = (
  r: ToolRunner.ToolRunner<Toolkit.Tools<typeof Tools>>,
  parts: ReadonlyArray<Response.PartEncoded>,
  state = newState(),
  schedulerOptions: Scheduler.Options = {}
) =>
  timed(r.resolve(parts).pipe(
    Effect.provide(Layer.merge(handlers(state), Scheduler.layer(schedulerOptions))),
    Effect.orDie
  ))

/** The encoded `ToolCallError` of a failed result. */
const errorOf = (part: ToolRunner.ToolResult<any>) => {
  assert.isTrue(part.isFailure)
  assert.isTrue(ToolRunner.isToolCallError(part.result))
  return part.encodedResult as { readonly _tag: string; readonly reason: string; readonly message: string }
}

describe("ToolRunner", () => {
  describe("parallel resolution", () => {
    it.effect("four 30 ms calls of one response take 30 ms through toolfan, 120 ms through plain @effect/ai", () =>
      Effect.gen(function*() {
        const state = newState()
        const services = Layer.mergeAll(fakeModel(fourCalls), handlers(state), Scheduler.layer())

        // plain @effect/ai: generateText resolves the calls one after another
        const plain = yield* timed(
          LanguageModel.generateText({ prompt: "plan a trip", toolkit: Tools }).pipe(Effect.provide(services))
        )
        expect(plain.ms).toBe(120)
        expect(plain.value.toolResults.map((r) => r.result)).toEqual([
          "results for agent observability",
          "<html>https://example.com</html>",
          "sunny in Lisbon",
          5
        ])

        // toolfan, explicit: the response's calls through runner.resolve
        const explicit = yield* timed(Effect.gen(function*() {
          const response = yield* LanguageModel.generateText({
            prompt: "plan a trip",
            toolkit: Tools,
            disableToolCallResolution: true
          })
          return yield* runner.resolve(response.content)
        }).pipe(Effect.provide(services)))
        expect(explicit.ms).toBe(30)
        expect(explicit.value.map((r) => [r.id, r.name, r.isFailure, r.result])).toEqual([
          ["call_1", "search", false, "results for agent observability"],
          ["call_2", "fetch_page", false, "<html>https://example.com</html>"],
          ["call_3", "weather", false, "sunny in Lisbon"],
          ["call_4", "calc", false, 5]
        ])

        // toolfan inside generateText: the runner's toolkit with concurrency "unbounded"
        const inside = yield* timed(Effect.gen(function*() {
          const toolkit = yield* runner.toolkit
          return yield* LanguageModel.generateText({ prompt: "plan a trip", toolkit, concurrency: "unbounded" })
        }).pipe(Effect.provide(services)))
        expect(inside.ms).toBe(30)
        expect(inside.value.toolResults.map((r) => r.result)).toEqual(plain.value.toolResults.map((r) => r.result))
        expect(state.maxActive).toBe(4)
      }))

    it.effect("resolve() - takes decoded and encoded parts alike and skips provider-executed calls", () =>
      Effect.gen(function*() {
        const decoded = Response.makePart("tool-call", {
          id: "d1",
          name: "calc",
          params: { a: 1, b: 1 },
          providerExecuted: false
        })
        const providerRan = { ...call("p1", "search", { query: "x" }), providerExecuted: true }
        const { value } = yield* resolveWith(runner, [decoded as never, providerRan, call("e1", "calc", { a: 2, b: 2 })])
        expect(value.map((r) => [r.id, r.result])).toEqual([["d1", 2], ["e1", 4]])
      }))

    it.effect("resolve() - a response without tool calls gives no results and needs no run", () =>
      Effect.gen(function*() {
        const { ms, value } = yield* resolveWith(runner, [{ type: "text", text: "no tools needed" }])
        expect(value).toEqual([])
        expect(ms).toBe(0)
      }))
  })

  describe("policies", () => {
    it.effect("timeout - a call past its tool's timeout becomes a TimedOut failure result", () =>
      Effect.gen(function*() {
        const r = ToolRunner.make(Tools, { slow: { timeout: "50 millis" } })
        const { ms, value } = yield* resolveWith(r, [call("c1", "slow", {}), call("c2", "search", { query: "q" })])
        expect(ms).toBe(50)
        expect(errorOf(value[0]!)).toEqual({
          _tag: "ToolCallError",
          tool: "slow",
          reason: "TimedOut",
          message: `tool "slow" timed out after 50ms; try again later or go on without this result`
        })
        expect(value[1]!.result).toBe("results for q")
      }))

    it.effect("retries - a tool failing once succeeds on its retry", () =>
      Effect.gen(function*() {
        const state = newState(1)
        const r = ToolRunner.make(Tools, { flaky: { retries: 2, schedule: Schedule.spaced("10 millis") } })
        const { ms, value } = yield* resolveWith(r, [call("c1", "flaky", {})], state)
        expect(value[0]!.isFailure).toBe(false)
        expect(value[0]!.result).toBe("answered on attempt 2")
        expect(state.flakyAttempts).toBe(2)
        expect(ms).toBe(10)
      }))

    it.effect("overloads - the tool's own failure is what says it is overloaded: the retry waits the wait it gives", () =>
      Effect.gen(function*() {
        const state = newState(1)
        const seen: Array<string> = []
        const r = ToolRunner.make(Tools, {
          flaky: {
            retries: 2,
            schedule: Schedule.spaced("10 millis"),
            overloaded: (e) => {
              seen.push(e.reason)
              return { retryAfterMs: 200 }
            }
          }
        })
        const { ms, value } = yield* resolveWith(r, [call("c1", "flaky", {})], state)
        expect(seen).toEqual(["attempt 1 failed"])
        expect(value[0]!.result).toBe("answered on attempt 2")
        // 200 ms, not the 10 ms of its schedule
        expect(ms).toBe(200)
      }))

    it.effect("retries - when they are spent, the tool's own failure goes to the model as the result", () =>
      Effect.gen(function*() {
        const state = newState(5)
        const r = ToolRunner.make(Tools, { flaky: { retries: 1, schedule: Schedule.spaced("10 millis") } })
        const { value } = yield* resolveWith(r, [call("c1", "flaky", {})], state)
        expect(state.flakyAttempts).toBe(2)
        expect(value[0]!.isFailure).toBe(true)
        expect(value[0]!.result).toBeInstanceOf(LookupError)
        expect(value[0]!.encodedResult).toEqual({ _tag: "LookupError", reason: "attempt 2 failed" })
      }))

    it.effect("retryWhile - sees the tool's own failure and can stop retrying", () =>
      Effect.gen(function*() {
        const state = newState(5)
        const seen: Array<string> = []
        const r = ToolRunner.make(Tools, {
          flaky: {
            retries: 3,
            schedule: Schedule.spaced("10 millis"),
            retryWhile: (e) => {
              seen.push(e.reason)
              return false
            }
          }
        })
        yield* resolveWith(r, [call("c1", "flaky", {})], state)
        expect(seen).toEqual(["attempt 1 failed"])
        expect(state.flakyAttempts).toBe(1)
      }))

    it.effect("group - calls of a group respect the scheduler's cap for it; other calls are not held up", () =>
      Effect.gen(function*() {
        const state = newState()
        const r = ToolRunner.make(Tools, { search: { group: "web" }, fetch_page: { group: "web" } })
        const { ms, value } = yield* resolveWith(r, [
          call("c1", "search", { query: "a" }),
          call("c2", "fetch_page", { url: "b" }),
          call("c3", "search", { query: "c" }),
          call("c4", "weather", { city: "Porto" })
        ], state, { groups: { web: 1 } })
        expect(ms).toBe(90)
        expect(state.maxActive).toBe(2)
        expect(value.every((p) => !p.isFailure)).toBe(true)
      }))

    it.effect("priority - a higher priority starts first when the cap is full", () =>
      Effect.gen(function*() {
        const r = ToolRunner.make(Tools, { calc: { priority: 10 } })
        const order: Array<string> = []
        const tracking = Tools.toLayer({
          ...Tools.of({
            search: () => Effect.sync(() => order.push("search")).pipe(Effect.as("s")),
            fetch_page: () => Effect.sync(() => order.push("fetch_page")).pipe(Effect.as("f")),
            weather: () => Effect.sync(() => order.push("weather")).pipe(Effect.as("w")),
            calc: () => Effect.sync(() => order.push("calc")).pipe(Effect.as(0)),
            slow: () => Effect.succeed(""),
            flaky: () => Effect.succeed(""),
            lookup: () => Effect.succeed(""),
            crash: () => Effect.succeed("")
          })
        })
        yield* r.resolve(fourCalls).pipe(Effect.provide(Layer.merge(tracking, Scheduler.layer({ maxConcurrency: 1 }))))
        expect(order[0]).toBe("calc")
      }))

    it("make() - refuses an invalid policy at once, naming the tool and the option", () => {
      expect(() => ToolRunner.make(Tools, { search: { timeout: -5 } })).toThrow(
        /^ToolRunner\.make: policies\.search\.timeout must be .*got -5 \(number\)$/
      )
      expect(() => ToolRunner.make(Tools, { search: { retries: 1.5 } })).toThrow(/policies\.search\.retries/)
      try {
        ToolRunner.make(Tools, { serch: { timeout: "1 second" } } as never)
        expect.unreachable()
      } catch (e) {
        assert.isTrue(InvalidOption.isInvalidOption(e))
        expect((e as Error).message).toBe(
          `ToolRunner.make: policies.serch must be the name of a tool of the toolkit ` +
            `(search, fetch_page, weather, calc, slow, flaky, lookup, crash), got "serch" (string)`
        )
      }
    })
  })

  describe("failures become results", () => {
    it.effect("an unknown tool name becomes that call's failure, listing the tools", () =>
      Effect.gen(function*() {
        const { value } = yield* resolveWith(runner, [call("c1", "serch", { query: "x" })])
        expect(value[0]!.id).toBe("c1")
        expect(value[0]!.name).toBe("serch")
        expect(errorOf(value[0]!)).toEqual({
          _tag: "ToolCallError",
          tool: "serch",
          reason: "UnknownTool",
          message: `unknown tool "serch"; the available tools are: search, fetch_page, weather, calc, slow, flaky, ` +
            `lookup, crash. Call one of them by its exact name`
        })
      }))

    it.effect("parameters that fail the tool's Schema become that call's failure, naming each issue", () =>
      Effect.gen(function*() {
        const state = newState()
        const { value } = yield* resolveWith(runner, [call("c1", "calc", { a: "two" })], state)
        const error = errorOf(value[0]!)
        expect(error.reason).toBe("InvalidParameters")
        expect(error.message).toBe(
          `invalid parameters for tool "calc": a: Expected number, actual "two"; b: is missing. ` +
            `Call it again with parameters that match its schema`
        )
        expect(state.maxActive).toBe(0)
      }))

    it.effect("a failing call changes no other call's result, and the turn does not fail", () =>
      Effect.gen(function*() {
        const parts = [
          call("c1", "search", { query: "q" }),
          call("c2", "flaky", {}),
          call("c3", "lookup", {}),
          call("c4", "crash", {}),
          call("c5", "nope", {}),
          call("c6", "calc", { a: 1, b: 2 })
        ]
        const { ms, value } = yield* resolveWith(runner, parts, newState(1))
        expect(ms).toBe(30)
        expect(value.map((r) => [r.id, r.isFailure])).toEqual([
          ["c1", false],
          ["c2", true],
          ["c3", true],
          ["c4", true],
          ["c5", true],
          ["c6", false]
        ])
        expect(value[1]!.encodedResult).toEqual({ _tag: "LookupError", reason: "attempt 1 failed" })
        expect(value[2]!.encodedResult).toEqual({ _tag: "LookupError", reason: "no such entry" })
        expect(errorOf(value[3]!).message).toBe(
          `tool "crash" crashed: index out of range; do not call it again with the same parameters`
        )
        expect(value[5]!.result).toBe(3)
      }))

    it.effect("toolkit - inside generateText a failing tool (failureMode \"error\") no longer fails the turn", () =>
      Effect.gen(function*() {
        const parts = [call("c1", "flaky", {}), call("c2", "crash", {}), call("c3", "weather", { city: "Faro" })]
        const services = () => Layer.mergeAll(fakeModel(parts), handlers(newState(1)), Scheduler.layer())
        const plain = yield* LanguageModel.generateText({ prompt: "go", toolkit: Tools }).pipe(
          Effect.provide(services()),
          Effect.flip
        )
        expect(plain).toBeInstanceOf(LookupError)
        const { value } = yield* timed(Effect.gen(function*() {
          const toolkit = yield* runner.toolkit
          return yield* LanguageModel.generateText({ prompt: "go", toolkit, concurrency: "unbounded" })
        }).pipe(Effect.provide(services())))
        expect(value.toolResults.map((r) => [r.id, r.isFailure, r.encodedResult])).toEqual([
          ["c1", true, { _tag: "LookupError", reason: "attempt 1 failed" }],
          ["c2", true, {
            _tag: "ToolCallError",
            tool: "crash",
            reason: "Defect",
            message: `tool "crash" crashed: index out of range; do not call it again with the same parameters`
          }],
          ["c3", false, "sunny in Faro"]
        ])
      }))

    it.effect("deadline - calls still running at the step's deadline become Interrupted results", () =>
      Effect.gen(function*() {
        const { ms, value } = yield* timed(
          runner.resolve([call("c1", "slow", {}), call("c2", "search", { query: "q" })], { deadline: "100 millis" })
            .pipe(Effect.provide(Layer.merge(handlers(newState()), Scheduler.layer())))
        )
        expect(ms).toBe(100)
        expect(errorOf(value[0]!).message).toBe(
          `tool "slow" was stopped: the step's deadline passed before it finished`
        )
        expect(value[1]!.isFailure).toBe(false)
      }))
  })

  describe("edge cases", () => {
    /** A sub-agent tool: its own failure is an AiError. */
    const Ask = Tool.make("ask", { success: Schema.String, failure: AiError.AiError })
    /** Parameters whose transform throws on bad input (a JSON string). */
    const JsonText: Schema.Schema<unknown, string> = Schema.transform(Schema.String, Schema.Unknown, {
      strict: true,
      decode: (text) => JSON.parse(text) as unknown,
      encode: (value) => JSON.stringify(value)
    })
    const Parse = Tool.make("parse", { parameters: { data: JsonText }, success: Schema.String })
    const More = Toolkit.make(Ask, Parse, Search)
    const moreHandlers = (asks: { n: number }) =>
      More.toLayer({
        ask: () =>
          Effect.suspend(() =>
            ++asks.n === 1
              ? Effect.fail(new AiError.UnknownError({ module: "Sub", method: "ask", description: "provider overloaded" }))
              : Effect.succeed("answered")
          ),
        parse: ({ data }) => Effect.succeed(JSON.stringify(data)),
        search: ({ query }) => Effect.as(Effect.sleep("30 millis"), `results for ${query}`)
      })

    it.effect("a tool whose own failure is an AiError (a sub-agent) is retried like any failing tool", () =>
      Effect.gen(function*() {
        const asks = { n: 0 }
        const { value } = yield* timed(
          ToolRunner.make(More, { ask: { retries: 1, schedule: Schedule.spaced("10 millis") } })
            .resolve([call("c1", "ask", {})])
            .pipe(Effect.provide(Layer.merge(moreHandlers(asks), Scheduler.layer())))
        )
        expect(asks.n).toBe(2)
        expect(value[0]!.isFailure).toBe(false)
        expect(value[0]!.result).toBe("answered")
      }))

    it.effect("parameters whose Schema transform throws fail that call only; the others run", () =>
      Effect.gen(function*() {
        const { value } = yield* timed(
          ToolRunner.make(More)
            .resolve([call("c1", "parse", { data: "{not json" }), call("c2", "search", { query: "q" })])
            .pipe(Effect.provide(Layer.merge(moreHandlers({ n: 0 }), Scheduler.layer())))
        )
        expect(errorOf(value[0]!).reason).toBe("InvalidParameters")
        expect(errorOf(value[0]!).message).toContain(`invalid parameters for tool "parse"`)
        expect(value[1]!.result).toBe("results for q")
      }))

    it.effect("a policy's schedule gets the tool's own failure as its input", () =>
      Effect.gen(function*() {
        const state = newState(1)
        const r = ToolRunner.make(Tools, {
          // retries only LookupErrors: it must see the LookupError itself
          flaky: { retries: 3, schedule: Schedule.spaced("10 millis").pipe(Schedule.whileInput((e) => e instanceof LookupError)) }
        })
        const { value } = yield* resolveWith(r, [call("c1", "flaky", {})], state)
        expect(state.flakyAttempts).toBe(2)
        expect(value[0]!.result).toBe("answered on attempt 2")
      }))

    it.effect("a call stopped because its group's permit was lost while it ran is not reported as \"did not run\"", () =>
      Effect.gen(function*() {
        // a shared limit that loses the permit 10 ms after granting it
        const losing = GroupLimit.make({
          description: "fake lease",
          local: 1,
          start: Effect.succeed({
            acquire: (revoke) =>
              Effect.as(
                Effect.forkDaemon(Effect.delay(
                  Effect.sync(() => revoke(new GroupLimit.GroupLimitUnavailable({ limit: "fake lease", reason: "lease lost" }))),
                  "10 millis"
                )),
                { release: () => {} }
              )
          })
        })
        const { value } = yield* resolveWith(
          ToolRunner.make(Tools, { search: { group: "shared" } }),
          [call("c1", "search", { query: "q" })],
          newState(),
          { groups: { shared: losing } }
        )
        expect(errorOf(value[0]!).message).toBe(
          `tool "search" could not complete (it has run, and may have had effects): group limit fake lease is unavailable: lease lost`
        )
      }))

    describe("messages", () => {
      class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number; readonly url: string }> {}
      const Down = Tool.make("down", { success: Schema.String })
      /** Fails with an error its failure Schema (LookupError) cannot encode. */
      const Odd = Tool.make("odd", { success: Schema.String, failure: LookupError })
      const Unreadable = Tool.make("unreadable", { success: Schema.String })
      const Kit = Toolkit.make(Down, Odd, Unreadable, Search)
      const kitHandlers = Kit.toLayer({
        down: () => Effect.die(new HttpError({ status: 503, url: "https://api.example.com" })),
        odd: () => Effect.fail(new HttpError({ status: 404, url: "https://api.example.com/x" }) as never),
        // a defect whose every property read throws
        unreadable: () => Effect.die(new Proxy({}, { get: () => { throw new Error("unreadable") } })),
        search: ({ query }) => Effect.succeed(`results for ${query}`)
      })
      const resolveKit = (parts: ReadonlyArray<Response.PartEncoded>) =>
        ToolRunner.make(Kit).resolve(parts).pipe(Effect.provide(Layer.merge(kitHandlers, Scheduler.layer())))

      it.effect("a tool that dies with a tagged error: the Defect message shows its tag and fields, not only its name", () =>
        Effect.gen(function*() {
          const [part] = yield* resolveKit([call("c1", "down", {})])
          expect(errorOf(part!).message).toBe(
            `tool "down" crashed: HttpError { status: 503, url: "https://api.example.com" }; ` +
              `do not call it again with the same parameters`
          )
        }))

      it.effect("a failure the tool's failure Schema cannot encode: the Failed message shows the tagged error's fields", () =>
        Effect.gen(function*() {
          const [part] = yield* resolveKit([call("c1", "odd", {})])
          expect(errorOf(part!).reason).toBe("Failed")
          expect(errorOf(part!).message).toBe(`tool "odd" failed: HttpError { status: 404, url: "https://api.example.com/x" }`)
        }))

      it.effect("a defect that throws when read still becomes that call's Defect result; the other calls' results stand", () =>
        Effect.gen(function*() {
          const parts = yield* resolveKit([call("c1", "unreadable", {}), call("c2", "search", { query: "q" })])
          expect(errorOf(parts[0]!).reason).toBe("Defect")
          expect(errorOf(parts[0]!).message).toContain(`tool "unreadable" crashed: `)
          expect(parts[1]!.result).toBe("results for q")
        }))
    })

    it("resolve() - refuses a bad deadline at once, naming ToolRunner.resolve and the value", () => {
      for (const deadline of [0, -1, "soon"]) {
        let error: unknown
        try {
          runner.resolve([call("c1", "search", { query: "q" })], { deadline: deadline as never })
        } catch (e) {
          error = e
        }
        assert.isTrue(InvalidOption.isInvalidOption(error))
        if (InvalidOption.isInvalidOption(error)) {
          expect(error.where).toBe("ToolRunner.resolve")
          expect(error.option).toBe("deadline")
          expect(error.value).toBe(deadline)
        }
      }
    })
  })

  describe("plans (runPlan)", () => {
    const provide = (state: State) => Effect.provide(Layer.merge(handlers(state), Scheduler.layer()))

    it.effect("runPlan() - substitutes references from the encoded results and returns one part per call, in arrival order", () =>
      Effect.gen(function*() {
        const { value: parts, ms } = yield* timed(runner.runPlan([
          { id: "s", tool: "search", args: { query: "agents" } },
          { id: "p", tool: "fetch_page", args: { url: "$s" } },
          { id: "x", tool: "calc", args: { a: 2, b: 3 } },
          { id: "y", tool: "calc", args: { a: { $ref: "x" }, b: 10 } }
        ]).pipe(provide(newState())))
        expect(parts.map((p) => [p.id, p.name, p.isFailure, p.result])).toEqual([
          ["s", "search", false, "results for agents"],
          ["p", "fetch_page", false, "<html>results for agents</html>"],
          ["x", "calc", false, 5],
          ["y", "calc", false, 15]
        ])
        // two levels of 30 ms calls
        expect(ms).toBe(60)
      }))

    it.effect("runPlan() - streamed calls start as they arrive, before the plan is complete", () =>
      Effect.gen(function*() {
        const state = newState()
        const calls = Stream.fromIterable(["a", "b"]).pipe(
          Stream.mapEffect((id) => Effect.as(Effect.sleep(id === "a" ? 0 : 100), { id, tool: "search", args: { query: id } }))
        )
        const { value: parts, ms } = yield* timed(runner.runPlan(calls).pipe(provide(state)))
        // "a" ran (0–30 ms) while "b" had not arrived yet (100 ms): no overlap, and the plan took 130 ms, not 160
        expect(state.maxActive).toBe(1)
        expect(ms).toBe(130)
        expect(parts.map((p) => p.result)).toEqual(["results for a", "results for b"])
      }))

    it.effect("runPlan() - refusals come back as ToolCallErrors the model can act on, and skip only their dependents", () =>
      Effect.gen(function*() {
        const { value: parts } = yield* timed(runner.runPlan([
          { id: "s", tool: "search", args: { query: "agents" } },
          { id: "bad", tool: "calc", args: { a: "$s", b: 1 } },
          { id: "typo", tool: "serch", args: { query: "x" } },
          { id: "lost", tool: "fetch_page", args: { url: "$nowhere" } },
          { id: "after", tool: "fetch_page", args: { url: "$typo" } }
        ]).pipe(provide(newState())))
        expect(parts[0]!.isFailure).toBe(false)
        expect(errorOf(parts[1]!).reason).toBe("InvalidParameters")
        expect(errorOf(parts[1]!).message).toContain(`call "bad": invalid arguments: a: Expected number, actual "results for agents"`)
        expect(errorOf(parts[2]!).reason).toBe("UnknownTool")
        expect(errorOf(parts[3]!)).toMatchObject({ reason: "InvalidPlan", tool: "fetch_page" })
        expect(errorOf(parts[3]!).message).toContain(`no call with id "nowhere" is in the plan`)
        expect(errorOf(parts[4]!)).toMatchObject({ reason: "Failed" })
        expect(errorOf(parts[4]!).message).toContain(`its dependency "typo" did not succeed`)
      }))
  })
})
