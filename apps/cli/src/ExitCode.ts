/**
 * Exit codes, one per class of failure, and how Graph statuses and domain
 * error tags fall into the classes. Free of imports so that the entry point
 * can use it without loading anything heavy.
 *
 * @since 0.1.0
 */

/** Exit codes, one per class of failure. */
export const ExitCode = {
  other: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  auth: 5
} as const
export type ExitClass = keyof typeof ExitCode

/** The exit class of an HTTP status, as the Graph API answers it. */
export const classOfStatus = (status: number): ExitClass => {
  if (status === 400 || status === 413 || status === 415) return "usage"
  if (status === 401 || status === 403) return "auth"
  if (status === 404) return "notFound"
  if (status === 409 || status === 412) return "conflict"
  return "other"
}

/** The Graph error code and exit class of a domain error tag (local mode). */
export const ofDomainTag = (tag: string): { readonly code: string; readonly exit: ExitClass } => {
  switch (tag) {
    case "InvalidInput":
    case "MemberAlreadyPresent":
    // A user principal name another user holds: the server's 400 and code (core 0.11.0), in both modes.
    case "UserPrincipalNameTaken":
      return { code: "BadRequest", exit: "usage" }
    case "EntityNotFound":
      return { code: "itemNotFound", exit: "notFound" }
    case "EntityAlreadyExists":
      return { code: "Conflict", exit: "conflict" }
    case "PreconditionFailed":
      return { code: "preconditionFailed", exit: "conflict" }
    case "StoreUnavailable":
      return { code: "ServiceUnavailable", exit: "other" }
    default:
      return { code: "InternalError", exit: "other" }
  }
}
