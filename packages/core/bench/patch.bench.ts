/**
 * Micro-benchmark of the core's hot path: decode + typed PATCH + encode of a
 * seed-sized body, beside a plain `JSON.parse` / spread / `JSON.stringify`
 * baseline measured in the same run. Prints operations per second and the ratio.
 *
 *   pnpm --filter @enrollment/core bench
 */
import { Result } from "effect"
import { Assignment, AssignmentPatch, AssignmentTarget, ETag } from "../src/index.ts"

const seedBody = JSON.stringify({
  "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
  target: { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget" },
  source: "policySets",
  sourceId: "Source Id value"
})
const stored: Assignment.Assignment = Assignment.make("00d21569-1569-00d2-6915-d2006915d200", {
  target: { ...AssignmentTarget.empty("groupAssignmentTarget"), groupId: "g1" } as AssignmentTarget.AssignmentTarget,
  source: "direct",
  sourceId: null
})
const storedText = JSON.stringify(stored)

const measure = (name: string, op: () => unknown, ms = 1500) => {
  for (let i = 0; i < 20_000; i++) op() // warm-up
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) op()
    n += 1000
    now = performance.now()
  }
  const perSecond = n / ((now - start) / 1000)
  console.log(`${name.padEnd(58)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} ops/s`)
  return perSecond
}

const baseline = measure("baseline: JSON.parse + spread + JSON.stringify", () => {
  const current = JSON.parse(storedText)
  const body = JSON.parse(seedBody)
  return JSON.stringify({ ...current, ...body, target: { ...current.target, ...body.target } })
})

const typed = measure("core: parse + typed PATCH (validated) + stringify", () => {
  const current = JSON.parse(storedText) as Assignment.Assignment
  const r = AssignmentPatch.patch(current, JSON.parse(seedBody))
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return JSON.stringify(r.success)
})

const withEtag = measure("core: the same + ETag of the result", () => {
  const current = JSON.parse(storedText) as Assignment.Assignment
  const r = AssignmentPatch.patch(current, JSON.parse(seedBody))
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return ETag.of(r.success) + JSON.stringify(r.success)
})

console.log(`\nratio typed PATCH / baseline:        ${(typed / baseline).toFixed(2)}x`)
console.log(`ratio typed PATCH + ETag / baseline: ${(withEtag / baseline).toFixed(2)}x`)
