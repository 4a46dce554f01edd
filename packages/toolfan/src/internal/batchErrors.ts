import * as Data from "effect/Data"
import * as Predicate from "effect/Predicate"
import { showValue } from "./describe.js"

/**
 * The batch function broke its contract: it must return an array with one
 * output per item, in the items' order.
 */
export class BatchOutputMismatch extends Data.TaggedError("BatchOutputMismatch")<{
  readonly batcher: string
  /** The number of items in the batch. */
  readonly expected: number
  /** What `run` returned instead. */
  readonly received: unknown
}> {
  /** How many outputs `run` returned (`undefined` when it did not return an array). */
  get receivedCount(): number | undefined {
    return Array.isArray(this.received) ? this.received.length : undefined
  }
  override get message(): string {
    const got = Array.isArray(this.received) ? `${this.received.length} outputs` : showValue(this.received)
    return `batcher "${this.batcher}": run returned ${got} for ${this.expected} item${this.expected === 1 ? "" : "s"}; ` +
      `it must return an array with one output per item, in the same order`
  }
}

/** `run`'s contract, checked at run time: an array with one output per item. */
export const checkOutputs = (
  name: string,
  outputs: unknown,
  expected: number
): ReadonlyArray<unknown> | BatchOutputMismatch => {
  if (!Array.isArray(outputs)) return new BatchOutputMismatch({ batcher: name, expected, received: outputs })
  if (outputs.length !== expected) return new BatchOutputMismatch({ batcher: name, expected, received: outputs })
  return outputs
}

/** The batcher was closed: it sends what was pending and refuses new items. */
export class BatcherClosed extends Data.TaggedError("BatcherClosed")<{
  readonly batcher: string
}> {
  override get message(): string {
    return `batcher "${this.batcher}" is closed and takes no more items`
  }
}

const ItemFailureTypeId: unique symbol = Symbol.for("toolfan/Batcher/ItemFailure")

/** A per-item failure, returned by `run` in place of that item's output. */
export interface ItemFailure<E> {
  readonly [ItemFailureTypeId]: typeof ItemFailureTypeId
  readonly error: E
}

export const itemFailure = <E>(error: E): ItemFailure<E> => ({ [ItemFailureTypeId]: ItemFailureTypeId, error })

export const isItemFailure = (u: unknown): u is ItemFailure<unknown> => Predicate.hasProperty(u, ItemFailureTypeId)
