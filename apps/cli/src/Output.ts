/**
 * Printing answers: `json` (the Graph JSON; a list prints as an array),
 * `yaml`, or `table` (aligned columns chosen per entity type, targets written
 * for people: `group g1 (filter f1 include)`). `--select a,b` keeps those
 * properties, in that order, as the server's `$select` names them (the
 * declared names `Select.check` answers for the names typed): `*` keeps
 * every property, and a derived type's property behind its cast
 * (`microsoft.graph.deviceEnrollmentLimitConfiguration/limit`) prints as the
 * property (`limit`), from entities of that type. Expanded navigation
 * properties (`--expand assignments`) print after the selected ones, as the
 * server writes them after a `$select`; a table shows an assignments column
 * with their targets.
 *
 * @since 0.1.0
 */
import type { Answer } from "./Operation.ts"

/** An output format. */
export type Format = "table" | "json" | "yaml"

type Row = Record<string, unknown>

/** The format to use: the one asked for, else a table on a terminal and JSON when piped. */
export const formatOf = (asked: Format | undefined, isTTY: boolean): Format => asked ?? (isTTY ? "table" : "json")

/** The `--select` list, trimmed, empty entries dropped. */
export const parseSelect = (select: string | undefined): ReadonlyArray<string> | undefined => {
  if (select === undefined) return undefined
  const keys = select.split(",").map((s) => s.trim()).filter((s) => s !== "")
  return keys.length === 0 ? undefined : keys
}

/**
 * The projection a `--select` list asks for: none (every property) when it names `*`;
 * expanded navigation properties are kept after the selected ones (the server's
 * `$select` chooses an entity's own members only).
 */
const projection = (select: ReadonlyArray<string> | undefined, expanded: ReadonlyArray<string> = []): ReadonlyArray<string> | undefined =>
  select === undefined || select.includes("*") ? undefined : [...select, ...expanded.filter((e) => !select.includes(e))]

/** The name a `--select` item prints under: `p` for a cast `microsoft.graph.T/p`. */
const selectedName = (item: string): string => item.slice(item.indexOf("/") + 1)

/**
 * The selected properties of a row, absent ones as null. A cast that names
 * another type than the row's selects nothing from it (two casts may name the
 * same property of two types).
 */
const pick = (row: Row, keys: ReadonlyArray<string> | undefined): Row => {
  if (keys === undefined) return row
  const out: Row = {}
  for (const k of keys) {
    const slash = k.indexOf("/")
    const name = selectedName(k)
    const ofRow = slash === -1 || bareType(row["@odata.type"]) === bareType(k.slice(0, slash))
    if (ofRow && Object.hasOwn(row, name)) out[name] = row[name]
    else if (!Object.hasOwn(out, name)) out[name] = null
  }
  return out
}

