/**
 * A real redis-server for the tests, on a free loopback port, with its own
 * data directory; stopped afterwards. Without redis-server on the PATH the
 * tests are skipped — loudly — unless TOOLFAN_REQUIRE_REDIS=1 (set by
 * .ci/run), where its absence fails them.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "@effect/vitest"
import { Redis } from "ioredis"

export const available = spawnSync("redis-server", ["--version"]).status === 0

if (!available) {
  const message = "redis-server is not installed: the @toolfan/redis tests cannot run " +
    "(install it, e.g. `apt-get install redis-server`; .ci/run does)"
  if (process.env["TOOLFAN_REQUIRE_REDIS"] === "1") throw new Error(message)
  console.warn(`\n${"!".repeat(80)}\n!! SKIPPED: ${message}\n${"!".repeat(80)}\n`)
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const connectable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.write("PING\r\n")
      socket.once("data", (d) => {
        socket.destroy()
        resolve(d.toString().startsWith("+PONG"))
      })
    })
    socket.once("error", () => resolve(false))
  })

/** A redis-server that can be stopped (saving its data) and started again on the same port. */
export class RedisServer {
  private process: ChildProcess | undefined = undefined
  readonly dir = mkdtempSync(join(tmpdir(), "toolfan-redis-"))
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort())
    await server.up()
    return server
  }

  /** Starts (again), with the data saved by the last `down`. */
  async up(): Promise<void> {
    const child = spawn("redis-server", [
      "--port", String(this.port),
      "--bind", "127.0.0.1",
      "--dir", this.dir,
      "--save", "3600 1",
      "--appendonly", "no",
      "--daemonize", "no",
      "--loglevel", "warning"
    ], { stdio: "ignore" })
    this.process = child
    for (let i = 0; i < 200; i++) {
      if (await connectable(this.port)) return
      if (child.exitCode !== null) break
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`redis-server did not start on port ${this.port}`)
  }

  /** Stops the server: gracefully (SIGTERM: it saves its data first) or as a crash (SIGKILL). */
  async down(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.process
    if (child === undefined || child.exitCode !== null) return
    this.process = undefined
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.kill(signal)
    })
  }

  async stop(): Promise<void> {
    await this.down("SIGKILL")
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * A redis-server started before the tests of the calling `describe` block and stopped after them, with a client for
 * the tests' own reads and writes (`admin`).
 */
export const redisForTests = (): { readonly server: RedisServer; readonly admin: Redis } => {
  const fixture = {} as { server: RedisServer; admin: Redis }
  beforeAll(async () => {
    fixture.server = await RedisServer.start()
    fixture.admin = new Redis(fixture.server.port, "127.0.0.1")
  })
  afterAll(async () => {
    fixture.admin?.disconnect()
    await fixture.server?.stop()
  })
  return fixture
}
