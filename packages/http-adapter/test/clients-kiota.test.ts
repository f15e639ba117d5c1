/**
 * Every operation of SPEC 2 driven through the Kiota beta SDK as its generated
 * fluent request builders drive it: the builders below are the generator's own
 * metadata (URI templates, query parameter mappers, Accept headers, adapter
 * methods, error mappings) for the paths this service serves, run by
 * `apiClientProxifier` from @microsoft/kiota-abstractions, over the SDK's
 * `GraphBetaRequestAdapter` (its middleware, JSON and text serialisers) and the
 * SDK's own models. Only the fluent packages for deviceManagement, users and
 * groups are not installed; their metadata is restated here verbatim in shape.
 * The invitation family is the exception: the installed invitations package
 * (@microsoft/msgraph-beta-sdk-invitations) has no `byInvitationId` and no
 * navigation from an invitation to its invited user's configurations (its
 * `invitedUser` builder's template is `{+baseurl}/invitations/invitedUser`), so
 * the builders for that family below are this test's, made from the seed's path
 * template as the generator would write them: a real client reaches that family
 * through a `RequestInformation` of its own (http-adapter README, "Clients").
 */
import { MemoryStore } from "@enrollment/core"
import {
  apiClientProxifier,
  type AuthenticationProvider,
  type ErrorMappings,
  NativeResponseHandler,
  ResponseHandlerOption,
  type NavigationMetadata,
  type Parsable,
  type ParseNode,
  type RequestConfiguration,
  type RequestsMetadata,
  type SerializationWriter
} from "@microsoft/kiota-abstractions"
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk"
import {
  createDeviceEnrollmentConfigurationCollectionResponseFromDiscriminatorValue,
  createDeviceEnrollmentConfigurationFromDiscriminatorValue,
  createDirectoryObjectCollectionResponseFromDiscriminatorValue,
  createEnrollmentConfigurationAssignmentCollectionResponseFromDiscriminatorValue,
  createEnrollmentConfigurationAssignmentFromDiscriminatorValue,
  createGroupCollectionResponseFromDiscriminatorValue,
  createGroupFromDiscriminatorValue,
  createInvitationCollectionResponseFromDiscriminatorValue,
  createInvitationFromDiscriminatorValue,
  createUserCollectionResponseFromDiscriminatorValue,
  createUserFromDiscriminatorValue,
  type ConfigurationManagerCollectionAssignmentTarget,
  type DeviceEnrollmentConfiguration,
  type DeviceEnrollmentConfigurationCollectionResponse,
  type DeviceEnrollmentLimitConfiguration,
  type DirectoryObjectCollectionResponse,
  type EnrollmentConfigurationAssignment,
  type EnrollmentConfigurationAssignmentCollectionResponse,
  type Group,
  type GroupAssignmentTarget,
  type GroupCollectionResponse,
  type Invitation,
  type InvitationCollectionResponse,
  type ReferenceCreate,
  serializeDeviceEnrollmentConfiguration,
  serializeEnrollmentConfigurationAssignment,
  serializeGroup,
  serializeInvitation,
  serializeReferenceCreate,
  serializeUser,
  type User,
  type UserCollectionResponse
} from "@microsoft/msgraph-beta-sdk/models/index.js"
import { createODataErrorFromDiscriminatorValue, type ODataError } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js"
import { createRequire } from "node:module"
import * as fs from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { selfSigned, start, type TestServer } from "./support.ts"

/**
 * The SDK's PageIterator, from @microsoft/msgraph-sdk-core: the beta SDK's own dependency
 * (not one of this package's), loaded from where the SDK finds it.
 */
interface PageIteratorLike {
  iterate(): Promise<void>
}
type PageIteratorClass = new<T extends Parsable>(
  adapter: GraphBetaRequestAdapter,
  page: { value?: Array<T> | null; odataNextLink?: string | null },
  callback: (item: T) => boolean,
  factory: Factory,
  errorMappings: ErrorMappings
) => PageIteratorLike
const loadPageIterator = async (): Promise<PageIteratorClass> => {
  const here = createRequire(import.meta.url)
  const sdk = fs.realpathSync(here.resolve("@microsoft/msgraph-beta-sdk"))
  const core = createRequire(sdk).resolve("@microsoft/msgraph-sdk-core")
  return (await import(core)).PageIterator
}

const G = "#microsoft.graph."

// ----- the generated request builders' metadata -----------------------------

const errorMappings = { XXX: createODataErrorFromDiscriminatorValue }
const mapper = (...names: ReadonlyArray<string>) => Object.fromEntries(names.map((n) => [n, `%24${n}`]))
const listOptions = ["count", "expand", "filter", "orderby", "search", "select", "skip", "top"]
const template = (p: string, options: ReadonlyArray<string> = []) =>
  `{+baseurl}${p}${options.length > 0 ? `{?${options.map((n) => `%24${n}`).join(",")}}` : ""}`

type Factory = (parseNode: ParseNode | undefined) => (instance?: Parsable) => Record<string, (node: ParseNode) => void>
type Serializer = (writer: SerializationWriter, value?: Partial<Parsable> | undefined | null, isSerializingDerivedType?: boolean) => void

/** `GET` (a collection) and `POST` (one entity) of a collection, and its `/$count`. */
const collectionMetadata = (p: string, listFactory: Factory, itemFactory: Factory | undefined, serializer: Serializer | undefined) => {
  const requests: RequestsMetadata = {
    get: {
      uriTemplate: template(p, listOptions),
      responseBodyContentType: "application/json",
      errorMappings,
      adapterMethodName: "send",
      responseBodyFactory: listFactory,
      queryParametersMapper: mapper(...listOptions)
    }
  }
  if (itemFactory !== undefined && serializer !== undefined) {
    requests.post = {
      uriTemplate: template(p, listOptions),
      responseBodyContentType: "application/json",
      errorMappings,
      adapterMethodName: "send",
      responseBodyFactory: itemFactory,
      requestBodyContentType: "application/json",
      requestBodySerializer: serializer,
      requestInformationContentSetMethod: "setContentFromParsable"
    }
  }
  const count: NavigationMetadata = {
    requestsMetadata: {
      get: {
        uriTemplate: template(`${p}/$count`, ["filter", "search"]),
        responseBodyContentType: "text/plain;q=0.9",
        errorMappings,
        adapterMethodName: "sendPrimitive",
        responseBodyFactory: "number",
        queryParametersMapper: mapper("filter", "search")
      }
    }
  }
  return { requests, count }
}

