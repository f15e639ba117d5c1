import * as SqliteStore from "../src/SqliteStore.ts"
const db = SqliteStore.open({ filename: ":memory:" })
const plan = (sql: string, ...p: any[]) => console.log(sql.replace(/\s+/g, " ").slice(0, 100), "\n   ", db.prepare("EXPLAIN QUERY PLAN " + sql).all(...p).map((r) => r.detail).join(" | "))
plan(`SELECT a.configuration_id, a.data FROM assignments a WHERE a.tenant_id = ? AND a.target_type = 'allLicensedUsersAssignmentTarget' UNION ALL SELECT a.configuration_id, a.data FROM assignments a WHERE a.tenant_id = ? AND a.group_id IN (SELECT value FROM json_each(?))`, "t", "t", "[]")
plan(`SELECT a.configuration_id, a.data FROM assignments a WHERE a.tenant_id = ? AND (a.target_type = 'allLicensedUsersAssignmentTarget' OR a.group_id IN (SELECT value FROM json_each(?)))`, "t", "[]")
plan(`SELECT m.group_id, m.member_id FROM memberships m WHERE m.tenant_id = ? AND m.member_id IN (SELECT value FROM json_each(?)) AND EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id)`, "t", "[]")
plan(`DELETE FROM memberships WHERE tenant_id = ? AND member_id = ? AND group_id IN (SELECT id FROM groups WHERE tenant_id = ?)`, "t", "m", "t")
plan(`DELETE FROM memberships WHERE tenant_id = ? AND member_id = ?`, "t", "m")
