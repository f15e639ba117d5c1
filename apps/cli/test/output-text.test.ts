/**
 * The text `-o yaml` and `-o table` write for strings that hold characters a reader or a terminal
 * takes for something else: in YAML, 1.1's line breaks (NEL, U+2028, U+2029) and the non-printable
 * characters are escaped, so a YAML 1.1 or 1.2 reader reads the string as written (PyYAML, a 1.1
 * reader, is asked too when it is installed); in a table, every control character, U+2028, U+2029
 * and the bidirectional controls show as a space, so none reaches the terminal.
 */
import { spawnSync } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { table, yaml } from "../src/Output.ts"

const pyyaml = spawnSync("python3", ["-c", "import yaml"]).status === 0
if (!pyyaml) console.log("output-text: python3 with PyYAML is not installed; the YAML 1.1 reader's check is skipped")

/** What PyYAML (YAML 1.1) reads from `text`, as JSON (every non-ASCII character as `\uXXXX`). */
const readByPyYaml = (text: string): unknown => {
  const r = spawnSync("python3", ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"], { input: text, encoding: "utf8" })
  assert.strictEqual(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

describe("-o yaml", () => {
  const value = {
    nel: "nel\u0085x",
    separators: "a\u2028b\u2029c",
    c1: "csi\u009b31m \u0080 \u009f",
    del: "a\u007fb",
    bom: "a\ufeffb",
    nonchar: "a\ufffe\uffffb",
    c0: "tab\tline\nnul\u0000"
  }

  it("escapes NEL, U+2028 and U+2029 with YAML's own escapes, and DEL, the C1 controls, U+FEFF, U+FFFE and U+FFFF as \\u escapes", () => {
    // Before: written as they are; PyYAML read `nel x` (NEL folded to a space) and refused the C1 controls.
    assert.strictEqual(
      yaml(value),
      [
        `nel: "nel\\Nx"`,
        `separators: "a\\Lb\\Pc"`,
        `c1: "csi\\u009b31m \\u0080 \\u009f"`,
        `del: "a\\u007fb"`,
        `bom: "a\\ufeffb"`,
        `nonchar: "a\\ufffe\\uffffb"`,
        `c0: "tab\\tline\\nnul\\u0000"`,
        ""
      ].join("\n")
    )
    assert.strictEqual(yaml({ "key\u0085": 1 }), `"key\\N": 1\n`, "keys are scalars too")
  })

  it.skipIf(!pyyaml)("is read by a YAML 1.1 reader (PyYAML) as the strings written", () => {
    assert.deepStrictEqual(readByPyYaml(yaml(value)), value)
  })
})

describe("-o table", () => {
  it("shows the C1 controls, U+2028, U+2029 and the bidirectional controls as a space, as it shows the C0 controls", () => {
    // Before: only C0 and DEL were; U+009B (8-bit CSI) reached the terminal, which read `31m` as a colour.
    const name = "a\u009b31mred\u0085\u2028\u2029x\u202eevil\u2066\u200f\u061c\u0007z\u0080\u009f"
    assert.strictEqual(
      table([{ "@odata.type": "#microsoft.graph.user", id: "u\u009b1", displayName: name }], ["id", "displayName"]),
      "ID   DISPLAYNAME\nu 1  a 31mred   x evil    z\n"
    )
    // An object's cell is its JSON, which escapes C0 controls only.
    assert.strictEqual(table([{ id: "x1", extra: { note: "a\u0085b\u2066c" } }], ["id", "extra"]), 'ID  EXTRA\nx1  {"note":"a b c"}\n')
  })
})
