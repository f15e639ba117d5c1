/**
 * Making a directory and its missing parents, one level at a time. Node's
 * `mkdirSync(path, { recursive: true })` loops for ever (at full CPU) under a
 * file system whose `mkdir` answers ENOENT for a parent that exists, such as
 * `/proc` or `/sys` (a mistyped data directory, `/proc/data`): this fails there
 * with that ENOENT instead.
 *
 * @since 0.2.8
 */
import * as fs from "node:fs"
import * as path from "node:path"

/**
 * Makes `dir` and its missing parents with `mode`; the first directory it made, or
 * undefined when `dir` was there already (as `mkdirSync` with `recursive` answers).
 * Throws the file system's error (`ENOTDIR`, `EACCES`, `ENOENT`, …) otherwise.
 */
export const make = (dir: string, mode: number = 0o777): string | undefined => {
  const missing: Array<string> = []
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      if (!fs.statSync(at).isDirectory()) {
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: "ENOTDIR", errno: -20, path: at })
      }
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || path.dirname(at) === at) throw e
      missing.push(at)
    }
  }
  let first: string | undefined
  for (const at of missing.reverse()) {
    try {
      fs.mkdirSync(at, { mode })
    } catch (e) {
      // Made at the same moment by another process: as good as made here.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || !fs.statSync(at).isDirectory()) throw e
      continue
    }
    first ??= at
  }
  return first
}
