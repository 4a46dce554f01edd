import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Redis } from "ioredis"
import { available, RedisServer } from "./server.js"

// Several real worker processes sharing one cap through a real redis-server.
// Each task prints when it ran (wall clock); the peak across all processes is
// computed from those spans, so it is measured by the tasks themselves.
const fixture = fileURLToPath(new URL("./fixtures/worker.mjs", import.meta.url))

interface Summary {
  readonly ok: number
  readonly errors: Record<string, number>
}

class Worker {
  readonly spans: Array<readonly [number, number]> = []
  summary: Summary | undefined = undefined
  readonly exited: Promise<number | null>
  private readonly child: ChildProcess
  stderr = ""
  constructor(args: ReadonlyArray<string | number>) {
    this.child = spawn(process.execPath, [fixture, ...args.map(String)], { stdio: ["ignore", "pipe", "pipe"] })
    this.child.stderr!.on("data", (d) => this.stderr += d)
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const o = JSON.parse(line)
      if (o.span !== undefined) this.spans.push(o.span)
      else if (o.done !== undefined) this.summary = o.done
    })
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)))
  }
  get pid(): number {
    return this.child.pid!
  }
  kill(): void {
    this.child.kill("SIGKILL")
  }
}

/** Most spans overlapping at any instant (an end at the same millisecond as a start comes first). */
const peak = (spans: ReadonlyArray<readonly [number, number]>): number => {
  const events = spans.flatMap(([s, e]) => [[s, 1], [e, -1]] as const)
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let active = 0
  let max = 0
  for (const [, d] of events) max = Math.max(max, active += d)
  return max
}

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> => {
  const end = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > end) throw new Error("timed out waiting")
    await new Promise((r) => setTimeout(r, 10))
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!available)("RedisLimit.concurrency across processes", () => {
  let server: RedisServer | undefined
  let workers: Array<Worker> = []
  let admins: Array<Redis> = []
  afterEach(async () => {
    for (const w of workers) w.kill()
    workers = []
    // closed here too, so that a failed test leaves no client reconnecting to a stopped server
    for (const a of admins) a.disconnect()
    admins = []
    await server?.stop()
    server = undefined
  })
  /** A client for the test's own reads, closed after the test. */
  const adminClient = (port: number): Redis => {
    const admin = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 0 })
    admin.on("error", () => {})
    admins.push(admin)
    return admin
  }
  const start = (n: number, key: string, count: number, ms: number, lease: number, mode: "fail" | "wait") =>
    Array.from({ length: n }, () => new Worker([server!.url, key, 8, count, ms, lease, mode]))

  it("4 processes × 200 tasks with a shared cap of 8: the peak across all of them is exactly 8", async () => {
    server = await RedisServer.start()
    workers = start(4, "peak", 200, 20, 5000, "fail")
    const codes = await Promise.all(workers.map((w) => w.exited))
    expect(codes).toEqual([0, 0, 0, 0])
    expect(workers.map((w) => w.summary)).toEqual(Array(4).fill({ ok: 200, errors: {}, pid: expect.any(Number) }))
    const spans = workers.flatMap((w) => w.spans)
    expect(spans.length).toBe(800)
    expect(peak(spans)).toBe(8)
  }, 60_000)

  it("kill -9 of one worker mid-run: the others finish, and its slots come back within the lease time", async () => {
    server = await RedisServer.start()
    const admin = adminClient(server.port)
    const lease = 1000
    // the victim's tasks are long, so once it holds a slot it still holds it when killed (with short tasks it may
    // be between tasks, holding none, at the instant of the kill)
    const victim = new Worker([server.url, "kill", 8, 200, 5000, lease, "fail"])
    const others = start(3, "kill", 200, 30, lease, "fail")
    workers = [victim, ...others]
    const heldByVictim = async () =>
      (await admin.zrange("toolfan:concurrency:{kill}", 0, -1)).filter((id) => id.startsWith(`${victim.pid}-`)).length
    await until(async () => (await heldByVictim()) > 0, 20_000)
    const killedAt = Date.now()
    victim.kill()
    await victim.exited
    const held = await heldByVictim()
    await until(async () => (await heldByVictim()) === 0, 10_000)
    const recoveryMs = Date.now() - killedAt
    console.log(`kill -9 with ${held} slot(s) held: back after ${recoveryMs} ms (lease time ${lease} ms)`)
    expect(held).toBeGreaterThan(0)
    expect(recoveryMs).toBeLessThanOrEqual(lease + 300)
    const codes = await Promise.all(others.map((w) => w.exited))
    expect(codes).toEqual([0, 0, 0])
    expect(others.map((w) => w.summary?.ok)).toEqual([200, 200, 200])
    expect(peak(workers.flatMap((w) => w.spans))).toBeLessThanOrEqual(8)
  }, 60_000)

  it("\"wait\": Redis stopped mid-run and restarted — nothing hangs, the cap holds, every task completes", async () => {
    server = await RedisServer.start()
    workers = start(4, "restart", 100, 30, 3000, "wait")
    await until(() => workers.every((w) => w.spans.length >= 5), 20_000)
    await server.down()
    const during = workers.map((w) => w.spans.length)
    await sleep(1000)
    // nothing new started while Redis was down (tasks running at the stop may finish)
    expect(workers.map((w) => w.spans.length).reduce((a, b) => a + b)).toBeLessThanOrEqual(
      during.reduce((a, b) => a + b) + 8
    )
    await server.up()
    const codes = await Promise.all(workers.map((w) => w.exited))
    expect(codes).toEqual([0, 0, 0, 0])
    expect(workers.map((w) => w.summary?.ok)).toEqual([100, 100, 100, 100])
    expect(peak(workers.flatMap((w) => w.spans))).toBeLessThanOrEqual(8)
  }, 60_000)

  it("\"wait\": Redis killed mid-run and restarted EMPTY (its data lost) — the holders put their leases back, the cap holds", async () => {
    server = await RedisServer.start()
    const admin = adminClient(server.port)
    // long tasks: the first 8 are still running when Redis comes back empty, so the 8 waiting tasks, if given
    // leases at once, would run beside them
    workers = start(4, "lost", 4, 2000, 6000, "wait")
    await until(async () => (await admin.zcard("toolfan:concurrency:{lost}")) === 8, 20_000)
    // every worker connected (2 connections each, + this one) and so has asked once: all have seen the limit's data
    await until(async () => String(await admin.client("LIST")).trim().split("\n").length >= 9, 20_000)
    admin.disconnect()
    await sleep(300)
    await server.down("SIGKILL") // no save: it comes back without the leases
    await sleep(200)
    await server.up()
    const codes = await Promise.all(workers.map((w) => w.exited))
    expect(codes).toEqual([0, 0, 0, 0])
    expect(workers.map((w) => w.summary?.ok)).toEqual([4, 4, 4, 4])
    expect(peak(workers.flatMap((w) => w.spans))).toBeLessThanOrEqual(8)
  }, 60_000)

  it("\"fail\": Redis stopped mid-run — waiting tasks fail with GroupLimitUnavailable, workers exit; after the restart work resumes", async () => {
    server = await RedisServer.start()
    workers = start(2, "fail", 300, 30, 3000, "fail")
    await until(() => workers.every((w) => w.spans.length >= 5), 20_000)
    await server.down()
    const codes = await Promise.all(workers.map((w) => w.exited))
    expect(codes).toEqual([0, 0])
    const unavailable = workers.map((w) => w.summary!.errors["GroupLimitUnavailable"] ?? 0)
    expect(workers.map((w, i) => w.summary!.ok + unavailable[i]!)).toEqual([300, 300])
    expect(unavailable[0]! + unavailable[1]!).toBeGreaterThan(0)
    await server.up()
    const again = new Worker([server.url, "fail", 8, 50, 10, 3000, "fail"])
    workers.push(again)
    expect(await again.exited).toBe(0)
    expect(again.summary?.ok).toBe(50)
    expect(peak(workers.flatMap((w) => w.spans))).toBeLessThanOrEqual(8)
  }, 60_000)
})
