import { assert, describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { Batcher, InvalidOption } from "../src/index.js"

class LlmError extends Data.TaggedError("LlmError")<{ readonly reason: string }> {}

/** A fake batched LLM call that records the shape of every batch. */
const recorder = <A>(label: (text: string) => A = (t) => `label:${t}` as A) => {
  const shapes: Array<number> = []
  const batches: Array<ReadonlyArray<string>> = []
  const run = (items: ReadonlyArray<string>) =>
    Effect.sync(() => {
      shapes.push(items.length)
      batches.push(items)
      return items.map(label)
    })
  return { shapes, batches, run }
}

const texts = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`)

/**
 * The test's clock, wrapped to count the sleeps in progress (an interrupted
 * sleep stops counting): a batcher made with it (`Effect.withClock`) holds a
 * timer exactly while `sleeping()` is above 0.
 */
const countingClock = Effect.map(Effect.clock, (clock) => {
  let sleeping = 0
  const counting: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => clock.unsafeCurrentTimeMillis(),
    currentTimeMillis: clock.currentTimeMillis,
    unsafeCurrentTimeNanos: () => clock.unsafeCurrentTimeNanos(),
    currentTimeNanos: clock.currentTimeNanos,
    sleep: (duration) =>
      Effect.ensuring(
        Effect.suspend(() => {
          sleeping++
          return clock.sleep(duration)
        }),
        Effect.sync(() => sleeping--)
      )
  }
  return { clock: counting, sleeping: () => sleeping }
})

describe("Batcher", () => {
  describe("batch shapes", () => {
    it.scoped("submit() - 50 concurrent callers with maxSize 16 make 4 calls [16, 16, 16, 2]", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 16, maxWait: "20 millis" })
        const fiber = yield* Effect.fork(Effect.forEach(texts(50), batcher.submit, { concurrency: "unbounded" }))
        yield* TestClock.adjust(0)
        // full batches never wait for the window
        expect(shapes).toEqual([16, 16, 16])
        yield* TestClock.adjust(20)
        const labels = yield* Fiber.join(fiber)
        expect(shapes).toEqual([16, 16, 16, 2])
        expect(labels).toEqual(texts(50).map((t) => `label:${t}`))
      }))

    it.scoped("submit() - a partial batch goes maxWait after its first item", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 16, maxWait: 100 })
        const first = yield* Effect.fork(batcher.submit("a"))
        yield* TestClock.adjust(60)
        const second = yield* Effect.fork(batcher.submit("b"))
        yield* TestClock.adjust(39)
        expect(shapes).toEqual([])
        yield* TestClock.adjust(1)
        expect(shapes).toEqual([2])
        expect(yield* Fiber.join(first)).toBe("label:a")
        expect(yield* Fiber.join(second)).toBe("label:b")
        // the next item opens a new window
        const third = yield* Effect.fork(batcher.submit("c"))
        yield* TestClock.adjust(100)
        expect(yield* Fiber.join(third)).toBe("label:c")
        expect(shapes).toEqual([2, 1])
      }))

    it.scoped("submit() - requests of one batched Effect.forEach are sent at once through the resolver", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 16, maxWait: "1 minute" })
        // no clock adjustment: a block does not wait for the window
        const labels = yield* Effect.forEach(texts(20), batcher.submit, { batching: true })
        expect(shapes).toEqual([16, 4])
        expect(labels).toEqual(texts(20).map((t) => `label:${t}`))
      }))

    it.scoped("submit() - a batched block joins the items already waiting in the window", () =>
      Effect.gen(function*() {
        const { batches, run } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 4, maxWait: "1 minute" })
        const early = yield* Effect.fork(batcher.submit("early"))
        yield* TestClock.adjust(0)
        yield* Effect.forEach(["a", "b", "c", "d", "e"], batcher.submit, { batching: true })
        expect(batches).toEqual([["early", "a", "b", "c"], ["d", "e"]])
        expect(yield* Fiber.join(early)).toBe("label:early")
      }))

    it.scoped("submitAll() - one Either per item, in order, sent at once in chunks of maxSize", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 16, maxWait: "1 minute" })
        const outcomes = yield* batcher.submitAll(texts(50))
        expect(shapes).toEqual([16, 16, 16, 2])
        expect(outcomes).toEqual(texts(50).map((t) => Either.right(`label:${t}`)))
        expect(yield* batcher.submitAll([])).toEqual([])
      }))

    it.scoped("submit() - request caching does not turn batching off", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 16 })
        const fiber = yield* Effect.fork(
          Effect.forEach(texts(20), batcher.submit, { concurrency: "unbounded" }).pipe(Effect.withRequestCaching(true))
        )
        yield* TestClock.adjust(20)
        yield* Fiber.join(fiber)
        expect(shapes).toEqual([16, 4])
      }))

    it.live("submit() - independent Effect.runPromise callers coalesce within the window", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 16, maxWait: 30 })
        const labels = yield* Effect.promise(() =>
          Promise.all(["a", "b", "c", "d", "e"].map((t) => Effect.runPromise(batcher.submit(t))))
        )
        expect(labels).toEqual(["label:a", "label:b", "label:c", "label:d", "label:e"])
        expect(shapes).toEqual([5])
      }).pipe(Effect.scoped))
  })

  describe("timers", () => {
    it.scoped("submit() - a batch sent full cancels its window's timer at once: an idle batcher holds no timer", () =>
      Effect.gen(function*() {
        const { clock, sleeping } = yield* countingClock
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 2, maxWait: "30 seconds" }).pipe(Effect.withClock(clock))
        expect(sleeping()).toBe(0)
        const labels = yield* Effect.forEach(["a", "b"], batcher.submit, { concurrency: "unbounded" })
        expect(labels).toEqual(["label:a", "label:b"])
        expect(shapes).toEqual([2])
        yield* Effect.yieldNow()
        expect(sleeping()).toBe(0)
        // a burst of full batches ending in a partial one keeps one timer, for the open window
        const fiber = yield* Effect.fork(Effect.forEach(texts(5), batcher.submit, { concurrency: "unbounded" }))
        yield* TestClock.adjust(0)
        expect(shapes).toEqual([2, 2, 2])
        expect(sleeping()).toBe(1)
        yield* TestClock.adjust("30 seconds")
        yield* Fiber.join(fiber)
        expect(shapes).toEqual([2, 2, 2, 1])
        yield* Effect.yieldNow()
        expect(sleeping()).toBe(0)
      }))

    it.scoped("submitAll() - a block that takes the open window's items cancels the window's timer", () =>
      Effect.gen(function*() {
        const { clock, sleeping } = yield* countingClock
        const { batches, run } = recorder()
        const batcher = yield* Batcher.make({ run, maxSize: 4, maxWait: "30 seconds" }).pipe(Effect.withClock(clock))
        const early = yield* Effect.fork(batcher.submit("early"))
        yield* TestClock.adjust(0)
        expect(sleeping()).toBe(1)
        yield* batcher.submitAll(["a", "b"])
        expect(batches).toEqual([["early", "a", "b"]])
        expect(yield* Fiber.join(early)).toBe("label:early")
        yield* Effect.yieldNow()
        expect(sleeping()).toBe(0)
      }))

    it.scoped("submit() - a window whose callers all left cancels its timer", () =>
      Effect.gen(function*() {
        const { clock, sleeping } = yield* countingClock
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run, maxWait: "30 seconds", key: (t: string) => t }).pipe(Effect.withClock(clock))
        const a = yield* Effect.fork(batcher.submit("a"))
        yield* TestClock.adjust(0)
        expect(sleeping()).toBe(1)
        yield* Fiber.interrupt(a)
        yield* Effect.yieldNow()
        expect(sleeping()).toBe(0)
        expect(shapes).toEqual([])
      }))
  })

  describe("failures", () => {
    it.scoped("when run fails, every item of that batch fails with that error and other batches are unaffected", () =>
      Effect.gen(function*() {
        let call = 0
        const batcher = yield* Batcher.make({
          run: (items: ReadonlyArray<string>) =>
            ++call === 1 ? Effect.fail(new LlmError({ reason: "overloaded" })) : Effect.succeed(items),
          maxSize: 2
        })
        const outcomes = yield* batcher.submitAll(["a", "b", "c", "d"])
        expect(outcomes).toEqual([
          Either.left(new LlmError({ reason: "overloaded" })),
          Either.left(new LlmError({ reason: "overloaded" })),
          Either.right("c"),
          Either.right("d")
        ])
        const error = yield* Effect.flip(
          Batcher.make({ run: () => Effect.fail(new LlmError({ reason: "down" })) }).pipe(
            Effect.flatMap((b) => b.submitAll(["x"])),
            Effect.flatMap(([o]) => o!)
          )
        )
        expect(error).toEqual(new LlmError({ reason: "down" }))
      }))

    it.scoped("when run dies, every item fails with TaskDefect carrying the defect", () =>
      Effect.gen(function*() {
        const boom = new Error("bug in batch function")
        const batcher = yield* Batcher.make({ run: (_: ReadonlyArray<string>) => Effect.die(boom) })
        const fiber = yield* Effect.fork(
          Effect.forEach(["a", "b"], (t) => Effect.flip(batcher.submit(t)), { concurrency: "unbounded" })
        )
        yield* TestClock.adjust(20)
        const errors = yield* Fiber.join(fiber)
        expect(errors.map((e) => e._tag)).toEqual(["TaskDefect", "TaskDefect"])
        assert(errors[0]?._tag === "TaskDefect")
        expect(errors[0].defect).toBe(boom)
      }))

    it.scoped("a batch call ends the same with no policy (called directly) as with one (run on the private scheduler)", () =>
      Effect.gen(function*() {
        const boom = new Error("bug")
        const runs = {
          fails: (_: ReadonlyArray<string>) => Effect.fail(new LlmError({ reason: "quota" })),
          dies: (_: ReadonlyArray<string>) => Effect.die(boom),
          interrupts: (_: ReadonlyArray<string>) => Effect.interrupt,
          throws: (_: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>> => {
            throw boom
          }
        }
        for (const policy of [{}, { timeout: "1 hour" }] as const) {
          const outcomes: Array<unknown> = []
          for (const run of Object.values(runs)) {
            const batcher = yield* Batcher.make({ run, ...policy })
            const [a, b] = yield* batcher.submitAll(["a", "b"])
            expect(b).toEqual(a)
            assert(Either.isLeft(a!))
            const error = a.left as { readonly _tag: string; readonly defect?: unknown; readonly attempts?: number }
            outcomes.push([error._tag, error.defect, error.attempts])
          }
          expect(outcomes).toEqual([
            ["LlmError", undefined, undefined],
            ["TaskDefect", boom, 1],
            ["TaskInterrupted", undefined, 1],
            ["TaskDefect", boom, 1]
          ])
        }
      }))

    it.scoped("a wrong number of outputs fails every item with BatchOutputMismatch (expected, received)", () =>
      Effect.gen(function*() {
        const batcher = yield* Batcher.make({
          run: (items: ReadonlyArray<string>) => Effect.succeed(items.slice(1))
        })
        const outcomes = yield* batcher.submitAll(["a", "b", "c", "d"])
        for (const outcome of outcomes) {
          assert(Either.isLeft(outcome) && outcome.left._tag === "BatchOutputMismatch")
          expect(outcome.left.expected).toBe(4)
          expect(outcome.left.receivedCount).toBe(3)
          expect(outcome.left.message).toBe(
            `batcher "batcher": run returned 3 outputs for 4 items; it must return an array with one output per item, in the same order`
          )
        }
      }))

    it.scoped("a batch function returning a non-array fails every item with BatchOutputMismatch", () =>
      Effect.gen(function*() {
        const batcher = yield* Batcher.make({
          run: (_: ReadonlyArray<string>) => Effect.succeed({ labels: [] } as unknown as ReadonlyArray<string>),
          name: "classify"
        })
        const [outcome] = yield* batcher.submitAll(["a"])
        assert(outcome !== undefined && Either.isLeft(outcome) && outcome.left._tag === "BatchOutputMismatch")
        expect(outcome.left.receivedCount).toBeUndefined()
        expect(outcome.left.message).toContain(`batcher "classify": run returned {"labels":[]} (object) for 1 item;`)
      }))

    it.scoped("failItem() - fails one item without failing the rest", () =>
      Effect.gen(function*() {
        const batcher = yield* Batcher.make({
          run: (items: ReadonlyArray<string>) =>
            Effect.succeed(items.map((t) => (t === "" ? Batcher.failItem("empty" as const) : t.length)))
        })
        const outcomes = yield* batcher.submitAll(["ab", "", "abc"])
        expect(outcomes).toEqual([Either.right(2), Either.left("empty"), Either.right(3)])
      }))

    it.scoped("an Error output is a value, not a failure (only failItem fails an item; the Promise API differs)", () =>
      Effect.gen(function*() {
        const oops = new RangeError("a value that happens to be an Error")
        const batcher = yield* Batcher.make({
          run: (items: ReadonlyArray<string>) => Effect.succeed(items.map((t) => (t === "e" ? oops : t)))
        })
        const outcomes = yield* batcher.submitAll(["a", "e"])
        expect(outcomes).toEqual([Either.right("a"), Either.right(oops)])
      }))

    it.scoped("the batch call has a timeout and retries with the core's policies", () =>
      Effect.gen(function*() {
        let calls = 0
        const batcher = yield* Batcher.make({
          run: (items: ReadonlyArray<string>) => (++calls === 1 ? Effect.never : Effect.succeed(items)),
          timeout: 100,
          retries: 1,
          schedule: Schedule.spaced(10)
        })
        const fiber = yield* Effect.fork(batcher.submit("a"))
        yield* TestClock.adjust(20) // window
        yield* TestClock.adjust(100) // first attempt times out
        yield* TestClock.adjust(10) // backoff
        expect(yield* Fiber.join(fiber)).toBe("a")
        expect(calls).toBe(2)
        const giveUp = yield* Batcher.make({ run: (_: ReadonlyArray<string>) => Effect.never, timeout: 50 })
        const lost = yield* Effect.fork(Effect.flip(giveUp.submit("b")))
        yield* TestClock.adjust(20)
        yield* TestClock.adjust(50)
        expect((yield* Fiber.join(lost))._tag).toBe("TaskTimedOut")
      }))

    it.scoped("maxBatchesInFlight caps the batch calls running at once", () =>
      Effect.gen(function*() {
        let active = 0
        let peak = 0
        const batcher = yield* Batcher.make({
          run: (items: ReadonlyArray<string>) =>
            Effect.suspend(() => {
              peak = Math.max(peak, ++active)
              return Effect.as(Effect.sleep(100), items)
            }).pipe(Effect.ensuring(Effect.sync(() => active--))),
          maxSize: 2,
          maxBatchesInFlight: 2
        })
        const fiber = yield* Effect.fork(batcher.submitAll(texts(10)))
        yield* TestClock.adjust(300)
        expect(Either.all(yield* Fiber.join(fiber))).toEqual(Either.right(texts(10)))
        expect(peak).toBe(2)
      }))
  })

  describe("dedupe", () => {
    it.scoped("key - identical items within a window are sent once and every caller gets the outcome", () =>
      Effect.gen(function*() {
        const { batches, run } = recorder()
        const batcher = yield* Batcher.make({ run, key: (t: string) => t.toLowerCase() })
        const fiber = yield* Effect.fork(
          Effect.forEach(["a", "b", "A", "a"], batcher.submit, { concurrency: "unbounded" })
        )
        yield* TestClock.adjust(20)
        expect(yield* Fiber.join(fiber)).toEqual(["label:a", "label:b", "label:a", "label:a"])
        expect(batches).toEqual([["a", "b"]])
      }))
  })

  describe("key edge cases", () => {
    it.scoped("key - an item whose key is undefined is a key like any other: later windows send it again", () =>
      Effect.gen(function*() {
        const { batches, run } = recorder()
        const batcher = yield* Batcher.make({ run, key: (t: string) => t === "x" || t === "y" ? undefined : t })
        const first = yield* Effect.fork(batcher.submit("x"))
        yield* TestClock.adjust(20)
        expect(yield* Fiber.join(first)).toBe("label:x")
        // a new window: "y" (key undefined too) must be sent, not joined to the answered "x"
        const second = yield* Effect.fork(batcher.submit("y"))
        yield* TestClock.adjust(20)
        expect(yield* Fiber.join(second)).toBe("label:y")
        expect(batches).toEqual([["x"], ["y"]])
      }))

    it.scoped("key - an item with an undefined key dropped by its interrupted caller does not swallow later callers", () =>
      Effect.gen(function*() {
        const { batches, run } = recorder()
        const batcher = yield* Batcher.make({ run, key: (_: string) => undefined })
        const gone = yield* Effect.fork(batcher.submit("a"))
        yield* TestClock.adjust(5)
        yield* Fiber.interrupt(gone)
        yield* TestClock.adjust(50)
        const again = yield* Effect.fork(batcher.submit("b"))
        yield* TestClock.adjust(20)
        expect(yield* Fiber.join(again)).toBe("label:b")
        expect(batches).toEqual([["b"]])
      }))

    it.scoped("key - the key function is called once per item, even when it returns undefined", () =>
      Effect.gen(function*() {
        const { run } = recorder()
        let calls = 0
        const batcher = yield* Batcher.make({
          run,
          key: (t: string) => {
            calls++
            return t === "b" ? undefined : t
          }
        })
        const fiber = yield* Effect.fork(batcher.submitAll(["a", "b", "c"]))
        yield* TestClock.adjust(20)
        yield* Fiber.join(fiber)
        expect(calls).toBe(3)
      }))

    it.scoped("key - a key function that throws in submitAll leaves nothing behind in the window", () =>
      Effect.gen(function*() {
        const { batches, run } = recorder()
        const batcher = yield* Batcher.make({
          run,
          key: (t: string) => {
            if (t === "bad") throw new Error("no key")
            return t
          }
        })
        const exit = yield* Effect.exit(batcher.submitAll(["a", "bad"]))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        yield* TestClock.adjust(100)
        expect(batches).toEqual([]) // "a" was not left in the window
        const later = yield* Effect.fork(batcher.submit("z"))
        yield* TestClock.adjust(20)
        expect(yield* Fiber.join(later)).toBe("label:z")
        expect(batches).toEqual([["z"]])
      }))
  })

  describe("interruption and shutdown", () => {

    it.scoped("an interrupted caller stops waiting and its item is dropped from the batch", () =>
      Effect.gen(function*() {
        const { batches, run } = recorder()
        const batcher = yield* Batcher.make({ run, key: (t: string) => t })
        const a = yield* Effect.fork(batcher.submit("a"))
        const b = yield* Effect.fork(batcher.submit("b"))
        const b2 = yield* Effect.fork(batcher.submit("b"))
        const c = yield* Effect.fork(batcher.submit("c"))
        yield* TestClock.adjust(5)
        yield* Fiber.interrupt(a)
        yield* Fiber.interrupt(b) // "b" still has a caller
        yield* TestClock.adjust(15)
        expect(batches).toEqual([["b", "c"]])
        expect(yield* Fiber.join(b2)).toBe("label:b")
        expect(yield* Fiber.join(c)).toBe("label:c")
      }))

    it.scoped("a window whose callers all left sends nothing", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const batcher = yield* Batcher.make({ run })
        const a = yield* Effect.fork(batcher.submit("a"))
        yield* TestClock.adjust(5)
        yield* Fiber.interrupt(a)
        yield* TestClock.adjust(100)
        expect(shapes).toEqual([])
      }))

    it.effect("closing the scope sends what is pending, then refuses items with BatcherClosed", () =>
      Effect.gen(function*() {
        const { run, shapes } = recorder()
        const scope = yield* Scope.make()
        const batcher = yield* Scope.extend(Batcher.make({ run, maxWait: "1 hour" }), scope)
        const pending = yield* Effect.fork(batcher.submit("a"))
        yield* TestClock.adjust(1)
        yield* Scope.close(scope, Exit.void)
        expect(shapes).toEqual([1])
        expect(yield* Fiber.join(pending)).toBe("label:a")
        const refused = yield* Effect.flip(batcher.submit("late"))
        assert(refused._tag === "BatcherClosed")
        expect(refused.message).toBe(`batcher "batcher" is closed and takes no more items`)
        const [late] = yield* batcher.submitAll(["late"])
        expect(late).toEqual(Either.left(refused))
      }))

    for (const strategy of [ExecutionStrategy.sequential, ExecutionStrategy.parallel]) {
      it.effect(`closing the scope waits for the batches in flight (a scope closing its finalizers ${strategy._tag})`, () =>
        Effect.gen(function*() {
          // a parallel scope would close the batcher's scheduler beside the batcher, cutting the batch in flight
          const scope = yield* Scope.make(strategy)
          const batcher = yield* Scope.extend(
            Batcher.make({ run: (items: ReadonlyArray<string>) => Effect.as(Effect.sleep(100), items) }),
            scope
          )
          const caller = yield* Effect.fork(batcher.submit("a"))
          yield* TestClock.adjust(20)
          const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
          yield* TestClock.adjust(50)
          expect(closing.unsafePoll()).toBeNull()
          yield* TestClock.adjust(50)
          yield* Fiber.join(closing)
          expect(yield* Fiber.join(caller)).toBe("a")
        }))
    }
  })

  describe("bad input", () => {
    it.effect("Batcher.make - refuses bad options with a typed error naming the option and value", () =>
      Effect.gen(function*() {
        const run = (items: ReadonlyArray<string>) => Effect.succeed(items)
        const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
          [{ run, maxSize: 0 }, "Batcher.make: maxSize must be an integer ≥ 1, got 0 (number)"],
          [{ run, maxSize: 2.5 }, "Batcher.make: maxSize must be an integer ≥ 1, got 2.5 (number)"],
          [{ run, maxWait: -1 }, "Batcher.make: maxWait must be a positive duration"],
          [{ run, maxWait: Number.NaN }, "got NaN (number)"],
          // a lone item would wait until the batch fills or the batcher closes
          [{ run, maxWait: Number.POSITIVE_INFINITY }, "Batcher.make: maxWait must be a finite positive duration, got Infinity (number)"],
          [{ run, maxWait: "Infinity" }, "Batcher.make: maxWait must be a positive duration"],
          [{ run, maxBatchesInFlight: 0 }, "Batcher.make: maxBatchesInFlight must be an integer ≥ 1 or Infinity, got 0"],
          [{ run, key: "id" }, `Batcher.make: key must be a function, got "id" (string)`],
          [{ run, timeout: -5 }, "Batcher.make: timeout must be a positive duration"],
          [{ run, retries: -1 }, "Batcher.make: retries must be an integer ≥ 0, got -1 (number)"],
          [{ run: "nope" }, `Batcher.make: run must be a function, got "nope" (string)`],
          [{ run, priority: 1 }, "Batcher.make: options.priority must be one of run, maxSize"]
        ]
        for (const [options, message] of cases) {
          const error = yield* Effect.flip(Effect.scoped(Batcher.make(options as any)))
          expect(InvalidOption.isInvalidOption(error)).toBe(true)
          expect(error.message).toContain(message)
        }
      }))
  })
})
