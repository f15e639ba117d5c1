/**
 * Serving the handler: plain HTTP, or HTTPS when a certificate and key are
 * given; a graceful close that stops accepting, lets in-flight requests
 * finish, and closes keep-alive connections as they go idle (all of them at
 * the limit), after a short grace ({@link idleGraceMillis}) in which a request
 * already sent on an idle connection is still read and answered; a connection
 * that has sent nothing by then is closed with the idle ones (since 0.6.1), over HTTPS also one
 * still in its TLS handshake (since 0.6.1). A client that
 * half-closes its connection right after a request still gets the answer
 * ({@link answersHalfClosed}, since 0.6.1).
 *
 * @since 0.1.0
 */
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import { onClientError, onConnect, type RawAnswer } from "./Server.ts"

/**
 * A request listener that may say, of a request sent with `Expect: 100-continue`, whether it wants
 * the body (since 0.10.3): `false` and the client gets no `100 Continue`, only the listener's
 * answer, so it need not send a body that would be dropped (RFC 9110 10.1.1). Without `continues`,
 * or when it says `true`, the `100 Continue` goes first, as Node's own default does.
 */
export type Listener = http.RequestListener & {
  readonly continues?: (req: http.IncomingMessage) => boolean
  /** Writes, counts and logs the answers to requests Node refuses before the listener runs (since 0.17.0). */
  readonly refuse?: RawAnswer
}

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
  /**
   * Stops accepting, waits for in-flight requests (at most `timeoutMs`), then resolves. Idle
   * keep-alive connections are closed after `graceMs` (default {@link idleGraceMillis}; since 0.6.0).
   */
  readonly close: (timeoutMs?: number, graceMs?: number) => Promise<void>
}

/**
 * How long a close leaves idle keep-alive connections open (at most; never past the close's
 * limit): a request a client sent on one just before the stop may still sit in the kernel's
 * buffer, unread, and the connection then looks idle. Closing it at once resets that request,
 * which the client cannot tell from one that ran (a PATCH or POST it cannot safely repeat);
 * within the grace it is read and answered, with `Connection: close`, as is every request
 * answered after the close began. A request sent after the grace on a connection still open
 * meets a closed connection, as on any server that stops.
 *
 * @since 0.6.0
 */
export const idleGraceMillis = 500

/**
 * Lets `server` answer a request whose client half-closed the connection (sent its FIN, as
 * `shutdown(SHUT_WR)` or `socket.end()` does) right after sending it, and returns it. Node's
 * HTTP servers end their side of the connection as soon as the client's FIN is read
 * (`httpAllowHalfOpen` is `false` by default), whatever request is still being answered: an
 * answer written after the FIN was read (a token verified for the first time, a store that
 * answers asynchronously, a `$batch` whose requests run one after another) is lost, and the client sees the connection close
 * without a byte. With it on, Node marks the answer in progress (or the last one queued, for
 * pipelined requests) as the connection's last, writes it, and closes then; a connection with
 * nothing in progress is closed at once, as before. Nothing changes per request: Node reads
 * the flag only when a FIN arrives. (Over HTTPS each TLS socket also needs `allowHalfOpen`, set on
 * `secureConnection` as {@link listen} does: not `allowHalfOpen: true` in the server's options, which
 * keeps half-open, until the handshake's timeout, a connection whose client sends its FIN before
 * the handshake is done, as a load balancer's TCP check does.)
 *
 * @since 0.6.1
 */
export const answersHalfClosed = <S extends http.Server>(server: S): S => {
  // A property of Node's `http.Server` (and `https.Server`) that `@types/node` does not declare.
  const flags = server as S & { httpAllowHalfOpen: boolean }
  flags.httpAllowHalfOpen = true
  return server
}

