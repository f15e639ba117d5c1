/**
 * `@enrollment/http-adapter`: the Microsoft Graph (beta) HTTP face. One route
 * table, served by a lean `node:http` router and described as OpenAPI 3.1.
 *
 * @since 0.1.0
 */
export * as AnswerCache from "./AnswerCache.ts"
export * as Auth from "./Auth.ts"
export * as Batch from "./Batch.ts"
export * as Body from "./Body.ts"
export * as Client from "./Client.ts"
export * as Cors from "./Cors.ts"
export * as Docs from "./Docs.ts"
export * as KeySet from "./KeySet.ts"
export * as Listen from "./Listen.ts"
export * as Metrics from "./Metrics.ts"
export * as OData from "./OData.ts"
export * as OpenApi from "./OpenApi.ts"
export * as Permissions from "./Permissions.ts"
export * as Problem from "./Problem.ts"
export * as RateLimit from "./RateLimit.ts"
export * as Requests from "./Requests.ts"
export * as Router from "./Router.ts"
export * as Routes from "./Routes.ts"
export * as Sampler from "./Sampler.ts"
export * as Secret from "./Secret.ts"
export * as Server from "./Server.ts"
export * as Token from "./Token.ts"
