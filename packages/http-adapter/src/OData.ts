/**
 * The OData envelope (SPEC 5): system query options, the `$filter` subset on
 * assignment lists, `$select`, opaque keyset `$skiptoken`s, and the
 * `@odata.context` / `@odata.etag` annotations. Property names in `$select`,
 * `$expand` and `$filter` are read without regard to case, as Graph reads them,
 * and stand for the declared names.
 *
 * @since 0.1.0
 */
import { Assignment, AssignmentFilter, AssignmentTarget, ETag, MergePatch, ODataType } from "@enrollment/core"
import * as Problem from "./Problem.ts"

type Filter = AssignmentFilter.AssignmentFilter

/**
 * The query options a route accepts: `count` is an assignment collection's
 * `/$count` segment, which takes `$filter` (a count of what the filter keeps);
 * `references` a collection of entity references (`…/members/$ref`), paged and
 * counted but with no properties to select or filter (since 0.6.0).
 */
export type QueryKind = "none" | "entity" | "collection" | "filteredCollection" | "assignments" | "count" | "directory" | "references"

/** Parsed system query options. */
export interface Query {
  readonly top: number | undefined
  readonly after: string | undefined
  readonly count: boolean
  readonly select: ReadonlyArray<string> | undefined
  readonly filter: Filter | undefined
  /**
   * The `@id` of a reference, as a `…/$ref?@id=<url>` request names the object it removes
   * (the Graph SDKs' `ref.delete` builders); a custom option, read on every route and used
   * only by the routes that remove a reference.
   */
  readonly ref?: string | undefined
  /** The navigation properties `$expand` names (`*`: every one the route has), in the route's order; since 0.4.0. */
  readonly expand?: ReadonlyArray<string> | undefined
  /** A directory list's `$filter` (see {@link parseObjectFilter}); since 0.4.0. */
  readonly where?: ObjectFilter | undefined
  /**
   * True when `$select` named `*` (every structural property: `select` is then undefined, as
   * without `$select`), which the answer's context says as `(*)`, as Graph writes it.
   */
  readonly selectAll?: boolean | undefined
}

export const emptyQuery: Query = { top: undefined, after: undefined, count: false, select: undefined, filter: undefined }

/** Default and largest page sizes. */
export const defaultPageSize = 100
export const maxPageSize = 999

/**
 * The most JSON text (characters) a page of a list answers before it ends early with a next link
 * to the rest (server-driven paging, which OData allows a server whatever `$top` asked for; since
 * 0.16.0). A page holds at least one item. Before, a page was bounded by its number of items alone:
 * a review's 999 users of 60 KB each made each page of `/users?$top=999` 60 MB, 1.7–2 s of the event
 * loop, and twenty of them in one `$batch` a 500 past V8's longest string.
 */
export const pageTextBudget = 4 * 1024 * 1024

const allowed: Record<QueryKind, ReadonlySet<string>> = {
  none: new Set(),
  entity: new Set(["$select", "$expand"]),
  collection: new Set(["$top", "$skiptoken", "$count", "$select", "$expand"]),
  // A collection whose objects a `$filter` over their properties selects (configurations, since 0.15.0).
  filteredCollection: new Set(["$top", "$skiptoken", "$count", "$select", "$expand", "$filter"]),
  assignments: new Set(["$top", "$skiptoken", "$count", "$select", "$filter"]),
  count: new Set(["$filter"]),
  directory: new Set(["$top", "$skiptoken", "$count", "$select", "$filter"]),
  references: new Set(["$top", "$skiptoken", "$count"])
}

/**
 * Every system query option OData defines. Graph's beta endpoint takes them with
 * or without their `$`, and OData 4.01 reads their names in any case: `$TOP`,
 * `top` and `$top` are one option. A name outside this list without a `$` is a
 * custom query option, which OData lets a service ignore.
 */
const systemOptions: ReadonlySet<string> = new Set([
  "$apply",
  "$compute",
  "$count",
  "$deltatoken",
  "$expand",
  "$filter",
  "$format",
  "$index",
  "$levels",
  "$orderby",
  "$schemaversion",
  "$search",
  "$select",
  "$skip",
  "$skiptoken",
  "$top"
])

/** The option a query parameter's name stands for (`$top` for `top` or `$TOP`), or undefined for a custom option. */
export const optionName = (rawKey: string): string | undefined => {
  const key = rawKey.trim().toLowerCase()
  if (key.startsWith("$")) return key
  return systemOptions.has(`$${key}`) ? `$${key}` : undefined
}

/**
 * What a route's `$select` may name besides its properties: the properties of its
 * entities' derived types, written as OData writes them, behind a type cast
 * (`microsoft.graph.deviceEnrollmentLimitConfiguration/limit`). The derived types'
 * own properties are kept as JSON, not validated (SPEC 1.4), so any name is taken
 * after a cast to one of `types`; the entities of other types leave it out.
 */
export interface DerivedSelect {
  readonly types: ReadonlyArray<string>
  /**
   * The properties each type declares (Graph's, its base type's included), by type: a name
   * after the type's cast that is not written as declared is read as the one declared name it
   * equals without regard to case, as a property without a cast is (`…Configuration/Limit`
   * selects `limit`); a name that equals none is taken as written, as before (a property kept as
   * sent). Since 0.6.1; without it, every name is taken as written.
   */
  readonly properties?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
}

/** Query result: options or a 400. */
export type QueryResult = { readonly ok: true; readonly query: Query } | { readonly ok: false; readonly problem: Problem.Problem }

const bad = (message: string): QueryResult => ({ ok: false, problem: Problem.badRequest(message) })

/**
 * The list a `$skiptoken` belongs to, from the path pattern of the route that answers the list
 * (since 0.13.0): the pattern's literal segments after its last parameter (`assignments` under every
 * path family; `deviceManagement/deviceEnrollmentConfigurations`, and `deviceEnrollmentConfigurations`
 * under a user, whose positions are `[priority, "id"]`), as 8 hexadecimal digits (FNV-1a). A token
 * holds it, so another list's token is refused (a 400) rather than read as a position in this one.
 */
