/**
 * `@enrollment/core/testing`: what adapters need to prove they honour the ports.
 *
 * @since 0.1.0
 */
export * as StoreConformance from "./StoreConformance.ts"
export * as GraphSamples from "./GraphSamples.ts"
