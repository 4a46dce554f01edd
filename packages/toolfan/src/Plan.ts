/**
 * A plan is a set of named tasks with explicit, typed dependencies. Run it
 * with `Scheduler.runPlan`: a task starts the moment all of its dependencies
 * have succeeded — not in level-by-level waves — and receives their values; if
 * one of them fails, the task is not run and reports `TaskSkipped` naming the
 * dependency that did not succeed.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import { pipeArguments, type Pipeable } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import type { Run, RunOptions } from "./internal/run.js"
import * as validate from "./internal/validate.js"
import * as Task from "./Task.js"
import { TaskSkipped } from "./TaskError.js"

/**
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("toolfan/Plan")

/**
 * One task of a plan: its name, the names of its dependencies, and how to make
 * its effect from their values.
 *
 * @since 0.1.0
 * @category models
 */
export interface Node {
  readonly name: string
  readonly dependencies: ReadonlyArray<string>
  /** The task's policies (its `effect` is made from the dependencies' values when they are ready). */
  readonly task: Task.Any
  readonly make: ((values: Readonly<Record<string, unknown>>) => Effect.Effect<unknown, unknown, unknown>) | undefined
  /** A promise task's function of the dependencies' values (the Promise API's plans); `task` is a promise task. @internal */
  readonly call?: ((values: Readonly<Record<string, unknown>>, signal: AbortSignal) => unknown) | undefined
}

/**
 * A plan whose tasks are `T`, keyed by name.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plan<T extends Record<string, Task.Any>> extends Pipeable {
  readonly [TypeId]: { readonly _T: (_: never) => T }
  /** The tasks, in the order they were added; every dependency comes before its dependents. */
  readonly nodes: ReadonlyArray<Node>
}

/**
 * The values of the named dependencies, as a task of the plan receives them.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Values<T extends Record<string, Task.Any>, D extends keyof T> = {
  readonly [K in D]: Task.Success<T[K]>
}

const PlanProto = {
  [TypeId]: { _T: (_: never) => _ },
  pipe() {
    return pipeArguments(this, arguments)
  },
  toJSON(this: Plan<any>) {
    return { _id: "Plan", nodes: this.nodes.map((n) => ({ name: n.name, dependencies: n.dependencies })) }
  }
}

const fromNodes = <T extends Record<string, Task.Any>>(nodes: ReadonlyArray<Node>): Plan<T> => {
  const plan = Object.create(PlanProto)
  plan.nodes = nodes
  return plan
}

/**
 * Whether `u` is a {@link Plan}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPlan = (u: unknown): u is Plan<Record<string, Task.Any>> => Predicate.hasProperty(u, TypeId)

/**
 * A plan with no tasks, to `add` to.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Plan<{}> = fromNodes([])

const checkName = (where: string, nodes: ReadonlyArray<Node>, name: unknown): string => {
  validate.nonEmptyString(where, "name", name)
  if (nodes.some((n) => n.name === name)) {
    validate.invalid(where, "name", "unique within the plan (a task of that name is already in it)", name, "range")
  }
  return name as string
}

/**
 * Adds a task to a plan. Without dependencies it takes an effect; with
 * dependencies it takes their names (tasks added before it) and a function
 * from their values to the effect. Options are a task's (timeout, retries,
 * priority, group, ...). Throws `InvalidOption` for a duplicate name or an
 * unknown dependency.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Plan } from "toolfan"
 *
 * const plan = Plan.empty.pipe(
 *   Plan.add("search", Effect.succeed(["https://example.com/a"])),
 *   Plan.add("weather", Effect.succeed("sunny")),
 *   Plan.add("fetch", ["search"], ({ search }) => Effect.succeed(`page ${search[0]}`), { timeout: "3 seconds" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const add: {
  <T extends Record<string, Task.Any>, const N extends string, A, E = never, R = never>(
    name: N,
    effect: Effect.Effect<A, E, R>,
    options?: Task.Options<E> | undefined
  ): (self: Plan<T>) => Plan<T & { readonly [K in N]: Task.Task<A, E, R> }>
  <T extends Record<string, Task.Any>, const N extends string, const D extends keyof T & string, A, E = never, R = never>(
    name: N,
    dependencies: ReadonlyArray<D>,
    f: (values: Values<T, D>) => Effect.Effect<A, E, R>,
    options?: Task.Options<E> | undefined
  ): (self: Plan<T>) => Plan<T & { readonly [K in N]: Task.Task<A, E, R> }>
  <T extends Record<string, Task.Any>, const N extends string, A, E = never, R = never>(
    self: Plan<T>,
    name: N,
    effect: Effect.Effect<A, E, R>,
    options?: Task.Options<E> | undefined
  ): Plan<T & { readonly [K in N]: Task.Task<A, E, R> }>
  <T extends Record<string, Task.Any>, const N extends string, const D extends keyof T & string, A, E = never, R = never>(
    self: Plan<T>,
    name: N,
    dependencies: ReadonlyArray<D>,
    f: (values: Values<T, D>) => Effect.Effect<A, E, R>,
    options?: Task.Options<E> | undefined
  ): Plan<T & { readonly [K in N]: Task.Task<A, E, R> }>
} = dual(
  (args) => isPlan(args[0]),
  (self: Plan<any>, name: string, second: unknown, third?: unknown, fourth?: unknown): Plan<any> => {
    const where = "Plan.add"
    checkName(where, self.nodes, name)
    if (Effect.isEffect(second)) {
      const task = Task.makeAt(where, name, second, third as Task.Options<unknown> | undefined)
      return fromNodes([...self.nodes, { name, dependencies: [], task, make: undefined }])
    }
    if (!Array.isArray(second)) {
      return validate.invalid(where, "second argument", "an Effect, or an array of dependency names", second, "type")
    }
    const f = validate.func<(values: Record<string, unknown>) => Effect.Effect<unknown, unknown, unknown>>(
      where,
      "f",
      third
    )
    for (const dependency of second) {
      if (!self.nodes.some((n) => n.name === dependency)) {
        validate.invalid(
          where,
          `dependencies of "${name}"`,
          `names of tasks added before it (${self.nodes.map((n) => JSON.stringify(n.name)).join(", ") || "none yet"})`,
          dependency,
          "range"
        )
      }
    }
    const task = Task.makeAt(where, name, Effect.void, fourth as Task.Options<unknown> | undefined)
    return fromNodes([...self.nodes, { name, dependencies: [...new Set(second as Array<string>)], task, make: f }])
  }
)

/**
 * A task of a plan made with {@link make}: its dependencies, a function from
 * their values to its effect, and its options.
 *
 * @since 0.1.0
 * @category models
 */
