/**
 * An array that grows at the back and is cut at the front in O(1) amortised: the grid
 * keeps the last --buffer rows of a stream that may bring 10,000 a second, where
 * `Array.prototype.shift` would copy the whole buffer on every row.
 */
export class Deque<T> {
  #items: T[] = []
  #head = 0
  #weight = 0
  readonly #weigh: (item: T) => number

  /** `weigh`: what an item counts towards `weight` (the bytes a row holds). */
  constructor(weigh: (item: T) => number = () => 0) {
    this.#weigh = weigh
  }

  get length(): number {
    return this.#items.length - this.#head
  }

  /** The sum of the items' weights. */
  get weight(): number {
    return this.#weight
  }

  at(index: number): T | undefined {
    return index < 0 ? undefined : this.#items[this.#head + index]
  }

  push(item: T): void {
    this.#items.push(item)
    this.#weight += this.#weigh(item)
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined
    const item = this.#items[this.#head]!
    // Let go of it now, not at the next compaction: a row may hold a megabyte of data.
    this.#items[this.#head++] = undefined as T
    this.#weight -= this.#weigh(item)
    // Compacted once the dead front is as long as the live part: each item is copied O(1) times.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** The first index whose item is not `before` the key (items are sorted by it). */
  lowerBound(isBefore: (item: T) => boolean): number {
    let low = 0
    let high = this.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (isBefore(this.#items[this.#head + middle]!)) low = middle + 1
      else high = middle
    }
    return low
  }

  slice(start: number, end: number): T[] {
    return this.#items.slice(this.#head + Math.max(0, start), this.#head + Math.max(0, end))
  }

  static from<T>(items: Iterable<T>): Deque<T> {
    const deque = new Deque<T>()
    for (const item of items) deque.push(item)
    return deque
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!
  }
}
