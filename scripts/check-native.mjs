#!/usr/bin/env node
/**
 * Loads every package in node_modules that ships a native addon (`*.node`)
 * with the running Node, and exits non-zero, naming them, if one does not
 * load. `.ci/run` runs it under each Node version it tests with, and runs
 * `npm rebuild` when it fails: an addon built for one Node ABI does not load
 * in another. Today's are N-API builds (@rollup/rollup-<platform>, and
 * msgpackr-extract under @effect/platform, which falls back to its N-API
 * build), so they load in every Node; this check says so when it changes.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(path.join(root, "package.json"))

/** Directories of node_modules that hold a `.node` file, as their package roots. */
const packagesWithAddons = (dir, found = new Set()) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory() && entry.name !== ".bin") packagesWithAddons(full, found)
    else if (entry.isFile() && entry.name.endsWith(".node")) {
      let pkg = path.dirname(full)
      while (!fs.existsSync(path.join(pkg, "package.json")) && pkg !== root) pkg = path.dirname(pkg)
      found.add(pkg)
    }
  }
  return found
}

const failed = []
for (const pkg of packagesWithAddons(path.join(root, "node_modules"))) {
  try {
    require(pkg)
  } catch (error) {
    failed.push(`${path.relative(root, pkg)}: ${error.message.split("\n")[0]}`)
  }
}
if (failed.length > 0) {
  console.error(`check-native: native addons that do not load in Node ${process.version}:\n  ${failed.join("\n  ")}`)
  process.exit(1)
}
console.log(`check-native: every native addon in node_modules loads in Node ${process.version}`)
