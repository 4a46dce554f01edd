import { Effect, Schema } from "effect"
import { Scheduler, ToolPlan } from "toolfan"

// The tools a plan may call: parameters Schema, effect, policies.
const tools = {
  search: ToolPlan.tool(
    Schema.Struct({ query: Schema.String }),
    ({ query }) => Effect.as(Effect.sleep("200 millis"), { items: [{ url: `https://example.com/${query}` }] }),
    { timeout: "5 seconds", retries: 2 }
  ),
  fetch_page: ToolPlan.tool(
    Schema.Struct({ url: Schema.String }),
    ({ url }) => Effect.as(Effect.sleep("150 millis"), `<html>${url}</html>`),
    { timeout: "3 seconds" }
  ),
  weather: ToolPlan.tool(Schema.Struct({ city: Schema.String }), ({ city }) => Effect.succeed(`${city}: sunny`))
}

// A plan as a model writes it: "page" references the output of "search".
const calls = [
  { id: "search", tool: "search", args: { query: "lisbon-ai-meetup" } },
  { id: "page", tool: "fetch_page", args: { url: "$search.items.0.url" } },
  { id: "weather", tool: "weather", args: { city: "Lisbon" } }
]

const program = Effect.gen(function*() {
  const results = yield* ToolPlan.run(calls, tools, { deadline: "10 seconds" })
  for (const r of results) console.log(r.name.padEnd(8), r.ok ? r.value : r.error.message)
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 4 }))))
