import { AsyncResource } from "node:async_hooks"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import type * as Runtime from "effect/Runtime"
import type * as EffectScheduler from "effect/Scheduler"

/**
 * An Effect scheduler that enters one async context (`AsyncLocalStorage`)
 * each time a fiber using it resumes: the context in which it was made.
 *
 * Why: fibers resume from Effect's scheduler, whose flush runs in the context
 * of whoever scheduled first, and toolfan's workers are started by whichever
 * task freed a slot. Without this, a task (its promise tool, its
 * `Effect.promise`) would see the `AsyncLocalStorage` store — request id,
 * tenant, trace — of another caller. Fibers forked from such a fiber inherit
 * the scheduler, so they run in the context too. Cost: one `AsyncResource`
 * (~0.1 µs) per context and ~0.02 µs per resumption;
 * `AsyncLocalStorage.snapshot()` or `AsyncResource.bind` measured ~10 µs each.
 * @internal
 */
export class InContext implements EffectScheduler.Scheduler {
  private readonly context = new AsyncResource("toolfan", { requireManualDestroy: true })
  private readonly base: EffectScheduler.Scheduler
  /** Made in the context to keep; it wraps the scheduler of `runtime` (Effect's default one if none was set). */
  constructor(runtime: Runtime.Runtime<unknown>) {
    this.base = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentScheduler)
  }
  scheduleTask(task: EffectScheduler.Task, priority: number, fiber?: Fiber.RuntimeFiber<unknown, unknown>): void {
    const context = this.context
    this.base.scheduleTask(() => context.runInAsyncScope(task), priority, fiber)
  }
  /** Calls `f` in the context. */
  enter(f: () => void): void {
    this.context.runInAsyncScope(f)
  }
  shouldYield(fiber: Fiber.RuntimeFiber<unknown, unknown>): number | false {
    return this.base.shouldYield(fiber)
  }
}