export const listOf = (pattern: string): string => {
  const known = lists.get(pattern)
  if (known !== undefined) return known
  const segments = pattern.split("/").filter((s) => s !== "")
  let last = -1
  for (let i = 0; i < segments.length; i++) if (segments[i]!.startsWith("{")) last = i
  const name = segments.slice(last + 1).join("/")
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193)
  const list = (h >>> 0).toString(16).padStart(listLength, "0")
  lists.set(pattern, list)
  return list
}
const lists = new Map<string, string>()
const listLength = 8

/**
 * `$skiptoken` for a page of the list `list` ({@link listOf}) that continues after the position
 * `key` (an id, or a user's configurations' `[priority, "id"]`): base64url of a mark, the list and
 * the key. Before 0.13.0 it held the key alone, and was read as a position by any list.
 */
export const skipToken = (key: string, list: string): string => Buffer.from(tokenMark + list + key, "utf8").toString("base64url")

/**
 * What a token's text begins with (since 0.13.0): U+0001, a control character, which a release
 * before 0.13.0 refuses in a token (a 400), so that a server of an earlier release beside this one
 * (a rolling upgrade) refuses this one's next links rather than read them as a position.
 */
const tokenMark = "\u0001"

/**
 * The longest `$skiptoken` this server makes, so the longest it reads (since 0.9.0; it read 400
 * characters, and refused its own next link after an id of more than 300 bytes of UTF-8, such as 101
 * `中`, SPEC 2 allowing 128): the base64url of the longest position a list holds, a user's
 * configurations' `[priority, "id"]` ({@link skipToken} of its JSON) with an id of 128 UTF-16 units of
 * at most 3 bytes each (a `"` or `\` is 2 bytes escaped; a character above U+FFFF, 4 bytes, is 2 units),
 * the priority `-2147483648` and the JSON's 5 other characters, after the mark and the list's 8 characters.
 */
export const maxSkipTokenLength = Math.ceil((1 + listLength + (128 * 3) + "-2147483648".length + 5) * 4 / 3)
const skipTokenText = new RegExp(`^[A-Za-z0-9_-]{1,${maxSkipTokenLength}}$`)

const propertyName = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

/** Several declared names equal a query's name without regard to case (none do in this service's tables). */
class AmbiguousName {
  readonly names: ReadonlyArray<string>
  constructor(names: ReadonlyArray<string>) {
    this.names = names
  }
}

/** Each name list's case-folded index, made the first time a name of the list is not found as written. */
const foldedIndexes = new WeakMap<object, ReadonlyMap<string, string | AmbiguousName>>()

const foldedIndex = (owner: object, names: Iterable<string>): ReadonlyMap<string, string | AmbiguousName> => {
  let index = foldedIndexes.get(owner)
  if (index === undefined) {
    const made = new Map<string, string | AmbiguousName>()
    for (const n of names) {
      const key = n.toLowerCase()
      const other = made.get(key)
      if (other === undefined || other === n) made.set(key, n)
      else made.set(key, new AmbiguousName([...(typeof other === "string" ? [other] : other.names), n]))
    }
    index = made
    foldedIndexes.set(owner, index)
  }
  return index
}

/**
 * The declared name a query's property name stands for, as Graph's OData layer resolves one
 * (case-insensitive resolution, OData Core's `ODataUriResolver`): the name as written when the
 * list declares it (callers look for that first, and pay nothing more), else the one declared
 * name equal to it without regard to case (`DisplayName`, `displayname` → `displayName`);
 * `undefined` for none, {@link AmbiguousName} when several declared names differ only in case.
 * `owner` keys the list's folded index (the list itself, or the object whose keys it is), made
 * once; a look-up is then a lower-casing and a map read.
 */
const foldedName = (name: string, owner: object, names: Iterable<string>): string | AmbiguousName | undefined =>
  foldedIndex(owner, names).get(name.toLowerCase())

/** Why a name that folds to several declared names is refused. */
const ambiguous = (name: string, a: AmbiguousName): string =>
  `'${name.slice(0, 80)}' names ${a.names.map((n) => `'${n}'`).join(" and ")}, which differ only in case; write one as it is declared`

/** A `$select` item read: the name it stands for, or the 400's message. */
type SelectItem = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly message: string }

/**
 * One `$select` item not declared as written (nor `*`): a derived type's property behind its cast,
 * the property as its type declares it ({@link DerivedSelect.properties}; the cast as sent); else
 * the 400's message.
 */
const selectItem = (
  n: string,
  selectable: ReadonlyArray<string>,
  derived: DerivedSelect | undefined,
  expandable: ReadonlyArray<string> | undefined
): SelectItem => {
  const slash = n.indexOf("/")
  if (derived !== undefined && slash !== -1) {
    const type = ODataType.parse(n.slice(0, slash))
    if (type === undefined || !derived.types.includes(type)) {
      return {
        ok: false,
        message: `$select: '${n.slice(0, 80)}' does not name a derived type of this resource; expected one of ${derived.types.map((t) => `microsoft.graph.${t}`).join(", ")}`
      }
    }
    const prop = n.slice(slash + 1)
    if (!propertyName.test(prop)) return { ok: false, message: `$select: '${n.slice(0, 80)}' does not name a property after its type cast` }
    // A navigation property behind a cast is one still (since 0.18.0; before, selected as if a
    // property the type did not declare): expanded, not selected, as without the cast.
    const navigation = expandable === undefined ? undefined : declared(prop, expandable)
    if (typeof navigation === "string") {
      return { ok: false, message: `$select: '${n.slice(0, 80)}' is not a property of this resource; '${navigation}' is a navigation property: expand it with $expand=${navigation}` }
    }
    const props = derived.properties?.[type]
    const resolved = props === undefined ? undefined : declared(prop, props)
    if (resolved instanceof AmbiguousName) return { ok: false, message: `$select: ${ambiguous(n, resolved)}` }
    return { ok: true, name: resolved === undefined || resolved === prop ? n : `${n.slice(0, slash + 1)}${resolved}` }
  }
  return { ok: false, message: `$select: '${n.slice(0, 80)}' is not a property of this resource${selectHint(n, derived, expandable)}` }
}

