import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"

// Fault injection in real time, in a child process of its own, so that the
// test also sees whether the process exits by itself afterwards (no timer,
// fiber or pending promise of toolfan's left behind). The fixture imports the
// built package (dist/), which `npm test` builds first.
const fixture = fileURLToPath(new URL("./fixtures/faults.mjs", import.meta.url))

describe("fault injection", () => {
  it("10,000 tasks of every kind: one correct result each, signals aborted, no unhandled rejection, the process exits", async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [fixture], { timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`the process did not exit cleanly: ${error.message}\n${stderr}`))
        else resolve(stdout)
      })
    })
    const report = JSON.parse(output.trim().split("\n").pop()!)
    expect(report).toMatchObject({
      results: 10_000,
      wrongCount: 0,
      unaborted: 0,
      unhandled: 0,
      stats: { active: 0, pending: 0, delayed: 0 }
    })
    expect(report.hung).toBeGreaterThan(0)
  }, 90_000)
})
