import { Agent, run } from "@openai/agents"
import { withToolfan } from "@toolfan/openai-agents"
import { Scheduler } from "toolfan/promise"
import { fetchPage, search, weather } from "./openai-agents.js"

// A server answers many users at once. Every run, of every agent, shares one scheduler:
// at most 8 tool calls in flight in the process, at most 2 on the web, whatever the number of runs.
const scheduler = new Scheduler({ maxConcurrency: 8, groups: { web: 2 } })
const web = { group: "web", timeout: 5000, retries: 2 }

const researcher = new Agent({
  name: "researcher",
  tools: withToolfan([search, fetchPage], { scheduler, defaults: web })
})
// the assistant's calls start before the researcher's when both wait for a slot
const assistant = new Agent({
  name: "assistant",
  tools: withToolfan([search, weather], { scheduler, defaults: { ...web, priority: 1 } })
})

export const handle = (questions: ReadonlyArray<string>) =>
  Promise.all(questions.map((q, i) => run(i % 2 === 0 ? researcher : assistant, q)))

// on shutdown: calls still running are aborted, then the scheduler stops
export const shutdown = () => scheduler.close()