export interface Spec<A = unknown, E = unknown, R = never> extends Task.Options<E> {
  readonly dependencies?: ReadonlyArray<string> | undefined
  readonly run: (values: Readonly<Record<string, unknown>>) => Effect.Effect<A, E, R>
}

/**
 * Makes a plan from a record of task specs in any order — for plans built at
 * run time, e.g. by a model that plans the tool calls. Dependency values are
 * untyped here (use `add` for typed plans). Throws `InvalidOption` for an
 * unknown dependency or a cycle (naming it: `a → b → a`), before anything runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <S extends Record<string, Spec<any, any, any>>>(
  specs: S
): Plan<{ [K in keyof S]: S[K] extends Spec<infer A, infer E, infer R> ? Task.Task<A, E, R> : never }> =>
  fromRecord("Plan.make", validate.record("Plan.make", "specs", specs), (where, name, entry) => {
    const spec = validate.record(where, name, entry) as unknown as Spec
    validate.func(where, `${name}.run`, spec.run)
    return {
      dependencies: spec.dependencies,
      node: () => {
        const { dependencies: _, run, ...options } = spec
        return { task: Task.makeAt(where, name, Effect.void, options), make: run as Node["make"] }
      }
    }
  })

/**
 * A plan from a record of entries in any order, each read by `read` as its
 * dependencies and how to make its node; checks the dependencies (known, no
 * cycle) before any node is made. `Plan.make` and the Promise API's
 * `runPlan` read their entries with it. @internal
 */
export const fromRecord = (
  where: string,
  record: Record<string, unknown>,
  read: (where: string, name: string, entry: unknown) => {
    readonly dependencies: unknown
    readonly node: () => Pick<Node, "task" | "make" | "call">
  }
): Plan<any> => {
  const names = Object.keys(record)
  const byName = new Map<string, { readonly dependencies: ReadonlyArray<string>; readonly node: () => Pick<Node, "task" | "make" | "call"> }>()
  for (const name of names) {
    const { dependencies = [], node } = read(where, name, record[name])
    if (!Array.isArray(dependencies)) validate.invalid(where, `${name}.dependencies`, "an array of task names", dependencies, "type")
    for (const dependency of dependencies as Array<unknown>) {
      if (typeof dependency !== "string" || !Object.prototype.hasOwnProperty.call(record, dependency)) {
        validate.invalid(where, `${name}.dependencies`, `names of tasks in the plan (${names.map((n) => JSON.stringify(n)).join(", ")})`, dependency, "range")
      }
    }
    byName.set(name, { dependencies: [...new Set(dependencies as Array<string>)], node })
  }
  const order = topologicalOrder(where, names, byName)
  return fromNodes(order.map((name): Node => {
    const { dependencies, node } = byName.get(name)!
    return { name, dependencies, ...node() }
  }))
}

