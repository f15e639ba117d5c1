import type { Store } from "@enrollment/core"
import { SqliteStore } from "@enrollment/store-adapter"
import type { Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { httpSuite } from "./HttpSuite.ts"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "http-sqlite-"))
httpSuite("SQLite", () => SqliteStore.layer({ filename: path.join(dir, "test.sqlite"), synchronous: "NORMAL" }) as Layer.Layer<Store>)
