/**
 * The OpenAPI 3.1 description of the `/beta` face, generated from the route
 * table (paths, methods, permissions, query options) and the core's schemas
 * (Schema → JSON Schema 2020-12, which OpenAPI 3.1 uses as is). Answers are
 * described by the entities' schemas; request bodies by `Requests` (what each
 * write accepts), where a property the schema does not declare is refused, as
 * the server refuses it.
 *
 * @since 0.1.0
 */
import { Assignment, Id, Json as JsonBounds } from "@enrollment/core"
import { Schema } from "effect"
import * as Batch from "./Batch.ts"
import * as Permissions from "./Permissions.ts"
import type * as OData from "./OData.ts"
import * as Requests from "./Requests.ts"
import { expandBudget, type Route } from "./Routes.ts"

type Json = Record<string, unknown>

const toRef = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll("#/$defs/", "#/components/schemas/"))

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "innerError"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        details: {
          type: "array",
          items: {
            type: "object",
            required: ["code", "message", "target"],
            properties: { code: { type: "string" }, message: { type: "string" }, target: { type: "string" } }
          }
        },
        innerError: {
          type: "object",
          properties: {
            date: { type: "string", format: "date-time" },
            "request-id": { type: "string" },
            "client-request-id": { type: "string" }
          }
        }
      }
    }
  }
}

const queryParams: Record<string, Json> = {
  $top: { name: "$top", in: "query", schema: { type: "integer", minimum: 1, maximum: 999 }, description: "Page size (default 100)" },
  $skiptoken: { name: "$skiptoken", in: "query", schema: { type: "string" }, description: "Opaque continuation token from @odata.nextLink" },
  $count: { name: "$count", in: "query", schema: { type: "boolean" }, description: "Include @odata.count" },
  $select: {
    name: "$select",
    in: "query",
    schema: { type: "string" },
    description: "Comma-separated properties, or *"
  },
  $filter: {
    name: "$filter",
    in: "query",
    schema: { type: "string" },
    description: "source eq|ne '…' (direct or policySets), sourceId eq|ne '…' or null, target/groupId eq|ne '…' or null " +
      "(null where the target has no groupId), isof(target,microsoft.graph.X) (X quoted or not; graph.X too), and / or / not, parentheses"
  }
}
/** The enum properties of a `$filter`, as its description says them: `; p is one of 'a', 'b' (as written)`. */
const enumsOf = (props: OData.FilterableProps): string =>
  Object.entries(props).map(([p, kind]) =>
    typeof kind !== "string" ? `; ${p} is one of ${kind.members.map((m) => `'${m}'`).join(", ")} (as written)` : ""
  ).join("")

const queryFor: Record<Route["query"], ReadonlyArray<string>> = {
  none: [],
  entity: ["$select"],
  collection: ["$top", "$skiptoken", "$count", "$select"],
  assignments: ["$top", "$skiptoken", "$count", "$select", "$filter"],
  count: ["$filter"],
  directory: ["$top", "$skiptoken", "$count", "$select", "$filter"],
  filteredCollection: ["$top", "$skiptoken", "$count", "$select", "$filter"],
  references: ["$top", "$skiptoken", "$count"]
}

/** Whether the route answers one entity as JSON (with its `ETag`). */
const answersEntity = (route: Route): boolean => route.response.schema !== undefined && route.response.collection !== true && route.response.text !== true

/**
 * Whether the route honours `If-Match` and `If-None-Match`: an entity's PATCH and DELETE, since
 * 0.15.0 an entity's GET (a 304 for an `If-None-Match` that names its ETag), and since 0.18.0 the
 * actions bound to an entity that say so (`Route.conditional`: a configuration's `assign` and
 * `setPriority`). A membership reference (`…/members/{id}/$ref`, `…/members/$ref?@id=`) has no
 * ETag, and its DELETE reads neither (since 0.8.1 the document no longer offers one there).
 */
const conditional = (route: Route): boolean =>
  route.conditional === true ||
  ((route.method === "PATCH" || route.method === "DELETE") && !route.path.endsWith("/$ref")) ||
  (route.method === "GET" && answersEntity(route))

