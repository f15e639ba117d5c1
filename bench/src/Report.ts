/**
 * Printing results: aligned tables, ratios against the baseline of the same
 * run, target verdicts, and a JSON record of the run (bench/results/) that
 * BENCHMARKS.md is written from.
 *
 * @since 0.1.0
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"
import { root } from "./Proc.ts"

/** Prints a table; numbers are right-aligned. */
export const table = (title: string, header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>) => {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string | number>) =>
    r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join("  ")
  console.log(`\n== ${title}`)
  console.log(line(header))
  console.log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const r of cells.slice(1)) console.log(line(r))
}

/** A number with sensible precision. */
export const fmt = (n: number): string =>
  !Number.isFinite(n) || Number.isInteger(n) ? String(n) : Math.abs(n) >= 100 ? Math.round(n).toString() : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2)

export const mib = (bytes: number) => bytes / (1024 * 1024)

/** A target verdict. */
export interface Verdict {
  readonly target: string
  readonly measured: string
  readonly met: boolean | "n/a"
}

const verdicts: Array<Verdict> = []
const records: Record<string, unknown> = {}

/** Records a verdict and prints it. */
export const verdict = (target: string, measured: string, met: boolean | "n/a") => {
  verdicts.push({ target, measured, met })
  console.log(`${met === "n/a" ? "SKIP" : met ? "MET " : "MISS"}  ${target}: ${measured}`)
}

/** Keeps a named result for the JSON record. */
export const record = (key: string, value: unknown) => {
  records[key] = value
}

/** The machine, for the record. */
export const machine = () => ({
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`
})

/** Prints every verdict and writes bench/results/<name>.json. */
export const finish = (name: string) => {
  table("targets", ["verdict", "target", "measured"], verdicts.map((v) => [v.met === "n/a" ? "skip" : v.met ? "met" : "MISSED", v.target, v.measured]))
  const dir = join(root, "bench/results")
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: machine(), verdicts, records }, null, 2))
  console.log(`\nwrote ${file}`)
  return verdicts
}
