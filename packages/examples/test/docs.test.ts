import { existsSync, readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"

// Every TypeScript block of the documentation is a copy of a file in
// docs/examples/, which `npm test` type-checks (tsc -p docs/tsconfig.json).
// This keeps the copies in step, so no example in the docs goes uncompiled.
const root = fileURLToPath(new URL("../../../", import.meta.url))
const pages = [
  "README.md",
  ...readdirSync(`${root}packages`).filter((dir) => existsSync(`${root}packages/${dir}/README.md`))
    .map((dir) => `packages/${dir}/README.md`),
  ...readdirSync(`${root}docs`).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)
]

describe("docs", () => {
  for (const page of pages) {
    it(`${page} - every TypeScript block is a compiled example`, () => {
      const lines = readFileSync(`${root}${page}`, "utf8").split("\n")
      for (let i = 0; i < lines.length; i++) {
        if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue
        const marker = /^<!-- example: (\S+) -->$/.exec(lines[i - 1] ?? "")
        expect(marker, `${page}:${i + 1}: a ts block needs <!-- example: examples/x.ts --> above it`).not.toBeNull()
        let end = i + 1
        while (lines[end] !== "```") end++
        const body = lines.slice(i + 1, end).join("\n") + "\n"
        expect(body, `${page}:${i + 1} differs from docs/${marker![1]}`).toBe(
          readFileSync(`${root}docs/${marker![1]}`, "utf8")
        )
      }
    })
  }
})