/** The headers an error answer carries besides the body, by status (since 0.17.0 the document names them). */
const errorHeaders: Record<number, Json> = {
  401: { "WWW-Authenticate": { description: "Bearer realm=\"…\" (RFC 6750), with error=\"invalid_token\" when a token was sent", schema: { type: "string" } } },
  429: { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } },
  503: { "Retry-After": { description: "Seconds to wait before retrying, where the server can tell (the store busy or unreachable, a deadline)", schema: { type: "integer" } } }
}

/** One error answer: the Graph error body, and the headers {@link errorHeaders} names for its status. */
const errorResponse = (status: number, description: string): Json => ({
  description,
  ...(errorHeaders[status] === undefined ? {} : { headers: errorHeaders[status] }),
  content: { "application/json": { schema: { $ref: "#/components/schemas/error" } } }
})

/** What the If- headers' descriptions add on an action (`Route.conditional`): whose ETag they are read against. */
const boundEntity = (route: Route): string =>
  route.conditional === true ? "; the ETag of the entity the action is bound to" : ""

/** What the If- headers' descriptions add where `$expand` is offered: an expanded answer holds other entities than the one the ETag versions. */
const ignoredWithExpand = (route: Route): string =>
  route.method === "GET" && route.expandable !== undefined && route.expandable.length > 0 ? "; not read with $expand" : ""

const errorResponses = (route: Route): Json => {
  const out: Json = {}
  const add = (status: number, description: string) => {
    out[String(status)] = errorResponse(status, description)
  }
  add(400, "BadRequest")
  add(401, "InvalidAuthenticationToken")
  add(403, "Authorization_RequestDenied")
  add(404, "itemNotFound")
  if (conditional(route)) add(412, "preconditionFailed")
  // A create whose id is taken (since 0.17.0 only creates: a member reference that exists is a 400, as Graph answers it).
  if (route.method === "POST" && route.response.status === 201) add(409, "Conflict")
  if (route.request !== undefined) {
    add(413, "RequestEntityTooLarge")
    add(415, "UnsupportedMediaType")
  }
  add(429, "TooManyRequests")
  add(503, "ServiceUnavailable")
  return out
}

/**
 * The document's `info.version`: this package's release, whose routes and schemas it describes
 * (a test keeps it equal to `package.json`'s; before 0.6.1 it said 0.1.0 whatever the release).
 *
 * @since 0.6.1
 */
export const version = "0.18.0"

