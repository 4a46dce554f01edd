import { truncate } from "./text.js"

/** Longest rendering of a tagged value or an object in a message (a message or a string is kept whole). */
const MAX_DESCRIPTION = 160
/** Longest rendering of one field of a tagged error in a message. */
const MAX_FIELD = 60
/** Fields of a tagged error shown in a message; more are elided. */
const MAX_FIELDS = 6

/**
 * A short, readable rendering of a thrown or failed value, for messages. It
 * never throws: the value is the user's, and reading it (a getter, a Proxy's
 * trap) runs the user's code.
 *
 * A tagged value (`_tag`) without a message of its own shows its tag and its
 * fields, briefly: `HttpError { status: 503, url: "https://…" }`.
 */
export const describe = (u: unknown): string => {
  try {
    return describeValue(u)
  } catch {
    return "an unreadable value"
  }
}

const describeValue = (u: unknown): string => {
  if (typeof u === "string") return u
  if (typeof u === "function") return `a function (${u.name === "" ? "anonymous" : u.name})`
  if (typeof u !== "object" || u === null) return String(u)
  const tag = read(u, "_tag")
  const message = read(u, "message")
  if (typeof tag === "string") {
    // a Schema.TaggedError without a message field makes one of its fields, "{ status: 503 }": the tag says whose
    if (typeof message === "string" && message !== "" && !message.startsWith("{ ")) return message
    return truncate(tagged(tag, u), MAX_DESCRIPTION)
  }
  if (u instanceof Error) return typeof message === "string" && message !== "" ? message : String(read(u, "name"))
  if (typeof message === "string") return message
  return truncate(String(JSON.stringify(toJSONSafe(u))), MAX_DESCRIPTION)
}

/** Reads a property of the user's value; a throw reads as `undefined`. @internal */
export const read = (u: object, key: string): unknown => {
  try {
    return (u as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

/** `Tag { field: value, … }`, each value in brief. */
const tagged = (tag: string, u: object): string => {
  const keys = Object.keys(u).filter((key) => key !== "_tag" && key !== "message" && key !== "stack")
  if (keys.length === 0) return tag
  const shown = keys.slice(0, MAX_FIELDS).map((key) => `${key}: ${truncate(brief(read(u, key)), MAX_FIELD)}`)
  if (keys.length > MAX_FIELDS) shown.push("…")
  return `${tag} { ${shown.join(", ")} }`
}

/** One field's value, in a few characters. */
const brief = (u: unknown): string => {
  switch (typeof u) {
    case "string":
      return JSON.stringify(u)
    case "bigint":
      return `${u}n`
    case "function":
      return "[Function]"
    case "object": {
      if (u === null) return "null"
      if (Array.isArray(u)) return `[${u.length} item${u.length === 1 ? "" : "s"}]`
      const tag = read(u, "_tag")
      if (typeof tag === "string") return tag
      if (u instanceof Error) return `${String(read(u, "name"))}(${JSON.stringify(String(read(u, "message")))})`
      return "{…}"
    }
    default:
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

// -----------------------------------------------------------------------------
// JSON
// -----------------------------------------------------------------------------

/** Nesting beyond which a value is cut (a deeper one would overflow the stack). */
const MAX_DEPTH = 100

/**
 * The objects being walked, outermost first: shared by nested walks (a
 * `toJSON` that walks its own fields, as the task errors' do), so that a
 * reference back to any of them is seen as circular. The walk is synchronous.
 */
const path: Array<object> = []

/**
 * `u` as a value `JSON.stringify` always serialises, as it would serialise
 * `u` where it can: `toJSON` is called, functions, symbols and `undefined`
 * are left out (`null` in arrays), own enumerable properties are kept. Where
 * `JSON.stringify` would throw or lose the point, instead: a reference back
 * to an enclosing object is `"[Circular]"`, a BigInt its decimal string, a
 * property whose getter (or Proxy trap) throws `"[Unreadable]"`, an `Error`
 * without `toJSON` `{ name, message, …its fields, cause }` (not `{}`), and
 * nesting deeper than 100 `"[Too deep]"`. Never throws.
 */
export const toJSONSafe = (u: unknown): unknown => walk(u, "", true)

/**
 * The own enumerable properties of `u`, each made safe as by
 * {@link toJSONSafe}, with `u` counted as enclosing them: the body of a
 * `toJSON` method. Never throws.
 */
export const fieldsJSON = (u: object): Record<string, unknown> => {
  path.push(u)
  try {
    return fields(u)
  } catch {
    return {}
  } finally {
    path.pop()
  }
}

const walk = (u: unknown, key: string, callToJSON: boolean): unknown => {
  switch (typeof u) {
    case "bigint":
      return String(u)
    case "function":
    case "symbol":
      return undefined
    case "object":
      break
    default:
      return u
  }
  if (u === null) return null
  if (path.includes(u)) return "[Circular]"
  if (path.length >= MAX_DEPTH) return "[Too deep]"
  path.push(u)
  try {
    return walkObject(u, key, callToJSON)
  } catch {
    return "[Unreadable]"
  } finally {
    path.pop()
  }
}

const walkObject = (u: object, key: string, callToJSON: boolean): unknown => {
  const toJSON = callToJSON ? (u as { readonly toJSON?: unknown }).toJSON : undefined
  if (typeof toJSON === "function") {
    let json: unknown
    let threw = false
    try {
      json = toJSON.call(u, key)
    } catch {
      threw = true
    }
    // as JSON.stringify does, the result's own toJSON is not called again
    if (!threw) return json === u ? fields(u) : walk(json, key, false)
  }
  if (Array.isArray(u)) {
    const out = new Array<unknown>(u.length)
    for (let i = 0; i < u.length; i++) out[i] = property(u, String(i)) ?? null
    return out
  }
  if (u instanceof Error) {
    // an Error's name and message are not own enumerable fields: JSON.stringify would give {}
    const out: Record<string, unknown> = { name: property(u, "name"), message: property(u, "message"), ...fields(u) }
    if ("cause" in u && out.cause === undefined) {
      const cause = property(u, "cause")
      if (cause !== undefined) out.cause = cause
    }
    return out
  }
  return fields(u)
}

const fields = (u: object): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(u)) {
    if (u instanceof Error && key === "stack") continue
    const value = property(u, key)
    if (value === undefined) continue
    if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
    else out[key] = value
  }
  return out
}

/** One property, made safe; a getter (or a Proxy trap) that throws gives `"[Unreadable]"`. */
const property = (u: object, key: string): unknown => {
  let value: unknown
  try {
    value = (u as Record<string, unknown>)[key]
  } catch {
    return "[Unreadable]"
  }
  return walk(value, key, true)
}
