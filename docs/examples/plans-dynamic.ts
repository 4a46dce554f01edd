import { Effect } from "effect"
import { Plan, Scheduler } from "toolfan"

// A plan that a model wrote at run time (e.g. as JSON): steps and their dependencies.
const steps = [
  { id: "flights", tool: "search", dependsOn: [] },
  { id: "hotels", tool: "search", dependsOn: [] },
  { id: "budget", tool: "sum", dependsOn: ["flights", "hotels"] }
]

const callTool = (tool: string, inputs: Readonly<Record<string, unknown>>) =>
  Effect.succeed(`${tool}(${Object.keys(inputs).join(", ")})`)

// Unknown dependencies and cycles are refused here, before anything runs.
const plan = Plan.make(
  Object.fromEntries(
    steps.map((s) => [s.id, { dependencies: s.dependsOn, run: (inputs) => callTool(s.tool, inputs), timeout: 5000 }])
  ) as Record<string, Plan.Spec<string>>
)

const program = Effect.map(Scheduler.runPlan(plan), (results) => results["budget"]?.value)

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer()))).then(console.log)
