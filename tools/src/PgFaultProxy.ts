/**
 * A TCP proxy in front of PostgreSQL for the packages' fault tests (test support, not shipped):
 * it forwards every byte until told otherwise. `swallow()` makes it a network black hole (every
 * byte after it is dropped, both ways, and no connection is closed); `cutOn(text, nth)` cuts the
 * connection whose client sends `text` (in a statement or a parameter value) for the `nth` time,
 * before PostgreSQL gets those bytes: the connection is lost in the middle of what it was doing.
 * `url` is the database URL through the proxy.
 */
import * as net from "node:net"

export interface PgFaultProxy {
  readonly url: string
  readonly swallow: () => void
  /** Cuts the connection that sends `text` for the `nth` time (default: the next); settles once it has. */
  readonly cutOn: (text: string, nth?: number) => Promise<void>
  readonly close: () => void
}

export const start = async (target: string): Promise<PgFaultProxy> => {
  const to = new URL(target)
  let swallowing = false
  let cut: { readonly text: string; nth: number; readonly done: () => void } | undefined
  const sockets = new Set<net.Socket>()
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(to.port || 5432), to.hostname)
    sockets.add(client).add(upstream)
    client.on("data", (b) => {
      if (swallowing) return
      if (cut !== undefined && b.toString("latin1").includes(cut.text) && --cut.nth === 0) {
        const { done } = cut
        cut = undefined
        client.destroy()
        upstream.destroy()
        return done()
      }
      upstream.write(b)
    })
    upstream.on("data", (b) => swallowing || client.write(b))
    for (const s of [client, upstream]) s.on("error", () => {})
  })
  await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok))
  const proxied = new URL(target)
  proxied.hostname = "127.0.0.1"
  proxied.port = String((proxy.address() as net.AddressInfo).port)
  return {
    url: proxied.toString(),
    swallow: () => {
      swallowing = true
    },
    cutOn: (text, nth = 1) => new Promise<void>((done) => (cut = { text, nth, done })),
    close: () => {
      for (const s of sockets) s.destroy()
      proxy.close()
    }
  }
}
