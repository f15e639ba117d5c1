/**
 * What a command can fail with, in one shape for both modes: the service's (or
 * the domain's) error code and message, and the class that decides the exit
 * code. Remote mode reads the Graph error body; local mode maps the domain's
 * error tags the way the HTTP face maps them to statuses.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** A failure of a command, fit to print: `error <code>: <message>`. */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  code: Schema.String,
  detail: Schema.String,
  exit: Schema.Literals(["other", "usage", "notFound", "conflict", "auth"]),
  status: Schema.optional(Schema.Number),
  /**
   * A write that failed, but may have been applied all the same (remote mode: a 503, an answer
   * that did not come in time, a connection that broke once the request was sent).
   */
  mayHaveLanded: Schema.optional(Schema.Boolean),
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `${this.code}: ${this.detail}`
  }
}

/** A usage mistake: bad flags, unreadable `--body`, no mode chosen. */
export const usage = (detail: string) => new CommandFailed({ code: "Usage", detail, exit: "usage" })