const bareType = (t: unknown): string =>
  typeof t === "string" ? t.replace(/^#?microsoft\.graph\./, "") : ""

/** A target as a person reads it: `group g1 (filter f1 include)`, `all devices`, `-` for none. */
export const targetText = (target: unknown): string => {
  if (target === null || target === undefined || typeof target !== "object") return "-"
  const t = target as Row
  const id = (v: unknown) => (typeof v === "string" ? v : "-")
  let text: string
  switch (bareType(t["@odata.type"])) {
    case "groupAssignmentTarget":
      text = `group ${id(t.groupId)}`
      break
    case "exclusionGroupAssignmentTarget":
      text = `exclusion group ${id(t.groupId)}`
      break
    case "allDevicesAssignmentTarget":
      text = "all devices"
      break
    case "allLicensedUsersAssignmentTarget":
      text = "all licensed users"
      break
    case "configurationManagerCollectionAssignmentTarget":
      text = `collection ${id(t.collectionId)}`
      break
    default:
      text = bareType(t["@odata.type"]) || "target"
  }
  const filterType = t.deviceAndAppManagementAssignmentFilterType
  if (typeof filterType === "string" && filterType !== "none") {
    text += ` (filter ${id(t.deviceAndAppManagementAssignmentFilterId)} ${filterType})`
  }
  return text
}

type Column = readonly [header: string, cell: (row: Row) => unknown]

const col = (header: string, key: string): Column => [header, (r) => r[key]]

const columnSets: Record<string, ReadonlyArray<Column>> = {
  assignment: [col("ID", "id"), ["TARGET", (r) => targetText(r.target)], col("SOURCE", "source"), col("SOURCE ID", "sourceId")],
  configuration: [
    col("ID", "id"),
    col("DISPLAY NAME", "displayName"),
    ["TYPE", (r) => bareType(r["@odata.type"])],
    col("PRIORITY", "priority"),
    col("VERSION", "version"),
    col("MODIFIED", "lastModifiedDateTime")
  ],
  user: [
    col("ID", "id"),
    col("DISPLAY NAME", "displayName"),
    col("USER PRINCIPAL NAME", "userPrincipalName"),
    col("MAIL", "mail"),
    col("TYPE", "userType"),
    col("ENABLED", "accountEnabled")
  ],
  group: [col("ID", "id"), col("DISPLAY NAME", "displayName"), col("MAIL NICKNAME", "mailNickname"), col("SECURITY", "securityEnabled")],
  invitation: [
    col("ID", "id"),
    col("EMAIL", "invitedUserEmailAddress"),
    col("DISPLAY NAME", "invitedUserDisplayName"),
    col("TYPE", "invitedUserType"),
    col("STATUS", "status")
  ],
  directoryObject: [col("ID", "id"), ["KIND", (r) => bareType(r["@odata.type"])], col("DISPLAY NAME", "displayName")]
}

const kindOf = (row: Row): string => {
  const t = bareType(row["@odata.type"])
  if (t === "enrollmentConfigurationAssignment") return "assignment"
  if (t === "user" || t === "group" || t === "invitation") return t
  if ("deviceEnrollmentConfigurationType" in row) return "configuration"
  return "other"
}

/** The kind of entity an operation answers with (for the columns of an empty table). */
export const kindOfOperation = (tag: string): string => {
  const noun = tag.split(".")[0]
  if (tag === "invitations.invitedUser") return "user"
  return ({ assignments: "assignment", configurations: "configuration", users: "user", groups: "group", members: "directoryObject", memberOf: "group", transitiveMembers: "directoryObject", invitations: "invitation" } as Record<string, string>)[noun ?? ""] ?? "other"
}

/** An expanded navigation property's column: `assignments` as their targets, `; `-separated. */
const expandedColumn = (name: string): Column =>
  name === "assignments"
    ? ["ASSIGNMENTS", (r) => Array.isArray(r.assignments) && r.assignments.length > 0 ? r.assignments.map((a: Row) => targetText(a?.target)).join("; ") : undefined]
    : col(name.toUpperCase(), name)

const columnsFor = (
  rows: ReadonlyArray<Row>,
  select: ReadonlyArray<string> | undefined,
  hint?: string,
  expanded: ReadonlyArray<string> = []
): ReadonlyArray<Column> => {
  const navigation = expanded.map(expandedColumn)
  if (select !== undefined) {
    const own = select.filter((k) => !expanded.includes(k))
    return [
      ...[...new Set(own.map(selectedName))].map((name): Column => [
        name.toUpperCase(),
        name === "target" && own.includes("target") ? (r) => targetText(r.target) : (r) => pick(r, own)[name]
      ]),
      ...navigation
    ]
  }
  return [...ownColumns(rows, hint, expanded), ...navigation]
}

const ownColumns = (rows: ReadonlyArray<Row>, hint: string | undefined, expanded: ReadonlyArray<string>): ReadonlyArray<Column> => {
  const kinds = new Set(rows.map(kindOf))
  const kind = rows.length === 0 && hint !== undefined ? hint : kinds.size === 1 ? [...kinds][0]! : [...kinds].every((k) => k === "user" || k === "group") ? "directoryObject" : "other"
  const set = columnSets[kind]
  if (set !== undefined) return set
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))]
    .filter((k) => (!k.startsWith("@odata.") || k === "@odata.type") && !expanded.includes(k))
  return keys.map((k) => col(k.toUpperCase(), k))
}

/**
 * The characters a table shows as a space: what a terminal acts on rather than shows (the C0 and
 * C1 controls, DEL, U+2028 and U+2029; U+009B starts a command as ESC [ does) and the bidirectional
 * controls, which reorder the rest of the line.
 */
const unshown = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const cellText = (v: unknown): string => {
  if (v === null || v === undefined) return "-"
  if (typeof v === "string") return v.replace(unshown, " ")
  // JSON escapes the C0 controls, not the rest.
  if (typeof v === "object") return JSON.stringify(v).replace(unshown, " ")
  return String(v)
}

