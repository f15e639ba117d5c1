/**
 * The query options of an operation as the server reads them. The
 * http-adapter's route table finds the route that serves the operation's
 * request, and its query parser (`OData.parseQuery`) reads the options with
 * that route's own rules: the properties `$select` may name and `$filter` may
 * compare (a directory list's `filterable`), the navigation properties
 * `$expand` may name. So the CLI keeps no list of its own, and a refused
 * option fails with the server's 400: `BadRequest`, exit 2. Both are loaded
 * only when an option is given, so a command without one loads neither.
 *
 * @since 0.1.0
 */
import type { OData } from "@enrollment/http-adapter"
import * as Effect from "effect/Effect"
import { classOfStatus } from "./ExitCode.ts"
import { CommandFailed } from "./Failure.ts"
import type { Operation } from "./Operation.ts"

/** Which route reads the options: the operation's own, or the GET of its path (what reads a create's or a PATCH's answer). */
export type On = "own" | "read"

const modules = Effect.promise(() => Promise.all([import("@enrollment/http-adapter"), import("./Remote.ts")]))

/**
 * Reads `options` (`{ $filter: "…" }`; undefined entries left out) as the server
 * reads them on the route `on` names: the parsed query, or the server's 400 as a
 * {@link CommandFailed}. Undefined when no such route answers anything (a route
 * that answers 204 prints nothing, so nothing is read).
 */
export const parse = (
  operation: Operation,
  options: Readonly<Record<string, string | undefined>>,
  on: On = "own"
): Effect.Effect<OData.Query | undefined, CommandFailed> =>
  Effect.flatMap(modules, ([{ OData, Router, Routes }, { requestOf }]) => {
    const request = requestOf(operation)
    const path = `/${request.path}`
    const router = Router.make(Routes.routes)
    const own = router.match(request.method, path)
    if (own._tag !== "Found" || own.route.response.status === 204) return Effect.succeed(undefined)
    const found = on === "own" || request.method === "GET" ? own : router.match("GET", path)
    if (found._tag !== "Found") return Effect.succeed(undefined)
    const { route } = found
    const given = Object.entries(options).filter((e): e is [string, string] => e[1] !== undefined)
    const r = OData.parseQuery(new URLSearchParams(given).toString(), route.query, route.selectable, route.derived, route.expandable, route.filterable)
    if (r.ok) return Effect.succeed(r.query)
    return Effect.fail(
      new CommandFailed({ code: r.problem.code, detail: r.problem.message, exit: classOfStatus(r.problem.status), status: r.problem.status })
    )
  })
