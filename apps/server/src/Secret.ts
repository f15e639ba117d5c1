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

/** Reads the secret in `dataDir`, creating it (mode 0600) when missing. */
export const ensure = (dataDir: string): { readonly secret: string; readonly file: string; readonly created: boolean } => {
  const file = path.resolve(dataDir, fileName)
  Directories.make(path.dirname(file), 0o700)
  try {
    const secret = fs.readFileSync(file, "utf8").trim()
    if (secret.length >= 32) return { secret, file, created: false }
    throw new Error(`${file}: the secret is shorter than 32 characters; delete the file to make a new one`)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
  }
  const secret = randomBytes(48).toString("base64url")
  try {
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" })
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return { secret: fs.readFileSync(file, "utf8").trim(), file, created: false }
    throw e
  }
  return { secret, file, created: true }
}
