/**
 * Why something failed, in one line for an operator: the error's own message and
 * its innermost cause's (`the store is unavailable: connect ECONNREFUSED
 * 127.0.0.1:5432`, `… : file is not a database`), no stack trace, and no
 * credentials of a connection URL (`Credentials.redact`, the CLI's rule too).
 *
 * @since 0.1.0
 */
import { Problem } from "@enrollment/http-adapter"
import * as Credentials from "@enrollment/store-adapter/Credentials"
import { Option, Redacted } from "effect"

/** The error's message, followed by its innermost cause's when that says something more (`Problem.causeChain`). */
export const of = (error: unknown, databaseUrl: Option.Option<Redacted.Redacted<string>> = Option.none()): string =>
  redact(Problem.causeChain(error), databaseUrl)

/** `text` without the connection URL (shown as `(DATABASE_URL)`) or its password, and without any URL's credentials. */
export const redact = (text: string, databaseUrl: Option.Option<Redacted.Redacted<string>> = Option.none()): string =>
  Credentials.redact(text, Option.isSome(databaseUrl) ? Redacted.value(databaseUrl.value) : undefined, "(DATABASE_URL)")
