/** Builds the bundle into `outDir` (default `dist/`); the directory it wrote, or undefined without the bundler. */
export declare const bundle: (outDir?: string) => Promise<string | undefined>