/**
 * What a 400 for a `$select` name that is no property adds (since 0.9.0; before, every name that
 * could be one was told to try the first derived type's cast, which a navigation property or a typo
 * behind it does not fail, but selects nothing): a navigation property is expanded; the name of a
 * property derived types declare is selected behind them (the first two are named); else nothing.
 * Without the derived types' declared properties, the cast form as a possibility.
 */
const selectHint = (n: string, derived: DerivedSelect | undefined, expandable: ReadonlyArray<string> | undefined): string => {
  const navigation = expandable === undefined ? undefined : declared(n, expandable)
  if (typeof navigation === "string") return `; '${navigation}' is a navigation property: expand it with $expand=${navigation}`
  if (derived === undefined || !propertyName.test(n)) return ""
  if (derived.properties === undefined) {
    return `; a derived type's property is selected behind its type, e.g. microsoft.graph.${derived.types[0]}/${n}`
  }
  const types: Array<string> = []
  let name = n
  for (const t of derived.types) {
    const d = declared(n, derived.properties[t] ?? [])
    if (typeof d === "string") {
      types.push(t)
      name = d
    }
  }
  if (types.length === 0) return ""
  const shown = types.slice(0, 2).map((t) => `microsoft.graph.${t}/${name}`).join(" or ")
  return `; it is a property of ${types.length === 1 ? "a derived type" : `${types.length} derived types`}: select it behind its type, as ${shown}${types.length > 2 ? " (…)" : ""}`
}

/** One part of a query (a name or a value) percent-decoded as UTF-8, `+` a space; undefined when malformed. */
const decodePart = (raw: string): string | undefined => {
  const text = raw.includes("+") ? raw.replaceAll("+", " ") : raw
  if (!text.includes("%")) return text
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/**
 * A query string's options, split and decoded as `URLSearchParams` splits and decodes them,
 * but strictly (SPEC 8, since 0.8.0): a `%` not followed by two hex digits, or escapes that do
 * not spell UTF-8 (`%FF`, an overlong form, a surrogate), make the whole query a 400 naming the
 * option, before any option is read. `URLSearchParams` keeps such a `%` as it is and reads such
 * bytes as U+FFFD, so `$filter=sourceId eq '%FF'` matched a `sourceId` of `"\uFFFD"`.
 * Read only for a query that has a `%` (without one there is nothing to decode wrongly): the
 * others still go to `URLSearchParams`, so they pay nothing for it. The one place a query is
 * decoded: a `$batch` request's URL and a `$ref`'s `@id` option come through here too.
 */
const strictOptions = (search: string): Array<readonly [string, string]> | QueryResult => {
  const out: Array<readonly [string, string]> = []
  // As `URLSearchParams` reads it: a leading `?` is not part of the first name, empty parts are none.
  for (const part of (search.startsWith("?") ? search.slice(1) : search).split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    const rawName = eq === -1 ? part : part.slice(0, eq)
    const name = decodePart(rawName)
    const value = decodePart(eq === -1 ? "" : part.slice(eq + 1))
    if (name === undefined || value === undefined) {
      // A name that cannot be decoded is named as it was sent.
      return bad(`The query option '${(name ?? rawName).trim().slice(0, 40)}' is not validly percent-encoded: ` +
        "each % must be followed by two hex digits, and the bytes they spell must be UTF-8")
    }
    out.push([name, value])
  }
  return out
}

/**
 * Parses the query string (without `?`) for a route of the given kind; `selectable` lists
 * the properties `$select` may name, and `derived` the derived types whose properties it may
 * name behind a cast, and `expandable` the navigation properties `$expand` may name (none:
 * `$expand` is refused). Option names are read as {@link optionName} reads them. A query whose
 * percent-encoding is malformed or not UTF-8 is a 400 naming the option (since 0.8.0; see
 * {@link strictOptions}). With `route` (the path pattern of the route, since 0.13.0), a
 * `$skiptoken` made for another list ({@link listOf}) is a 400; without, any of this server's
 * tokens is read.
 */
export const parseQuery = (
  search: string,
  kind: QueryKind,
  selectable: ReadonlyArray<string>,
  derived?: DerivedSelect,
  expandable?: ReadonlyArray<string>,
  filterable?: FilterableProps,
  route?: string
): QueryResult => {
  if (search === "") return { ok: true, query: emptyQuery }
  const params = search.includes("%") ? strictOptions(search) : new URLSearchParams(search)
  if ("ok" in params) return params
  let top: number | undefined
  let after: string | undefined
  let count = false
  let select: Array<string> | undefined
  let filter: Filter | undefined
  let ref: string | undefined
  let expand: ReadonlyArray<string> | undefined
  let where: ObjectFilter | undefined
  let selectAll = false
  const seen = new Set<string>()
  for (const [rawKey, value] of params) {
    const key = optionName(rawKey)
    if (key === undefined) {
      if (rawKey === "@id") {
        if (ref !== undefined) return bad("The query option '@id' is given more than once")
        ref = value
      }
      continue
    }
    const shown = rawKey.trim().slice(0, 40)
    if (seen.has(key)) return bad(`The query option '${key}' is given more than once`)
    seen.add(key)
    if (!allowed[kind].has(key) || key === "$expand" && (expandable === undefined || expandable.length === 0)) {
      return bad(`The query option '${shown}' is not supported on this resource`)
    }
    switch (key) {
      case "$top": {
        if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > maxPageSize) {
          return bad(`$top: expected an integer from 1 to ${maxPageSize}, got '${value.slice(0, 40)}'`)
        }
        top = Number(value)
        break
      }
      case "$skiptoken": {
        const text = skipTokenText.test(value) ? Buffer.from(value, "base64url").toString("utf8") : ""
        const id = text.slice(1 + listLength)
        // No token this server makes holds a control character past its mark (ids cannot), and a
        // store must not be asked for one (PostgreSQL refuses U+0000 with an error, not a miss).
        if (
          id === "" || !text.startsWith(tokenMark) || Buffer.from(text, "utf8").toString("base64url") !== value ||
          /[\u0000-\u001f]/.test(id)
        ) {
          return bad("$skiptoken: the token is not valid")
        }
        if (route !== undefined && text.slice(1, 1 + listLength) !== listOf(route)) {
          return bad("$skiptoken: expected a token from this list's @odata.nextLink, got another list's token")
        }
        after = id
        break
      }
      case "$count": {
        // OData's literals `true` and `false` in any case (its ABNF's strings are; since 0.12.2, `TRUE`).
        const v = value === "true" || value === "false" ? value : value.toLowerCase()
        if (v !== "true" && v !== "false") return bad(`$count: expected true or false, got '${value.slice(0, 40)}'`)
        count = v === "true"
        break
      }
      case "$select": {
        const names = value.split(",").map((s) => s.trim())
        for (let i = 0; i < names.length; i++) {
          const n = names[i]!
          if (n === "*" || selectable.includes(n)) continue
          // Not declared as written: the declared name it equals without regard to case, as Graph
          // reads it (`DisplayName`), so that the answer's members are the declared names.
          const folded = foldedName(n, selectable, selectable)
          if (typeof folded === "string") {
            names[i] = folded
            continue
          }
          if (folded !== undefined) return bad(`$select: ${ambiguous(n, folded)}`)
          const item = selectItem(n, selectable, derived, expandable)
          if (!item.ok) return bad(item.message)
          names[i] = item.name
        }
        // `*` is every structural property: the same members as no `$select` (the context says `(*)`).
        selectAll = names.includes("*")
        // Each name once (since 0.16.0): every entity of the answer is projected by the list, and a
        // review's `$select=id,id,…` (5 000 names, 15 KB) made a page cost ten times its work.
        select = selectAll ? undefined : [...new Set(names)]
        break
      }
      case "$filter": {
        if (filterable !== undefined) {
          const r = parseObjectFilter(value, filterable)
          if (!r.ok) return r
          where = r.filter
          break
        }
        const r = parseFilter(value)
        if (!r.ok) return r
        filter = r.filter
        break
      }
      case "$expand": {
        const r = parseExpand(value, expandable!)
        if (typeof r === "string") return bad(r)
        expand = r
        break
      }
    }
  }
  const query: Query = { top, after, count, select, filter }
  return {
    ok: true,
    query: ref === undefined && expand === undefined && where === undefined && !selectAll
      ? query
      : { ...query, ref, expand, where, ...(selectAll ? { selectAll } : {}) }
  }
}

