import { Effect, Option, Schema, Stream } from "effect"
import { Scheduler, ToolPlan } from "toolfan"

const tools = {
  search: ToolPlan.tool(
    Schema.Struct({ query: Schema.String }),
    ({ query }) => Effect.as(Effect.sleep("300 millis"), { items: [{ url: `https://example.com/${query}` }] })
  ),
  fetch_page: ToolPlan.tool(Schema.Struct({ url: Schema.String }), ({ url }) => Effect.as(Effect.sleep("200 millis"), `<html>${url}</html>`))
}

// What a model streams: one JSON call per line, in chunks, over time (a fake here).
const chunks = [
  `{"id":"a","tool":"search","args":{"query":"fl`,
  `ights"}}\n{"id":"b","tool":"search","args":{"query":"hotels"}}\n`,
  `{"id":"pa","tool":"fetch_page","args":{"url":"$a.items.0.url"}}\n`,
  `{"id":"pb","tool":"fetch_page","args":{"url":{"$ref":"b","path":["items",0,"url"]}}}\n`
]
const modelOutput = Stream.fromIterable(chunks).pipe(Stream.tap(() => Effect.sleep("100 millis")))

// Lines → calls; a line that is not JSON is passed on as it is, and refused as that call (MalformedCall).
const calls = modelOutput.pipe(
  Stream.splitLines,
  Stream.filterMap((line) => (line.trim() === "" ? Option.none() : Option.some(line))),
  Stream.map((line): ToolPlan.Call => {
    try {
      return JSON.parse(line)
    } catch {
      return line as never
    }
  })
)

// "a" starts at ~100 ms, while the model is still writing "b", "pa" and "pb".
const program = Effect.map(ToolPlan.run(calls, tools, { deadline: "30 seconds" }), (results) =>
  results.map((r) => `${r.name}: ${r.ok ? "ok" : r.error._tag} after ${r.durationMs} ms`))

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer()))).then(console.log)
