import { isStepCount, streamText } from "ai"
import { scheduledTools } from "./vercel-ai.js"

// A route handler: each request streams its answer; every request's tool calls share the scheduler's caps.
// The request's signal is the SDK's abortSignal: a client that goes away cancels its queued and running calls.
export const POST = async (request: Request): Promise<Response> => {
  const { prompt } = (await request.json()) as { prompt: string }
  const result = streamText({
    model: "openai/gpt-5-mini",
    tools: scheduledTools,
    stopWhen: isStepCount(5),
    prompt,
    abortSignal: request.signal
  })
  return result.toTextStreamResponse()
}
