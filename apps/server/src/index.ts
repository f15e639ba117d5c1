/**
 * `@enrollment/server`: the deployable server, composed from environment
 * configuration. `main.ts` runs it; tests start it in-process through {@link App.start}.
 *
 * @since 0.1.0
 */
export * as App from "./App.ts"
export * as DataDir from "./DataDir.ts"
export * as MetricsEndpoint from "./MetricsEndpoint.ts"
export * as OtlpExport from "./OtlpExport.ts"
export * as Reason from "./Reason.ts"
export * as RequestLogger from "./RequestLogger.ts"
export * as Secret from "./Secret.ts"
export * as ServerConfig from "./ServerConfig.ts"
export * as ServerLog from "./ServerLog.ts"
export * as TlsFiles from "./TlsFiles.ts"
export * as V8Tuning from "./V8Tuning.ts"
