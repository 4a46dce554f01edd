#!/usr/bin/env node
/**
 * The packed-install check (`npm run pack-check`, run by `.ci/run`): installs
 * the packages as users get them, from their tarballs, into a fresh project
 * outside the repository, and uses them from three kinds of consumer.
 *
 * 1. `npm pack` every workspace package that is not `private` (new ones are
 *    picked up from the root package.json's `workspaces`), and check each
 *    tarball: LICENSE, README.md with absolute links only (relative ones break
 *    on the npm registry's page), every `exports` target present, no
 *    `file:`/`workspace:` dependency, no tests or build info.
 * 2. In a new directory under os.tmpdir(), `npm install` the tarballs, their
 *    peers — and the peers' own peers — pinned to the versions the repository
 *    tests with (read from its node_modules: effect 3.22.4, @effect/ai 0.37.0,
 *    ...), and @types/node.
 * 3. Three consumers, each importing every public entry point (every key of
 *    every package's `exports` but the `./*` patterns and package.json) and
 *    running a tiny scheduler run: TypeScript with `moduleResolution:
 *    nodenext`, TypeScript with `module: esnext` + `moduleResolution:
 *    bundler` (both type-checked by the repository's own tsc with `strict`,
 *    `exactOptionalPropertyTypes` and `skipLibCheck: false`, then run), and a
 *    plain `.mjs` file run by node.
 *
 * Exits non-zero on the first failure, printing what failed; the temporary
 * project is then kept (its path is printed). `--keep` keeps it on success.
 * Expects the packages built (`npm run pack-check` runs `tsc -b` first).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const keep = process.argv.includes("--keep")
const started = Date.now()
const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"))
const log = (line) => console.log(`pack-check [${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`)

class CheckFailed extends Error {}
const fail = (message) => {
  throw new CheckFailed(message)
}

/** Runs a command; on failure, fails the check with its output. */
const run = (command, args, cwd) => {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 })
  } catch (error) {
    fail(`${command} ${args.join(" ")} (in ${cwd}) failed:\n${error.stdout ?? ""}${error.stderr ?? error.message}`)
  }
}

// ---------------------------------------------------------------------------
// the workspace's packages
// ---------------------------------------------------------------------------

const workspaces = readJson(path.join(root, "package.json")).workspaces.map((dir) => ({
  dir,
  pkg: readJson(path.join(root, dir, "package.json"))
}))
const workspaceNames = new Set(workspaces.map((w) => w.pkg.name))
const published = workspaces.filter((w) => w.pkg.private !== true)
if (published.length === 0) fail("no published (non-private) workspace package found")

/** The public entry points of a package: its `exports` keys, less patterns and package.json. */
const entryPoints = (pkg) =>
  Object.entries(pkg.exports ?? { ".": pkg.main })
    .filter(([key, target]) => target !== null && !key.includes("*") && key !== "./package.json")
    .map(([key]) => (key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`))

/** The files an `exports` target points to (all conditions), relative to the package. */
const exportTargets = (target) =>
  target === null ? [] :
  typeof target === "string" ? (target.includes("*") ? [] : [target.replace(/^\.\//, "")]) :
  Object.values(target).flatMap(exportTargets)

/**
 * The version of `name` the repository tests `dir` with: the copy a package in
 * `dir` would resolve (its own node_modules, then the root's).
 */
const repoVersion = (name, dir) => {
  for (const base of [path.join(root, dir), root]) {
    const file = path.join(base, "node_modules", name, "package.json")
    if (fs.existsSync(file)) return { version: readJson(file).version, dir: path.dirname(file) }
  }
  return undefined
}

/**
 * Every peer the published packages need, with the peers' own required peers,
 * pinned to the repository's versions; workspace packages come as tarballs.
 */
const peersToInstall = () => {
  const pinned = new Map()
  const visit = (peers, meta, dir, from) => {
    for (const name of Object.keys(peers ?? {})) {
      if (workspaceNames.has(name) || pinned.has(name) || meta?.[name]?.optional === true) continue
      const found = repoVersion(name, dir)
      if (found === undefined) fail(`${from} needs the peer ${name}, which the repository does not install`)
      pinned.set(name, found.version)
      const pkg = readJson(path.join(found.dir, "package.json"))
      visit(pkg.peerDependencies, pkg.peerDependenciesMeta, dir, name)
    }
  }
  for (const { dir, pkg } of published) visit(pkg.peerDependencies, pkg.peerDependenciesMeta, dir, pkg.name)
  const typesNode = repoVersion("@types/node", ".")
  if (typesNode !== undefined && !pinned.has("@types/node")) pinned.set("@types/node", typesNode.version)
  // the `ai` SDK's declarations import 'json-schema' without depending on its types: a project that checks them
  // (the bundler consumer, skipLibCheck off) needs them, as a user of @toolfan/vercel-ai doing the same would
  if (pinned.has("ai")) pinned.set("@types/json-schema", "7.0.15")
  return [...pinned].map(([name, version]) => `${name}@${version}`)
}

// ---------------------------------------------------------------------------
// 1. pack, and check the tarballs
// ---------------------------------------------------------------------------

/** Markdown links and images whose target is neither absolute nor an anchor. */
const relativeLinks = (markdown) =>
  [...markdown.matchAll(/\]\(([^)\s]+)[^)]*\)|<(?:img|a)\s[^>]*(?:src|href)="([^"]+)"/g)]
    .map((m) => m[1] ?? m[2])
    .filter((target) => !/^(https?:|mailto:|#)/.test(target))

const checkTarball = (entry, w) => {
  const files = new Set(entry.files.map((f) => f.path))
  const where = `${entry.filename} (${w.dir})`
  for (const required of ["package.json", "LICENSE", "README.md"]) {
    if (!files.has(required)) fail(`${where} lacks ${required}: add it to "files"`)
  }
  for (const [key, target] of Object.entries(w.pkg.exports ?? {})) {
    for (const file of exportTargets(target)) {
      if (!files.has(file)) fail(`${where}: exports["${key}"] points to ${file}, which is not in the tarball`)
    }
  }
  const stray = [...files].filter((f) => /(^|\/)(test|tests|__tests__)\/|\.tsbuildinfo$|\.test\.[jt]s$/.test(f))
  if (stray.length > 0) fail(`${where} contains test or build files: ${stray.join(", ")}`)
  const links = relativeLinks(fs.readFileSync(path.join(root, w.dir, "README.md"), "utf8"))
  if (links.length > 0) {
    fail(`${w.dir}/README.md has relative links, broken on the npm registry's page: ${links.join(", ")}`)
  }
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [name, spec] of Object.entries(w.pkg[field] ?? {})) {
      if (/^(file|link|workspace|portal):/.test(spec)) fail(`${where}: ${field}.${name} is "${spec}"`)
    }
  }
  for (const field of ["license", "repository", "engines"]) {
    if (w.pkg[field] === undefined) fail(`${w.dir}/package.json has no "${field}"`)
  }
}

