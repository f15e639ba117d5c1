import type { App } from "@enrollment/launch/entry"
/** The server as `@enrollment/launch` sees it. */
export declare const app: App
/** Builds the bundle into `outDir` (default `dist/`); the directory it wrote, or undefined without the bundler. */
export declare const bundle: (outDir?: string) => Promise<string | undefined>
