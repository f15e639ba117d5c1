/**
 * The certificate and key for HTTPS (`TLS_CERT_FILE`, `TLS_KEY_FILE`), read and
 * checked before anything else starts: a file that cannot be read, that holds
 * something else (the two swapped, say), or a key that is not the certificate's,
 * is reported naming the variable and the file. Read again on SIGHUP (a renewed
 * certificate), with the same checks.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as tls from "node:tls"
import { systemMessage } from "./DataDir.ts"
import { ConfigInvalid } from "./ServerConfig.ts"

const privateKeyPem = /-----BEGIN [A-Z ]*PRIVATE KEY-----/
const certificatePem = /-----BEGIN CERTIFICATE-----/

/** Reads and checks the pair; a {@link ConfigInvalid} naming each bad one. `notBefore` and `notAfter` are the certificate's. */
export const read = (
  certFile: string,
  keyFile: string
): { readonly cert: Buffer; readonly key: Buffer; readonly notBefore: Date; readonly notAfter: Date } => {
  const problems: Array<string> = []
  const load = (variable: string, file: string) => {
    try {
      return fs.readFileSync(file)
    } catch (e) {
      problems.push(`${variable}: cannot read ${file}: ${systemMessage(e)}`)
      return undefined
    }
  }
  const cert = load("TLS_CERT_FILE", certFile)
  const key = load("TLS_KEY_FILE", keyFile)
  let certificate: crypto.X509Certificate | undefined
  let privateKey: crypto.KeyObject | undefined
  if (cert !== undefined) {
    try {
      certificate = new crypto.X509Certificate(cert)
    } catch (e) {
      const swapped = privateKeyPem.test(cert.toString("latin1")) ? " (it holds a private key: are TLS_CERT_FILE and TLS_KEY_FILE swapped?)" : ""
      problems.push(`TLS_CERT_FILE: ${certFile} is not a PEM certificate${swapped || `: ${(e as Error).message}`}`)
    }
  }
  if (key !== undefined) {
    try {
      privateKey = crypto.createPrivateKey(key)
    } catch (e) {
      const swapped = certificatePem.test(key.toString("latin1")) ? " (it holds a certificate: are TLS_CERT_FILE and TLS_KEY_FILE swapped?)" : ""
      problems.push(`TLS_KEY_FILE: ${keyFile} is not a PEM private key${swapped || `: ${(e as Error).message}`}`)
    }
  }
  if (certificate !== undefined && privateKey !== undefined) {
    if (!certificate.checkPrivateKey(privateKey)) {
      problems.push(`TLS_KEY_FILE: the key in ${keyFile} is not the key of the certificate in TLS_CERT_FILE ${certFile}`)
    } else {
      try {
        tls.createSecureContext({ cert, key })
      } catch (e) {
        problems.push(`TLS_CERT_FILE / TLS_KEY_FILE: ${certFile} and ${keyFile} cannot serve HTTPS: ${(e as Error).message}`)
      }
    }
  }
  if (problems.length > 0) throw new ConfigInvalid(problems)
  return { cert: cert!, key: key!, notBefore: new Date(certificate!.validFrom), notAfter: new Date(certificate!.validTo) }
}

/** A warning when the certificate is not valid at `now` (expired, or not yet valid): clients will refuse it. */
export const validityWarning = (certFile: string, files: { readonly notBefore: Date; readonly notAfter: Date }, now: Date = new Date()): string | undefined =>
  now > files.notAfter
    ? `TLS_CERT_FILE ${certFile}: the certificate expired at ${files.notAfter.toISOString()}; clients will refuse it (renew it, then send SIGHUP)`
    : now < files.notBefore
    ? `TLS_CERT_FILE ${certFile}: the certificate is not valid before ${files.notBefore.toISOString()}; clients will refuse it until then`
    : undefined