/** `GET`, `PATCH` and `DELETE` of one entity. */
const itemMetadata = (p: string, factory: Factory, serializer: Serializer | undefined, methods: ReadonlyArray<"get" | "patch" | "delete">): RequestsMetadata => {
  const out: RequestsMetadata = {}
  const uriTemplate = template(p, ["expand", "select"])
  if (methods.includes("get")) {
    out.get = { uriTemplate, responseBodyContentType: "application/json", errorMappings, adapterMethodName: "send", responseBodyFactory: factory, queryParametersMapper: mapper("expand", "select") }
  }
  if (methods.includes("patch")) {
    out.patch = {
      uriTemplate,
      responseBodyContentType: "application/json",
      errorMappings,
      adapterMethodName: "send",
      responseBodyFactory: factory,
      requestBodyContentType: "application/json",
      requestBodySerializer: serializer!,
      requestInformationContentSetMethod: "setContentFromParsable"
    }
  }
  if (methods.includes("delete")) {
    out.delete = { uriTemplate, responseBodyContentType: "application/json", errorMappings, adapterMethodName: "sendNoResponseContent" }
  }
  return out
}

/** An action's `POST` answered by 204. */
const actionMetadata = (p: string, serializer: Serializer): NavigationMetadata => ({
  requestsMetadata: {
    post: {
      uriTemplate: template(p),
      responseBodyContentType: "application/json",
      errorMappings,
      adapterMethodName: "sendNoResponseContent",
      requestBodyContentType: "application/json",
      requestBodySerializer: serializer,
      requestInformationContentSetMethod: "setContentFromParsable"
    }
  }
})

/** The body of `assign`, as the generator writes its serialiser. */
interface AssignPostRequestBody extends Parsable {
  additionalData?: Record<string, unknown>
  enrollmentConfigurationAssignments?: Array<EnrollmentConfigurationAssignment> | null
}
const serializeAssignPostRequestBody = (writer: SerializationWriter, body: Partial<AssignPostRequestBody> | undefined | null = {}, isSerializingDerivedType = false) => {
  if (!body || isSerializingDerivedType) return
  writer.writeCollectionOfObjectValues("enrollmentConfigurationAssignments", body.enrollmentConfigurationAssignments, serializeEnrollmentConfigurationAssignment)
  writer.writeAdditionalData(body.additionalData)
}
/** The body of `setPriority`. */
interface SetPriorityPostRequestBody extends Parsable {
  additionalData?: Record<string, unknown>
  priority?: number | null
}
const serializeSetPriorityPostRequestBody = (writer: SerializationWriter, body: Partial<SetPriorityPostRequestBody> | undefined | null = {}, isSerializingDerivedType = false) => {
  if (!body || isSerializingDerivedType) return
  writer.writeNumberValue("priority", body.priority)
  writer.writeAdditionalData(body.additionalData)
}

/** `…/deviceEnrollmentConfigurations` under a prefix, with its items, their assignments and actions. */
const configurationsNavigation = (prefix: string, writable: boolean): NavigationMetadata => {
  const coll = `${prefix}/deviceEnrollmentConfigurations`
  const one = `${coll}/{deviceEnrollmentConfiguration%2Did}`
  const assignments = collectionMetadata(
    `${one}/assignments`,
    createEnrollmentConfigurationAssignmentCollectionResponseFromDiscriminatorValue as Factory,
    createEnrollmentConfigurationAssignmentFromDiscriminatorValue as Factory,
    serializeEnrollmentConfigurationAssignment as Serializer
  )
  const configurations = collectionMetadata(
    coll,
    createDeviceEnrollmentConfigurationCollectionResponseFromDiscriminatorValue as Factory,
    writable ? createDeviceEnrollmentConfigurationFromDiscriminatorValue as Factory : undefined,
    writable ? serializeDeviceEnrollmentConfiguration as Serializer : undefined
  )
  return {
    requestsMetadata: configurations.requests,
    navigationMetadata: {
      count: configurations.count,
      byDeviceEnrollmentConfigurationId: {
        pathParametersMappings: ["deviceEnrollmentConfiguration%2Did"],
        requestsMetadata: itemMetadata(one, createDeviceEnrollmentConfigurationFromDiscriminatorValue as Factory, serializeDeviceEnrollmentConfiguration as Serializer, ["get", "patch", "delete"]),
        navigationMetadata: {
          assign: actionMetadata(`${one}/assign`, serializeAssignPostRequestBody as Serializer),
          setPriority: actionMetadata(`${one}/setPriority`, serializeSetPriorityPostRequestBody as Serializer),
          assignments: {
            requestsMetadata: assignments.requests,
            navigationMetadata: {
              count: assignments.count,
              byEnrollmentConfigurationAssignmentId: {
                pathParametersMappings: ["enrollmentConfigurationAssignment%2Did"],
                requestsMetadata: itemMetadata(
                  `${one}/assignments/{enrollmentConfigurationAssignment%2Did}`,
                  createEnrollmentConfigurationAssignmentFromDiscriminatorValue as Factory,
                  serializeEnrollmentConfigurationAssignment as Serializer,
                  ["get", "patch", "delete"]
                )
              }
            }
          }
        }
      }
    }
  }
}

const usersCollection = collectionMetadata("/users", createUserCollectionResponseFromDiscriminatorValue as Factory, createUserFromDiscriminatorValue as Factory, serializeUser as Serializer)
const groupsCollection = collectionMetadata("/groups", createGroupCollectionResponseFromDiscriminatorValue as Factory, createGroupFromDiscriminatorValue as Factory, serializeGroup as Serializer)
const membersCollection = collectionMetadata("/groups/{group%2Did}/members", createDirectoryObjectCollectionResponseFromDiscriminatorValue as Factory, undefined, undefined)
/** The members' type casts as the generator writes them: `graph.user`, the namespace's alias. */
const membersAsUsers = collectionMetadata("/groups/{group%2Did}/members/graph.user", createUserCollectionResponseFromDiscriminatorValue as Factory, undefined, undefined)
const membersAsGroups = collectionMetadata("/groups/{group%2Did}/members/graph.group", createGroupCollectionResponseFromDiscriminatorValue as Factory, undefined, undefined)
const invitationsCollection = collectionMetadata("/invitations", createInvitationCollectionResponseFromDiscriminatorValue as Factory, createInvitationFromDiscriminatorValue as Factory, serializeInvitation as Serializer)

