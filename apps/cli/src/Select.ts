/**
 * The `--select` check. The names an answer may be projected on are the ones
 * the server's `$select` takes on the route that reads that answer: the
 * http-adapter's route table and query parser (loaded only when `--select` is
 * given, see `Query.ts`) decide, as the server does. So both modes take the
 * same names (`*`, and a configuration's derived-type property behind its cast
 * when the server does) and refuse the others with the server's own 400:
 * `BadRequest`, exit 2, before anything is sent or written.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { CommandFailed } from "./Failure.ts"
import type { Operation } from "./Operation.ts"
import * as Query from "./Query.ts"

/**
 * Checks `select` against the route that reads what `operation` answers: the
 * operation's own route for a read, the GET of the same path for a create or a
 * PATCH (they answer the entity that GET reads). Operations that answer
 * nothing print nothing, so any `select` passes.
 */
export const check = (operation: Operation, select: ReadonlyArray<string> | undefined): Effect.Effect<void, CommandFailed> =>
  select === undefined ? Effect.void : Effect.asVoid(Query.parse(operation, { $select: select.join(",") }, "read"))
