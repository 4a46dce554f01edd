/**
 * Queues for the scheduler's hot path.
 *
 * # Why intrusive lists, a map and a heap of levels
 *
 * Memory must be bounded by what is live (docs/reliability.md): a task
 * that gives up while queued (its run's deadline, an interruption) must leave
 * its queue at once, not when it reaches the front — behind one stuck task
 * that may be never. So every queue here is a doubly linked list threaded
 * through the queued objects themselves (`prev`, `next`, and `list`, the list
 * holding it): pushing, taking the first and removing one from the middle are
 * each O(1) and allocate nothing. The scheduler's tickets and the timer's
 * entries carry the three fields.
 *
 * `BucketQueue` keeps one such list per priority level, found through a `Map`
 * (the level pushed to last is remembered, so the usual case of one or a few
 * priorities skips even that lookup), and a binary max-heap of the levels
 * that hold something. Agents use a handful of priorities, where the heap has
 * one or two entries and pushing or taking within a level is O(1); measured
 * on this machine a bucket queue beats a binary heap of tasks by ~0.3–0.45 µs
 * per task and, unlike a heap of tasks, it keeps
 * first-come-first-served order within a level without a sequence number.
 * Priorities taken from scores or timestamps make a level per task: a level
 * enters the heap when it fills and leaves it when it empties, O(log levels)
 * each (a sorted array searched linearly was O(levels): quadratic overall).
 * Empty levels stay in the map for reuse while there are few of them.
 */

/** What a queued object carries (set by the list holding it). @internal */
export interface Linked<T extends Linked<T>> {
  /** The list holding it, if any. */
  list: List<T> | undefined
  /** Its position in that list (absolute: see `List`). */
  slot: number
}

/** Holes (removed items) tolerated beyond the live items before a list is compacted. */
const HOLES = 64

/**
 * A FIFO in an array, whose items know their position, so that removing one
 * from the middle is O(1): its slot becomes a hole, skipped when it reaches
 * the front. The holes are compacted away once they outnumber the live items
 * (plus a few), so the array stays within twice what is live (amortised O(1)
 * per removal) and a removed item is never kept.
 *
 * Why not a linked list through the items: writing to the neighbours on every
 * removal touched two more objects per task (cache misses, old-to-new
 * pointers for the GC) and measured ~0.15 µs per task more on 20,000 tasks.
 * @internal
 */
export class List<T extends Linked<T>> {
  private items: Array<T | undefined> = []
  /** Index of the first slot that may be live. */
  private front = 0
  /** Absolute position of `items[0]`. */
  private base = 0
  /** Live items. */
  size = 0

  push(item: T): void {
    item.list = this
    item.slot = this.base + this.items.length
    this.items.push(item)
    this.size++
  }

  /** The first live item, if any. */
  first(): T | undefined {
    const items = this.items
    let i = this.front
    while (i < items.length && items[i] === undefined) i++
    this.front = i
    return items[i]
  }

  /** Takes `item`, which this list holds, out. */
  remove(item: T): void {
    const i = item.slot - this.base
    this.items[i] = undefined
    item.list = undefined
    this.size--
    if (this.size === 0) {
      // empty: positions start again (no item holds one of this list any more)
      this.items = []
      this.base = 0
      this.front = 0
    } else if (i === this.front) {
      this.front++
      // the taken prefix goes once it outgrows the rest: positions stay (no item is touched)
      if (this.front > 1024 && 2 * this.front > this.items.length) {
        this.items = this.items.slice(this.front)
        this.base += this.front
        this.front = 0
      }
    } else if (this.items.length - this.front - this.size > this.size + HOLES) {
      this.compact()
    }
  }

  /** Drops the holes: the live items get new positions, after every position used so far. */
  private compact(): void {
    const live: Array<T | undefined> = []
    const base = this.base + this.items.length
    for (let i = this.front; i < this.items.length; i++) {
      const item = this.items[i]
      if (item === undefined) continue
      item.slot = base + live.length
      live.push(item)
    }
    this.items = live
    this.base = base
    this.front = 0
  }
}

