/**
 * An HS256 signing secret as an operator gives it: a file (the server's zero-config `auth-secret`)
 * or a variable's text (`AUTH_HS256_SECRET`). The server, which verifies with it, and `enrollctl`,
 * which mints with it, take and refuse the same secrets through this one module: a token the CLI
 * mints from a secret is one the server started with it accepts.
 *
 * @since 0.11.0
 */
import * as fs from "node:fs"
import { minSecretBytes } from "./Auth.ts"

/**
 * The largest secret file read: a secret is text (the server's own is 65 bytes), and a larger
 * file is something else written over it (a backup of the store, say).
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
 * The secret `file` holds, trimmed (a line break ends a file); an Error naming the file when it
 * holds none: a file larger than {@link maxFileBytes}, one that is not text (bytes that are not
 * UTF-8, control characters but tab, line feed and carriage return: a SQLite database is named as
 * such), or text of fewer than {@link minSecretBytes} bytes. Whatever an operator writes as a
 * secret, 32 characters of text or more, a line break after it or not, is taken, as is the server's
 * own. A file that cannot be read throws the file system's error.
 */
export const readFile = (file: string): string => {
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
  if (Buffer.byteLength(secret) < minSecretBytes) {
    throw new Error(`${file}: the secret is shorter than ${minSecretBytes} bytes; delete the file to make a new one`)
  }
  return secret
}

/**
 * What is wrong with a secret given as a variable's text, or `undefined` when nothing is: only
 * whitespace, leading or trailing whitespace (refused, not trimmed: the text as written is the key,
 * and a line break from `$(cat file)` would make the server and a minting client disagree), or fewer
 * than {@link minSecretBytes} bytes of UTF-8 (RFC 7518 3.2, as `Auth.make` counts). The text
 * reads after the variable's name and a colon, and never holds the secret.
 */
export const textProblem = (secret: string): string | undefined => {
  const expected = `expected a secret of at least ${minSecretBytes} bytes`
  if (secret.trim() === "") return `${expected}, got ${secret === "" ? "an empty one" : "whitespace only"}`
  if (secret !== secret.trim()) {
    return `${expected}, got one with leading or trailing whitespace (a line break from $(cat file), say): remove it`
  }
  const bytes = new TextEncoder().encode(secret).byteLength
  return bytes < minSecretBytes ? `${expected} (RFC 7518 3.2); this one has ${bytes}` : undefined
}
