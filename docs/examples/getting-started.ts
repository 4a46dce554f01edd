import { Context, Data, Effect, Layer } from "effect"
import { Scheduler, Task } from "toolfan"

// A tool is a service: an interface, a tag, and layers that implement it.
class SearchError extends Data.TaggedError("SearchError")<{ readonly status: number }> {}

class Search extends Context.Tag("app/Search")<Search, {
  readonly query: (q: string) => Effect.Effect<ReadonlyArray<string>, SearchError>
}>() {}

// The fake used here (and in tests): answers after 200 ms, never touches the network.
// In production, provide a layer that calls your real search backend instead.
const SearchFake = Layer.succeed(Search, {
  query: (q) =>
    q === "" ?
      Effect.fail(new SearchError({ status: 400 })) :
      Effect.succeed([`${q}: result 1`, `${q}: result 2`]).pipe(Effect.delay("200 millis"))
})

const search = (q: string) => Effect.flatMap(Search, (s) => s.query(q))

// One agent step: four tool calls at once instead of one after another.
const step = Effect.gen(function*() {
  const [a, b, c, now] = yield* Scheduler.run([
    Task.make("search:observability", search("agent observability"), { timeout: "5 seconds", retries: 2 }),
    Task.make("search:tracing", search("LLM tracing"), { timeout: "5 seconds", retries: 2 }),
    Task.make("search:empty", search(""), { timeout: "5 seconds" }),
    Task.make("clock", Effect.sync(() => new Date().toISOString()))
  ])
  // Each result is typed by its position: a.value is ReadonlyArray<string>, now.value is string.
  for (const r of [a, b, c]) {
    if (r.ok) console.log(`${r.name}: ${r.value.length} hits in ${r.durationMs} ms`)
    else console.log(`${r.name}: ${r.error.message}`)
  }
  if (now.ok) console.log("step finished at", now.value)
})

// Provide the scheduler and the tools once, at the edge of the program.
const MainLayer = Layer.mergeAll(Scheduler.layer({ maxConcurrency: 8 }), SearchFake)

Effect.runPromise(step.pipe(Effect.provide(MainLayer)))
