import * as Effect from "effect/Effect"
import { Task } from "toolfan"

/** Records, on the wall clock, when each task ran and how many ran at once. */
export class Recorder {
  active = 0
  peak = 0
  readonly spans: Array<{ name: string; start: number; end: number }> = []
  task(name: string, ms: number, group = "search") {
    return Task.make(
      name,
      Effect.suspend(() => {
        const start = performance.now()
        this.active++
        this.peak = Math.max(this.peak, this.active)
        return Effect.sleep(ms).pipe(
          Effect.ensuring(Effect.sync(() => {
            this.active--
            this.spans.push({ name, start, end: performance.now() })
          }))
        )
      }),
      { group }
    )
  }
  span(name: string) {
    return this.spans.find((s) => s.name === name)!
  }
}
