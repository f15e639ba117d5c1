/**
 * A raw HTTP client on `node:http` for the fault tests: any bytes as a body,
 * any headers, its own connection pool (so a killed server leaves no stale
 * sockets behind for the next round), and network errors returned, not thrown.
 *
 * @since 0.1.0
 */
import * as http from "node:http"

/** An answer, or the network error that came instead. */
export type Reply =
  | { readonly ok: true; readonly status: number; readonly headers: http.IncomingHttpHeaders; readonly text: string; readonly json: any }
  | { readonly ok: false; readonly error: string }

/** A keep-alive pool; destroy it when its server dies. */
export const pool = (maxSockets = 256) => new http.Agent({ keepAlive: true, maxSockets })

/** One request to `url` + `path`. */
export const send = (
  url: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Uint8Array; agent?: http.Agent; timeoutMs?: number } = {}
): Promise<Reply> =>
  new Promise((done) => {
    const u = new URL(url)
    const headers: Record<string, string | number> = { ...options.headers }
    if (options.body !== undefined) headers["content-length"] = Buffer.byteLength(options.body)
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, headers, agent: options.agent ?? false, timeout: options.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          let json: any
          try {
            json = text === "" ? undefined : JSON.parse(text)
          } catch {
            json = undefined
          }
          done({ ok: true, status: res.statusCode ?? 0, headers: res.headers, text, json })
        })
        res.on("error", (e) => done({ ok: false, error: e.message }))
      }
    )
    req.on("timeout", () => req.destroy(new Error("timeout")))
    req.on("error", (e) => done({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }))
    if (options.body !== undefined) req.end(options.body)
    else req.end()
  })

/** A JSON body's headers with a bearer token. */
export const jsonHeaders = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  "content-type": "application/json",
  ...extra
})
