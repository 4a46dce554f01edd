import { LanguageModel, Prompt, Tool, Toolkit } from "@effect/ai"
import { ToolRunner } from "@toolfan/ai"
import { Effect, Option, Schema, Stream } from "effect"
import type { ToolPlan } from "toolfan"

const Tools = Toolkit.make(
  Tool.make("search", { parameters: { query: Schema.String }, success: Schema.Array(Schema.String) }),
  Tool.make("fetch_page", { parameters: { url: Schema.String }, success: Schema.String })
)
const runner = ToolRunner.make(Tools, { search: { timeout: "5 seconds", retries: 2 } })

const system = `Answer with a plan: one JSON call per line, {"id","tool","args"}. ` +
  `An argument may be "$<id>" or "$<id>.<path>" to use another call's result. Write DONE: <answer> when you know.`

/** The calls in a streamed response: one JSON object per line. */
const callsOf = <E, R>(parts: Stream.Stream<{ readonly type: string; readonly delta?: string }, E, R>) =>
  parts.pipe(
    Stream.filterMap((p) => (p.type === "text-delta" && p.delta !== undefined ? Option.some(p.delta) : Option.none())),
    Stream.splitLines,
    Stream.filter((line) => line.trim().startsWith("{")),
    Stream.map((line): ToolPlan.Call => JSON.parse(line))
  )

// The joiner loop: plan (streamed, calls dispatched as they arrive) → results → the model replans or answers.
const agent = (question: string) =>
  Effect.gen(function*() {
    let prompt = Prompt.make([{ role: "system", content: system }, { role: "user", content: question }])
    for (let turn = 0; turn < 3; turn++) {
      const parts = LanguageModel.streamText({ prompt })
      const results = yield* runner.runPlan(callsOf(parts), { deadline: "60 seconds" })
      if (results.length === 0) break // no calls: the model answered
      // every result goes back, refusals included ("call \"page\": args.url references ..."), for the next plan
      prompt = Prompt.merge(prompt, Prompt.fromResponseParts(results))
    }
    return (yield* LanguageModel.generateText({ prompt })).text
  })

export { agent }
