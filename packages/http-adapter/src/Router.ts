/**
 * A lean router over the route table: a trie of path segments, built once.
 * Literal segments win over parameters (so `assignments/$count` is never read
 * as an id); keys may be written `/x/{id}` or `/x('{id}')`, and a key written
 * in parenthesis form only ever matches a parameter. `x('{id}')` is the key form
 * only where `x` is a literal segment with a parameter behind it: elsewhere the
 * whole segment is the segment, so an id such as `a('b')` is reached as
 * `/x/a('b')` (clients such as Kiota's send `'`, `(` and `)` unencoded).
 * A route may be reached by other templates too (its `aliases`): they are put in
 * the trie when it is built, and matching does not change.
 * Where the literal's route has none of the request's method, a route of that method
 * behind the parameter is taken (since 0.6.1): `DELETE …/members/microsoft.graph.user/$ref`
 * removes the member whose id is `microsoft.graph.user`, while `GET` there is the cast's
 * references. Not behind a `$` segment: `PATCH …/assignments/$count` stays a 405. This is
 * read only when the method misses, once per path and method: a matched request pays nothing.
 * Literal segments are matched in any case, as Graph does (`/Users`, `…/transitivemembers`,
 * since 0.6.1): the segment as written first, then a parameter, then the one literal it folds
 * to (none where two would fold alike). This is read only when the path is first resolved, so
 * it costs a matched request nothing, and the route matched is the declared one (its answers'
 * `@odata.context` and `Location` name its declared segments). Only names fold: a cast's type
 * name (`microsoft.graph.user`) and a `$` segment keep their case, and ids (parameters) never fold.
 *
 * @since 0.1.0
 */

/** A path template: literal segments and `{name}` parameters. */
export interface Template {
  readonly method: string
  readonly path: string
  /**
   * Other templates that reach the same route, with the same parameters (a type cast's
   * `graph.user` for `microsoft.graph.user`); since 0.6.0.
   */
  readonly aliases?: ReadonlyArray<string> | undefined
}

interface Node<R> {
  readonly literals: Map<string, Node<R>>
  /** The literals by their lower-case text, made once the trie is built; `null` where two fold alike. */
  readonly folded: Map<string, Node<R> | null>
  param: { readonly name: string; readonly node: Node<R> } | undefined
  readonly routes: Map<string, R>
}

const node = <R>(): Node<R> => ({ literals: new Map(), folded: new Map(), param: undefined, routes: new Map() })

/** The literals that fold: navigation and collection names (`users`, `invitedUser`). */
const foldable = /^[A-Za-z][A-Za-z0-9]*$/

/** Fills every node's `folded` from its literals (once, after the trie is built). */
const fold = <R>(n: Node<R>): void => {
  for (const [text, next] of n.literals) {
    // Names only: a cast's type name and a `$` segment keep their case.
    if (foldable.test(text)) {
      const key = text.toLowerCase()
      n.folded.set(key, n.folded.has(key) ? null : next)
    }
    fold(next)
  }
  if (n.param !== undefined) fold(n.param.node)
}

/** The literal `text` names in another case: only where none is written as it is. */
const foldedLiteral = <R>(n: Node<R>, text: string): Node<R> | undefined =>
  n.literals.has(text) ? undefined : n.folded.get(text.toLowerCase()) ?? undefined

/** A matched route with its parameters. */
export type Match<R> =
  | { readonly _tag: "Found"; readonly route: R; readonly params: Record<string, string> }
  | { readonly _tag: "MethodNotAllowed"; readonly allow: ReadonlyArray<string> }
  | { readonly _tag: "NotFound"; readonly segment: string }
  | { readonly _tag: "BadPath"; readonly message: string }

/**
 * A decoded path segment. One written `name('key')` also carries its name and key (quotes
 * undoubled): it is the key form where `name` is a literal segment with a parameter behind
 * it, and else the whole text is the segment (an id may contain parentheses and quotes, and
 * clients such as Kiota's send them unencoded: `assignments/a('b')` is the id `a('b')`).
 */