/** `name` as `names` declares it: itself, or the one declared name equal to it without regard to case ({@link foldedName}). */
const declared = (name: string, names: ReadonlyArray<string>): string | AmbiguousName | undefined =>
  names.includes(name) ? name : foldedName(name, names, names)

/**
 * `$expand`: navigation properties of the route (`*` for all), comma-separated, their names
 * without regard to case (since 0.6.1; `Assignments` expands `assignments`); the
 * names in the route's order, or the 400's message. Options inside an expansion
 * (`assignments($select=id)`) are refused: the whole navigation is expanded.
 */
const parseExpand = (value: string, expandable: ReadonlyArray<string>): ReadonlyArray<string> | string => {
  const names = new Set<string>()
  for (const raw of value.split(",")) {
    const n = raw.trim()
    if (n === "*") {
      for (const e of expandable) names.add(e)
      continue
    }
    const paren = n.indexOf("(")
    if (paren !== -1) {
      const nav = declared(n.slice(0, paren).trim(), expandable)
      if (typeof nav === "string") return `$expand: options inside an expansion ('${n.slice(0, 80)}') are not supported; expand '${nav}' whole`
    }
    const nav = declared(n, expandable)
    if (nav instanceof AmbiguousName) return `$expand: ${ambiguous(n, nav)}`
    if (nav === undefined) {
      return `$expand: '${n.slice(0, 80)}' is not a navigation property of this resource; expected ${expandable.map((e) => `'${e}'`).join(", ")} or *`
    }
    names.add(nav)
  }
  return expandable.filter((e) => names.has(e))
}

// ----- $filter -------------------------------------------------------------

type Token =
  | { readonly t: "word"; readonly v: string }
  | { readonly t: "string"; readonly v: string }
  | { readonly t: "("; readonly v: "(" }
  | { readonly t: ")"; readonly v: ")" }
  | { readonly t: ","; readonly v: "," }

const unsupported = (expr: string) => bad(`unsupported $filter expression: '${expr.slice(0, 200)}'; supported: source eq|ne '…', sourceId eq|ne '…' or null, target/groupId eq|ne '…' or null, isof(target,microsoft.graph.<targetType>) (the type quoted or not), joined with and / or, negated with not, and parentheses`)

/** The members of `source`'s enum type, as a filter compares them (case-sensitive, as OData's enum members are). */
const sources: ReadonlyArray<string> = Assignment.AssignmentSource.literals

/**
 * The target type an `isof` names: a qualified name as OData's grammar writes it
 * (`microsoft.graph.groupAssignmentTarget`) or quoted as a string, in either `@odata.type`
 * spelling (`#microsoft.graph.…` too), with the namespace or its alias `graph` (as in path
 * casts); undefined for anything else.
 */
const isofType = (arg: Token): AssignmentTarget.TypeName | undefined => {
  if (arg.t !== "word" && arg.t !== "string") return undefined
  const name = ODataType.parse(arg.v.replace(/^(#?)graph\./, "$1microsoft.graph."))
  return name !== undefined && AssignmentTarget.isTypeName(name) ? name : undefined
}

const tokenize = (text: string): Array<Token> | undefined => {
  const out: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === " " || c === "\t") {
      i++
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ t: c, v: c } as Token)
      i++
    } else if (c === "'") {
      let v = ""
      i++
      for (;;) {
        if (i >= text.length) return undefined
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'"
            i += 2
            continue
          }
          i++
          break
        }
        v += text[i]
        i++
      }
      // U+0000 is in no stored value, and PostgreSQL refuses it in a query: no match, said so.
      if (v.includes("\u0000")) return undefined
      out.push({ t: "string", v })
    } else {
      const m = /^[A-Za-z_#.$][A-Za-z0-9_#./$]*/.exec(text.slice(i))
      if (m === null) return undefined
      out.push({ t: "word", v: m[0] })
      i += m[0].length
    }
  }
  return out
}

