/**
 * Talking to the server as a client does: tokens minted with the server's
 * secret, a small JSON request helper, and the seed of a tenant through the
 * API (an invitation, a configuration targeted to all licensed users, and
 * assignments reachable on the seed's invitation path).
 *
 * @since 0.1.0
 */
import { Client, Token } from "@enrollment/http-adapter"
import { secret } from "./Proc.ts"

/** The tenant every benchmark writes to. */
export const tenant = "0b3e1a52-5f0e-4c36-9a4b-bench0000001"

/** A token for `tenant` (every permission), with a subject. */
export const token = (options: { tenant?: string; subject?: string; secret?: string; expiresIn?: number | string } = {}) =>
  Token.mint({
    secret: options.secret ?? secret,
    tenant: options.tenant ?? tenant,
    subject: options.subject ?? "bench",
    expiresIn: options.expiresIn ?? "6h"
  })

/** An answer. */
export type Answer = Client.Answer

/** One JSON request. */
export const request = (
  url: string,
  method: string,
  path: string,
  options: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {}
): Promise<Answer> => Client.request(method, `${url}${path}`, options)

const expect = (a: Answer, status: number, what: string): Answer => {
  if (a.status !== status) throw new Error(`${what}: expected ${status}, got ${a.status} ${a.text.slice(0, 400)}`)
  return a
}

/** What the seed made. */
export interface Seeded {
  readonly token: string
  readonly invitationId: string
  readonly configurationId: string
  /** The ids of the assignments made on the invitation path (`bench-0`, `bench-1`, …). */
  readonly assignmentIds: ReadonlyArray<string>
  /** `/beta/invitations/{i}/invitedUser/deviceEnrollmentConfigurations/{c}/assignments` */
  readonly assignmentsPath: string
  /** The seed's path of assignment `id`. */
  readonly pathOf: (id: string) => string
}

/** A group target with a marker as its group id. */
export const groupTarget = (groupId: string) => ({ "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId })

/**
 * Seeds a tenant through the API: an invitation (and its guest user), a limit
 * configuration assigned to all licensed users (so it is targeted to the
 * invited user), and `assignments` assignments made on the invitation path.
 */
export const seed = async (url: string, options: { assignments?: number; tenant?: string } = {}): Promise<Seeded> => {
  const t = await token({ tenant: options.tenant ?? tenant })
  const inv = expect(
    await request(url, "POST", "/beta/invitations", {
      token: t,
      body: { invitedUserEmailAddress: "guest@bench.example", inviteRedirectUrl: "https://bench.example/welcome" }
    }),
    201,
    "POST /invitations"
  ).json
  const cfg = expect(
    await request(url, "POST", "/beta/deviceManagement/deviceEnrollmentConfigurations", {
      token: t,
      body: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", displayName: "bench limit", limit: 5 }
    }),
    201,
    "POST /deviceManagement/deviceEnrollmentConfigurations"
  ).json
  const configurationId = cfg.id as string
  expect(
    await request(url, "POST", `/beta/deviceManagement/deviceEnrollmentConfigurations/${configurationId}/assign`, {
      token: t,
      body: {
        enrollmentConfigurationAssignments: [{ id: "all-users", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } }]
      }
    }),
    204,
    "POST …/assign"
  )
  const assignmentsPath = `/beta/invitations/${inv.id}/invitedUser/deviceEnrollmentConfigurations/${configurationId}/assignments`
  const ids: Array<string> = []
  for (let i = 0; i < (options.assignments ?? 1); i++) {
    const id = `bench-${i}`
    expect(
      await request(url, "POST", assignmentsPath, {
        token: t,
        body: { id, target: groupTarget("g0"), source: "direct" }
      }),
      201,
      `POST ${assignmentsPath}`
    )
    ids.push(id)
  }
  return {
    token: t,
    invitationId: inv.id,
    configurationId,
    assignmentIds: ids,
    assignmentsPath,
    pathOf: (id) => `${assignmentsPath}/${encodeURIComponent(id)}`
  }
}
