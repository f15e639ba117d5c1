/**
 * A small JSON client of the Graph face, for tools and tests that talk to a
 * running server as a client does (the benchmarks, this package's tests): one
 * request, its answer's status, headers, text, and JSON when the text is JSON.
 *
 * @since 0.1.0
 */

/** An answer. */
export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The parsed text; `undefined` when empty or not JSON. */
  readonly json: any
}

/** What to send besides the method and URL. */
export interface RequestOptions {
  /** A bearer token (sent as `Authorization` unless `headers` already has one). */
  readonly token?: string | undefined
  /** A value sent as JSON (`Content-Type: application/json` unless given). */
  readonly body?: unknown
  /** Bytes sent as they are (when `body` is not given). */
  readonly raw?: string | Uint8Array | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** Sends one request to `url` and reads the whole answer. */
export const request = async (method: string, url: string, options: RequestOptions = {}): Promise<Answer> => {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization ??= `Bearer ${options.token}`
  let body: string | Uint8Array | undefined = options.raw
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers["content-type"] ??= "application/json"
  }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: body as NonNullable<RequestInit["body"]> } : {}) })
  const text = await res.text()
  let json: any
  try {
    json = text === "" ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}
