import { LanguageModel } from "@effect/ai"
import { Effect } from "effect"
import { runner } from "./agents.js"

// Keep calling generateText: the runner's toolkit runs each call through the Scheduler.
// Pass concurrency "unbounded" (generateText resolves calls one by one otherwise);
// the Scheduler's caps still hold.
export const answer = (question: string) =>
  Effect.gen(function*() {
    const toolkit = yield* runner.toolkit
    const response = yield* LanguageModel.generateText({ prompt: question, toolkit, concurrency: "unbounded" })
    return response.toolResults
  })
