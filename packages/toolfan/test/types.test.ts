/**
 * Type-level tests of the public signatures. They run as ordinary tests but
 * their real check is `tsc -p tsconfig.test.json` (part of `npm test`): a
 * wrong signature fails the type-check.
 */
import { describe, expectTypeOf, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import * as Schema from "effect/Schema"
import { Batcher, InvalidOption, Plan, Scheduler, Task, TaskResult, ToolPlan } from "../src/index.js"
import type { GroupLimit, TaskError } from "../src/index.js"
import * as P from "../src/promise.js"

class NotFound extends Data.TaggedError("NotFound")<{}> {}
class Search extends Context.Tag("Search")<Search, { readonly query: (q: string) => Effect.Effect<Array<string>> }>() {}

describe("types", () => {
  it("Task.make infers value, error and requirements", () => {
    const task = Task.make("t", Effect.fail(new NotFound()).pipe(Effect.as(1)))
    expectTypeOf(task).toEqualTypeOf<Task.Task<number, NotFound, never>>()
    const needs = Task.make("s", Effect.flatMap(Search, (s) => s.query("x")))
    expectTypeOf<Task.Context<typeof needs>>().toEqualTypeOf<Search>()
    expectTypeOf(Task.fromPromise("p", async () => "x")).toEqualTypeOf<Task.Task<string, unknown, never>>()
    Task.make("t", Effect.fail(new NotFound()), {
      retryWhile: (e) => {
        expectTypeOf(e).toEqualTypeOf<NotFound>()
        return true
      }
    })
  })

  it("Scheduler.run keeps a tuple's types, never fails and needs the tasks' services", () => {
    const program = Scheduler.run([
      Task.make("n", Effect.succeed(1)),
      Task.make("s", Effect.flatMap(Search, (s) => s.query("x"))),
      Task.make("f", Effect.fail(new NotFound()).pipe(Effect.as(true)))
    ])
    expectTypeOf(program).toEqualTypeOf<
      Effect.Effect<
        [
          TaskResult.TaskResult<number, never>,
          TaskResult.TaskResult<Array<string>, never>,
          TaskResult.TaskResult<boolean, NotFound>
        ],
        never,
        Scheduler.Scheduler | Search
      >
    >()
    const arrays = Scheduler.run(Array.from({ length: 3 }, () => Task.make("n", Effect.succeed(1))))
    expectTypeOf(arrays).toEqualTypeOf<Effect.Effect<Array<TaskResult.TaskResult<number, never>>, never, Scheduler.Scheduler>>()
    expectTypeOf(Scheduler.stream([Task.make("n", Effect.succeed(1))])).toEqualTypeOf<
      Stream.Stream<TaskResult.TaskResult<number, never>, never, Scheduler.Scheduler>
    >()
  })

  it("TaskResult narrows on ok", () => {
    const show = (r: TaskResult.TaskResult<number, NotFound>) => {
      if (r.ok) {
        expectTypeOf(r.value).toEqualTypeOf<number>()
        expectTypeOf(r.error).toEqualTypeOf<undefined>()
      } else {
        expectTypeOf(r.error).toEqualTypeOf<TaskError.TaskError<NotFound>>()
        if (r.error._tag === "TaskFailed") {
          expectTypeOf(r.error.error).toEqualTypeOf<NotFound | GroupLimit.GroupLimitUnavailable>()
        }
      }
    }
    expectTypeOf(show).toBeFunction()
  })

  it("Scheduler.layer and make fail with InvalidOption", () => {
    expectTypeOf(Scheduler.layer()).toEqualTypeOf<
      import("effect/Layer").Layer<Scheduler.Scheduler, InvalidOption.InvalidOption>
    >()
  })

  it("the Promise API types args and results", () => {
    const search = async (query: string, limit: number, _signal?: AbortSignal) => [query, limit] as const
    const task = new P.Task("web", search, { args: ["q", 3] })
    expectTypeOf<P.ArgsOf<typeof search>>().toEqualTypeOf<[query: string, limit: number]>()
    // @ts-expect-error args of the wrong type
    new P.Task("web", search, { args: [3, "q"] })
    // @ts-expect-error args are required when the function takes arguments
    new P.Task("web", search)
    // @ts-expect-error
    new P.Task("web", search, { timeout: 5 })
    const scheduler = new P.Scheduler()
    expectTypeOf(scheduler.run([task, new P.Task("n", (): number => 1)])).toEqualTypeOf<
      Promise<[P.TaskResult<readonly [string, number], unknown>, P.TaskResult<number, unknown>]>
    >()
  })
})

describe("types: Batcher", () => {
  it("infers items, outputs, per-item and batch errors", () => {
    const make = Batcher.make({
      run: (texts: ReadonlyArray<string>) =>
        texts.length > 100
          ? Effect.fail(new NotFound())
          : Effect.succeed(texts.map((t) => (t === "" ? Batcher.failItem("empty" as const) : t.length)))
    })
    type B = Effect.Effect.Success<typeof make>
    expectTypeOf<Parameters<B["submit"]>[0]>().toEqualTypeOf<string>()
    expectTypeOf<Effect.Effect.Success<ReturnType<B["submit"]>>>().toEqualTypeOf<number>()
    expectTypeOf<Effect.Effect.Error<ReturnType<B["submit"]>>>().toEqualTypeOf<NotFound | "empty" | Batcher.BatchError>()
    expectTypeOf<Effect.Effect.Error<typeof make>>().toEqualTypeOf<InvalidOption.InvalidOption>()
    expectTypeOf<Effect.Effect.Error<ReturnType<B["submitAll"]>>>().toEqualTypeOf<never>()
    // @ts-expect-error priority is not a batcher option
    Batcher.make({ run: (xs: ReadonlyArray<number>) => Effect.succeed(xs), priority: 1 })
  })
})

describe("types: Plan", () => {
  it("types dependency values and the keyed results", () => {
    const plan = Plan.empty.pipe(
      Plan.add("search", Effect.succeed(["a"] as Array<string>)),
      Plan.add("count", ["search"], ({ search }) => {
        expectTypeOf(search).toEqualTypeOf<Array<string>>()
        return Effect.fail(new NotFound()).pipe(Effect.as(search.length))
      })
    )
    const program = Scheduler.runPlan(plan)
    expectTypeOf<Effect.Effect.Success<typeof program>["count"]>().toEqualTypeOf<TaskResult.TaskResult<number, NotFound>>()
    expectTypeOf<Effect.Effect.Error<typeof program>>().toEqualTypeOf<never>()
    // (never called: it would throw at run time too)
    // @ts-expect-error a dependency must be a task added before
    const _bad = () => Plan.add(plan, "x", ["nope"], () => Effect.void)
    expectTypeOf(_bad).toBeFunction()
  })

  it("ToolPlan.tool types its arguments from the Schema; ToolPlan.run's results and requirements come from the tools", () => {
    const search = ToolPlan.tool(Schema.Struct({ q: Schema.NumberFromString }), (args) => {
      expectTypeOf(args).toEqualTypeOf<{ readonly q: number }>()
      return Effect.flatMap(Search, (s) => s.query(String(args.q)))
    })
    const fail = ToolPlan.tool(Schema.Unknown, () => Effect.fail(new NotFound()).pipe(Effect.as(1)))
    expectTypeOf(search).toEqualTypeOf<ToolPlan.Tool<Array<string>, never, Search>>()
    const run = ToolPlan.run([], { search, fail })
    expectTypeOf<Effect.Effect.Success<typeof run>>().toEqualTypeOf<
      Array<TaskResult.TaskResult<Array<string> | number, NotFound | ToolPlan.CallRefused>>
    >()
    expectTypeOf<Effect.Effect.Context<typeof run>>().toEqualTypeOf<Scheduler.Scheduler | Search>()
    expectTypeOf<Effect.Effect.Error<typeof run>>().toEqualTypeOf<never>()
  })
})
