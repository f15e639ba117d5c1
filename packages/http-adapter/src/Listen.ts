/**
 * Serving the handler: plain HTTP, or HTTPS when a certificate and key are
 * given; a graceful close that stops accepting, lets in-flight requests
 * finish, and closes keep-alive connections as they go idle (all of them at
 * the limit).
 *
 * @since 0.1.0
 */
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import { onClientError } from "./Server.ts"

/** Where and how to listen. */
export interface ListenOptions {
  readonly port: number
  readonly host?: string | undefined
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined
}

/** A running server. */
export interface Running {
  readonly server: http.Server
  readonly port: number
  /** `http(s)://host:port` */
  readonly url: string
  /** Stops accepting, waits for in-flight requests (at most `timeoutMs`), then resolves. */
  readonly close: (timeoutMs?: number) => Promise<void>
}

/** Starts listening. */
export const listen = (handler: http.RequestListener, options: ListenOptions): Promise<Running> =>
  new Promise((resolve, reject) => {
    const server: http.Server = options.tls !== undefined
      ? https.createServer({ cert: options.tls.cert, key: options.tls.key, keepAliveTimeout: 65_000 }, handler) as unknown as http.Server
      : http.createServer({ keepAliveTimeout: 65_000 }, handler)
    server.on("clientError", onClientError)
    server.once("error", reject)
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      const port = (server.address() as AddressInfo).port
      const host = options.host === undefined || options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host
      const url = `${options.tls !== undefined ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`
      resolve({
        server,
        port,
        url,
        close: (timeoutMs = 10_000) =>
          new Promise<void>((done) => {
            // A keep-alive connection whose request finishes while draining goes idle, and
            // `server.close` would wait for it until the limit: close such connections as they
            // go idle.
            const sweep = setInterval(() => server.closeIdleConnections(), 50)
            const timer = setTimeout(() => {
              clearInterval(sweep)
              server.closeAllConnections()
              done()
            }, timeoutMs)
            timer.unref()
            server.close(() => {
              clearInterval(sweep)
              clearTimeout(timer)
              done()
            })
            server.closeIdleConnections()
          })
      })
    })
  })
