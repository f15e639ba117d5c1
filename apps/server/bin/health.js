#!/usr/bin/env node
// The container's health check: GET /health of the server this environment configures, the way
// the server reads it: HTTPS when TLS_CERT_FILE is set (the certificate is not checked: the probe
// asks the process beside it whether it serves, not who it is), the port of PORT (default 8080),
// the address of HOST (its loopback when it listens on every address: 0.0.0.0, ::, or unset).
// Exits 0 when /health answers 200 within 2 s, else 1 with one line on stderr saying why.
import * as http from "node:http"
import * as https from "node:https"

const env = process.env
const tls = (env.TLS_CERT_FILE ?? "") !== ""
const port = Number(env.PORT ?? "8080") || 8080
const configured = (env.HOST ?? "").trim()
const host = configured === "" || configured === "0.0.0.0" ? "127.0.0.1" : configured === "::" || configured === "[::]" ? "::1" : configured.replace(/^\[(.*)\]$/, "$1")
const url = `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}/health`

const fail = (why) => {
  process.stderr.write(`health: ${url}: ${why}\n`)
  process.exit(1)
}
const req = (tls ? https : http).get(url, { agent: false, timeout: 2_000, rejectUnauthorized: false, headers: { connection: "close" } }, (res) => {
  res.resume()
  if (res.statusCode === 200) process.exit(0)
  fail(`answered ${res.statusCode}`)
})
req.on("timeout", () => {
  req.destroy()
  fail("no answer within 2 s")
})
req.on("error", (e) => fail(e.code ?? e.message))
