/**
 * References between the calls of a tool plan: where a call's arguments name
 * another call's output, and how they are replaced by it.
 *
 * Two forms, both JSON a model can write:
 * - a string `"$search"` or `"$search.items.0.url"`: `$`, a call id (letters,
 *   digits, `_`, `-`), then a path of `.`-separated keys or array indexes. The
 *   whole string is the reference (no interpolation inside longer text); a
 *   string that starts with `$$` is a literal with one `$` fewer.
 * - an object `{ "$ref": "search", "path": ["items", 0, "url"] }` (`path`
 *   optional, also as `"items.0.url"`), with no other key.
 *
 * The value at the path replaces the reference as it is (not copied).
 */
import { describe } from "./describe.js"

/** One reference in a call's arguments. @internal */
export interface Ref {
  /** The referenced call's id. */
  readonly id: string
  readonly path: ReadonlyArray<string | number>
  /** Where it is in the arguments, for messages: `args.url`, `args.pages[2]`. */
  readonly at: string
  /** As written, for messages: `"$search.items.0.url"`. */
  readonly text: string
}

const stringRef = /^\$([A-Za-z0-9_-]+)((?:\.[^.\s]+)*)$/

const isPlain = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

const pathOf = (u: unknown): ReadonlyArray<string | number> | undefined => {
  if (u === undefined) return []
  if (typeof u === "string") return u === "" ? [] : u.split(".")
  if (Array.isArray(u) && u.every((s) => typeof s === "string" || (typeof s === "number" && Number.isInteger(s)))) return u
  return undefined
}

/** The reference `u` is, `undefined` if it is none, or why it is a malformed one. */
const refOf = (u: unknown, at: string): Ref | undefined | { readonly malformed: string } => {
  if (typeof u === "string") {
    if (!u.startsWith("$") || u.startsWith("$$")) return undefined
    const m = stringRef.exec(u)
    if (m === null) return { malformed: `${at} is "${u}", which is not a reference: write "$<call id>" or "$<call id>.<path>" (or "$$…" for a text that starts with "$")` }
    return { id: m[1]!, path: m[2] === "" ? [] : m[2]!.slice(1).split("."), at, text: u }
  }
  if (!isPlain(u) || !Object.hasOwn(u, "$ref")) return undefined
  const id = u["$ref"]
  const path = pathOf(u["path"])
  const extra = Object.keys(u).filter((k) => k !== "$ref" && k !== "path")
  if (typeof id !== "string" || id === "" || path === undefined || extra.length > 0) {
    return { malformed: `${at} is ${describe(u)}, which is not a reference: write { "$ref": "<call id>", "path": ["key", 0] } (path optional)` }
  }
  return { id, path, at, text: path.length === 0 ? `$${id}` : `$${id}.${path.join(".")}` }
}

/**
 * Every reference in `args` (arrays and plain objects are searched), or the
 * first malformed one's message. @internal
 */
export const find = (args: unknown): Array<Ref> | string => {
  const refs: Array<Ref> = []
  const stack: Array<readonly [unknown, string]> = [[args, "args"]]
  while (stack.length > 0) {
    const [u, at] = stack.pop()!
    const ref = refOf(u, at)
    if (ref !== undefined) {
      if ("malformed" in ref) return ref.malformed
      refs.push(ref)
    } else if (Array.isArray(u)) {
      for (let i = u.length - 1; i >= 0; i--) stack.push([u[i], `${at}[${i}]`])
    } else if (isPlain(u)) {
      for (const key of Object.keys(u).reverse()) stack.push([u[key], `${at}.${key}`])
    }
  }
  return refs
}

/** The value at `path` in `value`, or a message saying where the path stops. */
const at = (value: unknown, ref: Ref): { readonly value: unknown } | string => {
  let current = value
  for (let i = 0; i < ref.path.length; i++) {
    const key = ref.path[i]!
    const there = ref.path.slice(0, i).join(".")
    const where = there === "" ? `the output of "${ref.id}"` : `${there} in the output of "${ref.id}"`
    if (Array.isArray(current)) {
      const index = typeof key === "number" ? key : /^\d+$/.test(key) ? Number(key) : Number.NaN
      if (!(index >= 0 && index < current.length)) {
        return `${where} is an array of ${current.length}, with no entry ${JSON.stringify(key)}`
      }
      current = current[index]
    } else if (typeof current === "object" && current !== null && Object.hasOwn(current, key)) {
      current = (current as Record<string | number, unknown>)[key]
    } else {
      const keys = typeof current === "object" && current !== null ? Object.keys(current) : []
      const has = keys.length > 0 ? ` (its keys: ${keys.slice(0, 10).join(", ")})` : ""
      return `${where} is ${typeof current === "object" ? describe(current) : `a ${typeof current}`}, with no key ${JSON.stringify(key)}${has}`
    }
  }
  return { value: current }
}

/**
 * `args` with each reference replaced by the value it names (`values` by
 * call id, all present), or a message naming the first that does not exist.
 * `$$` literals lose their first `$`. @internal
 */
export const substitute = (args: unknown, values: ReadonlyMap<string, unknown>): { readonly value: unknown } | string => {
  const state: { missing: string | undefined } = { missing: undefined }
  const walk = (u: unknown, path: string): unknown => {
    if (state.missing !== undefined) return u
    const ref = refOf(u, path)
    if (ref !== undefined && !("malformed" in ref)) {
      const found = at(values.get(ref.id), ref)
      if (typeof found === "string") state.missing = `${ref.at} references "${ref.text}", but ${found}`
      return typeof found === "string" ? u : found.value
    }
    if (typeof u === "string") return u.startsWith("$$") ? u.slice(1) : u
    if (Array.isArray(u)) return u.map((v, i) => walk(v, `${path}[${i}]`))
    if (!isPlain(u)) return u
    const copy: Record<string, unknown> = {}
    for (const key of Object.keys(u)) Object.defineProperty(copy, key, { value: walk(u[key], `${path}.${key}`), enumerable: true, writable: true, configurable: true })
    return copy
  }
  const value = walk(args, "args")
  return state.missing !== undefined ? state.missing : { value }
}