const navigation: Record<string, NavigationMetadata> = {
  deviceManagement: {
    navigationMetadata: { deviceEnrollmentConfigurations: configurationsNavigation("/deviceManagement", true) }
  },
  users: {
    requestsMetadata: usersCollection.requests,
    navigationMetadata: {
      count: usersCollection.count,
      byUserId: {
        pathParametersMappings: ["user%2Did"],
        requestsMetadata: itemMetadata("/users/{user%2Did}", createUserFromDiscriminatorValue as Factory, serializeUser as Serializer, ["get", "patch", "delete"]),
        navigationMetadata: { deviceEnrollmentConfigurations: configurationsNavigation("/users/{user%2Did}", false) }
      }
    }
  },
  groups: {
    requestsMetadata: groupsCollection.requests,
    navigationMetadata: {
      count: groupsCollection.count,
      byGroupId: {
        pathParametersMappings: ["group%2Did"],
        requestsMetadata: itemMetadata("/groups/{group%2Did}", createGroupFromDiscriminatorValue as Factory, serializeGroup as Serializer, ["get", "delete"]),
        navigationMetadata: {
          members: {
            requestsMetadata: membersCollection.requests,
            navigationMetadata: {
              count: membersCollection.count,
              graphUser: { requestsMetadata: membersAsUsers.requests, navigationMetadata: { count: membersAsUsers.count } },
              graphGroup: { requestsMetadata: membersAsGroups.requests, navigationMetadata: { count: membersAsGroups.count } },
              ref: {
                requestsMetadata: {
                  ...actionMetadata("/groups/{group%2Did}/members/$ref", serializeReferenceCreate as Serializer).requestsMetadata,
                  delete: {
                    uriTemplate: "{+baseurl}/groups/{group%2Did}/members/$ref?@id={%40id}",
                    responseBodyContentType: "application/json",
                    errorMappings,
                    adapterMethodName: "sendNoResponseContent",
                    queryParametersMapper: { id: "%40id" }
                  }
                }
              },
              byDirectoryObjectId: {
                pathParametersMappings: ["directoryObject%2Did"],
                navigationMetadata: {
                  ref: {
                    requestsMetadata: {
                      delete: {
                        uriTemplate: "{+baseurl}/groups/{group%2Did}/members/{directoryObject%2Did}/$ref",
                        responseBodyContentType: "application/json",
                        errorMappings,
                        adapterMethodName: "sendNoResponseContent"
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  },
  invitations: {
    requestsMetadata: invitationsCollection.requests,
    navigationMetadata: {
      count: invitationsCollection.count,
      byInvitationId: {
        pathParametersMappings: ["invitation%2Did"],
        requestsMetadata: itemMetadata("/invitations/{invitation%2Did}", createInvitationFromDiscriminatorValue as Factory, undefined, ["get"]),
        navigationMetadata: {
          invitedUser: {
            requestsMetadata: itemMetadata("/invitations/{invitation%2Did}/invitedUser", createUserFromDiscriminatorValue as Factory, undefined, ["get"]),
            navigationMetadata: { deviceEnrollmentConfigurations: configurationsNavigation("/invitations/{invitation%2Did}/invitedUser", false) }
          }
        }
      }
    }
  }
}

// ----- the builders' types, as the generator declares them ------------------

interface ListQuery {
  count?: boolean
  expand?: Array<string>
  filter?: string
  orderby?: Array<string>
  search?: string
  select?: Array<string>
  skip?: number
  top?: number
}
interface ItemQuery {
  expand?: Array<string>
  select?: Array<string>
}
interface CountBuilder {
  get(c?: RequestConfiguration<{ filter?: string; search?: string }>): Promise<number | undefined>
}
interface ListBuilder<C> {
  get(c?: RequestConfiguration<ListQuery>): Promise<C | undefined>
  count: CountBuilder
}
interface CollectionBuilder<C, E> extends ListBuilder<C> {
  post(body: E, c?: RequestConfiguration<object>): Promise<E | undefined>
}
interface ItemBuilder<E> {
  get(c?: RequestConfiguration<ItemQuery>): Promise<E | undefined>
  patch(body: E, c?: RequestConfiguration<object>): Promise<E | undefined>
  delete(c?: RequestConfiguration<object>): Promise<void>
}
interface AssignmentsBuilder extends CollectionBuilder<EnrollmentConfigurationAssignmentCollectionResponse, EnrollmentConfigurationAssignment> {
  byEnrollmentConfigurationAssignmentId(id: string): ItemBuilder<EnrollmentConfigurationAssignment>
}
interface ConfigurationItemBuilder extends ItemBuilder<DeviceEnrollmentConfiguration> {
  assignments: AssignmentsBuilder
  assign: { post(body: AssignPostRequestBody, c?: RequestConfiguration<object>): Promise<void> }
  setPriority: { post(body: SetPriorityPostRequestBody, c?: RequestConfiguration<object>): Promise<void> }
}
interface ConfigurationsBuilder extends CollectionBuilder<DeviceEnrollmentConfigurationCollectionResponse, DeviceEnrollmentConfiguration> {
  byDeviceEnrollmentConfigurationId(id: string): ConfigurationItemBuilder
}
interface GraphClient {
  deviceManagement: { deviceEnrollmentConfigurations: ConfigurationsBuilder }
  users: CollectionBuilder<UserCollectionResponse, User> & {
    byUserId(id: string): ItemBuilder<User> & { deviceEnrollmentConfigurations: ConfigurationsBuilder }
  }
  groups: CollectionBuilder<GroupCollectionResponse, Group> & {
    byGroupId(id: string): ItemBuilder<Group> & {
      members: ListBuilder<DirectoryObjectCollectionResponse> & {
        graphUser: ListBuilder<UserCollectionResponse>
        graphGroup: ListBuilder<GroupCollectionResponse>
        ref: {
          post(body: ReferenceCreate, c?: RequestConfiguration<object>): Promise<void>
          delete(c: RequestConfiguration<{ id?: string }>): Promise<void>
        }
        byDirectoryObjectId(id: string): { ref: { delete(c?: RequestConfiguration<object>): Promise<void> } }
      }
    }
  }
  invitations: CollectionBuilder<InvitationCollectionResponse, Invitation> & {
    byInvitationId(id: string): ItemBuilder<Invitation> & {
      invitedUser: ItemBuilder<User> & { deviceEnrollmentConfigurations: ConfigurationsBuilder }
    }
  }
}

// ----- the tests --------------------------------------------------------------


/** The ODataError a call failed with (the SDK's mapped error type). */
const odataError = async (p: Promise<unknown>): Promise<ODataError & { responseStatusCode?: number | undefined }> => {
  try {
    await p
  } catch (e) {
    return e as ODataError & { responseStatusCode?: number | undefined }
  }
  throw new Error("expected the call to fail")
}

/** A request option that hands the raw `Response` to the test instead of deserialising it. */
const nativeResponse = () => {
  const handler = new NativeResponseHandler()
  const option = new ResponseHandlerOption()
  option.responseHandler = handler
  return { option, response: () => handler.value as Response }
}

describe("Kiota beta SDK request builders", () => {
  let s: TestServer
  let adapter: GraphBetaRequestAdapter
  let graph: GraphClient
  let guestId: string
  beforeAll(async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, tls: selfSigned() })
    const token = await s.token()
    const auth: AuthenticationProvider = {
      authenticateRequest: async (request) => {
        request.headers.tryAdd("Authorization", `Bearer ${token}`)
      }
    }
    adapter = new GraphBetaRequestAdapter(auth)
    adapter.baseUrl = `https://localhost:${new URL(s.url).port}/beta`
    graph = apiClientProxifier<GraphClient>(adapter, { baseurl: adapter.baseUrl }, navigation, undefined)
  })
  afterAll(async () => {
    await s?.close()
  })

  const cfgs = () => graph.deviceManagement.deviceEnrollmentConfigurations
  const cfg = (id: string) => cfgs().byDeviceEnrollmentConfigurationId(id)

  it("invites a guest and reads the invitation, its invited user and the lists", async () => {
    const inv = await graph.invitations.post({ id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" } as Invitation)
    assert.strictEqual(inv?.status, "PendingAcceptance")
    assert.strictEqual(inv?.invitedUserType, "Guest")
    assert.strictEqual(inv?.id, "i1")
    const got = await graph.invitations.byInvitationId("i1").get()
    assert.strictEqual(got?.invitedUserEmailAddress, "guest@example.com")
    const user = await graph.invitations.byInvitationId("i1").invitedUser.get()
    assert.strictEqual(user?.userType, "Guest")
    assert.strictEqual(user?.odataType, `${G}user`)
    guestId = user!.id!
    const list = await graph.invitations.get({ queryParameters: { count: true, top: 5 } })
    assert.strictEqual(list?.odataCount, 1)
    assert.deepStrictEqual(list?.value?.map((i) => i.id), ["i1"])
    assert.strictEqual(await graph.invitations.count.get(), 1)
  })

  it("creates, lists, gets, patches and deletes users", async () => {
    const u = await graph.users.post({ id: "u1", displayName: "Una", accountEnabled: true, userType: "Member" } as User)
    assert.strictEqual(u?.displayName, "Una")
    assert.strictEqual(u?.accountEnabled, true)
    const patched = await graph.users.byUserId("u1").patch({ displayName: "Una B" } as User)
    assert.strictEqual(patched?.displayName, "Una B")
    const list = await graph.users.get({ queryParameters: { select: ["id", "displayName"], count: true } })
    assert.strictEqual(list?.odataCount, 2)
    assert.includeMembers(list!.value!.map((x) => x.id), ["u1", guestId])
    assert.strictEqual(await graph.users.count.get(), 2)
    await graph.users.byUserId("u1").delete()
    const e = await odataError(graph.users.byUserId("u1").get())
    assert.strictEqual(e.responseStatusCode, 404)
    assert.strictEqual(e.errorEscaped?.code, "itemNotFound")
  })

  it("creates groups and adds and removes members by reference", async () => {
    const g = await graph.groups.post({ id: "g1", displayName: "Guests", mailNickname: "guests", securityEnabled: true } as Group)
    assert.strictEqual(g?.displayName, "Guests")
    await graph.groups.post({ id: "g2", displayName: "Other" } as Group)
    await graph.groups.byGroupId("g1").members.ref.post({ odataId: `https://graph.microsoft.com/beta/directoryObjects/${guestId}` })
    await graph.groups.byGroupId("g2").members.ref.post({ odataId: `https://graph.microsoft.com/beta/users/${guestId}` })
    const members = await graph.groups.byGroupId("g1").members.get({ queryParameters: { count: true } })
    assert.strictEqual(members?.odataCount, 1)
    assert.strictEqual(members?.value?.[0]?.id, guestId)
    assert.strictEqual(members?.value?.[0]?.odataType, `${G}user`)
    assert.strictEqual(await graph.groups.byGroupId("g1").members.count.get(), 1)
    const again = await odataError(graph.groups.byGroupId("g1").members.ref.post({ odataId: `https://graph.microsoft.com/beta/directoryObjects/${guestId}` }))
    assert.strictEqual(again.responseStatusCode, 400)
    await graph.groups.byGroupId("g2").members.byDirectoryObjectId(guestId).ref.delete()
    assert.strictEqual(await graph.groups.byGroupId("g2").members.count.get(), 0)
    const gone = await odataError(graph.groups.byGroupId("g2").members.byDirectoryObjectId(guestId).ref.delete())
    assert.strictEqual(gone.responseStatusCode, 404)
    await graph.groups.byGroupId("g2").delete()
    assert.strictEqual((await odataError(graph.groups.byGroupId("g2").get())).responseStatusCode, 404)
    const list = await graph.groups.get()
    assert.deepStrictEqual(list?.value?.map((x) => x.id), ["g1"])
  })

  it("casts a group's members to users and to groups with the graphUser and graphGroup builders, paging with the PageIterator", async () => {
    const PageIterator = await loadPageIterator()
    await graph.groups.post({ id: "gk", displayName: "Cast" } as Group)
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) await graph.users.post({ id: `k${i}`, displayName: `K${i}` } as User)
      else await graph.groups.post({ id: `k${i}`, displayName: `K${i}` } as Group)
      await graph.groups.byGroupId("gk").members.ref.post({ odataId: `https://graph.microsoft.com/beta/directoryObjects/k${i}` })
    }
    const members = graph.groups.byGroupId("gk").members
    const first = await members.graphUser.get({ queryParameters: { top: 2, count: true, select: ["id", "displayName"] } })
    assert.strictEqual(first?.odataCount, 3)
    const seen: Array<User> = []
    await new PageIterator<User>(adapter, first!, (u) => {
      seen.push(u)
      return true
    }, createUserCollectionResponseFromDiscriminatorValue as Factory, errorMappings).iterate()
    assert.deepStrictEqual(seen.map((u) => [u.odataType, u.id, u.displayName]), [0, 2, 4].map((i) => [`${G}user`, `k${i}`, `K${i}`]))
    const groups = await members.graphGroup.get({ queryParameters: { filter: "displayName ne 'K3'" } })
    assert.deepStrictEqual(groups?.value?.map((g) => g.id), ["k1", "k5"])
    assert.strictEqual(await members.graphUser.count.get(), 3)
    assert.strictEqual(await members.graphGroup.count.get({ queryParameters: { filter: "startswith(displayName,'k')" } }), 3)
    // The uncast builder's filter, as Graph's docs send it (an advanced query): users and groups together.
    const some = await members.get({
      queryParameters: { count: true, filter: "startswith(displayName, 'k') and not (displayName in ('K0', 'K5'))" },
      headers: { ConsistencyLevel: "eventual" }
    })
    assert.deepStrictEqual(some?.value?.map((m) => [m.odataType, m.id]), [[`${G}group`, "k1"], [`${G}user`, "k2"], [`${G}group`, "k3"], [`${G}user`, "k4"]])
    assert.strictEqual(some?.odataCount, 4)
    assert.strictEqual(await members.count.get({ queryParameters: { filter: "securityEnabled eq true" } }), 3)
    for (let i = 0; i < 6; i++) await (i % 2 === 0 ? graph.users.byUserId(`k${i}`) : graph.groups.byGroupId(`k${i}`)).delete()
    await graph.groups.byGroupId("gk").delete()
  })

  it("removes a member with the ref builder's delete, naming it by its URL in @id", async () => {
    await graph.groups.post({ id: "g4", displayName: "Ref" } as Group)
    await graph.groups.byGroupId("g4").members.ref.post({ odataId: `https://graph.microsoft.com/beta/directoryObjects/${guestId}` })
    assert.strictEqual(await graph.groups.byGroupId("g4").members.count.get(), 1)
    await graph.groups.byGroupId("g4").members.ref.delete({ queryParameters: { id: `https://graph.microsoft.com/beta/directoryObjects/${guestId}` } })
    assert.strictEqual(await graph.groups.byGroupId("g4").members.count.get(), 0)
    const again = await odataError(graph.groups.byGroupId("g4").members.ref.delete({ queryParameters: { id: `https://graph.microsoft.com/beta/users/${guestId}` } }))
    assert.strictEqual(again.responseStatusCode, 404)
    const bad = await odataError(graph.groups.byGroupId("g4").members.ref.delete({ queryParameters: { id: "https://graph.microsoft.com/beta/me" } }))
    assert.strictEqual(bad.responseStatusCode, 400)
    assert.strictEqual(bad.errorEscaped?.code, "BadRequest")
    assert.include(bad.errorEscaped?.message, "@id")
    const none = await odataError(graph.groups.byGroupId("g4").members.ref.delete({}))
    assert.strictEqual(none.responseStatusCode, 400)
    assert.include(none.errorEscaped?.message, "@id")
    await graph.groups.byGroupId("g4").delete()
  })

  it("creates, gets, lists, patches, prioritises and deletes configurations", async () => {
    const created = await cfgs().post({
      odataType: `${G}deviceEnrollmentLimitConfiguration`,
      id: "c1",
      displayName: "Limit",
      priority: 3,
      roleScopeTagIds: ["0"]
    } as DeviceEnrollmentConfiguration)
    assert.strictEqual(created?.odataType, `${G}deviceEnrollmentLimitConfiguration`)
    assert.strictEqual(created?.deviceEnrollmentConfigurationType, "limit")
    assert.instanceOf(created?.createdDateTime, Date)
    assert.instanceOf(created?.lastModifiedDateTime, Date)
    assert.strictEqual(created?.version, 1)
    assert.deepStrictEqual(created?.roleScopeTagIds, ["0"])
    const got = await cfg("c1").get()
    assert.strictEqual(got?.createdDateTime?.getTime(), created?.createdDateTime?.getTime())
    // A client sends back what it read: server-managed properties and annotations are ignored.
    const patched = await cfg("c1").patch({ ...got!, displayName: "Limit 2" })
    assert.strictEqual(patched?.displayName, "Limit 2")
    assert.strictEqual(patched?.version, 2)
    await cfg("c1").setPriority.post({ priority: 1 })
    assert.strictEqual((await cfg("c1").get())?.priority, 1)
    await cfgs().post({ odataType: `${G}windowsRestoreDeviceEnrollmentConfiguration`, id: "c2", priority: 0 } as DeviceEnrollmentConfiguration)
    const list = await cfgs().get({ queryParameters: { count: true, select: ["displayName", "priority"] } })
    assert.strictEqual(list?.odataCount, 2)
    assert.sameMembers(list!.value!.map((c) => c.odataType), [`${G}deviceEnrollmentLimitConfiguration`, `${G}windowsRestoreDeviceEnrollmentConfiguration`])
    assert.strictEqual(await cfgs().count.get(), 2)
    await cfg("c2").delete()
    assert.strictEqual((await odataError(cfg("c2").get())).responseStatusCode, 404)
  })

  it("reads a derived configuration's own properties into the derived model", async () => {
    await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c3", limit: 5 } })
    const got = await cfg("c3").get() as DeviceEnrollmentLimitConfiguration
    assert.strictEqual(got.limit, 5)
    await cfg("c3").delete()
  })

  it("reaches an assignment whose id has parentheses and quotes, sent unencoded as the builders send it", async () => {
    await cfgs().post({ odataType: `${G}deviceEnrollmentLimitConfiguration`, id: "c(1)'s" } as DeviceEnrollmentConfiguration)
    const c = cfg("c(1)'s")
    const id = "a('b')"
    const created = await c.assignments.post({ id, target: { odataType: `${G}allDevicesAssignmentTarget` } })
    assert.strictEqual(created?.id, id)
    assert.strictEqual((await c.get())?.id, "c(1)'s")
    assert.strictEqual((await c.assignments.byEnrollmentConfigurationAssignmentId(id).get())?.id, id)
    assert.strictEqual((await c.assignments.byEnrollmentConfigurationAssignmentId(id).patch({ sourceId: "s" }))?.sourceId, "s")
    await c.assignments.byEnrollmentConfigurationAssignmentId(id).delete()
    assert.strictEqual(await c.assignments.count.get(), 0)
    // the key form is still a key, its quotes as they are or percent-encoded
    assert.strictEqual((await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations('c(1)''s')")).json?.id, "c(1)'s")
    assert.strictEqual((await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations(%27c(1)''s%27)/assignments/$count")).text, "0")
    await c.delete()
  })

  describe("assignments on every path family", () => {
    const families: ReadonlyArray<[string, () => ConfigurationsBuilder]> = [
      ["tenant", () => cfgs()],
      ["user", () => graph.users.byUserId(guestId).deviceEnrollmentConfigurations],
      ["invitation (the seed's path)", () => graph.invitations.byInvitationId("i1").invitedUser.deviceEnrollmentConfigurations]
    ]
    beforeAll(async () => {
      // c1 reaches the guest through a group of theirs, whatever the tests do to the other assignments.
      await cfg("c1").assignments.post({ id: "keep", target: { odataType: `${G}allLicensedUsersAssignmentTarget` } })
    })
    for (const [family, root] of families) {
      it(`creates, lists, gets, patches and deletes on the ${family} path`, async () => {
        const a = () => root().byDeviceEnrollmentConfigurationId("c1").assignments
        const id = `a-${family.split(" ")[0]}`
        const created = await a().post({
          id,
          target: { odataType: `${G}exclusionGroupAssignmentTarget`, groupId: "g1", deviceAndAppManagementAssignmentFilterId: "f1", deviceAndAppManagementAssignmentFilterType: "include" } as GroupAssignmentTarget,
          source: "policySets",
          sourceId: "ps1"
        })
        assert.strictEqual(created?.id, id)
        assert.strictEqual(created?.source, "policySets")
        assert.strictEqual(created?.sourceId, "ps1")
        assert.strictEqual(created?.target?.odataType, `${G}exclusionGroupAssignmentTarget`)
        assert.strictEqual(created?.target?.deviceAndAppManagementAssignmentFilterId, "f1")
        assert.strictEqual(created?.target?.deviceAndAppManagementAssignmentFilterType, "include")
        const list = await a().get({ queryParameters: { count: true } })
        assert.strictEqual(list?.odataCount, 2)
        assert.sameMembers(list!.value!.map((x) => x.id), ["keep", id])
        assert.strictEqual(list!.value!.find((x) => x.id === "keep")?.target?.odataType, `${G}allLicensedUsersAssignmentTarget`)
        assert.strictEqual(await a().count.get(), 2)
        const got = await a().byEnrollmentConfigurationAssignmentId(id).get({ queryParameters: { select: ["target"] } })
        assert.strictEqual(got?.id, id)
        assert.strictEqual(got?.target?.odataType, `${G}exclusionGroupAssignmentTarget`)
        assert.isUndefined(got?.source)
        const patched = await a().byEnrollmentConfigurationAssignmentId(id).patch({ source: "direct", sourceId: null })
        assert.strictEqual(patched?.source, "direct")
        assert.isNull(patched?.sourceId ?? null)
        assert.strictEqual(patched?.target?.odataType, `${G}exclusionGroupAssignmentTarget`)
        assert.strictEqual(patched?.target?.deviceAndAppManagementAssignmentFilterId, "f1")
        await a().byEnrollmentConfigurationAssignmentId(id).delete()
        const e = await odataError(a().byEnrollmentConfigurationAssignmentId(id).get())
        assert.strictEqual(e.responseStatusCode, 404)
        assert.strictEqual(e.errorEscaped?.code, "itemNotFound")
      })
    }
  })

  describe("OData options, protocol headers and errors on the seed path", () => {
    const seed = () => graph.invitations.byInvitationId("i1").invitedUser.deviceEnrollmentConfigurations.byDeviceEnrollmentConfigurationId("c1").assignments
    const one = (id: string) => seed().byEnrollmentConfigurationAssignmentId(id)
    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        await cfg("c1").assignments.post({
          id: `p${i}`,
          target: { odataType: i % 2 === 0 ? `${G}groupAssignmentTarget` : `${G}allDevicesAssignmentTarget` },
          source: i < 4 ? "direct" : "policySets",
          sourceId: i < 4 ? null : `ps${i}`
        })
      }
      // the SDK cannot send groupId (SPEC 3.7): give the group targets one over plain HTTP
      for (const i of [0, 2]) await s.request("PATCH", `deviceManagement/deviceEnrollmentConfigurations/c1/assignments/p${i}`, { body: { target: { groupId: "g1" } } })
      // an exclusion of a group without the guest, so that c1 still reaches them
      await graph.groups.post({ id: "g3", displayName: "Nobody" } as Group)
      await s.request("PATCH", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments/p6", { body: { target: { "@odata.type": `${G}exclusionGroupAssignmentTarget`, groupId: "g3" } } })
    })

    it("pages with $top through the SDK's PageIterator, keeping $filter, $select and $count on every page", async () => {
      const PageIterator = await loadPageIterator()
      const first = await seed().get({ queryParameters: { top: 2, filter: "source eq 'direct'", select: ["id", "source"], count: true } })
      assert.strictEqual(first?.value?.length, 2)
      assert.strictEqual(first?.odataCount, 5) // p0–p3 and keep
      assert.isString(first?.odataNextLink)
      const seen: Array<EnrollmentConfigurationAssignment> = []
      const it = new PageIterator<EnrollmentConfigurationAssignment>(
        adapter,
        first!,
        (a) => {
          seen.push(a)
          return true
        },
        createEnrollmentConfigurationAssignmentCollectionResponseFromDiscriminatorValue as Factory,
        errorMappings
      )
      await it.iterate()
      assert.sameMembers(seen.map((a) => a.id), ["keep", "p0", "p1", "p2", "p3"])
      for (const a of seen) {
        assert.strictEqual(a.source, "direct")
        assert.isUndefined(a.target)
      }
    })

    it("filters with every $filter form of SPEC 5, and counts what a filter keeps", async () => {
      const ids = async (filter: string) => (await seed().get({ queryParameters: { filter } }))?.value?.map((a) => a.id).sort()
      assert.deepStrictEqual(await ids("source eq 'policySets'"), ["p4", "p5", "p6"])
      assert.deepStrictEqual(await ids("sourceId eq 'ps5'"), ["p5"])
      assert.deepStrictEqual(await ids("isof(target,'microsoft.graph.groupAssignmentTarget')"), ["p0", "p2", "p4", "p6"])
      assert.deepStrictEqual(await ids("isof(target,'microsoft.graph.exclusionGroupAssignmentTarget')"), ["p6"])
      assert.deepStrictEqual(await ids("target/groupId eq 'g1' and source eq 'direct'"), ["p0", "p2"])
      assert.deepStrictEqual(await ids("sourceId eq null and (isof(target,'microsoft.graph.allDevicesAssignmentTarget') or source eq 'policySets')"), ["p1", "p3"])
      assert.strictEqual(await seed().count.get({ queryParameters: { filter: "source eq 'policySets'" } }), 3)
      const e = await odataError(seed().get({ queryParameters: { filter: "startswith(sourceId,'ps')" } }))
      assert.strictEqual(e.responseStatusCode, 400)
      assert.strictEqual(e.errorEscaped?.code, "BadRequest")
      assert.include(e.errorEscaped?.message, "unsupported $filter")
    })

    it("selects on get and list, and refuses an unknown property", async () => {
      const got = await one("p6").get({ queryParameters: { select: ["target", "sourceId"] } })
      assert.strictEqual(got?.id, "p6")
      assert.strictEqual(got?.target?.odataType, `${G}exclusionGroupAssignmentTarget`)
      assert.strictEqual((got?.target as GroupAssignmentTarget).groupId, "g3")
      assert.strictEqual(got?.sourceId, "ps6")
      assert.isUndefined(got?.source)
      const e = await odataError(one("p6").get({ queryParameters: { select: ["nope"] } }))
      assert.strictEqual(e.responseStatusCode, 400)
      assert.include(e.errorEscaped?.message, "nope")
    })

    it("answers Prefer: return=minimal with 204 and Preference-Applied on PATCH and POST", async () => {
      const native = nativeResponse()
      const patched = await one("p1").patch({ sourceId: "min" }, { headers: { Prefer: "return=minimal" }, options: [native.option] })
      assert.isUndefined(patched)
      const res = native.response()
      assert.strictEqual(res.status, 204)
      assert.strictEqual(res.headers.get("preference-applied"), "return=minimal")
      assert.strictEqual((await one("p1").get())?.sourceId, "min")
      const created = nativeResponse()
      await seed().post({ id: "m1", target: { odataType: `${G}allDevicesAssignmentTarget` } }, { headers: { Prefer: "return=minimal" }, options: [created.option] })
      const cres = created.response()
      assert.strictEqual(cres.status, 204)
      assert.match(cres.headers.get("location") ?? "", /\/beta\/invitations\/i1\/invitedUser\/deviceEnrollmentConfigurations\/c1\/assignments\/m1$/)
      await one("m1").delete()
    })

    it("honours If-Match with the @odata.etag the SDK read", async () => {
      const got = await one("p3").get()
      const etag = got?.additionalData?.["@odata.etag"]
      assert.isString(etag)
      const stale = await odataError(one("p3").patch({ sourceId: "x" }, { headers: { "If-Match": `W/"stale"` } }))
      assert.strictEqual(stale.responseStatusCode, 412)
      assert.strictEqual(stale.errorEscaped?.code, "preconditionFailed")
      const ok = await one("p3").patch({ sourceId: "y" }, { headers: { "If-Match": etag as string } })
      assert.strictEqual(ok?.sourceId, "y")
      assert.notStrictEqual(ok?.additionalData?.["@odata.etag"], etag)
      const any = await one("p3").patch({ sourceId: "z" }, { headers: { "If-Match": "*" } })
      assert.strictEqual(any?.sourceId, "z")
      const gone = await odataError(one("p3").delete({ headers: { "If-Match": etag as string } }))
      assert.strictEqual(gone.responseStatusCode, 412)
    })

    it("answers the seed's sample body with a 400 ODataError carrying code, message and innerError", async () => {
      const sample = {
        odataType: `${G}enrollmentConfigurationAssignment`,
        target: { odataType: "microsoft.graph.deviceAndAppManagementAssignmentTarget" },
        source: "String",
        sourceId: "Source Id value"
      } as unknown as EnrollmentConfigurationAssignment
      const e = await odataError(one("p5").patch(sample, { headers: { "client-request-id": "my-request" } }))
      assert.strictEqual(e.responseStatusCode, 400)
      assert.strictEqual(e.errorEscaped?.code, "BadRequest")
      assert.include(e.errorEscaped?.message, "direct")
      assert.include(e.errorEscaped?.message, "policySets")
      assert.strictEqual(e.message, e.errorEscaped?.message)
      assert.strictEqual(e.errorEscaped?.innerError?.clientRequestId, "my-request")
      assert.match(e.errorEscaped?.innerError?.requestId ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.instanceOf(e.errorEscaped?.innerError?.date, Date)
      assert.isFalse(Number.isNaN(e.errorEscaped!.innerError!.date!.getTime()))
      assert.deepStrictEqual(e.responseHeaders?.["request-id"], [e.errorEscaped!.innerError!.requestId!])
      const ok = await one("p5").patch({ ...sample, source: "direct" })
      assert.strictEqual(ok?.source, "direct")
      assert.strictEqual(ok?.sourceId, "Source Id value")
      assert.strictEqual(ok?.target?.odataType, `${G}allDevicesAssignmentTarget`)
    })

    it("keeps the stored groupId when the SDK switches a group target to an exclusion group", async () => {
      const got = await one("p0").get()
      assert.strictEqual((got?.target as GroupAssignmentTarget).groupId, "g1")
      // what a client does: read, change the type, send the object back
      const switched = await one("p0").patch({ target: { ...got!.target, odataType: `${G}exclusionGroupAssignmentTarget` } })
      assert.strictEqual(switched?.target?.odataType, `${G}exclusionGroupAssignmentTarget`)
      assert.strictEqual((switched?.target as GroupAssignmentTarget).groupId, "g1")
      // back to a group (the guest is in g1: an exclusion of it hides c1 from them)
      const back = await cfg("c1").assignments.byEnrollmentConfigurationAssignmentId("p0").patch({ target: { odataType: `${G}groupAssignmentTarget` } })
      assert.strictEqual((back?.target as GroupAssignmentTarget).groupId, "g1")
    })

    it("answers 404 itemNotFound naming a missing invitation, and 409 Conflict for an existing id", async () => {
      const e = await odataError(graph.invitations.byInvitationId("nobody").invitedUser.deviceEnrollmentConfigurations.byDeviceEnrollmentConfigurationId("c1").assignments.get())
      assert.strictEqual(e.responseStatusCode, 404)
      assert.strictEqual(e.errorEscaped?.code, "itemNotFound")
      assert.include(e.errorEscaped?.message, "nobody")
      const c = await odataError(seed().post({ id: "p1", target: null }))
      assert.strictEqual(c.responseStatusCode, 409)
      assert.strictEqual(c.errorEscaped?.code, "Conflict")
    })
  })

  describe("configuration actions and the user's configurations", () => {
    it("replaces every assignment with assign", async () => {
      await cfgs().post({ odataType: `${G}deviceEnrollmentWindowsHelloForBusinessConfiguration`, id: "c4", priority: 0 } as DeviceEnrollmentConfiguration)
      await cfg("c4").assignments.post({ id: "old", target: { odataType: `${G}allDevicesAssignmentTarget` } })
      await cfg("c4").assign.post({
        enrollmentConfigurationAssignments: [
          { id: "n1", target: { odataType: `${G}allLicensedUsersAssignmentTarget` } },
          { id: "n2", target: { odataType: `${G}configurationManagerCollectionAssignmentTarget`, collectionId: "col1" } as ConfigurationManagerCollectionAssignmentTarget, source: "policySets", sourceId: "ps" }
        ]
      })
      const list = await cfg("c4").assignments.get()
      assert.deepStrictEqual(list?.value?.map((a) => [a.id, a.target?.odataType, a.source]).sort(), [
        ["n1", `${G}allLicensedUsersAssignmentTarget`, "direct"],
        ["n2", `${G}configurationManagerCollectionAssignmentTarget`, "policySets"]
      ])
      const e = await odataError(cfg("c4").setPriority.post({ priority: 1.5 }))
      assert.strictEqual(e.responseStatusCode, 400)
    })

    it("lists the configurations targeted to a user, lowest priority first, paging with the PageIterator", async () => {
      const PageIterator = await loadPageIterator()
      // c1 (priority 1) and c4 (0) reach every user; c5 (2) reaches the guest through g1
      await cfgs().post({ odataType: `${G}deviceEnrollmentPlatformRestrictionsConfiguration`, id: "c5", priority: 2 } as DeviceEnrollmentConfiguration)
      await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/c5/assignments", { body: { target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } } })
      for (const root of [graph.users.byUserId(guestId), graph.invitations.byInvitationId("i1").invitedUser]) {
        const first = await root.deviceEnrollmentConfigurations.get({ queryParameters: { top: 1, count: true } })
        assert.strictEqual(first?.odataCount, 3)
        const seen: Array<DeviceEnrollmentConfiguration> = []
        await new PageIterator<DeviceEnrollmentConfiguration>(adapter, first!, (c) => {
          seen.push(c)
          return true
        }, createDeviceEnrollmentConfigurationCollectionResponseFromDiscriminatorValue as Factory, errorMappings).iterate()
        assert.deepStrictEqual(seen.map((c) => [c.id, c.priority, c.odataType]), [
          ["c4", 0, `${G}deviceEnrollmentWindowsHelloForBusinessConfiguration`],
          ["c1", 1, `${G}deviceEnrollmentLimitConfiguration`],
          ["c5", 2, `${G}deviceEnrollmentPlatformRestrictionsConfiguration`]
        ])
        assert.strictEqual(await root.deviceEnrollmentConfigurations.count.get(), 3)
      }
    })
  })
})

describe("Kiota beta SDK against refusals of the token and the rate limit", () => {
  let s: TestServer
  const client = (token: string) => {
    const adapter = new GraphBetaRequestAdapter({
      authenticateRequest: async (request) => {
        request.headers.tryAdd("Authorization", `Bearer ${token}`)
      }
    })
    adapter.baseUrl = `${s.url}/beta`
    return apiClientProxifier<GraphClient>(adapter, { baseurl: adapter.baseUrl }, navigation, undefined)
  }
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer, rateLimit: { ratePerSecond: 2, burst: 1 } })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("surfaces 401 and 403 as ODataErrors with their codes", async () => {
    const unauthenticated = await odataError(client("not-a-jwt").users.get())
    assert.strictEqual(unauthenticated.responseStatusCode, 401)
    assert.strictEqual(unauthenticated.errorEscaped?.code, "InvalidAuthenticationToken")
    const denied = await odataError(client(await s.token({ scopes: ["User.Read.All"] })).deviceManagement.deviceEnrollmentConfigurations.get())
    assert.strictEqual(denied.responseStatusCode, 403)
    assert.strictEqual(denied.errorEscaped?.code, "Authorization_RequestDenied")
  })

  it("retries a 429 after its Retry-After and then succeeds", async () => {
    const graph = client(await s.token({ subject: "retrying" }))
    const started = performance.now()
    // the bucket holds one request: the second waits for the Retry-After the server names
    const [first, second] = await Promise.all([graph.users.count.get(), graph.users.count.get()])
    assert.strictEqual(first, 0)
    assert.strictEqual(second, 0)
    assert.isAtLeast(performance.now() - started, 900, "the retry waited the Retry-After seconds")
    assert.isTrue(s.logs.some((l) => l.status === 429), "one request was refused first")
  }, 15_000)
})
