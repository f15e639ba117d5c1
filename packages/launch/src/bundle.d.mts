import type { App } from "./entry.ts"
/**
 * Builds the bundle of the app in `app.dir` (its `src/main.ts`) into `outDir`
 * (default its `dist/`), the entry file named `app.bundle`; the directory it
 * wrote, or undefined when the bundler is not installed.
 */
export declare const bundle: (app: App, outDir?: string) => Promise<string | undefined>
/** An app's postinstall: builds its bundle (into `outDir` when given) and says what it did. */
export declare const main: (app: App, name: string, outDir?: string) => Promise<void>
