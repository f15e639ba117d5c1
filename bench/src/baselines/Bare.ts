/**
 * The baseline: a bare `node:http` server that reads the request and answers
 * a fixed JSON body (the size of an assignment) with no routing, no auth and no
 * store. Every ratio in the speed benchmark is against this, measured in the
 * same run on the same core. Listens on `PORT`.
 *
 * @since 0.1.0
 */
import { createServer } from "node:http"

const body = JSON.stringify({
  "@odata.context": "http://127.0.0.1/beta/$metadata#assignments/$entity",
  "@odata.etag": "W/\"0123456789ab\"",
  "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
  id: "bench-0",
  target: {
    "@odata.type": "#microsoft.graph.groupAssignmentTarget",
    deviceAndAppManagementAssignmentFilterId: null,
    deviceAndAppManagementAssignmentFilterType: "none",
    groupId: "g0"
  },
  source: "policySets",
  sourceId: "a"
})
const length = Buffer.byteLength(body)

createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.resume()
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": length })
    res.end(body)
  })
}).listen(Number(process.env.PORT), "127.0.0.1")