/**
 * The properties (and the property path) the assignment `$filter` names, by their names without
 * regard to case: Graph resolves a `$filter`'s property names as its `$select`'s (`Source eq
 * 'direct'`, `target/GroupId eq 'g1'`); since 0.6.1.
 */
const assignmentFilterNames: ReadonlyMap<string, string> = new Map(
  ["source", "sourceId", "target", "target/groupId"].map((n) => [n.toLowerCase(), n])
)

/**
 * A `$filter` word as the parser reads it: `isof` in any case, a property's declared name when it
 * names one in any case, else the word as written.
 */
const assignmentFilterName = (word: string): string => {
  // A keyword, read without regard to case as the directory filter reads its own (`ISOF(…)`).
  if (word.toLowerCase() === "isof") return "isof"
  switch (word) {
    case "source":
    case "sourceId":
    case "target":
    case "target/groupId":
      return word
  }
  return assignmentFilterNames.get(word.toLowerCase()) ?? word
}

/** The longest assignment `$filter` read, in characters. */
const maxFilterLength = 2000
/** The deepest nesting of parentheses and `not` in an assignment `$filter`. */
const maxFilterNesting = 16

/** An assignment `$filter` nested deeper than {@link maxFilterNesting}. */
class TooDeep {}

/** A `source` literal that is no member of its enum. */
class NotAMember {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
}

/**
 * Parses the supported `$filter` subset into the core's {@link AssignmentFilter}: `eq` and `ne`
 * (`not (… eq …)`) on `source`, `sourceId` and `target/groupId`, `isof(target, T)`, `and`, `or`,
 * `not` and parentheses, the keywords in any case (`NOT (…)`, as Graph's documentation writes it,
 * and as the directory filter reads them). Null is OData 4.01's: an ordinary value in `eq` and `ne`, and
 * `target/groupId` is null wherever the target has no `groupId` (the core's rule).
 */
export const parseFilter = (text: string): { readonly ok: true; readonly filter: Filter } | { readonly ok: false; readonly problem: Problem.Problem } => {
  // The bounds say themselves (since 0.8.0; before, "unsupported $filter expression", as if its form were wrong).
  if (text.length > maxFilterLength) return bad(`$filter: the expression is longer than ${maxFilterLength} characters`) as any
  const tokens = tokenize(text)
  if (tokens === undefined || tokens.length === 0) return unsupported(text) as any
  let pos = 0
  let depth = 0
  const peek = () => tokens[pos]
  const word = (w: string) => {
    const t = tokens[pos]
    // The keywords (`and`, `or`, `not`, `eq`, `ne`) in any case, as the directory filter reads them (`NOT (…)`).
    if (t !== undefined && t.t === "word" && t.v.toLowerCase() === w) {
      pos++
      return true
    }
    return false
  }
  const expect = (t: Token["t"]) => {
    const tok = tokens[pos]
    if (tok === undefined || tok.t !== t) throw new Error("syntax")
    pos++
    return tok
  }
  const parseOr = (): Filter => {
    let left = parseAnd()
    while (word("or")) left = { _tag: "Or", left, right: parseAnd() }
    return left
  }
  const parseAnd = (): Filter => {
    let left = parseUnary()
    while (word("and")) left = { _tag: "And", left, right: parseUnary() }
    return left
  }
  // `not` binds tighter than `eq` (OData's precedence): its operand is a Boolean expression, a
  // parenthesized one, `isof(…)` or another `not`; `not source eq 'direct'` would negate an enum.
  const parseUnary = (): Filter => {
    if (!word("not")) return parsePrimary()
    const t = peek()
    if (t === undefined || t.t !== "(" && !(t.t === "word" && (t.v.toLowerCase() === "not" || assignmentFilterName(t.v) === "isof"))) throw new Error("not")
    if (++depth > maxFilterNesting) throw new TooDeep()
    const operand = parseUnary()
    depth--
    return { _tag: "Not", operand }
  }
  /** `eq` or `ne` after a property: `ne` is `not (… eq …)`, null being an ordinary value for both (OData 4.01). */
  const comparison = (): ((f: Filter) => Filter) => {
    if (word("eq")) return (f) => f
    if (word("ne")) return (f) => ({ _tag: "Not", operand: f })
    throw new Error("op")
  }
  const literal = (): string | null => {
    const t = peek()
    if (t?.t === "word" && t.v === "null") {
      pos++
      return null
    }
    return expect("string").v
  }
  const parsePrimary = (): Filter => {
    const t = peek()
    if (t === undefined) throw new Error("syntax")
    if (t.t === "(") {
      if (++depth > maxFilterNesting) throw new TooDeep()
      pos++
      const inner = parseOr()
      expect(")")
      depth--
      return inner
    }
    if (t.t !== "word") throw new Error("syntax")
    pos++
    switch (assignmentFilterName(t.v)) {
      case "isof": {
        expect("(")
        const arg = expect("word")
        if (assignmentFilterName(arg.v) !== "target") throw new Error("isof")
        expect(",")
        const type = peek()
        const name = type === undefined ? undefined : isofType(type)
        if (name === undefined) throw new Error("type")
        pos++
        expect(")")
        return { _tag: "TargetIsOf", type: name }
      }
      case "source": {
        const op = comparison()
        const v = literal()
        if (v === null) throw new Error("null")
        // An enum's literal that is no member of it is a 400, as Graph answers it, not an empty list.
        if (!sources.includes(v)) throw new NotAMember(v)
        return op({ _tag: "SourceEq", value: v })
      }
      case "sourceId": {
        const op = comparison()
        return op({ _tag: "SourceIdEq", value: literal() })
      }
      case "target/groupId": {
        const op = comparison()
        return op({ _tag: "TargetGroupIdEq", value: literal() })
      }
      default:
        throw new Error("field")
    }
  }
  try {
    const f = parseOr()
    if (pos !== tokens.length) return unsupported(text) as any
    return { ok: true, filter: f }
  } catch (e) {
    if (e instanceof TooDeep) return bad(`$filter: parentheses and not nest deeper than ${maxFilterNesting} levels`) as any
    if (e instanceof NotAMember) {
      return bad(`$filter: '${e.value.slice(0, 80)}' is not a value of source (deviceAndAppManagementAssignmentSource); expected one of ${sources.map((v) => `'${v}'`).join(", ")}`) as any
    }
    return unsupported(text) as any
  }
}

