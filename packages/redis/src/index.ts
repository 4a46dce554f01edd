/**
 * @toolfan/redis — toolfan's group limits shared by many processes through Redis.
 *
 * @since 0.1.0
 */

/**
 * Concurrency caps and rate limits kept in Redis.
 *
 * @since 0.1.0
 */
export * as RedisLimit from "./RedisLimit.js"