/** The OpenAPI 3.1 document for the routes, and `POST /beta/$batch` with `batch` (since 0.4.0). */
export const document = (routes: ReadonlyArray<Route>, options: { readonly batch?: boolean | undefined } = {}): Json => {
  const components: Record<string, unknown> = { error: errorSchema }
  const schemaRef = (s: Schema.Top, request = false): unknown => {
    const doc = Schema.toJsonSchemaDocument(s as any, request ? { onExcessProperty: "error" } : undefined)
    for (const [k, v] of Object.entries(doc.definitions)) {
      const schema = toRef(v)
      // One name, one schema: a request schema reusing an answer's identifier (rendered
      // closed) would silently replace the answer's open one.
      if (k in components && JSON.stringify(components[k]) !== JSON.stringify(schema)) {
        throw new Error(`OpenApi: two schemas are named '${k}'; give the request's its own identifier`)
      }
      components[k] = schema
    }
    return toRef(doc.schema)
  }
  /**
   * An entity as an answer carries it (since 0.8.1): its schema, with the annotations every
   * answer's entity has (`@odata.etag`, and `@odata.context` on one alone) and, where `$expand`
   * takes `assignments`, the expanded list and its link to the rest.
   */
  const answered = (one: unknown, r: Route): unknown => {
    // A reference (`…/$ref`) is `{"@odata.id": …}`, no entity.
    if (r.path.endsWith("/$ref")) return one
    const properties: Record<string, unknown> = {
      "@odata.etag": { type: "string", description: "The entity's version, as its ETag header (If-Match takes it)" }
    }
    if (r.response.collection !== true) properties["@odata.context"] = { type: "string" }
    if (r.expandable?.includes("assignments") === true) {
      properties.assignments = {
        type: "array",
        items: schemaRef(Assignment.Assignment),
        description: "With $expand=assignments only"
      }
      properties["assignments@odata.nextLink"] = {
        type: "string",
        description: `With $expand=assignments, where one answer's expansions pass ${expandBudget} entities: the rest of this entity's assignments`
      }
    }
    return { allOf: [one, { type: "object", properties }] }
  }
  const paths: Record<string, Json> = {}
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string", minLength: 1, maxLength: 128, pattern: Id.pattern.source },
      description: "Key: 1 to 128 UTF-16 code units, no '/', no control characters; the OData form x('{key}') addresses the same entity"
    }))
    const success: Json = { description: r.response.status === 204 ? "No Content" : r.response.status === 201 ? "Created" : "OK" }
    // The headers a client reads back (since 0.8.1): the entity's ETag (for If-Match), a create's URL.
    if (answersEntity(r)) {
      success.headers = {
        ETag: { description: "The entity's version, the @odata.etag of its body: send it in If-Match", schema: { type: "string" } },
        ...(r.response.status === 201
          ? { Location: { description: "The new entity's URL (an id beginning with $ in the key form, x('$id'))", schema: { type: "string" } } }
          : {})
      }
    }
    // Under $select an answer holds the selected properties only, with @odata.type and id (since 0.8.1 the document says so).
    if (queryFor[r.query].includes("$select") && r.response.schema !== undefined) {
      success.description += ". With $select, each entity holds only the selected properties (and @odata.type, id): " +
        "the schema's required properties are those of an answer without $select"
    }
    if (r.response.text) success.content = { "text/plain": { schema: { type: "integer" } } }
    else if (r.response.schema !== undefined) {
      const one = answered(schemaRef(r.response.schema), r)
      success.content = {
        "application/json": {
          schema: r.response.collection
            ? {
              type: "object",
              properties: {
                "@odata.context": { type: "string" },
                "@odata.count": { type: "integer" },
                "@odata.nextLink": { type: "string" },
                value: { type: "array", items: one }
              }
            }
            : one
        }
      }
    }
    const op: Json = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      description: (r.permission.and === undefined
        ? `Permissions (any one): ${r.permission.anyOf.join(", ")}`
        : `Permissions: ${Permissions.needs(r.permission)}`) +
        (r.aliases === undefined ? "" : `. Also served at ${r.aliases.map((a) => `/beta${a}`).join(", ")}`),
      security: [{ bearer: [] }],
      parameters: [
        ...params,
        ...queryFor[r.query].map((q) =>
          q === "$filter" && r.filterable !== undefined
            ? {
              ...queryParams.$filter,
              description: `p eq v, p ne v, p in (v, …), startswith(p,'text'), not, and, or, parentheses (strings without regard to case), over ${Object.keys(r.filterable).join(", ")}` +
                enumsOf(r.filterable)
            }
            : q === "$select" && r.derived !== undefined
            ? {
              ...queryParams.$select,
              description: `${queryParams.$select!.description}; a configuration's derived-type property behind its cast ` +
                "(microsoft.graph.deviceEnrollmentLimitConfiguration/limit)"
            }
            : queryParams[q]
        ),
        ...(r.expandable !== undefined && r.expandable.length > 0
          ? [{
            name: "$expand",
            in: "query",
            schema: { type: "string" },
            description: `Navigation properties to include whole: ${r.expandable.join(", ")}, or * (no options inside an expansion). ` +
              `One answer expands at most ${expandBudget} related entities: past them a list's page ends early (with @odata.nextLink), ` +
              `and one entity's expansion carries <navigation>@odata.nextLink to the rest`
          }]
          : []),
        // `…/members/$ref?@id=…` names its member by the query; `…/members/{id}/$ref` by its path (since 0.8.1 not offered both).
        ...(r.method === "DELETE" && r.path.endsWith("/members/$ref")
          ? [{
            name: "@id",
            in: "query",
            required: true,
            schema: { type: "string", pattern: Requests.referencePattern },
            description: "The member's URL, as in @odata.id (…/directoryObjects/{id}), by the same rule"
          }]
          : []),
        ...(conditional(r)
          ? [
            {
              name: "If-Match",
              in: "header",
              schema: { type: "string" },
              description: "Only if the entity's ETag is one of these (weak comparison), or * for any: else 412" + boundEntity(r) + ignoredWithExpand(r)
            },
            {
              name: "If-None-Match",
              in: "header",
              schema: { type: "string" },
              description: (r.method === "GET"
                ? "Unless the entity's ETag is one of these, or * for any: else 304 with the ETag and no body"
                : "Unless the entity's ETag is one of these, or * for any existing entity: else 412") + boundEntity(r) + ignoredWithExpand(r)
            }
          ]
          : []),
        ...(r.method === "PATCH" || r.method === "POST" ? [{ name: "Prefer", in: "header", schema: { type: "string", example: "return=minimal" } }] : [])
      ],
      responses: {
        [String(r.response.status)]: success,
        // SPEC 5: Prefer: return=minimal answers a write that would send its entity with 204.
        ...((r.method === "PATCH" || r.method === "POST") && r.response.status !== 204
          ? {
            "204": {
              description: "No Content (with Prefer: return=minimal; Preference-Applied says so)",
              headers: {
                "Preference-Applied": { description: "return=minimal", schema: { type: "string" } },
                ETag: { description: "The written entity's version", schema: { type: "string" } },
                ...(r.response.status === 201
                  ? {
                    Location: { description: "The new entity's URL", schema: { type: "string" } },
                    "OData-EntityId": { description: "The new entity's id, its URL (OData 4.01 Protocol 8.3.4)", schema: { type: "string" } }
                  }
                  : {})
              }
            }
          }
          : {}),
        ...(r.method === "GET" && conditional(r)
          ? {
            "304": {
              description: "Not Modified: If-None-Match names the entity's ETag (or is *); no body",
              headers: { ETag: { description: "The entity's version", schema: { type: "string" } } }
            }
          }
          : {}),
        ...errorResponses(r)
      }
    }
    if (r.request !== undefined) {
      op.requestBody = { required: true, content: { "application/json": { schema: schemaRef(r.request, true) } } }
    }
    const p = `/beta${r.path}`
    paths[p] ??= {}
    paths[p][r.method.toLowerCase()] = op
  }
  if (options.batch === true) {
    paths["/beta/$batch"] = {
      post: {
        operationId: "batch",
        summary: "Run up to 20 requests in one (JSON batching)",
        tags: ["batch"],
        description: `Each request runs as if sent alone, with this request's token (its own permission check and rate-limit token); ` +
          `dependsOn orders them, and a request whose dependency failed is answered 424. A malformed batch is one 400 and runs nothing. ` +
          `Methods: ${Batch.methods.join(", ")}; at most ${Batch.maxRequests} requests.`,
        security: [{ bearer: [] }],
        requestBody: { required: true, content: { "application/json": { schema: schemaRef(Batch.BatchRequest, true) } } },
        responses: {
          "200": { description: "OK: one answer per request", content: { "application/json": { schema: schemaRef(Batch.BatchResponse) } } },
          "400": errorResponse(400, "BadRequest"),
          "401": errorResponse(401, "InvalidAuthenticationToken"),
          "413": errorResponse(413, "RequestEntityTooLarge"),
          "415": errorResponse(415, "UnsupportedMediaType"),
          "429": errorResponse(429, "TooManyRequests"),
          // Before its steps run: the keys that verify the token cannot be fetched, the store is closing.
          "503": errorResponse(503, "ServiceUnavailable")
        }
      }
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Enrollment configuration assignments (Microsoft Graph beta face)",
      version,
      description: "The Graph (beta) endpoints for device enrollment configurations, their assignments, and the directory objects they target. " +
        "Ids are 1 to 128 UTF-16 code units long, as the server counts them; typed strings are at most 4096 bytes of UTF-8 (4 KiB). " +
        "JSON Schema's minLength and maxLength count code points, so an id with characters beyond U+FFFF, or a typed string with characters " +
        "beyond U+007F (maxLength 4096 is only the loose bound), may pass them and still be refused. " +
        "A number a double cannot keep as written (1e400, 1e-400, an integer such as 9007199254740993) is refused, naming its path. " +
        "The members a schema leaves open (a configuration's derived-type properties, a directory object's other Graph properties) " +
        `hold JSON with the same bounds: strings of at most 4096 bytes, at most ${JsonBounds.maxDepth} levels of nesting, and at most ` +
        `${JsonBounds.maxUntypedBytes} bytes of JSON text together; past them, a 400 naming the path. ` +
        "Every answer carries request-id, and client-request-id as the request sent it (ASCII text of at most 1024 characters)."
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } }
    }
  }
}
