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
 * Values are kept by {@link Key}: tenant, space, group and id, in nested maps,
 * so a lookup hashes the strings it is given and builds none. (One key string
 * built per lookup was flattened and hashed anew every time: 0.5–0.65 µs a
 * lookup in-process, against 0.06 µs nested, with five to seven lookups per
 * request; BENCHMARKS.md.)
 *
 * Bounded: past `capacity` entries, an entry of the tenant, space and group
 * cached longest goes first (insertion order at each level). Values are shared
 * between callers and must be treated as immutable (as the store port's values
 * are everywhere).
 *
 * @since 0.1.0
 */

/**
 * The longest stored text (in UTF-16 code units, as JavaScript counts a string) of a value the
 * cache keeps among its entries (since 0.14.0). A value read or written from a longer one
 * ({@link noteText}) is kept apart, weighed by its text: the large entries hold at most
 * {@link largeCharsPerEntry} characters for each entry of the cache's capacity (about 20 million characters at the
 * default 20 000), the one kept longest dropped first, and a value of over an eighth of that is not
 * kept at all. Before, the bound was the number of entries alone, and a review's 20 000 users of
 * 60 KB each held 3.2 GB of memory. Assignments (about 200 characters), users, groups and typical
 * configurations are far under 4 KiB.
 */
export const largeText = 4096

/** The large entries' share of text, in characters, for each entry of the cache's capacity. */
export const largeCharsPerEntry = 1024

/** The length of the stored text of each value over {@link largeText}. */
const sizes = new WeakMap<object, number>()

/**
 * Notes the length of `value`'s stored text (the text read or written for it): a value over
 * {@link largeText} is weighed by it. Called by whatever reads or writes stored text.
 */
export const noteText = (text: string, value: unknown): void => {
  if (text.length > largeText && typeof value === "object" && value !== null) sizes.set(value, text.length)
}

/**
 * Where a value is kept: its tenant; its space (a table, or a kind of derived
 * answer); a group within the space (an assignment's configuration, or "" where
 * there is none); and its id. Four separate strings, so no two keys collide.
 */
export interface Key {
  readonly tenant: string
  readonly space: string
  readonly group: string
  readonly id: string
}

/** One change a write makes to the cache once its transaction commits. */
export type Change =
  | { readonly _tag: "Put"; readonly key: Key; readonly value: unknown }
  | { readonly _tag: "Delete"; readonly key: Key }
  /** What decides targeting changed in the tenant (memberships, groups, assignment targets). */
  | { readonly _tag: "Touch"; readonly tenant: string }
  /**
   * A write of the tenant whose effect on its cached keys is not listed (a configuration's removal
   * with its assignments, the `assign` action's replacement): drop the tenant's entries and move its
   * targeting generation (since 0.6.0; before, a `Clear` of every tenant's).
   */
  | { readonly _tag: "ClearTenant"; readonly tenant: string }
  /** A change whose effect on cached keys is not known (another connection's commit): drop everything. */
  | { readonly _tag: "Clear" }

/** Values by tenant, space, group and id, in nested maps. */
class Nested<V> {
  private readonly root = new Map<string, Map<string, Map<string, Map<string, V>>>>()
  private count = 0

  get size(): number {
    return this.count
  }

  get(tenant: string, space: string, group: string, id: string): V | undefined {
    return this.root.get(tenant)?.get(space)?.get(group)?.get(id)
  }

  /** Sets the value; true when the key was not held. */
  set(tenant: string, space: string, group: string, id: string, value: V): boolean {
    let spaces = this.root.get(tenant)
    if (spaces === undefined) this.root.set(tenant, spaces = new Map())
    let groups = spaces.get(space)
    if (groups === undefined) spaces.set(space, groups = new Map())
    let ids = groups.get(group)
    if (ids === undefined) groups.set(group, ids = new Map())
    const before = ids.size
    ids.set(id, value)
    if (ids.size === before) return false
    this.count++
    return true
  }

  /** Removes the key (and the maps it leaves empty); true when it was held. */
  delete(tenant: string, space: string, group: string, id: string): boolean {
    const spaces = this.root.get(tenant)
    const groups = spaces?.get(space)
    const ids = groups?.get(group)
    if (ids === undefined || !ids.delete(id)) return false
    this.count--
    if (ids.size === 0) {
      groups!.delete(group)
      if (groups!.size === 0) {
        spaces!.delete(space)
        if (spaces!.size === 0) this.root.delete(tenant)
      }
    }
    return true
  }

  /** Removes the first entry in insertion order at every level: one of those held longest. */
  evictOne(): void {
    for (const [tenant, spaces] of this.root) {
      for (const [space, groups] of spaces) {
        for (const [group, ids] of groups) {
          for (const id of ids.keys()) {
            this.delete(tenant, space, group, id)
            return
          }
        }
      }
    }
  }

  /** Removes every entry of the tenant. */
  dropTenant(tenant: string): void {
    const spaces = this.root.get(tenant)
    if (spaces === undefined) return
    for (const groups of spaces.values()) for (const ids of groups.values()) this.count -= ids.size
    this.root.delete(tenant)
  }

  clear(): void {
    this.root.clear()
    this.count = 0
  }
}

/** A key as one text, for the large entries (a tenant id holds no U+0000; nor do the other parts). */
const keyText = (tenant: string, space: string, group: string, id: string): string => `${tenant}\u0000${space}\u0000${group}\u0000${id}`

