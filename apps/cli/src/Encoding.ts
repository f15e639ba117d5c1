/**
 * The text of a file an operator hands enrollctl (`import FILE`, `batch FILE`, `--body @file`, or
 * `-` for standard input), read one way for all of them: UTF-8, its byte order mark dropped (as
 * PowerShell 5.1's `-Encoding utf8` writes it), or UTF-16 with its byte order mark (`FF FE`, what
 * PowerShell 5.1's `>` and `Out-File` write, or `FE FF`). Anything else is refused, never decoded
 * with replacement characters (which would be written): bytes that are not UTF-8 (a file saved as
 * Windows-1252 or Latin-1) naming the line, the first byte that does not decode and its offset;
 * UTF-16 that does not decode, and UTF-32, asking for UTF-8.
 *
 * @since 0.1.1
 */

/** How to save a file as UTF-8 on Windows, where a file in another encoding usually comes from. */
const powerShell = "(PowerShell: Out-File -Encoding utf8, or Set-Content -Encoding utf8)"

/** Why a file's text could not be read. */
export type Refusal =
  /** Bytes that are not UTF-8, first on `line` (from 1): `detail` names the byte, its offset and the file. */
  | { readonly _tag: "NotUtf8"; readonly line: number; readonly detail: string }
  /** Not UTF-8 nor UTF-16 that decodes (its byte order mark says UTF-32, or UTF-16 that does not decode). */
  | { readonly _tag: "Unreadable"; readonly detail: string }

/** The decoded text, or why it could not be read. */
export type Decoded = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly refusal: Refusal }

/**
 * The text of `bytes`, read from `name` (`-`: standard input), without its byte order mark; `reader`
 * names what does not read UTF-32 (`import`). See the module's comment for what is read and what
 * is refused.
 */
export const decode = (bytes: Uint8Array, name: string, reader = "enrollctl"): Decoded => {
  const [a, b, c, d] = bytes
  const unreadable = (what: string): Decoded => ({ ok: false, refusal: { _tag: "Unreadable", detail: `${what}; save it as UTF-8 ${powerShell}` } })
  if ((a === 0xff && b === 0xfe && c === 0 && d === 0) || (a === 0 && b === 0 && c === 0xfe && d === 0xff)) {
    return unreadable(`it is UTF-32 (its byte order mark says so), which ${reader} does not read`)
  }
  const utf16 = a === 0xff && b === 0xfe ? "utf-16le" : a === 0xfe && b === 0xff ? "utf-16be" : undefined
  try {
    // The decoder drops the byte order mark (UTF-8's, or UTF-16's).
    return { ok: true, text: new TextDecoder(utf16 ?? "utf-8", { fatal: true }).decode(bytes) }
  } catch {
    if (utf16 === undefined) return { ok: false, refusal: notUtf8(bytes, name) }
    const named = utf16.toUpperCase()
    return unreadable(`it starts as ${named} (its byte order mark) but is not valid ${named}`)
  }
}

/**
 * Where UTF-8 decoding of `bytes` fails: the offset of the first byte that does not belong to a
 * well-formed sequence (RFC 3629: no overlong form, no surrogate, nothing past U+10FFFF), or
 * undefined when they are all UTF-8.
 */
const firstInvalidUtf8 = (bytes: Uint8Array): number | undefined => {
  let i = 0
  while (i < bytes.length) {
    const lead = bytes[i]!
    if (lead < 0x80) {
      i++
      continue
    }
    // The sequence's length, and the range of its second byte (which rules out overlong forms,
    // surrogates and code points past U+10FFFF).
    const [n, low, high] = lead >= 0xc2 && lead <= 0xdf
      ? [2, 0x80, 0xbf]
      : lead === 0xe0
      ? [3, 0xa0, 0xbf]
      : lead === 0xed
      ? [3, 0x80, 0x9f]
      : lead >= 0xe1 && lead <= 0xef
      ? [3, 0x80, 0xbf]
      : lead === 0xf0
      ? [4, 0x90, 0xbf]
      : lead === 0xf4
      ? [4, 0x80, 0x8f]
      : lead >= 0xf1 && lead <= 0xf3
      ? [4, 0x80, 0xbf]
      : [0, 0, 0]
    if (n === 0) return i
    const second = bytes[i + 1]
    if (second === undefined || second < low || second > high) return i
    for (let k = 2; k < n; k++) {
      const next = bytes[i + k]
      if (next === undefined || next < 0x80 || next > 0xbf) return i
    }
    i += n
  }
  return undefined
}

/** Bytes that are not UTF-8: the line, the file, and the first byte that does not decode and its offset (from 0). */
const notUtf8 = (bytes: Uint8Array, name: string): Refusal => {
  const at = firstInvalidUtf8(bytes) ?? 0
  let line = 1
  for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++
  const byte = `0x${bytes[at]!.toString(16).toUpperCase().padStart(2, "0")}`
  return {
    _tag: "NotUtf8",
    line,
    detail: `not UTF-8: byte ${byte} at offset ${at} of ${name === "-" ? "standard input" : name} starts no UTF-8 character; save the file as UTF-8 ${powerShell}`
  }
}
