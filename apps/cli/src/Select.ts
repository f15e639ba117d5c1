/**
 * The `--select` check. The names an answer may be projected on are the ones
 * the server's `$select` takes on the route that reads that answer: the
 * http-adapter's route table and query parser (loaded only when `--select` is
 * given) decide, as the server does. So both modes take the same names (`*`,
 * and a configuration's derived-type property behind its cast when the server
 * does) and refuse the others with the server's own 400: `BadRequest`, exit 2,
 * before anything is sent or written.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { classOfStatus } from "./ExitCode.ts"
import { CommandFailed } from "./Failure.ts"
import type { Operation } from "./Operation.ts"

/**
 * Checks `select` against the route that reads what `operation` answers: the
 * operation's own route for a read, the GET of the same path for a create or a
 * PATCH (they answer the entity that GET reads). Operations that answer
 * nothing print nothing, so any `select` passes.
 */
export const check = (operation: Operation, select: ReadonlyArray<string> | undefined): Effect.Effect<void, CommandFailed> => {
  if (select === undefined) return Effect.void
  const modules = Effect.promise(() => Promise.all([import("@enrollment/http-adapter"), import("./Remote.ts")]))
  return Effect.flatMap(modules, ([{ OData, Router, Routes }, { requestOf }]) => {
    const request = requestOf(operation)
    const path = `/${request.path}`
    const router = Router.make(Routes.routes)
    const own = router.match(request.method, path)
    if (own._tag !== "Found" || own.route.response.status === 204) return Effect.void
    const read = request.method === "GET" ? own : router.match("GET", path)
    if (read._tag !== "Found") return Effect.void
    const { route } = read
    const query = new URLSearchParams({ $select: select.join(",") }).toString()
    const r = OData.parseQuery(query, route.query, route.selectable, route.derived)
    if (r.ok) return Effect.void
    return Effect.fail(
      new CommandFailed({ code: r.problem.code, detail: r.problem.message, exit: classOfStatus(r.problem.status), status: r.problem.status })
    )
  })
}