/** @internal */
export interface Queued<T extends Queued<T>> extends Linked<T> {
  readonly priority: number
}

/** Empty levels kept for reuse. */
const SPARE_LEVELS = 16

/** A priority level: the list of its entries and its place in the heap of levels. @internal */
export class Level<T extends Queued<T>> extends List<T> {
  /** Index in the heap of non-empty levels, -1 while empty. */
  heapIndex = -1
  constructor(readonly priority: number, readonly owner: BucketQueue<T>) {
    super()
  }
}

const higher = (a: Level<any>, b: Level<any>): boolean => a.priority > b.priority

/** @internal */
export class BucketQueue<T extends Queued<T>> {
  private readonly levels = new Map<number, Level<T>>()
  /** The levels that hold entries, highest priority on top. */
  private readonly heap = new IndexedHeap<Level<T>>(higher)
  /** The level pushed to last (the common case: the same one again). */
  private last: Level<T> | undefined = undefined
  /** Entries queued. */
  size = 0

  push(item: T): void {
    if (item.list !== undefined) remove(item) // never in two places
    const p = item.priority
    let level = this.last
    if (level === undefined || level.priority !== p) {
      level = this.levels.get(p)
      if (level === undefined) {
        level = new Level(p, this)
        this.levels.set(p, level)
      }
      this.last = level
    }
    if (level.size === 0) this.heap.push(level)
    level.push(item)
    this.size++
  }

  /** Priority levels held, empty ones included (for tests). */
  get levelCount(): number {
    return this.levels.size
  }

  /**
   * Removes and returns the first entry of the highest level for which `live`
   * holds. (Entries that gave up are removed at once, see `remove`; `live` is a
   * safety net, and any entry it refuses is dropped.)
   */
  shift(live: (item: T) => boolean): T | undefined {
    for (;;) {
      const level = this.heap.peek()
      if (level === undefined) return undefined
      const item = level.first()!
      this.take(level, item)
      if (live(item)) return item
    }
  }

  /** Takes `item` out of this queue (it must be held here). */
  take(level: Level<T>, item: T): void {
    level.remove(item)
    this.size--
    if (level.size === 0) {
      this.heap.remove(level)
      // a level per score or timestamp would pile up: spare empty levels are few
      if (this.levels.size > SPARE_LEVELS) {
        this.levels.delete(level.priority)
        if (this.last === level) this.last = undefined
      }
    }
  }
}

/** Takes `item` out of the queue holding it, if any, at once. @internal */
export const remove = <T extends Queued<T>>(item: T): void => {
  const list = item.list
  if (list === undefined) return
  const level = list as Level<T>
  level.owner.take(level, item)
}

/**
 * A binary heap whose items know their index, so that any item is removed in
 * O(log n): the first by `before` is on top.
 * @internal
 */
export class IndexedHeap<T extends { heapIndex: number }> {
  private readonly items: Array<T> = []

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    this.items.push(item)
    this.up(item, this.items.length - 1)
  }

  pop(): T | undefined {
    const top = this.items[0]
    if (top !== undefined) this.remove(top)
    return top
  }

  /** Removes `item`, which this heap holds. */
  remove(item: T): void {
    const items = this.items
    const i = item.heapIndex
    item.heapIndex = -1
    const last = items.pop()!
    if (last === item) return
    // the last item fills the hole, then moves up or down to its place
    if (i > 0 && this.before(last, items[(i - 1) >> 1]!)) this.up(last, i)
    else this.down(last, i)
  }

  private up(item: T, i: number): void {
    const items = this.items
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent]!
      if (!this.before(item, p)) break
      items[i] = p
      p.heapIndex = i
      i = parent
    }
    items[i] = item
    item.heapIndex = i
  }

  private down(item: T, i: number): void {
    const items = this.items
    const n = items.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.before(items[r]!, items[l]!) ? r : l
      const child = items[c]!
      if (!this.before(child, item)) break
      items[i] = child
      child.heapIndex = i
      i = c
    }
    items[i] = item
    item.heapIndex = i
  }
}
