/**
 * @toolfan/timeline — a timeline of a toolfan run, from its spans: text, SVG, HTML.
 *
 * @since 0.1.0
 */

/**
 * Timelines of finished runs, from the scheduler's spans: text, SVG, HTML.
 *
 * @since 0.1.0
 */
export * as Timeline from "./Timeline.js"
