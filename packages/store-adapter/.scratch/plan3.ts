import * as SqliteStore from "../src/SqliteStore.ts"
const db = SqliteStore.open({ filename: ":memory:" })
const store: any = SqliteStore.fromDatabase(db)
const orig = db.prepare.bind(db)
for (const sql of [
  `SELECT a.configuration_id, a.id, a.data FROM assignments a INDEXED BY assignments_by_target_type WHERE a.tenant_id = ? AND a.target_type = 'allLicensedUsersAssignmentTarget' AND a.configuration_id = ? UNION ALL SELECT a.configuration_id, a.id, a.data FROM assignments a INDEXED BY assignments_by_group WHERE a.tenant_id = ? AND a.group_id IN (SELECT value FROM json_each(?)) AND a.configuration_id = ? ORDER BY 1, 2`,
  `DELETE FROM memberships INDEXED BY memberships_by_member WHERE tenant_id = ? AND member_id = ? AND EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = memberships.tenant_id AND g.id = memberships.group_id)`,
]) console.log(db.prepare("EXPLAIN QUERY PLAN " + sql).all("t","c","t","[]","c").map((r) => r.detail).join(" | "))
