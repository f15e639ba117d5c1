/**
 * The server's own lines on stderr (start-up notes, warnings, why it cannot
 * start, shutdown) in the request log's format: one JSON object per line with
 * `LOG_FORMAT=json`, as `{"time","level","msg"}`; plain text with `pretty`
 * (a warning starts with `warning:`). They are written whatever `LOG_LEVEL`
 * says, which governs the request log only.
 *
 * @since 0.1.0
 */

/** How serious a line is. */
export type Level = "info" | "warn" | "error"

/** Writes one of the server's lines. */
export type Say = (line: string, level?: Level) => void

/** A sink for the server's lines in `format`, written to `write` (stderr by default). */
export const make = (
  format: "pretty" | "json",
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)
): Say =>
  format === "json"
    ? (line, level = "info") => write(JSON.stringify({ time: new Date().toISOString(), level, msg: line }))
    : (line, level = "info") => write(level === "warn" ? `warning: ${line}` : line)

/**
 * The format before the configuration is read (to report that it is invalid):
 * `LOG_FORMAT=pretty` is text, anything else is the default JSON.
 */
export const formatOf = (env: Readonly<Record<string, string | undefined>>): "pretty" | "json" =>
  env.LOG_FORMAT === "pretty" ? "pretty" : "json"

/** Reports an invalid configuration: one line per problem (in text, under one heading). */
export const invalid = (say: Say, format: "pretty" | "json", problems: ReadonlyArray<string>): void => {
  if (format === "json") for (const p of problems) say(`invalid configuration: ${p}`, "error")
  else say(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, "error")
}