/**
 * The results of a plan, keyed by task name.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Results<T extends Record<string, Task.Any>> = {
  -readonly [K in keyof T]: import("./TaskResult.js").TaskResult<Task.Success<T[K]>, Task.Error<T[K]>>
}

/**
 * Depth-first topological order; a back edge is a cycle, refused naming it.
 * Iterative, with one shared path: plans built by a model may be long chains
 * (recursion would overflow the stack at a few thousand, and copying the path
 * is quadratic).
 */
const topologicalOrder = (
  where: string,
  names: ReadonlyArray<string>,
  byName: ReadonlyMap<string, { readonly dependencies: ReadonlyArray<string> }>
): Array<string> => {
  const order: Array<string> = []
  const state = new Map<string, "visiting" | "done">()
  for (const root of names) {
    if (state.has(root)) continue
    const path: Array<string> = [root]
    const next: Array<number> = [0] // per path entry: the index of its next dependency to visit
    state.set(root, "visiting")
    while (path.length > 0) {
      const name = path[path.length - 1]!
      const dependencies = byName.get(name)!.dependencies
      const i = next[next.length - 1]!
      if (i === dependencies.length) {
        state.set(name, "done")
        order.push(name)
        path.pop()
        next.pop()
        continue
      }
      next[next.length - 1] = i + 1
      const dependency = dependencies[i]!
      const s = state.get(dependency)
      if (s === "done") continue
      if (s === "visiting") {
        const cycle = [...path.slice(path.indexOf(dependency)), dependency].join(" → ")
        validate.invalid(where, "dependencies", "acyclic", `a cycle: ${cycle}`, "range")
      }
      state.set(dependency, "visiting")
      path.push(dependency)
      next.push(0)
    }
  }
  return order
}

/**
 * Sets an own property, even for a name like `"__proto__"` (a plain
 * assignment would set the prototype instead). @internal
 */
export const setOwn = (record: Record<string, unknown>, name: string, value: unknown): void => {
  if (name === "__proto__") Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true })
  else record[name] = value
}

/**
 * How one execution of a plan gates its tasks on a run: a task with
 * dependencies is held until they have all succeeded, then made from their
 * values and released; if one does not succeed, its dependents are skipped
 * (and theirs, transitively), naming it. Made per execution: the same
 * `runPlan` effect may run again, or twice at once. @internal
 */
export const gate = (nodes: ReadonlyArray<Node>): Pick<RunOptions, "onResult"> & {
  /** Whether a task waits for its dependencies (added held, see `Run.release`). */
  readonly held: (index: number) => boolean
  /** The run's tasks; a task without dependencies is made (from no values) at once. */
  readonly tasks: ReadonlyArray<Task.Any>
} => {
  const index = new Map(nodes.map((n, i) => [n.name, i] as const))
  const dependents = nodes.map((): Array<number> => [])
  const dependencies = nodes.map((n, i) =>
    n.dependencies.map((d) => {
      const j = index.get(d)!
      dependents[j]!.push(i)
      return j
    })
  )
  const waiting = nodes.map((n) => n.dependencies.length)
  const taskOf = (i: number, run: Run | undefined): Task.Any => {
    const node = nodes[i]!
    const { call, make } = node
    if (make === undefined && call === undefined) return node.task
    const values: Record<string, unknown> = {}
    for (const j of dependencies[i]!) setOwn(values, nodes[j]!.name, run!.results[j]!.value)
    if (call === undefined) return Task.withEffect(node.task, Effect.suspend(() => make!(values)))
    // a function that declares no signal parameter gets none (one AbortController fewer)
    return Task.withEvaluate(node.task, call.length < 2 ? () => (call as (values: unknown) => unknown)(values) : (signal) => call(values, signal))
  }
  return {
    tasks: nodes.map((n, i) => n.dependencies.length === 0 ? taskOf(i, undefined) : n.task),
    held: (i) => waiting[i]! > 0,
    onResult: (result, i, run) => {
      // a cancelled run settles the rest itself (as interrupted)
      if (run.cancelled !== undefined) return
      for (const d of dependents[i]!) {
        if (!result.ok) run.skip(d, new TaskSkipped({ task: nodes[d]!.name, dependency: nodes[i]!.name }))
        else if (--waiting[d]! === 0) run.release(d, taskOf(d, run))
      }
    }
  }
}