interface Segment {
  readonly text: string
  readonly paren: { readonly name: string; readonly key: string } | undefined
}

const parenKey = /^([A-Za-z$][A-Za-z0-9_.$]*)\('((?:[^']|'')*)'\)$/

/** Splits a raw path (after the prefix, starting with `/`) into decoded segments; undefined when malformed. */
export const segments = (raw: string): Array<Segment> | undefined => {
  const out: Array<Segment> = []
  const parts = raw.split("/")
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!
    if (p === "" && i === parts.length - 1 && i > 1) break // one trailing slash
    let text: string
    try {
      text = p.includes("%") ? decodeURIComponent(p) : p
    } catch {
      return undefined
    }
    const m = text.endsWith("')") ? parenKey.exec(text) : null
    out.push({ text, paren: m !== null ? { name: m[1]!, key: m[2]!.replaceAll("''", "'") } : undefined })
  }
  return out
}

/** How many resolved paths a router remembers. */
const memoSize = 1024

/** Builds a router from routes with templates. */
export const make = <R extends Template>(routes: ReadonlyArray<R>) => {
  const root = node<R>()
  for (const r of routes) {
    for (const path of r.aliases === undefined ? [r.path] : [r.path, ...r.aliases]) {
      let n = root
      for (const seg of path.split("/").slice(1)) {
        if (seg.startsWith("{")) {
          const name = seg.slice(1, -1)
          if (n.param === undefined) n.param = { name, node: node() }
          else if (n.param.name !== name) throw new Error(`conflicting parameter names at ${path}`)
          n = n.param.node
        } else {
          let next = n.literals.get(seg)
          if (next === undefined) n.literals.set(seg, next = node())
          n = next
        }
      }
      if (n.routes.has(r.method)) throw new Error(`duplicate route ${r.method} ${path}`)
      n.routes.set(r.method, r)
    }
  }
  fold(root)
  /** Where a path leads: the node it ends on and its parameters (frozen: shared by every match of the path). */
  interface Resolved {
    readonly node: Node<R>
    readonly params: Readonly<Record<string, string>>
    /** The `Found` of each method, made once. */
    readonly found: Map<string, Match<R>>
  }
  const resolve = (rawPath: string): Resolved | Match<R> => {
    const segs = segments(rawPath)
    if (segs === undefined) return { _tag: "BadPath", message: "The request path is not validly percent-encoded" }
    const params: Record<string, string> = {}
    // The segment a 404 names: the one where the walk that got furthest stopped.
    let stoppedAt = -1
    // A literal segment wins where a route lies behind it; else the segment is tried as the
    // parameter (a collection's `/$count` is a route, and an entity whose id is `$count` is
    // still reached through the paths below it).
    const walk = (n: Node<R>, i: number): Node<R> | undefined => {
      if (i === segs.length) {
        if (n.routes.size > 0) return n
        stoppedAt = Math.max(stoppedAt, i - 1)
        return undefined
      }
      const s = segs[i]!
      if (s.paren !== undefined) {
        // `name('key')`: the key of the collection `name`, when `name` is one here.
        const coll = n.literals.get(s.paren.name) ?? foldedLiteral(n, s.paren.name)
        if (coll?.param !== undefined) {
          const found = walk(coll.param.node, i + 1)
          if (found !== undefined) {
            params[coll.param.name] = s.paren.key
            return found
          }
        }
      }
      const lit = n.literals.get(s.text)
      if (lit !== undefined) {
        const found = walk(lit, i + 1)
        if (found !== undefined) return found
      }
      if (n.param !== undefined) {
        const found = walk(n.param.node, i + 1)
        if (found !== undefined) {
          params[n.param.name] = s.text
          return found
        }
      }
      // The literal written in another case (`/Users`): after the parameter, so an id is never read as one.
      const other = lit === undefined ? foldedLiteral(n, s.text) : undefined
      if (other !== undefined) {
        const found = walk(other, i + 1)
        if (found !== undefined) return found
      }
      if (lit === undefined && other === undefined && n.param === undefined) stoppedAt = Math.max(stoppedAt, i)
      return undefined
    }
    const n = walk(root, 0)
    if (n === undefined) {
      const stopped = stoppedAt >= 0 ? segs[stoppedAt]! : undefined
      return { _tag: "NotFound", segment: stopped === undefined ? "" : stopped.paren?.name ?? stopped.text }
    }
    return { node: n, params: Object.freeze(params), found: new Map() }
  }
  /**
   * Every node with routes the path can end on, in the order `resolve` prefers them (its choice
   * first), with the parameters of each: for a method the first of them has not. A `name('key')`
   * key, and a literal `$` segment (`$count`, `$ref`), that lead somewhere are not tried as
   * anything else, as `resolve` does not; another literal is tried as the parameter too.
   */
  const ends = (segs: ReadonlyArray<Segment>) => {
    const out: Array<{ readonly node: Node<R>; readonly params: Record<string, string> }> = []
    const from = (n: Node<R>, i: number, params: Record<string, string>): void => {
      if (i === segs.length) {
        if (n.routes.size > 0) out.push({ node: n, params })
        return
      }
      const s = segs[i]!
      const before = out.length
      if (s.paren !== undefined) {
        const coll = n.literals.get(s.paren.name) ?? foldedLiteral(n, s.paren.name)
        if (coll?.param !== undefined) from(coll.param.node, i + 1, { ...params, [coll.param.name]: s.paren.key })
        if (out.length > before) return
      }
      const lit = n.literals.get(s.text)
      if (lit !== undefined) from(lit, i + 1, params)
      if (n.param !== undefined && !(s.text.startsWith("$") && out.length > before)) {
        from(n.param.node, i + 1, { ...params, [n.param.name]: s.text })
      }
      const other = lit === undefined ? foldedLiteral(n, s.text) : undefined
      if (other !== undefined) from(other, i + 1, params)
    }
    from(root, 0, {})
    return out
  }
  /** A method the resolved node has no route of: a route of it elsewhere on the path, or 405 with every method the path has. */
  const otherwise = (rawPath: string, method: string, r: Resolved): Match<R> => {
    const all = ends(segments(rawPath)!)
    const other = all.find((e) => e.node.routes.has(method))
    if (other !== undefined) return { _tag: "Found", route: other.node.routes.get(method)!, params: Object.freeze(other.params) }
    const allow = new Set(r.node.routes.keys())
    for (const e of all) for (const m of e.node.routes.keys()) allow.add(m)
    return { _tag: "MethodNotAllowed", allow: [...allow] }
  }
  // Paths that led to routes, most recent last: clients ask for the same paths again and again,
  // and a lookup costs less than splitting and decoding the path. Bounded, oldest dropped first.
  const recent = new Map<string, Resolved>()
  // The last path asked for, compared before the map is asked: a new request's path is a new
  // string, and comparing it costs less than hashing it for the lookup.
  let lastPath: string | undefined
  let last: Resolved | undefined
  return {
    match: (method: string, rawPath: string): Match<R> => {
      let r = rawPath === lastPath ? last : recent.get(rawPath)
      if (r === undefined) {
        const resolved = resolve(rawPath)
        if ("_tag" in resolved) return resolved
        if (recent.size >= memoSize) recent.delete(recent.keys().next().value!)
        recent.set(rawPath, r = resolved)
      }
      lastPath = rawPath
      last = r
      let m = r.found.get(method)
      if (m === undefined) {
        const route = r.node.routes.get(method)
        m = route !== undefined ? { _tag: "Found", route, params: r.params } : otherwise(rawPath, method, r)
        r.found.set(method, m)
      }
      return m
    }
  }
}