const pack = (dir) => {
  const out = run("npm", ["pack", "--json", "--pack-destination", dir, ...published.flatMap((w) => ["-w", w.dir])], root)
  const entries = JSON.parse(out.slice(out.indexOf("[")))
  for (const w of published) {
    const entry = entries.find((e) => e.name === w.pkg.name)
    if (entry === undefined) fail(`npm pack produced no tarball for ${w.pkg.name}`)
    checkTarball(entry, w)
  }
  return entries.map((e) => path.join(dir, e.filename))
}

// ---------------------------------------------------------------------------
// 3. the consumers
// ---------------------------------------------------------------------------

/**
 * The body every consumer runs after importing every entry point: a tiny run
 * through each published package. Written so that it is both JavaScript and
 * strict TypeScript (every callback's parameters typed by context).
 */
const smokeBody = `
import { Tool, Toolkit } from "@effect/ai"
import { ToolRunner } from "@toolfan/ai"
import { RedisLimit } from "@toolfan/redis"
import { Timeline } from "@toolfan/timeline"
import { Effect, Layer, Schema } from "effect"
import { InvalidOption, Scheduler, Task } from "toolfan"
import * as Promised from "toolfan/promise"

for (const [name, module] of Object.entries(entries)) {
  check(Object.keys(module).length > 0, name + " exports nothing")
}

// the Effect API, @toolfan/ai and @toolfan/timeline in one run
const tools = Toolkit.make(Tool.make("echo", { parameters: { text: Schema.String }, success: Schema.String }))
const runner = ToolRunner.make(tools, { echo: { timeout: "1 second", group: "tools" } })
const handlers = tools.toLayer({ echo: ({ text }) => Effect.succeed(text.toUpperCase()) })
const step = Effect.gen(function*() {
  const results = yield* Scheduler.run([
    Task.make("answers", Effect.succeed(42)),
    Task.make("fails", Effect.fail("boom")),
    Task.make("hangs", Effect.never, { timeout: "20 millis" })
  ])
  const parts = yield* runner.resolve([{ type: "tool-call", id: "c1", name: "echo", params: { text: "hi" } }])
  return { results, parts }
})
const layer = Layer.merge(handlers, Scheduler.layer({ maxConcurrency: 2, groups: { tools: 1 } }))
const [{ results, parts }, timeline] = await Effect.runPromise(Timeline.capture(step).pipe(Effect.provide(layer)))
const outcomes = results.map((r) => (r.error === undefined ? String(r.value) : r.error._tag)).join()
check(outcomes === "42,TaskFailed,TaskTimedOut", "Scheduler.run gave " + outcomes)
check(parts.length === 1 && !parts[0].isFailure && parts[0].encodedResult === "HI", "ToolRunner.resolve gave " + JSON.stringify(parts))
const text = Timeline.toText(timeline, { width: 60 })
check(["answers", "hangs", "echo#c1"].every((name) => text.includes(name)), "Timeline.toText lacks a task:\\n" + text)
check(/^<!doctype html>/i.test(Timeline.toHtml(timeline)), "Timeline.toHtml is not a page")

// the Promise API: a value, and a timeout that aborts the signal
const scheduler = new Promised.Scheduler({ maxConcurrency: 2 })
const promised = await scheduler.run([
  new Promised.Task("double", double, { args: [21] }),
  new Promised.Task("waits", untilAborted, { timeout: 10 })
])
await scheduler.close()
const promisedOutcomes = promised.map((r) => (r.ok ? String(r.value) : r.error?._tag)).join()
check(promisedOutcomes === "42,TaskTimedOut", "toolfan/promise gave " + promisedOutcomes)

// @toolfan/redis: a limit is made without connecting; a bad option is toolfan's typed error
check(typeof RedisLimit.concurrency({ key: "pack-check", max: 2 }) === "object", "RedisLimit.concurrency")
let invalid = undefined
try {
  RedisLimit.concurrency({ key: "pack-check", max: 0 })
} catch (error) {
  invalid = error
}
check(InvalidOption.isInvalidOption(invalid), "RedisLimit.concurrency({ max: 0 }) threw " + String(invalid))

console.log("ok: " + Object.keys(entries).join(", "))
`

