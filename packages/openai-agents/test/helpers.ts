import { Agent, type AgentInputItem, type Tool, setTracingDisabled } from "@openai/agents"
import { assistantMessage, functionCall, modelResponder, ScriptedModel } from "@openai/agents/testing"

// offline: no trace export (it would warn about a missing API key)
setTracingDisabled(true)

/** Calls in flight, the most seen at once, and the order of starts and ends. */
export class Tracker {
  active = 0
  maxActive = 0
  readonly events: Array<string> = []
  readonly #waiting: Array<{ n: number; resolve: () => void }> = []
  start(label: string): void {
    this.active++
    this.maxActive = Math.max(this.maxActive, this.active)
    this.events.push(`start ${label}`)
    for (const w of this.#waiting.filter((w) => this.active >= w.n)) w.resolve()
  }
  /**
   * Resolves once `n` calls are in flight at the same time, or after `maxMs`
   * (a barrier: calls meet instead of racing a timer, so the test does not
   * depend on the machine's speed).
   */
  until(n: number, maxMs: number): Promise<void> {
    if (this.active >= n) return Promise.resolve()
    return new Promise((resolve) => {
      const waiter = { n, resolve: () => (clearTimeout(timer), this.#waiting.splice(this.#waiting.indexOf(waiter), 1), resolve()) }
      const timer = setTimeout(waiter.resolve, maxMs)
      this.#waiting.push(waiter)
    })
  }
  end(label: string): void {
    this.active--
    this.events.push(`end ${label}`)
  }
  get starts(): Array<string> {
    return this.events.filter((e) => e.startsWith("start ")).map((e) => e.slice(6))
  }
}

/** Resolves after `ms` (real time: the SDK runs on real timers), or rejects with the signal's reason. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true })
  })

/** One model call's tool calls: `[name, args]`, given call ids `c1`, `c2`, ... */
export type Calls = ReadonlyArray<readonly [name: string, args: Record<string, unknown>]>

/** The text of every tool result the model was given, by call id. */
export const toolOutputs = (input: string | ReadonlyArray<AgentInputItem>): Record<string, string> => {
  const outputs: Record<string, string> = {}
  if (typeof input === "string") return outputs
  for (const item of input) {
    if (item.type !== "function_call_result") continue
    const output = item.output
    outputs[item.callId] = typeof output === "string" ? output : "text" in output ? String(output.text) : JSON.stringify(output)
  }
  return outputs
}

/**
 * A fake model (the SDK's own `ScriptedModel`): its first answer is the tool
 * calls, its second the final text, which lists the tool results it was
 * given (`c1=...; c2=...`) so a test can read what the model saw.
 */
export const fakeModel = (calls: Calls, prefix = "c") =>
  new ScriptedModel([
    calls.map(([name, args], i) => functionCall(name, args, { callId: `${prefix}${i + 1}` })),
    modelResponder((call) => {
      const outputs = toolOutputs(call.request.input)
      return [assistantMessage(Object.entries(outputs).map(([id, text]) => `${id}=${text}`).join("; "))]
    })
  ])

/** An agent on a fake model that makes `calls` with `tools`, then answers. */
export const agentFor = (tools: Array<Tool<any>>, calls: Calls, prefix = "c") => {
  const model = fakeModel(calls, prefix)
  return { model, agent: new Agent({ name: "tester", model, tools }) }
}
