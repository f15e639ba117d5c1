/**
 * Answers to reads kept by what they were derived from: the store's stamp of the
 * tenant's data (see the store port's `stampOf`). An answer is served again only
 * while the tenant's stamp is the one read when the answer was made, so every
 * committed write of the tenant (by this process or, for stores that can tell,
 * any other) retires the tenant's kept answers at once.
 *
 * Bounded by bytes: past the budget the oldest answers go first; an answer over
 * a sixteenth of the budget is not kept.
 *
 * @since 0.2.0
 */

/** A finished answer: what `send` writes. Shared between requests: never changed in place. */
export interface Answer {
  readonly status: number
  readonly body: string
  readonly type: string
  readonly headers: Readonly<Record<string, string>> | undefined
}

interface Entry {
  readonly scope: string
  readonly stamp: number
  readonly answer: Answer
  readonly bytes: number
}

/** Default budget: 16 MiB. */
export const defaultBytes = 16 * 1024 * 1024

/** Bytes an entry is charged: the key and body as UTF-16, and a fixed overhead for the records. */
const cost = (key: string, answer: Answer) => 2 * (key.length + answer.body.length) + 256

/** A byte-bounded map from request keys to the answers made for them, by stamp. */
export class AnswerCache {
  readonly budget: number
  private readonly entries = new Map<string, Entry>()
  private used = 0

  constructor(budget: number = defaultBytes) {
    this.budget = Math.max(0, Math.floor(budget))
  }

  /** Bytes charged to the answers held. */
  get bytes(): number {
    return this.used
  }

  get size(): number {
    return this.entries.size
  }

  /**
   * The answer kept for `key` in `scope` if it was made at `stamp`; a stale one is dropped.
   * A key holds one answer: the scope (what else the answer depends on, compared whole)
   * must be the one it was kept with.
   */
  get(key: string, stamp: number, scope = ""): Answer | undefined {
    const e = this.entries.get(key)
    if (e === undefined || e.scope !== scope) return undefined
    if (e.stamp === stamp) return e.answer
    this.remove(key, e)
    return undefined
  }

  /** Keeps `answer`, made from the data at `stamp`, for `key` in `scope` (replacing what the key held). */
  set(key: string, stamp: number, answer: Answer, scope = ""): void {
    if (Number.isNaN(stamp)) return
    const bytes = cost(key, answer) + 2 * scope.length
    if (bytes * 16 > this.budget) return
    const old = this.entries.get(key)
    if (old !== undefined) this.remove(key, old)
    while (this.used + bytes > this.budget) {
      const [k, e] = this.entries.entries().next().value!
      this.remove(k, e)
    }
    this.entries.set(key, { scope, stamp, answer, bytes })
    this.used += bytes
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key)
    this.used -= e.bytes
  }
}