/** A `$filter` over an object's own properties, as a predicate on the object as written. */
export type ObjectFilter = (o: Readonly<Record<string, unknown>>) => boolean

/** A directory `$filter`'s value on one object: true, false, or null (unknown), as OData's logic has it. */
type Tri = (o: Readonly<Record<string, unknown>>) => boolean | null

const isWord = (t: Token | undefined, w: string): boolean => t?.t === "word" && t.v.toLowerCase() === w

/**
 * The properties a list's `$filter` may name, and their types: a string, a Boolean, or (since
 * 0.18.0) an enum, by its type's name and members (`deviceEnrollmentConfigurationType`).
 */
export type FilterableProps = Readonly<Record<string, FilterableKind>>

/**
 * What a `$filter` property is. An enum's literal must be one of its members, written as the
 * member is (OData's enum members are case-sensitive): another is a 400 naming them, as Graph
 * answers it, never an empty list or a match by case.
 *
 * @since 0.18.0
 */
export type FilterableKind = "string" | "boolean" | FilterableEnum

/** An enum property of a `$filter`: its type's name (for messages) and its members. */
export interface FilterableEnum {
  readonly enum: string
  readonly members: ReadonlyArray<string>
}

/** The kind's name in a message: `a string`, `a Boolean`, `an enum (name)`. */
const kindName = (kind: FilterableKind | undefined): string =>
  kind === "boolean" ? "a Boolean" : kind === "string" || kind === undefined ? "a string" : `an enum (${kind.enum})`

/**
 * A directory list's `$filter` (users, groups, invitations), as Graph's directory
 * answers the common forms: `p eq v`, `p ne v`, `p in (v, …)`, `startswith(p,'x')`,
 * `not`, `and`, `or` and parentheses, over the listed properties; `v` a string, `true`,
 * `false` or `null`; a Boolean property alone (`accountEnabled`, `not accountEnabled`). Strings
 * compare without regard to case, as the directory does (`userPrincipalName eq 'ADA@contoso.com'`
 * finds `ada@contoso.com`); an enum's value (since 0.18.0) is one of its members as written, and
 * `startswith` does not take one.
 *
 * Null is OData 4.01's (URL Conventions 5.1.1): an absent property is null; `eq`, `ne` and `in`
 * are ordinary comparisons in which null equals null and nothing else (`userType ne 'Guest'` and
 * `not (userType eq 'Guest')` keep an object without a `userType`); a function or `not` over null
 * is null (unknown: `startswith(mail,'a')` over no mail, `not accountEnabled` over no
 * `accountEnabled`), `and` and `or` are three-valued, and an object is kept only where the whole
 * expression is true. `not` binds tighter than `eq`, as OData's precedence has it:
 * `not accountEnabled eq true` is `(not accountEnabled) eq true`, and `not` over a string
 * property is a 400 (`not (userType eq 'Guest')` is the comparison negated).
 */
