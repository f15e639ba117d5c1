/**
 * A Fastify baseline: the seed's route, answering GET and PATCH of one
 * assignment from an in-memory `Map`, PATCH being a shallow merge of the body
 * (with `target` merged one level down). No auth, no validation, no
 * durability: what a framework costs on its own. Listens on `PORT`.
 *
 * @since 0.1.0
 */
import Fastify from "fastify"

const app = Fastify({ logger: false })
const store = new Map<string, Record<string, any>>()
const path = "/beta/invitations/:i/invitedUser/deviceEnrollmentConfigurations/:c/assignments/:a"
const stored = (id: string) => {
  let v = store.get(id)
  if (v === undefined) {
    v = {
      "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
      id,
      target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none", groupId: "g0" },
      source: "direct",
      sourceId: null
    }
    store.set(id, v)
  }
  return v
}
app.get(path, async (req) => stored((req.params as any).a))
app.patch(path, async (req) => {
  const id = (req.params as any).a
  const body = req.body as Record<string, any>
  const current = stored(id)
  const next = { ...current, ...body, target: body.target === undefined ? current.target : body.target === null ? null : { ...current.target, ...body.target } }
  store.set(id, next)
  return next
})
app.get("/ready", async () => ({ status: "ready" }))
await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" })