/** The helpers of {@link smokeBody} whose parameters need types in TypeScript. */
const helpersTs = `const check = (ok: boolean, what: string): void => {
  if (!ok) throw new Error("pack-check: " + what)
}
const double = (n: number): number => n * 2
const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))`
const helpersJs = `const check = (ok, what) => {
  if (!ok) throw new Error("pack-check: " + what)
}
const double = (n) => n * 2
const untilAborted = (signal) =>
  new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))`

const smokeSource = (typed) => {
  const entries = published.flatMap((w) => entryPoints(w.pkg))
  const imports = entries.map((entry, i) => `import * as entry${i} from "${entry}"`)
  const table = entries.map((entry, i) => `  "${entry}": entry${i}`)
  const helpers = typed ? helpersTs : helpersJs
  return [
    "// generated by scripts/pack-check.mjs",
    ...imports,
    `const entries${typed ? ": Record<string, object>" : ""} = {\n${table.join(",\n")}\n}`,
    helpers,
    smokeBody
  ].join("\n")
}

/**
 * A consumer's tsconfig, `strict` for both: the nodenext one as a Node project
 * usually is (`skipLibCheck`, no DOM), with `exactOptionalPropertyTypes`; the
 * bundler one checks every declaration file, ours included (with the DOM lib,
 * which @effect/platform's and @effect/rpc's declarations need), without
 * `exactOptionalPropertyTypes`: the `ai` SDK's own declarations do not compile
 * under it (@ai-sdk/provider-utils 5, TS2344), and a project checking them has
 * to leave it off.
 */
const tsconfig = (module, moduleResolution, outDir) => ({
  compilerOptions: {
    target: "ES2022",
    lib: moduleResolution === "bundler" ? ["ES2022", "DOM"] : ["ES2022"],
    module,
    moduleResolution,
    types: ["node"],
    strict: true,
    exactOptionalPropertyTypes: moduleResolution !== "bundler",
    skipLibCheck: moduleResolution !== "bundler",
    outDir,
    rootDir: "src"
  },
  include: ["src/smoke.ts"]
})

const consumers = (project) => {
  fs.mkdirSync(path.join(project, "src"))
  fs.writeFileSync(path.join(project, "src", "smoke.ts"), smokeSource(true))
  fs.writeFileSync(path.join(project, "smoke.mjs"), smokeSource(false))
  fs.writeFileSync(path.join(project, "tsconfig.nodenext.json"), JSON.stringify(tsconfig("nodenext", "nodenext", "out/nodenext"), null, 2))
  fs.writeFileSync(path.join(project, "tsconfig.bundler.json"), JSON.stringify(tsconfig("esnext", "bundler", "out/bundler"), null, 2))
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
  for (const kind of ["nodenext", "bundler"]) {
    run(process.execPath, [tsc, "-p", `tsconfig.${kind}.json`], project)
    log(`TypeScript (moduleResolution ${kind}) type-checks; running it: ${run(process.execPath, [`out/${kind}/smoke.js`], project).trim()}`)
  }
  log(`plain JavaScript (.mjs): ${run(process.execPath, ["smoke.mjs"], project).trim()}`)
}

// ---------------------------------------------------------------------------

const main = () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "toolfan-pack-check-"))
  try {
    const tarballs = pack(tmp)
    log(`packed and checked ${published.map((w) => w.pkg.name).join(", ")}`)
    const project = path.join(tmp, "consumer")
    fs.mkdirSync(project)
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify({ name: "toolfan-pack-check-consumer", version: "0.0.0", private: true, type: "module" }, null, 2)
    )
    const peers = peersToInstall()
    run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--save-exact", ...tarballs, ...peers], project)
    log(`installed the tarballs with ${peers.join(" ")} in ${project}`)
    consumers(project)
    log("passed")
    if (keep) log(`kept ${tmp}`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  } catch (error) {
    console.error(`pack-check FAILED: ${error instanceof CheckFailed ? error.message : error.stack}`)
    console.error(`pack-check: the packed project is kept in ${tmp}`)
    process.exit(1)
  }
}

main()