export const parseObjectFilter = (
  text: string,
  props: FilterableProps
): { readonly ok: true; readonly filter: ObjectFilter } | { readonly ok: false; readonly problem: Problem.Problem } => {
  const names = Object.keys(props)
  const refuse = (why: string) =>
    bad(`$filter: ${why}; supported: p eq v, p ne v, p in (v, …), startswith(p,'text'), not, and, or, parentheses, over ${names.join(", ")}`)
  if (text.length > 2000) return refuse("the expression is too long") as any
  const tokens = tokenize(text)
  if (tokens === undefined || tokens.length === 0) return refuse(`'${text.slice(0, 200)}' is not an expression`) as any
  let pos = 0
  let depth = 0
  class Refused {
    readonly why: string
    constructor(why: string) {
      this.why = why
    }
  }
  const peek = () => tokens[pos]
  const word = (w: string) => {
    const t = tokens[pos]
    if (t !== undefined && t.t === "word" && t.v.toLowerCase() === w) {
      pos++
      return true
    }
    return false
  }
  const expect = (t: Token["t"], what: string) => {
    const tok = tokens[pos]
    if (tok === undefined || tok.t !== t) throw new Refused(`expected ${what} at '${tokens.slice(pos).map((x) => x.t === "string" ? `'${x.v}'` : x.v).join(" ").slice(0, 80)}'`)
    pos++
    return tok
  }
  const property = () => {
    const t = expect("word", "a property")
    if (Object.hasOwn(props, t.v)) return t.v
    // Its declared name, when it names one without regard to case (`DisplayName`), as Graph reads it.
    const folded = foldedName(t.v, props, names)
    if (typeof folded === "string") return folded
    if (folded !== undefined) throw new Refused(ambiguous(t.v, folded))
    throw new Refused(`'${t.v.slice(0, 80)}' is not a property that can be filtered on`)
  }
  // A string property's value without regard to case; an enum's and a Boolean's as they are.
  const folding = (p: string) => (v: unknown) => (props[p] === "string" && typeof v === "string" ? v.toLowerCase() : v)
  const literal = (p: string): string | boolean | null => {
    const t = peek()
    const kind = props[p]
    if (t?.t === "string") {
      pos++
      if (kind === "boolean") throw new Refused(`${p} is boolean: compare it with true or false`)
      if (kind === "string") return t.v.toLowerCase()
      if (kind !== undefined && !kind.members.includes(t.v)) {
        throw new Refused(
          `'${t.v.slice(0, 80)}' is not a value of ${p} (${kind.enum}); expected one of ${kind.members.map((m) => `'${m}'`).join(", ")}`
        )
      }
      return t.v
    }
    if (t?.t === "word" && ["true", "false", "null"].includes(t.v)) {
      pos++
      if (t.v === "null") return null
      if (kind !== "boolean") throw new Refused(`${p} is ${kindName(kind)}: compare it with a quoted value`)
      return t.v === "true"
    }
    throw new Refused(`expected a value for ${p}`)
  }
  const parseOr = (): Tri => {
    let left = parseAnd()
    while (word("or")) {
      const a = left
      const b = parseAnd()
      left = (o) => {
        const x = a(o)
        if (x === true) return true
        const y = b(o)
        return y === true ? true : x === false && y === false ? false : null
      }
    }
    return left
  }
  const parseAnd = (): Tri => {
    let left = parseUnary()
    while (word("and")) {
      const a = left
      const b = parseUnary()
      left = (o) => {
        const x = a(o)
        if (x === false) return false
        const y = b(o)
        return y === false ? false : x === true && y === true ? true : null
      }
    }
    return left
  }
  const parseUnary = (): Tri => {
    if (!word("not")) return parsePrimary()
    if (++depth > 16) throw new Refused("not nests too deep")
    const t = peek()
    let inner: Tri
    if (t?.t === "word" && t.v.toLowerCase() !== "not" && t.v.toLowerCase() !== "startswith") {
      // `not p …`: OData's `not` binds tighter than `eq`, so it negates the property, which must be a Boolean.
      const p = property()
      if (props[p] !== "boolean") {
        throw new Refused(`not applies to a Boolean and ${p} is a string; to negate a comparison, write not (${p} eq …)`)
      }
      const negated: Tri = (o) => {
        const v = o[p] ?? null
        return typeof v === "boolean" ? !v : null
      }
      inner = compared(p, negated) ?? negated
    } else {
      inner = negation(parseUnary())
    }
    depth--
    return inner
  }
  /** `not` over a three-valued operand: unknown stays unknown. */
  const negation = (a: Tri): Tri => (o) => {
    const x = a(o)
    return x === null ? null : !x
  }
  /**
   * `eq v`, `ne v` or `in (v, …)` after an operand whose value `of` reads (a property's, or a
   * negated Boolean's), each true or false, null being a value like any other; undefined when no
   * comparison follows.
   */
  const compared = (p: string, of: (o: Readonly<Record<string, unknown>>) => unknown): Tri | undefined => {
    const fold = folding(p)
    if (word("eq")) {
      const v = literal(p)
      return (o) => fold(of(o)) === v
    }
    if (word("ne")) {
      const v = literal(p)
      return (o) => fold(of(o)) !== v
    }
    if (word("in")) {
      expect("(", "'(' after in")
      const values = [literal(p)]
      while (peek()?.t === ",") {
        pos++
        values.push(literal(p))
      }
      expect(")", "')'")
      return (o) => values.includes(fold(of(o)) as string | boolean | null)
    }
    return undefined
  }
  const parsePrimary = (): Tri => {
    const t = peek()
    if (t === undefined) throw new Refused("the expression ends too soon")
    if (t.t === "(") {
      if (++depth > 16) throw new Refused("parentheses nest too deep")
      pos++
      const inner = parseOr()
      expect(")", "')'")
      depth--
      return inner
    }
    if (t.t === "word" && t.v.toLowerCase() === "startswith") {
      pos++
      expect("(", "'('")
      const p = property()
      if (props[p] !== "string") throw new Refused(`startswith takes a string property; ${p} is ${kindName(props[p])}`)
      expect(",", "','")
      const prefix = expect("string", "a quoted prefix").v.toLowerCase()
      expect(")", "')'")
      // Over null (an absent property too) the function's value is null: unknown, not false.
      return (o) => {
        const v = o[p] ?? null
        return v === null ? null : typeof v === "string" && v.toLowerCase().startsWith(prefix)
      }
    }
    const p = property()
    const c = compared(p, (o) => o[p] ?? null)
    if (c !== undefined) return c
    // A Boolean property alone is its value (null when absent); any other needs a comparison.
    if (props[p] === "boolean" && (peek() === undefined || peek()!.t === ")" || isWord(peek(), "and") || isWord(peek(), "or"))) {
      return (o) => {
        const v = o[p] ?? null
        return typeof v === "boolean" ? v : null
      }
    }
    throw new Refused(`expected eq, ne or in after ${p}`)
  }
  try {
    const f = parseOr()
    if (pos !== tokens.length) return refuse(`unexpected '${tokens.slice(pos).map((x) => x.v).join(" ").slice(0, 80)}'`) as any
    // Kept only where the expression is true: false and null (unknown) leave the object out.
    return { ok: true, filter: (o) => f(o) === true }
  } catch (e) {
    if (e instanceof Refused) return refuse(e.why) as any
    throw e
  }
}

// ----- representation ------------------------------------------------------

/** `<base>/$metadata#<path>`. */
export const context = (base: string, path: string): string => `${base}/$metadata#${path}`

const entitySuffix = "/$entity"

/**
 * The select list an answer's `@odata.context` carries (OData 4.01 Protocol 10.9–10.12), or
 * undefined for none (no `$select` nor `$expand`: the context made once per path is written).
 * `$select`'s names ({@link Query.select}), or `*` for `$select=*` (every structural property, as
 * Graph writes it: `users(*)/$entity`), then each expanded navigation property suffixed with `()`,
 * as OData 4.01 writes an expansion without options and Graph writes `$expand=assignments`:
 * `deviceEnrollmentConfigurations(assignments())/$entity`. With only expansions listed, every
 * structural property is implied (OData's rule), so `$expand` alone keeps the members unchanged.
 */
