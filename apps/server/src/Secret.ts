/**
 * The zero-config signing secret: with neither AUTH_HS256_SECRET nor AUTH_JWKS_URL the server still
 * requires tokens, signed with a random HS256 secret it keeps in its data
 * directory (`auth-secret`, mode 0600), made on first start and reused after.
 * The CLI mints tokens from the same file.
 *
 * @since 0.1.0
 */
import { Secret as HttpSecret } from "@enrollment/http-adapter"
import * as Directories from "@enrollment/store-adapter/Directories"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

/** The file name of the secret inside the data directory. */
export const fileName = "auth-secret"

/** The largest secret file read (since 0.4.8; the http-adapter's `Secret.maxFileBytes` since 0.5.0). */
export const maxFileBytes = HttpSecret.maxFileBytes

/**
 * The secret `file` holds, or an Error naming the file when it holds none: the http-adapter's
 * `Secret.readFile` (since 0.5.0), which `enrollctl` reads the same file with.
 */
const read = HttpSecret.readFile

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
