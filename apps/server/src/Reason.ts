/**
 * Why something failed, in one line for an operator: the error's own message and
 * its innermost cause's (`the store is unavailable: connect ECONNREFUSED
 * 127.0.0.1:5432`, `… : file is not a database`), no stack trace, and no
 * password from a connection URL.
 *
 * @since 0.1.0
 */
import { Problem } from "@enrollment/http-adapter"
import { Option, Redacted } from "effect"

/** The error's message, followed by its innermost cause's when that says something more (`Problem.causeChain`). */
export const of = (error: unknown, databaseUrl: Option.Option<Redacted.Redacted<string>> = Option.none()): string =>
  redact(Problem.causeChain(error), databaseUrl)

/** `text` without the connection URL's password (nor the URL itself), and without any `//user:password@`. */
export const redact = (text: string, databaseUrl: Option.Option<Redacted.Redacted<string>> = Option.none()): string => {
  let out = text
  if (Option.isSome(databaseUrl)) {
    const url = Redacted.value(databaseUrl.value)
    // The URL as given, and as `Problem.causeChain` leaves it (its password already masked).
    out = out.replaceAll(url, "(DATABASE_URL)").replaceAll(url.replace(/(\/\/[^\s/:@]*):[^\s/@]*@/, "$1:***@"), "(DATABASE_URL)")
    try {
      const password = new URL(url).password
      // A very short password would blank out ordinary words; those are caught by the pattern below only.
      if (password.length >= 4) out = out.replaceAll(password, "***").replaceAll(decodeURIComponent(password), "***")
    } catch {
      // not a URL: nothing more to find
    }
  }
  return out.replace(/(\/\/[^\s/:@]*):[^\s/@]*@/g, "$1:***@")
}
