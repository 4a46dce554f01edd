/**
 * The simulated provider of the limits section: a token bucket of R = 200
 * requests/s, burst 10. An accepted call answers after 20 ms; a refused one
 * answers 429 after 2 ms, with `retry-after-ms` = the time until a token is
 * available (rounded up to a whole ms), as a real provider would. It counts,
 * per caller, retries that arrive before the wait it gave that caller ("early
 * retries").
 *
 * Called in process (`call`) or, to be shared by several processes, over HTTP
 * on loopback (`serve`): `GET /call?caller=<id>` answers 200 or 429 with
 * `retry-after-ms`; `GET /ping` answers 200 and counts nothing (to open a
 * connection before the clock starts).
 */
import * as http from "node:http"
import type * as net from "node:net"
import { sleepMs } from "../harness.js"

/** Requests per second the provider allows. */
export const R = 200
export const BURST = 10
/** How long an accepted call takes, and a refused one. */
export const LATENCY_MS = 20
export const REFUSED_MS = 2

/** A provider's 429, shaped as the OpenAI and Anthropic SDKs throw it (`status`, `headers`). */
export class RateLimitError extends Error {
  readonly status = 429
  readonly headers: Readonly<Record<string, string>>
  constructor(message: string, headers: Readonly<Record<string, string>>) {
    super(message)
    this.headers = headers
  }
}

/** A token-bucket provider, fresh for each case (its bucket starts full). */
export class Provider {
  private tokens = BURST
  private last = performance.now()
  sent = 0
  refused = 0
  accepted = 0
  early = 0
  /** When (performance.now) each refused request arrived. */
  readonly refusedAt: Array<number> = []
  /** Per caller: the earliest time (performance.now) its retry may come, from the last wait it was given. */
  private readonly earliest = new Map<string | number, number>()

  /** Counts a request arriving now: `undefined` if accepted, else the wait it is given (ms). */
  admit(caller: string | number): number | undefined {
    const now = performance.now()
    this.sent++
    const allowedAt = this.earliest.get(caller)
    if (allowedAt !== undefined && now < allowedAt) this.early++
    this.tokens = Math.min(BURST, this.tokens + ((now - this.last) * R) / 1000)
    this.last = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      this.accepted++
      return undefined
    }
    const wait = Math.ceil(((1 - this.tokens) * 1000) / R)
    this.earliest.set(caller, now + wait)
    this.refused++
    this.refusedAt.push(now)
    return wait
  }

  async call(caller: number): Promise<string> {
    const wait = this.admit(caller)
    if (wait === undefined) {
      await sleepMs(LATENCY_MS)
      return "ok"
    }
    await sleepMs(REFUSED_MS)
    throw new RateLimitError(`429 Too Many Requests; retry after ${wait} ms`, { "retry-after-ms": String(wait) })
  }
}

/** A provider served over HTTP on 127.0.0.1 (an ephemeral port), for callers in other processes. */
export interface Served {
  readonly url: string
  readonly close: () => Promise<void>
}

export const serve = (provider: Provider): Promise<Served> =>
  new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost")
      if (url.pathname !== "/call") return void res.end("pong")
      const wait = provider.admit(url.searchParams.get("caller") ?? "")
      if (wait === undefined) return void setTimeout(() => res.end("ok"), LATENCY_MS)
      setTimeout(() => res.writeHead(429, { "retry-after-ms": String(wait) }).end("rate limited"), REFUSED_MS)
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