/** Rows as aligned columns, headers first. */
export const table = (rows: ReadonlyArray<Row>, select?: ReadonlyArray<string>, hint?: string, expanded?: ReadonlyArray<string>): string => {
  const columns = columnsFor(rows, select, hint, expanded)
  const cells = [columns.map(([h]) => h), ...rows.map((r) => columns.map(([, f]) => cellText(f(r))))]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)))
  return cells.map((line) => line.map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd())
    .join("\n") + "\n"
}

const plain = /^[A-Za-z0-9_][A-Za-z0-9_ ./+=-]*$/
/**
 * Plain scalars a YAML 1.1 or 1.2 reader takes for something other than a string (the
 * characters `plain` allows rule out the rest: `~`, `.inf`, signs, times with `:`):
 * booleans (1.1's `y`, `yes`, `on`, … too), null, numbers in every base either version reads
 * (1.1's `_` separators, `0b…`, and its float that may hold several dots), and 1.1's dates
 * (`2024-01-01`; a timestamp with a time holds `:`).
 */
const reserved =
  /^(?:true|false|null|yes|no|on|off|y|n|[\d_]+(?:\.[\d_.]*)?(?:e[-+]?\d+)?|0x[\da-f_]+|0o[0-7_]+|0b[01_]+|\d{4}-\d\d?-\d\d?(?:[t ].*)?)$/i

/**
 * The characters JSON leaves as they are that a YAML double-quoted scalar must not hold as they are:
 * DEL and the C1 controls (YAML's non-printable characters, which a reader refuses), NEL (U+0085),
 * U+2028 and U+2029 (YAML 1.1's line breaks: a 1.1 reader folds them into a space), the byte order
 * mark (U+FEFF) and the noncharacters U+FFFE and U+FFFF.
 */
const yamlUnsafe = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g

/** YAML's own escapes for its line breaks; the rest as `\uXXXX`, which YAML 1.1 and 1.2 read alike. */
const yamlEscapes: Record<string, string> = { "\u0085": "\\N", "\u2028": "\\L", "\u2029": "\\P" }

/** A string as a YAML double-quoted scalar: JSON's string (whose escapes YAML reads), with {@link yamlUnsafe} escaped too. */
const yamlQuoted = (s: string): string =>
  JSON.stringify(s).replace(yamlUnsafe, (c) => yamlEscapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

const yamlScalar = (v: unknown): string => {
  if (v === null || v === undefined) return "null"
  if (typeof v === "number" || typeof v === "boolean") return String(v)
  const s = String(v)
  return plain.test(s) && !s.endsWith(" ") && !reserved.test(s) ? s : yamlQuoted(s)
}

/** A JSON value as YAML (block style; strings quoted whenever a plain scalar could be misread). */
export const yaml = (value: unknown, indent = ""): string => {
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}[]\n`
    return value.map((item) => {
      if (item !== null && typeof item === "object" && !(Array.isArray(item) && item.length === 0) && Object.keys(item).length > 0) {
        const inner = yaml(item, `${indent}  `)
        return `${indent}- ${inner.slice(indent.length + 2)}`
      }
      return `${indent}- ${inlineYaml(item)}\n`
    }).join("")
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
    if (entries.length === 0) return `${indent}{}\n`
    return entries.map(([k, v]) => {
      const key = yamlScalar(k)
      if (v !== null && typeof v === "object" && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0)) {
        return `${indent}${key}:\n${yaml(v, Array.isArray(v) ? indent : `${indent}  `)}`
      }
      return `${indent}${key}: ${inlineYaml(v)}\n`
    }).join("")
  }
  return `${indent}${yamlScalar(value)}\n`
}

const inlineYaml = (v: unknown): string =>
  Array.isArray(v) ? "[]" : v !== null && typeof v === "object" ? "{}" : yamlScalar(v)

/** The text to print for an answer (empty for none). */
export const render = (
  answer: Answer,
  options: { readonly format: Format; readonly select?: ReadonlyArray<string> | undefined; readonly kind?: string | undefined }
): string => {
  const { format, kind } = options
  if (answer._tag === "None") return ""
  const expanded = answer.expanded ?? []
  const select = projection(options.select, expanded)
  switch (answer._tag) {
    case "Entity": {
      const value = pick(answer.value, select)
      if (format === "json") return `${JSON.stringify(value, null, 2)}\n`
      if (format === "yaml") return yaml(value)
      return table([answer.value], select, kind, expanded)
    }
    case "List": {
      const items = answer.items.map((r) => pick(r, select))
      if (format === "json") return `${JSON.stringify(items, null, 2)}\n`
      if (format === "yaml") return yaml(items)
      return table(answer.items, select, kind, expanded)
    }
  }
}
