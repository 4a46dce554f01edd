/**
 * Helpers shared with toolfan's sibling packages (`@toolfan/ai`,
 * `@toolfan/redis`, `@toolfan/timeline`), so that option checks and value
 * rendering are written once. Not part of the public API: no semver promise.
 * (Not tagged internal on purpose: `stripInternal` would drop these exports
 * from the declarations the siblings compile against.)
 *
 * @since 0.2.0
 */
export { describe, showValue } from "./internal/describe.js"
export { truncate } from "./internal/text.js"
export * as validate from "./internal/validate.js"
