/**
 * Layer rules of the hexagon, checked in CI (`pnpm lint:deps`):
 * - packages/core is pure: it imports `effect` and its own modules, nothing else
 *   (no node:*, no other package of ours, no third-party package);
 * - adapters (packages/*) never import apps;
 * - packages never reach into another package's files by relative path.
 */
module.exports = {
  forbidden: [
    {
      name: "core-is-pure",
      comment: "packages/core may import only effect and its own modules",
      severity: "error",
      from: { path: "^packages/core/src/" },
      to: { pathNot: ["^packages/core/src/", "node_modules/effect/"] }
    },
    {
      name: "core-no-node-builtins",
      comment: "packages/core may not import node built-ins",
      severity: "error",
      from: { path: "^packages/core/src/" },
      to: { dependencyTypes: ["core"] }
    },
    {
      name: "adapters-never-import-apps",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: "^apps/" }
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: { path: "^(packages|apps)/[^/]+/src/" },
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|coverage|test|bench)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"]
    }
  }
}
