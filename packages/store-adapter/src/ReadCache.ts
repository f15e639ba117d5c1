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
 * cache keeps (since 0.14.0): a value read or written from a longer one ({@link noteText}) is read
 * from the file each time instead. Before, the bound was the number of entries alone, and a review's
 * 20 000 users of 60 KB each held 3.2 GB of memory; now the stored text the entries stand for is
 * at most `capacity` × 4 KiB (80 MiB at the default 20 000), about two to three times that in memory.
 * Assignments (about 200 characters), users and groups, and typical configurations are far under it.
 */
export const largeText = 4096

/** Values whose stored text is over {@link largeText}: the cache does not keep them. */
const large = new WeakSet<object>()

/**
 * Notes the length of `value`'s stored text (the text read or written for it): a value over
 * {@link largeText} is never kept. Called by whatever reads or writes stored text.
 */
export const noteText = (text: string, value: unknown): void => {
  if (text.length > largeText && typeof value === "object" && value !== null) large.add(value)
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

/** A bounded map of committed values, with per-tenant targeting generations and data stamps. */
export class ReadCache {
  readonly capacity: number
  private readonly values = new Nested<unknown>()
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

  get(tenant: string, space: string, group: string, id: string): unknown {
    return this.values.get(tenant, space, group, id)
  }

  set(tenant: string, space: string, group: string, id: string, value: unknown): void {
    if (this.capacity === 0) return
    // Not kept, and what was kept under the key is no longer the value (a write that made it large).
    if (typeof value === "object" && value !== null && large.has(value)) return void this.values.delete(tenant, space, group, id)
    if (this.values.set(tenant, space, group, id, value) && this.values.size > this.capacity) this.values.evictOne()
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
      case "Put": {
        const k = change.key
        return this.set(k.tenant, k.space, k.group, k.id, change.value)
      }
      case "Delete": {
        const k = change.key
        return void this.values.delete(k.tenant, k.space, k.group, k.id)
      }
      case "Touch":
        // Bounded too (one entry per tenant written to): past the bound, start over.
        if (!this.generations.has(change.tenant) && this.generations.size >= Math.max(this.capacity, 1024)) this.clear()
        return void this.generations.set(change.tenant, this.nextGeneration())
      case "ClearTenant":
        this.values.dropTenant(change.tenant)
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
