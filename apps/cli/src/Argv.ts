/**
 * The command line as `effect/cli` is given it (since 0.5.1). A flag's value that begins with `-`
 * (`--display-name -hello`, `--expires-in -1h`, `--filter "-x"`) is that flag's value, as
 * `getopt_long` reads the argument of an option that requires one: it is joined to its flag
 * (`--display-name=-hello`) before the parser sees it. Before, the parser read `-hello` as the short
 * flags `-h -e -l -l -o`: `-h` printed the help, `-v` the version, and the command did nothing and
 * exited 0 (a create a script took for done; `TOKEN=$(enrollctl token --expires-in -1h)` held the
 * help text), and any other value was a usage error that did not say to write `--flag=value`.
 *
 * Only a long flag that takes a value is joined to what follows it, and only to a word that begins
 * with one `-` (`-` alone, standard input, is a value already; a word that begins with `--` is a
 * flag, so a forgotten value is still said to be missing). Everything after `--` is left as it is.
 */
import * as Flag from "effect/cli/Flag"

/** The long flags that take no value: effect/cli's own, and every one made with {@link booleanFlag}. */
const booleans = new Set<string>(["help", "version", "wizard"])

/** A flag that takes no value (`--name`, and `--no-name` for false), known to {@link normalize}. */
export const booleanFlag = (name: string) => {
  booleans.add(name)
  return Flag.Boolean(name)
}

/** Whether a long flag's name (without `--`) is one that takes no value. */
const takesNoValue = (name: string): boolean => booleans.has(name) || (name.startsWith("no-") && booleans.has(name.slice(3)))

/** The arguments with each value that begins with `-` joined to its long flag (see the module's doc). */
export const normalize = (args: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") {
      out.push(...args.slice(i))
      break
    }
    const next = args[i + 1]
    if (
      arg.startsWith("--") && !arg.includes("=") && !takesNoValue(arg.slice(2)) &&
      next !== undefined && next.length > 1 && next.startsWith("-") && !next.startsWith("--")
    ) {
      out.push(`${arg}=${next}`)
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}