/** Starts listening. */
export const listen = (handler: Listener, options: ListenOptions): Promise<Running> =>
  new Promise((resolve, reject) => {
    // `httpAllowHalfOpen`, and over TLS the socket's own `allowHalfOpen`, set once its handshake is
    // done (below): see {@link answersHalfClosed}. `requireHostHeader: false`: the handler answers an
    // HTTP/1.1 request without `Host` itself, in the Graph error shape (since 0.10.3).
    const server: http.Server = options.tls !== undefined
      ? https.createServer({ cert: options.tls.cert, key: options.tls.key, keepAliveTimeout: 65_000, requireHostHeader: false }, handler) as unknown as http.Server
      : http.createServer({ keepAliveTimeout: 65_000, requireHostHeader: false }, handler)
    answersHalfClosed(server)
    // `Expect: 100-continue`: Node answers `100 Continue` itself unless the server listens for
    // `checkContinue`, which it then emits instead of `request`. The handler is asked first (a body
    // declared over the limit is not wanted: the 413 goes without a `100`, and the client need not
    // send the body, since 0.10.3); the request then goes on as any other, through every `request`
    // listener (a stop's hook among them).
    server.on("checkContinue", (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (handler.continues?.(req) !== false) res.writeContinue()
      server.emit("request", req, res)
    })
    // The connections that may never send a request (a load balancer's TCP check, a client's
    // pre-opened pool): Node counts one as busy from its start until its first request is
    // answered, so its close would wait for them until the limit. Per connection, not per request;
    // over TLS, once the handshake is done (before, see `handshaking`).
    const connections = new Set<net.Socket>()
    // Over TLS, the connections whose handshake is not done (a TCP check that connected and sent
    // nothing, a client that sent part of its ClientHello): Node's TLS server holds their raw TCP
    // sockets until the handshake's timeout (120 s), and the close would wait for them until its
    // limit. Keyed by the client's address and port, the one thing the raw socket and the TLS
    // socket made over it both say in Node's public API: the entry goes when the handshake is done
    // (`secureConnection`) or the connection closes.
    const handshaking = new Map<string, net.Socket>()
    const peer = (socket: net.Socket) => `${socket.remoteAddress}|${socket.remotePort}`
    if (options.tls !== undefined) {
      server.on("connection", (raw: net.Socket) => {
        if (raw.remoteAddress === undefined) return // already gone: nothing to close
        const key = peer(raw)
        handshaking.set(key, raw)
        raw.once("close", () => {
          if (handshaking.get(key) === raw) handshaking.delete(key)
        })
      })
    }
    server.on(options.tls !== undefined ? "secureConnection" : "connection", (socket: net.Socket) => {
      if (options.tls !== undefined) {
        handshaking.delete(peer(socket))
        // A TLS socket half-open from here on, not from its start (`allowHalfOpen` in the server's
        // options): one whose client sends its FIN before the handshake is done (a load balancer's
        // TCP check) is then still ended at once by Node, instead of held half-open until the
        // handshake's timeout (120 s), and every close with it until the limit. Read when the FIN
        // comes, so setting it here is in time: a request comes only after the handshake.
        socket.allowHalfOpen = true
      }
      connections.add(socket)
      socket.once("close", () => connections.delete(socket))
    })
    /**
     * Closes the connections that have not sent a byte of a request (a TLS socket counts what it
     * decrypted), and over TLS those still in their handshake (they cannot have sent one).
     */
    const closeUnused = () => {
      for (const socket of connections) if (socket.bytesRead === 0) socket.destroy()
      for (const raw of handshaking.values()) raw.destroy()
    }
    server.on("clientError", (error: NodeJS.ErrnoException, socket: import("node:stream").Duplex) => onClientError(error, socket, handler.refuse))
    // A CONNECT is answered 405 in the error shape (Node destroys the socket without a byte when
    // nothing listens), and a request with another expectation than `100-continue` goes to the
    // handler, which answers its 417 in the error shape (Node writes an empty one otherwise).
    server.on("connect", (req: http.IncomingMessage, socket: import("node:stream").Duplex) => onConnect(req, socket, handler.refuse))
    server.on("checkExpectation", (req: http.IncomingMessage, res: http.ServerResponse) => server.emit("request", req, res))
    server.once("error", reject)
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      const port = (server.address() as net.AddressInfo).port
      const host = options.host === undefined || options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host
      const url = `${options.tls !== undefined ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`
      let closing = false
      resolve({
        server,
        port,
        url,
        close: (timeoutMs = 10_000, graceMs = idleGraceMillis) =>
          new Promise<void>((done) => {
            // Every answer from now on closes its connection (hooked once, however often close is called).
            if (!closing) {
              closing = true
              server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
                res.shouldKeepAlive = false
              })
            }
            let sweep: ReturnType<typeof setInterval> | undefined
            const grace = setTimeout(() => {
              // A keep-alive connection whose request finishes while draining goes idle, and
              // the close would wait for it until the limit: close such connections as they go idle.
              // So are those that sent nothing in the grace (over TLS, also those whose handshake is
              // not done): Node does not count them as idle.
              server.closeIdleConnections()
              closeUnused()
              sweep = setInterval(() => {
                server.closeIdleConnections()
                closeUnused()
              }, 50)
            }, Math.min(graceMs, timeoutMs))
            const timer = setTimeout(() => {
              clearTimeout(grace)
              clearInterval(sweep)
              server.closeAllConnections()
              done()
            }, timeoutMs)
            timer.unref()
            // `http.Server`'s close stops accepting and clears its own timers, and (Node 19 on)
            // closes the idle connections at once, which is what the grace is for: that one
            // step is left out here, by shadowing it for the call.
            server.closeIdleConnections = () => {}
            try {
              server.close(() => {
                clearTimeout(grace)
                clearInterval(sweep)
                clearTimeout(timer)
                done()
              })
            } finally {
              delete (server as { closeIdleConnections?: unknown }).closeIdleConnections
            }
          })
      })
    })
  })
