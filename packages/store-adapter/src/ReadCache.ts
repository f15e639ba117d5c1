/**
 * The SQLite store's read cache: stored values by key, and per-tenant
 * targeting generations that derived answers are stamped with.
 *
 * The cache holds only committed state. Reads fill it; a write changes it only
 * once the transaction holding the write has committed, through the
 * {@link Staged} changes of a group-commit batch (a write refused or rolled
 * back to its savepoint leaves no trace). The owner drops everything when
 * another connection commits (SQLite's `PRAGMA data_version`), so a second
 * process or an operator's `enrollctl` on the same file is seen at once.
 *
 * Bounded: past `capacity` entries the oldest inserted entry goes first.
 * Values are shared between callers and must be treated as immutable (as the
 * store port's values are everywhere).
 *
 * @since 0.1.0
 */

/** One change a write makes to the cache once its transaction commits. */
export type Change =
  | { readonly _tag: "Put"; readonly key: string; readonly value: unknown }
  | { readonly _tag: "Delete"; readonly key: string }
  /** What decides targeting changed in the tenant (memberships, groups, assignment targets). */
  | { readonly _tag: "Touch"; readonly tenant: string }
  /** A write whose effect on cached keys is not listed (bulk deletes): drop everything. */
  | { readonly _tag: "Clear" }

/** A bounded map of committed values, with per-tenant targeting generations and data stamps. */
export class ReadCache {
  readonly capacity: number
  private readonly values = new Map<string, unknown>()
  private readonly generations = new Map<string, number>()
  private readonly stamps = new Map<string, number>()
  private epoch = 0

  constructor(capacity: number) {
    this.capacity = Math.max(0, Math.floor(capacity))
  }

  /** Entries held. */
  get size(): number {
    return this.values.size
  }

  /** Tenants with a targeting generation of their own. */
  get tenants(): number {
    return this.generations.size
  }

  get(key: string): unknown {
    return this.values.get(key)
  }

  set(key: string, value: unknown): void {
    if (this.capacity === 0) return
    if (!this.values.has(key) && this.values.size >= this.capacity) {
      this.values.delete(this.values.keys().next().value!)
    }
    this.values.set(key, value)
  }

  /**
   * The tenant's targeting generation: a derived answer stamped with it is
   * current while it is unchanged. Never repeats, across clears too.
   */
  generation(tenant: string): number {
    return this.generations.get(tenant) ?? this.epoch
  }

  /**
   * The tenant's data stamp: changes with every committed write of the tenant
   * ({@link bump}) and every clear. Never repeats, across clears too.
   */
  stamp(tenant: string): number {
    return this.stamps.get(tenant) ?? this.epoch
  }

  /** A write of the tenant committed. */
  bump(tenant: string): void {
    if (this.capacity === 0) return
    // Bounded (one entry per tenant written to): past the bound, start over.
    if (!this.stamps.has(tenant) && this.stamps.size >= Math.max(this.capacity, 1024)) this.clear()
    this.stamps.set(tenant, this.nextGeneration())
  }

  clear(): void {
    this.values.clear()
    this.generations.clear()
    this.stamps.clear()
    // Past every generation handed out, so no stamp taken before the clear matches again.
    this.epoch = this.nextGeneration()
  }

  apply(change: Change): void {
    switch (change._tag) {
      case "Put":
        return this.set(change.key, change.value)
      case "Delete":
        return void this.values.delete(change.key)
      case "Touch":
        // Bounded too (one entry per tenant written to): past the bound, start over.
        if (!this.generations.has(change.tenant) && this.generations.size >= Math.max(this.capacity, 1024)) this.clear()
        return void this.generations.set(change.tenant, this.nextGeneration())
      case "Clear":
        return this.clear()
    }
  }

  private counter = 0
  private nextGeneration(): number {
    return ++this.counter
  }
}

/** Absent in the batch: deleted by an earlier write of the same batch. */
const Gone: unique symbol = Symbol("Gone")

/**
 * The changes of one group-commit batch: the writes that succeeded so far
 * (readable by the batch's later writes, which must see them) and the current
 * write's, kept apart until it succeeds.
 */
export class Staged {
  private readonly overlay = new Map<string, unknown>()
  private readonly done: Array<Change> = []
  private current: Array<Change> = []
  /** After a `Clear`, later writes of the batch read the database only. */
  private bypass = false

  /** Reads `key` as the batch sees it: its own writes first, then the cache, then `load` (not cached). */
  read<A>(cache: ReadCache, key: string, load: () => A | undefined): A | undefined {
    if (this.bypass) return load()
    const mine = this.overlay.get(key)
    if (mine === Gone) return undefined
    if (mine !== undefined) return mine as A
    const cached = cache.get(key)
    return cached !== undefined ? (cached as A) : load()
  }

  stage(change: Change): void {
    this.current.push(change)
  }

  /** The current write succeeded: its changes become visible to the batch and are kept for the commit. */
  keep(): void {
    for (const c of this.current) {
      this.done.push(c)
      if (c._tag === "Put") this.overlay.set(c.key, c.value)
      else if (c._tag === "Delete") this.overlay.set(c.key, Gone)
      else if (c._tag === "Clear") {
        this.bypass = true
        this.overlay.clear()
      }
    }
    this.current = []
  }

  /** The current write failed and was rolled back to its savepoint: its changes are dropped. */
  drop(): void {
    this.current = []
  }

  /** The batch committed: the cache takes its changes, in order. */
  commit(cache: ReadCache): void {
    for (const c of this.done) cache.apply(c)
  }
}
