/**
 * Helpers shared with toolfan's sibling packages (`@toolfan/ai`,
 * `@toolfan/redis`, `@toolfan/timeline`), so that option checks and value
 * rendering are written once. Not part of the public API: no semver promise.
 *
 * @since 0.2.0
 * @internal
 */
export { describe, showValue } from "./internal/describe.js"
export * as validate from "./internal/validate.js"
