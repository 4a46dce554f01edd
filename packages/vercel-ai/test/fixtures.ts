import { tool } from "ai"
import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test"
import { z } from "zod"

// the model spec's types, read from the mock (`@ai-sdk/provider` is not a dependency of ours)
type LanguageModelV4Prompt = Parameters<MockLanguageModelV4["doGenerate"]>[0]["prompt"]
type LanguageModelV4GenerateResult = Awaited<ReturnType<MockLanguageModelV4["doGenerate"]>>
type LanguageModelV4StreamPart = Awaited<ReturnType<MockLanguageModelV4["doStream"]>>["stream"] extends ReadableStream<infer P> ? P
  : never

const usage: LanguageModelV4GenerateResult["usage"] = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 }
}

/**
 * A fake model: its first step calls the tools `calls` names (ids `c0`,
 * `c1`, ...), every later step answers "done". `prompts` records what the
 * model received on each step (the second holds the tool results).
 */
export const modelCalling = (calls: ReadonlyArray<readonly [tool: string, input: unknown]>) => {
  const prompts: Array<LanguageModelV4Prompt> = []
  const model = new MockLanguageModelV4({
    doGenerate: async ({ prompt }) => {
      prompts.push(prompt)
      if (prompts.length === 1) {
        return {
          content: calls.map(([toolName, input], i) => ({
            type: "tool-call" as const,
            toolCallId: `c${i}`,
            toolName,
            input: JSON.stringify(input)
          })),
          finishReason: { unified: "tool-calls", raw: undefined },
          usage,
          warnings: []
        }
      }
      return { content: [{ type: "text", text: "done" }], finishReason: { unified: "stop", raw: undefined }, usage, warnings: [] }
    }
  })
  return { model, prompts }
}

/** The tool results the model received on step `step` (0-based), by call id: a value or an error text. */
export const resultsSeen = (prompts: ReadonlyArray<LanguageModelV4Prompt>, step = 1) => {
  const seen: Record<string, { readonly type: string; readonly value: unknown }> = {}
  for (const message of prompts[step] ?? []) {
    if (message.role !== "tool") continue
    for (const part of message.content) {
      if (part.type === "tool-result") seen[part.toolCallId] = part.output as { type: string; value: unknown }
    }
  }
  return seen
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(signal.reason)
    }, { once: true })
  })

/** Calls in flight, the most seen at once, and the order in which calls started (by input `id`). */
export class Recorder {
  inFlight = 0
  maxInFlight = 0
  readonly started: Array<string> = []
  readonly signals = new Map<string, AbortSignal>()

  /** Runs `body` as one recorded call of the tool. */
  async record<A>(id: string, signal: AbortSignal | undefined, body: () => Promise<A>): Promise<A> {
    this.started.push(id)
    if (signal !== undefined) this.signals.set(id, signal)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      return await body()
    } finally {
      this.inFlight--
    }
  }
}

/** A tool that sleeps `ms` (aborted by its signal) and answers with its input's `id`. */
export const sleeper = (recorder: Recorder, ms: number) =>
  tool({
    description: "sleeps, then answers its id",
    inputSchema: z.object({ id: z.string() }),
    execute: ({ id }, { abortSignal }) => recorder.record(id, abortSignal, () => sleep(ms, abortSignal).then(() => id))
  })

/** A tool that never answers until its signal is aborted. */
export const hanging = (recorder: Recorder) =>
  tool({
    description: "hangs until aborted",
    inputSchema: z.object({ id: z.string() }),
    execute: ({ id }, { abortSignal }) =>
      recorder.record(id, abortSignal, () =>
        new Promise<string>((_, reject) => abortSignal?.addEventListener("abort", () => reject(abortSignal.reason))))
  })

/** {@link modelCalling} for `streamText`: the first step streams the tool calls, later steps the text "done". */
export const streamingModelCalling = (calls: ReadonlyArray<readonly [tool: string, input: unknown]>) => {
  let steps = 0
  const finish = (unified: "tool-calls" | "stop") => ({ type: "finish" as const, finishReason: { unified, raw: undefined }, usage })
  return new MockLanguageModelV4({
    doStream: async () => ({
      stream: convertArrayToReadableStream<LanguageModelV4StreamPart>(
        ++steps === 1
          ? [
            ...calls.map(([toolName, input], i) => ({
              type: "tool-call" as const,
              toolCallId: `c${i}`,
              toolName,
              input: JSON.stringify(input)
            })),
            finish("tool-calls")
          ]
          : [{ type: "text-start", id: "t" }, { type: "text-delta", id: "t", delta: "done" }, { type: "text-end", id: "t" }, finish("stop")]
      )
    })
  })
}
