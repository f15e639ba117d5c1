/**
 * Turning schema decode failures into the domain's {@link InvalidInput}, with a
 * message that says where (a JSON path like `target.groupId`) and what was found:
 * `target.groupId: expected a string or null, got 42`.
 *
 * @since 0.1.0
 */
import { Result, Schema, SchemaAST, SchemaIssue } from "effect"
import * as SchemaJITCompiler from "effect/schema/SchemaJITCompiler"
import { InvalidInput, invalid } from "./Errors.ts"
import * as Json from "./Json.ts"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** A JSON path as Graph error messages write it: `a.b[0].c`. */
export const joinPath = (base: string, segments: ReadonlyArray<PropertyKey>): string => {
  let out = base
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`
    else out += out === "" ? String(s) : `.${String(s)}`
  }
  return out
}

const at = (value: unknown, segments: ReadonlyArray<PropertyKey>): unknown => {
  let v: any = value
  for (const s of segments) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, s as any)) return undefined
    v = v[s as any]
  }
  return v
}

const lowerFirst = (s: string) => s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s

const article: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  null: "null"
}

const stringLiteral = /^"((?:[^"\\]|\\.)*)"$/

/**
 * Schema's "string | null" as a person says it: "a string or null"; a union of
 * string literals (`"none" | "include"`) as "one of 'none', 'include'".
 */
const readable = (expected: string): string => {
  const parts = expected.split(" | ")
  if (parts.every((p) => stringLiteral.test(p))) {
    return `one of ${parts.map((p) => `'${JSON.parse(p) as string}'`).join(", ")}`
  }
  if (!parts.every((p) => Object.hasOwn(article, p))) return expected
  const words = parts.map((p) => article[p]!)
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`
}

/** The first problem of a schema issue, as an {@link InvalidInput} rooted at `path`. */
export const fromIssue = (issue: SchemaIssue.Issue, input: unknown, path: string): InvalidInput => {
  const first = formatter(issue).issues[0]
  if (first === undefined) return invalid.value(path, "a valid value", Json.show(input))
  const segments = (first.path ?? []).map((p: any) => (typeof p === "object" && p !== null ? p.key : p)) as Array<
    PropertyKey
  >
  const where = joinPath(path, segments)
  const actual = at(input, segments)
  if (first.message === "Expected no excess property") {
    const key = String(segments[segments.length - 1])
    // The type is named by its schema's identifier (since 0.12.2; before, "this type").
    return invalid.unknown(where, key, unexpectedKeyType(issue) ?? "this type")
  }
  if (first.message === "Missing key") return invalid.required(where, "a value")
  const expected = readable(lowerFirst(first.message.replace(/^Expected /, "")))
  if (actual === null) return invalid.nullNotAllowed(where, expected)
  return invalid.value(where, expected, Json.show(actual))
}

/** The identifier of the type an issue's first unexpected key was found in, if its schema names one. */
const unexpectedKeyType = (issue: SchemaIssue.Issue): string | undefined => {
  const node = issue as { readonly _tag: string; readonly ast?: SchemaAST.AST; readonly issue?: SchemaIssue.Issue; readonly issues?: ReadonlyArray<SchemaIssue.Issue> }
  if (node._tag === "UnexpectedKey") return node.ast === undefined ? undefined : SchemaAST.resolveIdentifier(node.ast)
  if (node.issue !== undefined) return unexpectedKeyType(node.issue)
  for (const i of node.issues ?? []) {
    const found = unexpectedKeyType(i)
    if (found !== undefined) return found
  }
  return undefined
}

const parseOptions = { onExcessProperty: "error", errors: "first" } as const

/**
 * `Schema.is(schema)`, compiled: Effect's JIT schema compiler turns the schema's
 * type side into one function (it falls back to the interpreter where it cannot),
 * for guards that run on every request. The verdicts are the schema's (tests: every
 * generated assignment passes, each kind of broken one is refused); what changes is
 * the cost: an assignment is checked in about a third of the time (BENCHMARKS.md).
 *
 * @since 0.2.4
 */
export const guard = <S extends Schema.Top>(schema: S): (u: unknown) => u is S["Type"] => {
  SchemaJITCompiler.enable(SchemaAST.toType(schema.ast))
  return Schema.is(schema)
}

/**
 * A decoder for a schema that fails with {@link InvalidInput} rooted at a path.
 * Build it once (it caches the compiled parser) and call it per value.
 */
export const decoder = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const decode = Schema.decodeUnknownResult(schema as any, parseOptions) as (
    u: unknown
  ) => Result.Result<S["Type"], Schema.SchemaError>
  return (input: unknown, path: string = ""): Result.Result<S["Type"], InvalidInput> => {
    const r = decode(input)
    return Result.isSuccess(r) ? r as any : Result.fail(fromIssue(r.failure.issue, input, path))
  }
}
