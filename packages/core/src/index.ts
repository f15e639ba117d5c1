/**
 * `@enrollment/core`: the domain of Microsoft Graph (beta) enrollment-configuration
 * assignments. Pure: it imports `effect` and nothing else.
 *
 * @since 0.1.0
 */
export * as Assignment from "./Assignment.ts"
export * as AssignmentFilter from "./AssignmentFilter.ts"
export * as AssignmentPatch from "./AssignmentPatch.ts"
export * as AssignmentTarget from "./AssignmentTarget.ts"
export { Assignments, type WriteOptions } from "./Assignments.ts"
export * as Configuration from "./Configuration.ts"
export { Configurations } from "./Configurations.ts"
export * as Directory from "./Directory.ts"
export * as DirectoryProperties from "./DirectoryProperties.ts"
export { DirectoryService, type GroupsOf, type Member, type MembersOf } from "./DirectoryService.ts"
export * as Errors from "./Errors.ts"
export * as ETag from "./ETag.ts"
export * as Id from "./Id.ts"
export * as Ids from "./Ids.ts"
export * as Json from "./Json.ts"
export * as MemoryStore from "./MemoryStore.ts"
export * as MergePatch from "./MergePatch.ts"
export * as ODataType from "./ODataType.ts"
export * as Paths from "./Paths.ts"
export { countOf, countPages, inSnapshot, Store, yieldBetweenReads } from "./Store.ts"
export type { AssignmentOf, Change, Check, ConfigurationResolution, EntitySet, InvitedUser, Page, PageRequest, TargetingCheck, TargetingInputs } from "./Store.ts"
export * as Targeting from "./Targeting.ts"
export * as Traced from "./Traced.ts"
export * as Validation from "./Validation.ts"