/** A bounded map of committed values, with per-tenant targeting generations and data stamps. */
export class ReadCache {
  readonly capacity: number
  private readonly values = new Nested<unknown>()
  /** The values over {@link largeText}, by key text, in the order kept (see there). */
  private readonly large = new Map<string, { readonly value: unknown; readonly chars: number }>()
  private largeChars = 0
  private readonly generations = new Map<string, number>()
  private readonly stamps = new Map<string, number>()
  private epoch = 0

  constructor(capacity: number) {
    this.capacity = Math.max(0, Math.floor(capacity))
  }

  /** Entries held. */
  get size(): number {
    return this.values.size + this.large.size
  }

  /** The characters of stored text the large entries may hold (see {@link largeText}). */
  get largeBudget(): number {
    return this.capacity * largeCharsPerEntry
  }

  /** Tenants with a targeting generation of their own. */
  get tenants(): number {
    return this.generations.size
  }

  get(tenant: string, space: string, group: string, id: string): unknown {
    const v = this.values.get(tenant, space, group, id)
    return v !== undefined || this.large.size === 0 ? v : this.large.get(keyText(tenant, space, group, id))?.value
  }

  set(tenant: string, space: string, group: string, id: string, value: unknown): void {
    if (this.capacity === 0) return
    const chars = typeof value === "object" && value !== null ? sizes.get(value) : undefined
    if (chars === undefined) {
      // What was kept under the key apart is no longer the value (a write that made it small).
      if (this.large.size > 0) this.dropLarge(keyText(tenant, space, group, id))
      if (this.values.set(tenant, space, group, id, value) && this.values.size > this.capacity) this.values.evictOne()
      return
    }
    // A large value: kept apart, weighed by its text (see `largeText`).
    const key = keyText(tenant, space, group, id)
    this.values.delete(tenant, space, group, id)
    this.dropLarge(key)
    const budget = this.largeBudget
    if (chars > budget / 8) return
    this.large.set(key, { value, chars })
    this.largeChars += chars
    for (const [oldest, kept] of this.large) {
      if (this.largeChars <= budget) break
      this.large.delete(oldest)
      this.largeChars -= kept.chars
    }
  }

  private dropLarge(key: string): void {
    const kept = this.large.get(key)
    if (kept === undefined) return
    this.large.delete(key)
    this.largeChars -= kept.chars
  }

  private dropLargeOf(tenant: string): void {
    const prefix = `${tenant}\u0000`
    for (const key of this.large.keys()) if (key.startsWith(prefix)) this.dropLarge(key)
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
    this.large.clear()
    this.largeChars = 0
    this.generations.clear()
    this.stamps.clear()
    // Past every generation handed out, so no stamp taken before the clear matches again.
    this.epoch = this.nextGeneration()
  }

  apply(change: Change): void {
    switch (change._tag) {
      case "Put": {
        const k = change.key
        return this.set(k.tenant, k.space, k.group, k.id, change.value)
      }
      case "Delete": {
        const k = change.key
        if (this.large.size > 0) this.dropLarge(keyText(k.tenant, k.space, k.group, k.id))
        return void this.values.delete(k.tenant, k.space, k.group, k.id)
      }
      case "Touch":
        // Bounded too (one entry per tenant written to): past the bound, start over.
        if (!this.generations.has(change.tenant) && this.generations.size >= Math.max(this.capacity, 1024)) this.clear()
        return void this.generations.set(change.tenant, this.nextGeneration())
      case "ClearTenant":
        this.values.dropTenant(change.tenant)
        if (this.large.size > 0) this.dropLargeOf(change.tenant)
        return this.apply({ _tag: "Touch", tenant: change.tenant })
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
  private readonly overlay = new Nested<unknown>()
  private readonly done: Array<Change> = []
  private current: Array<Change> = []
  /** After a `Clear`, later writes of the batch read the database only. */
  private bypass = false
  /** After a `ClearTenant`, later writes of the batch read that tenant from the database only. */
  private bypassed: Set<string> | undefined

  /** Reads a key as the batch sees it: its own writes first, then the cache, then `load` (not cached). */
  read<A>(cache: ReadCache, tenant: string, space: string, group: string, id: string, load: () => A | undefined): A | undefined {
    if (this.bypass || this.bypassed?.has(tenant) === true) return load()
    const mine = this.overlay.get(tenant, space, group, id)
    if (mine === Gone) return undefined
    if (mine !== undefined) return mine as A
    const cached = cache.get(tenant, space, group, id)
    return cached !== undefined ? (cached as A) : load()
  }

  stage(change: Change): void {
    this.current.push(change)
  }

  /** The current write succeeded: its changes become visible to the batch and are kept for the commit. */
  keep(): void {
    for (const c of this.current) {
      this.done.push(c)
      if (c._tag === "Put") this.overlay.set(c.key.tenant, c.key.space, c.key.group, c.key.id, c.value)
      else if (c._tag === "Delete") this.overlay.set(c.key.tenant, c.key.space, c.key.group, c.key.id, Gone)
      else if (c._tag === "ClearTenant") {
        ;(this.bypassed ??= new Set()).add(c.tenant)
        this.overlay.dropTenant(c.tenant)
      } else if (c._tag === "Clear") {
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
