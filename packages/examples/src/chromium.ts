/**
 * Headless Chromium, for the docs' picture of a timeline (`docs/timeline.png`)
 * and for the tests that open a timeline's HTML page in a real browser.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const executable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Chromium's executable: `/usr/bin/chromium`, else `chromium` or `chromium-browser` on `PATH`; `undefined` if none. */
export const findChromium = (): string | undefined =>
  [
    "/usr/bin/chromium",
    ...(process.env["PATH"] ?? "").split(path.delimiter).filter((dir) => dir !== "")
      .flatMap((dir) => [path.join(dir, "chromium"), path.join(dir, "chromium-browser")])
  ].find(executable)

/**
 * Runs headless Chromium on `url` with `args` added to its usual flags (no
 * network chatter, no sandbox, a throwaway profile) and returns what it
 * printed. Throws if it fails or takes over a minute.
 */
export const headless = (chromium: string, args: ReadonlyArray<string>, url: string): string => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "toolfan-chromium-"))
  try {
    return execFileSync(chromium, [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      ...args,
      url
    ], { encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] })
  } finally {
    fs.rmSync(profile, { recursive: true, force: true })
  }
}
