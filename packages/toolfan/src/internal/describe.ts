import * as Predicate from "effect/Predicate"

/** A short, readable rendering of a thrown or failed value, for messages. */
export const describe = (u: unknown): string => {
  if (u instanceof Error) return u.message === "" ? u.name : u.message
  if (Predicate.hasProperty(u, "message") && typeof u.message === "string") return u.message
  if (Predicate.hasProperty(u, "_tag") && typeof u._tag === "string") return u._tag
  if (typeof u === "string") return u
  try {
    return String(JSON.stringify(u))
  } catch {
    return String(u)
  }
}

/** How a received value is shown in an option error: `-5 (number)`, `"x" (string)`. */
export const showValue = (u: unknown): string => {
  if (u === null) return "null"
  if (u === undefined) return "undefined"
  if (typeof u === "function") return `a function (${u.name === "" ? "anonymous" : u.name})`
  if (typeof u === "string") return `${JSON.stringify(u)} (string)`
  if (typeof u === "number" || typeof u === "boolean") return `${String(u)} (${typeof u})`
  if (typeof u === "bigint") return `${u}n (bigint)`
  if (typeof u === "symbol") return `${String(u)} (symbol)`
  if (Array.isArray(u)) return `an array of length ${u.length}`
  try {
    const json = JSON.stringify(u)
    return `${json.length > 60 ? json.slice(0, 57) + "..." : json} (object)`
  } catch {
    return "an object"
  }
}
