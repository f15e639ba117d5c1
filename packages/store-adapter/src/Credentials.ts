/**
 * Connection credentials kept out of what is printed: an error's reason, a log
 * line, a store's description. One rule for the server and the CLI: the user and
 * password of any `scheme://user:password@host` are hidden (`//***@`), as is any
 * `password=` parameter, and so is the password of the connection URL in use
 * wherever it appears on its own. A module with no imports, so that a command's
 * start does not load a store to describe one.
 *
 * @since 0.2.8
 */

/** Every `//user:password@` (or `//user@`) and `password=` value in `text` hidden: `postgres://***@host/db`. */
export const redactUrls = (text: string): string =>
  text.replace(/\/\/[^\s@/]*@/g, "//***@").replace(/([?&]password=)[^&\s]*/gi, "$1***")

/**
 * `text` with the credentials of `url` (the connection URL in use) hidden: the URL
 * itself as `shown` (by default its {@link redactUrls} form), its password wherever
 * it appears alone (from its user part or a `password=` parameter; one of under 4
 * characters only inside a URL, where a shorter one would blank out ordinary words),
 * then every other URL's credentials.
 */
export const redact = (text: string, url?: string, shown?: string): string => {
  let out = text
  if (url !== undefined && url !== "") {
    out = out.replaceAll(url, shown ?? redactUrls(url))
    if (shown !== undefined) out = out.replaceAll(redactUrls(url), shown)
    for (const password of passwordsOf(url)) {
      if (password.length >= 4) out = out.replaceAll(password, "***")
    }
  }
  return redactUrls(out)
}

/** The password of a connection URL, as written and decoded: from its user part and any `password=` parameter. */
const passwordsOf = (url: string): ReadonlyArray<string> => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return [] // not a URL: the patterns still catch what looks like one
  }
  const out = new Set<string>()
  const add = (p: string | null) => {
    if (p === null || p === "") return
    out.add(p)
    try {
      out.add(decodeURIComponent(p))
    } catch {
      // a malformed escape: the text as written is enough
    }
  }
  add(parsed.password)
  add(parsed.searchParams.get("password"))
  return [...out].sort((a, b) => b.length - a.length)
}
