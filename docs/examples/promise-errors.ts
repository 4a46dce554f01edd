import { Scheduler, Task } from "toolfan/promise"

// Bad options throw at once: RangeError for a bad value, TypeError for a bad type.
try {
  new Scheduler({ maxConcurrency: 0 })
} catch (error) {
  console.log(error instanceof RangeError, (error as Error).message)
  // true Scheduler.make: maxConcurrency must be an integer ≥ 1 or Infinity, got 0 (number)
}

try {
  new Task("t", () => 1, { timeout: -5 })
} catch (error) {
  console.log((error as Error).message)
  // Task: timeout must be a positive duration (milliseconds as a number, or e.g. "5 seconds"), got -5 (number)
}
