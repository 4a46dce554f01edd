import { afterAll, beforeAll, expect } from "@effect/vitest"

/** Sleeps `ms` of real time; rejects with "aborted" when `signal` aborts (the Promise API's tests' tool). */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(new Error("aborted"))
    })
  })

/** Fails the file if any promise rejection went unhandled while its tests ran; returns them as they come. */
export const noUnhandledRejections = (): ReadonlyArray<unknown> => {
  const unhandled: Array<unknown> = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeAll(() => {
    process.on("unhandledRejection", onUnhandled)
  })
  afterAll(() => {
    process.off("unhandledRejection", onUnhandled)
    expect(unhandled).toEqual([])
  })
  return unhandled
}
