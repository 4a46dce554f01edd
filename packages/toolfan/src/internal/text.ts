/**
 * Text helpers shared by the core's messages and `@toolfan/timeline`'s
 * renderers (through `toolfan/shared`).
 */

/** Cuts plain `text` to at most `max` columns, ending with "…" when cut. */
export const truncate = (text: string, max: number): string => {
  const chars = [...text]
  return chars.length <= max ? text : chars.slice(0, Math.max(0, max - 1)).join("") + "…"
}