export const selectList = (query: Query): ReadonlyArray<string> | undefined => {
  const { select, expand } = query
  if (select === undefined && query.selectAll !== true && expand === undefined) return undefined
  const names = select ?? (query.selectAll === true ? ["*"] : [])
  return expand === undefined ? names : [...names, ...expand.map((e) => `${e}()`)]
}

/**
 * The context of an answer under `$select` (since 0.6.1): `path` (an answer's context after
 * `#`) with the select list where OData's context URL grammar puts it, after the entity set or
 * path and before `/$entity`, as Graph writes it: `users(displayName)/$entity`,
 * `users(displayName,mail)`, `deviceManagement/deviceEnrollmentConfigurations('c1')/assignments(source)`.
 * The names as {@link parseQuery} read them (declared names), each once, in the order selected; a
 * derived type's property behind its cast with the cast as a qualified name
 * (`microsoft.graph.<type>/<property>`, whichever `@odata.type` spelling was sent); `*` and an
 * expansion (`assignments()`) as {@link selectList} writes them. Made per request, and only for
 * answers under `$select` or `$expand`: one without keeps the context made once per path.
 */
export const selectedContext = (path: string, select: ReadonlyArray<string>): string => {
  const names: Array<string> = []
  for (const n of select) {
    const slash = n.indexOf("/")
    const name = slash === -1 ? n : `${ODataType.namespace}.${ODataType.parse(n.slice(0, slash)) ?? n.slice(0, slash)}${n.slice(slash)}`
    if (!names.includes(name)) names.push(name)
  }
  const list = `(${names.join(",")})`
  return path.endsWith(entitySuffix) ? `${path.slice(0, -entitySuffix.length)}${list}${entitySuffix}` : `${path}${list}`
}

/**
 * A key in parenthesis form for an `@odata.context`: `('id')`, quotes doubled and percent-encoded as
 * in a resource path (since 0.9.0; before, written as it is, so a key with `#`, `%`, a space or any
 * character outside ASCII made the context no URL: `…('c#?x y%é')/assignments`). A lone surrogate,
 * which a store written before core 0.9.0 may hold in an id, is written as U+FFFD (as the SQL stores
 * keep it), not thrown on.
 */
export const key = (id: string): string => `('${encodeURIComponent(id.toWellFormed().replaceAll("'", "''"))}')`

/**
 * One entity as written: `@odata.context` (when given), `@odata.etag`, then the
 * entity's own members (their `@odata.type` first), projected by `$select`
 * (which always keeps `@odata.type` and `id`).
 */
export const entity = (value: Record<string, unknown>, select: ReadonlyArray<string> | undefined, ctx?: string): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (ctx !== undefined) out["@odata.context"] = ctx
  out["@odata.etag"] = ETag.of(value)
  if (select === undefined) {
    if (value["@odata.type"] !== undefined) out["@odata.type"] = value["@odata.type"]
    for (const k of Object.keys(value)) MergePatch.setOwn(out, k, value[k])
  } else {
    out["@odata.type"] = value["@odata.type"]
    out.id = value.id
    for (const k of select) {
      const slash = k.indexOf("/")
      if (slash === -1) {
        if (Object.hasOwn(value, k)) MergePatch.setOwn(out, k, value[k])
      } else {
        // A derived type's property behind its cast: only from entities of that type.
        const prop = k.slice(slash + 1)
        if (ODataType.parse(value["@odata.type"]) === ODataType.parse(k.slice(0, slash)) && Object.hasOwn(value, prop)) MergePatch.setOwn(out, prop, value[prop])
      }
    }
  }
  return out
}

/** An entity's representation without its context: its ETag and its JSON text from `@odata.etag` on. */
interface Written {
  readonly etag: string
  readonly json: string
}

/**
 * Representations already written, by entity value. Store values are never
 * changed in place (a change makes a new value), so an entity read again (from
 * the store's cache) is written without walking it again. Only reads remember:
 * a write's answer is a new value, written once, and remembering every one of
 * them costs memory under write load (measured: about 20–40 MiB of RSS).
 */
const written = new WeakMap<object, Written>()

/** True when `@odata.type` is the value's first member, as in every entity the core makes. */
const typeFirst = (value: Record<string, unknown>): boolean => {
  for (const k in value) return k === "@odata.type" && value[k] !== undefined
  return false
}

/**
 * {@link entity}'s text without its context. An entity whose `@odata.type` comes
 * first is written as it is, after its ETag: the same members in the same order,
 * without copying it into a new object first.
 */
const write = (value: Record<string, unknown>): Written => {
  if (!typeFirst(value)) {
    const out = entity(value, undefined)
    return { etag: out["@odata.etag"] as string, json: JSON.stringify(out) }
  }
  const etag = ETag.of(value)
  return { etag, json: `{"@odata.etag":${JSON.stringify(etag)},${JSON.stringify(value).slice(1)}` }
}

/**
 * The JSON text of {@link entity} with its context, and its ETag: the same
 * text as `JSON.stringify(entity(value, select, ctx))`. With `remember`, the
 * value's representation is kept for the next time it is written.
 */
export const entityJson = (
  value: Record<string, unknown>,
  select: ReadonlyArray<string> | undefined,
  ctx: string,
  remember: boolean
): Written => {
  if (select !== undefined) {
    const out = entity(value, select, ctx)
    return { etag: out["@odata.etag"] as string, json: JSON.stringify(out) }
  }
  let w = remember ? written.get(value) : undefined
  if (w === undefined) {
    w = write(value)
    if (remember) written.set(value, w)
  }
  return { etag: w.etag, json: `${contextMember(ctx)}${w.json.slice(1)}` }
}

let lastContext: string | undefined
let lastMember = ""

/** `{"@odata.context":<ctx>,`, made again only when the context is not the last one's. */
const contextMember = (ctx: string): string => {
  if (ctx !== lastContext) {
    lastContext = ctx
    lastMember = `{"@odata.context":${JSON.stringify(ctx)},`
  }
  return lastMember
}

