/**
 * The zero-config signing secret: with neither AUTH_HS256_SECRET nor AUTH_JWKS_URL the server still
 * requires tokens, signed with a random HS256 secret it keeps in its data
 * directory (`auth-secret`, mode 0600), made on first start and reused after.
 * The CLI mints tokens from the same file.
 *
 * @since 0.1.0
 */
import * as Directories from "@enrollment/store-adapter/Directories"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

/** The file name of the secret inside the data directory. */
export const fileName = "auth-secret"

/**
 * The largest secret file read (since 0.4.8): a secret is text, the server's own 65 bytes;
 * a larger file is something else written over it (a backup of the store, say).
 */
export const maxFileBytes = 4096

/** The control characters a secret does not hold: all but tab, line feed and carriage return. */
const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/

/** What a SQLite database file begins with. */
const sqliteHeader = Buffer.from("SQLite format 3\0", "latin1")

/** The refusal of a file that holds no secret, naming it, why, and what to do. */
const noSecret = (file: string, why: string) =>
  new Error(
    `${file} holds no signing secret: ${why}; put the secret back (from a backup of the data directory), ` +
      `or delete the file for the server to make a new one (tokens signed with the old one are then refused)`
  )

/**
 * The secret `file` holds, trimmed; an Error naming the file when it holds none: a file larger than
 * {@link maxFileBytes}, one that is not text (bytes that are not UTF-8, control characters but tab,
 * line feed and carriage return: a SQLite database is named as such), or text shorter than 32
 * characters. Whatever an operator writes as a secret, 32 characters of text or more, a line break
 * after it or not, is taken, as is the server's own.
 */
const read = (file: string): string => {
  const fd = fs.openSync(file, "r")
  let bytes: Buffer
  try {
    const size = fs.fstatSync(fd).size
    bytes = Buffer.alloc(Math.min(size, maxFileBytes + 1))
    bytes = bytes.subarray(0, fs.readSync(fd, bytes, 0, bytes.length, 0))
  } finally {
    fs.closeSync(fd)
  }
  if (bytes.subarray(0, sqliteHeader.length).equals(sqliteHeader)) throw noSecret(file, "it is a SQLite database")
  if (bytes.length > maxFileBytes) throw noSecret(file, `it is larger than ${maxFileBytes} bytes, which no secret is`)
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    throw noSecret(file, "it is not text (its bytes are not UTF-8)")
  }
  const at = text.search(control)
  if (at >= 0) throw noSecret(file, `it is not text (it holds the control character U+${text.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0")})`)
  const secret = text.trim()
  if (secret.length < 32) throw new Error(`${file}: the secret is shorter than 32 characters; delete the file to make a new one`)
  return secret
}

/** What `link` fails with where the file system has no hard links. */
const noLinks = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"])

/**
 * Reads the secret in `dataDir`, creating it (mode 0600) when missing. A file there that holds no
 * plausible secret is refused, naming it (see `read`).
 */
export const ensure = (dataDir: string): { readonly secret: string; readonly file: string; readonly created: boolean } => {
  const file = path.resolve(dataDir, fileName)
  Directories.make(path.dirname(file), 0o700)
  try {
    return { secret: read(file), file, created: false }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
  }
  const secret = randomBytes(48).toString("base64url")
  // Written whole beside it, then linked into place: a write that fails (a full disk) must not
  // leave an empty or cut secret, which every later start would refuse until someone deleted it.
  // (A random name: processes on one shared directory may share a PID, 1 in every container.)
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`
  try {
    const fd = fs.openSync(temporary, "wx", 0o600)
    try {
      fs.writeFileSync(fd, `${secret}\n`)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    try {
      fs.linkSync(temporary, file)
    } catch (e) {
      // A file system without hard links (some network and FUSE mounts): moved into place instead,
      // unless another process made one meanwhile (a narrower race than the link's, never a cut file).
      if (!noLinks.has((e as NodeJS.ErrnoException).code ?? "")) throw e
      if (fs.existsSync(file)) throw Object.assign(new Error("exists"), { code: "EEXIST" })
      fs.renameSync(temporary, file)
    }
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === "EEXIST" && fs.existsSync(file)) return { secret: read(file), file, created: false }
    throw new Error(`${file}: the signing secret could not be written: ${(e as Error).message}`, { cause: e })
  } finally {
    fs.rmSync(temporary, { force: true })
  }
  return { secret, file, created: true }
}
