/**
 * The `--select` check. The names an answer may be projected on are the ones
 * the server's `$select` takes on the route that reads that answer: the
 * http-adapter's route table and query parser (loaded only when `--select` is
 * given, see `Query.ts`) decide, as the server does. So both modes take the
 * same names (`*`, and a configuration's derived-type property behind its cast
 * when the server does) and refuse the others with the server's own 400:
 * `BadRequest`, exit 2, before anything is sent or written. The names taken are
 * read as the server reads them, without regard to case, each standing for its
 * declared name (`DisplayName` for `displayName`), and printed under that name.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { CommandFailed } from "./Failure.ts"
import type { Operation } from "./Operation.ts"
import * as Query from "./Query.ts"

/**
 * Checks `select` against the route that reads what `operation` answers (the operation's own
 * route for a read, the GET of the same path for a create or a PATCH: they answer the entity
 * that GET reads), and answers the names to print, as that route's `$select` reads them
 * (`OData.parseQuery`): each the declared name it equals without regard to case (`DisplayName`
 * is `displayName`; `microsoft.graph.deviceEnrollmentLimitConfiguration/Limit` is
 * `…/limit`, the property as its type declares it), undefined for every property (`*`).
 * Operations that answer nothing print nothing, so any `select` passes, as it is.
 */
export const check = (
  operation: Operation,
  select: ReadonlyArray<string> | undefined
): Effect.Effect<ReadonlyArray<string> | undefined, CommandFailed> =>
  select === undefined
    ? Effect.succeed(undefined)
    : Effect.map(Query.parse(operation, { $select: select.join(",") }, "read"), (query) => query === undefined ? select : query.select)
