/**
 * The data directory (`DATA_DIR`): it holds the SQLite file and the zero-config
 * signing secret, so every tenant's data. The server makes it when it is
 * missing, mode 0700 (its user only), and makes the SQLite file 0600 (SQLite
 * gives its `-wal` and `-shm` files the database file's mode); a directory or
 * file the operator made keeps its mode. A path that is not a directory is a
 * bad setting; one this user cannot read and write says so.
 *
 * @since 0.1.0
 */
import * as Directories from "@enrollment/store-adapter/Directories"
import * as fs from "node:fs"
import * as path from "node:path"
import { getSystemErrorMessage } from "node:util"
import { ConfigInvalid } from "./ServerConfig.ts"

/** The SQLite file's name inside the data directory. */
export const sqliteFileName = "enrollment.sqlite"

/** The data directory cannot be used (not a configuration mistake: permissions, a read-only disk, …). */
export class DataDirUnusable extends Error {
  readonly dir: string
  constructor(dir: string, reason: string) {
    super(`DATA_DIR ${dir}: ${reason}`)
    this.dir = dir
  }
}

/** What a failed file-system call says, without Node's `EACCES: …, mkdir '…'` wrapping. */
export const systemMessage = (e: unknown): string => {
  const errno = (e as NodeJS.ErrnoException).errno
  if (typeof errno === "number") {
    try {
      return getSystemErrorMessage(errno)
    } catch {
      // an errno Node does not name
    }
  }
  return e instanceof Error ? e.message : String(e)
}

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code

const notADirectory = (dir: string) => new ConfigInvalid([`DATA_DIR: ${dir} is not a directory`])

/**
 * Makes sure `dir` is a directory this process can read and write (read only, with
 * `readOnly`: a directory whose files are only read, on a read-only mount say), making
 * it (0700) when missing; the absolute path and whether it was made here.
 */
export const prepare = (dir: string, options: { readonly readOnly?: boolean } = {}): { readonly path: string; readonly created: boolean } => {
  const abs = path.resolve(dir)
  let created = false
  try {
    if (!fs.statSync(abs).isDirectory()) throw notADirectory(abs)
  } catch (e) {
    if (e instanceof ConfigInvalid) throw e
    if (codeOf(e) === "ENOTDIR") throw notADirectory(abs)
    if (codeOf(e) !== "ENOENT") throw new DataDirUnusable(abs, systemMessage(e))
    try {
      // Not Node's recursive mkdir, which loops for ever under /proc or /sys (`Directories`).
      created = Directories.make(abs, 0o700) !== undefined
    } catch (e) {
      // A file where a directory should be (on the way, or made at the same moment).
      if (codeOf(e) === "ENOTDIR" || codeOf(e) === "EEXIST") throw notADirectory(abs)
      throw new DataDirUnusable(abs, `cannot be made: ${systemMessage(e)}`)
    }
  }
  try {
    fs.accessSync(abs, options.readOnly === true ? fs.constants.R_OK | fs.constants.X_OK : fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK)
  } catch (e) {
    throw new DataDirUnusable(abs, `${systemMessage(e)} (the server ${options.readOnly === true ? "reads" : "reads and writes"} it)`)
  }
  return { path: abs, created }
}

/**
 * The SQLite file in `dir`, made empty with mode 0600 when missing (SQLite starts a
 * database in an empty file); an existing file is left as it is, but must be readable
 * and writable.
 */
export const sqliteFile = (dir: string): string => {
  const file = path.join(dir, sqliteFileName)
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600))
  } catch (e) {
    throw new DataDirUnusable(dir, `${sqliteFileName}: ${systemMessage(e)}`)
  }
  return file
}

/**
 * A warning when users other than the server's owner and group can read or write the SQLite store's
 * file (since server 0.4.3): it holds every tenant's data. Stores made before store-adapter 0.2.9 took
 * the process's umask (usually 0644), and a file that is there keeps its mode (the operator chose it),
 * so an upgrade left them readable by every user, unsaid. The database file only: SQLite gives its
 * `-wal` and `-shm` its mode as it makes them (and a clean stop removes them). The group's bits are
 * the operator's (a backup group reading a 0640 store); a file system without modes (vfat, CIFS)
 * shows 0777 or 0755 and is warned of too, since there every user may read it. Undefined when no
 * other user can. Through a symbolic link, the file it leads to.
 */
export const exposure = (file: string): string | undefined => {
  let mode: number
  try {
    mode = fs.statSync(file).mode & 0o777
  } catch {
    return undefined // unreadable or gone: SQLite says why when it opens it
  }
  if ((mode & 0o007) === 0) return undefined
  const can = [(mode & 0o004) !== 0 ? "read" : undefined, (mode & 0o002) !== 0 ? "write" : undefined].filter((x) => x !== undefined)
  return `the store's file ${file} has mode 0${mode.toString(8)}: every user of this machine can ${can.length === 0 ? "reach" : can.join(" and ")} it, and it holds every tenant's data; chmod 600 it (or 640 for a group of your own)`
}
