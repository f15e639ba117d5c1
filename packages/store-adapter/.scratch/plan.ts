import * as SqliteStore from "../src/SqliteStore.ts"
const db = SqliteStore.open({ filename: ":memory:" })
const plan = (sql: string, ...p: any[]) => console.log(sql.replace(/\s+/g, " ").slice(0, 90), "\n   ", db.prepare("EXPLAIN QUERY PLAN " + sql).all(...p).map((r) => r.detail).join(" | "))
plan(`SELECT a.configuration_id, a.data FROM assignments a WHERE a.tenant_id = ? AND (a.target_type = 'allLicensedUsersAssignmentTarget' OR a.group_id IN (SELECT value FROM json_each(?))) AND EXISTS (SELECT 1 FROM configurations c WHERE c.tenant_id = a.tenant_id AND c.id = a.configuration_id) ORDER BY a.configuration_id, a.id`, "t", "[]")
plan(`SELECT a.configuration_id, a.data FROM assignments a WHERE a.tenant_id = ? AND (a.target_type = 'allLicensedUsersAssignmentTarget' OR a.group_id IN (SELECT value FROM json_each(?))) AND a.configuration_id = ? ORDER BY a.configuration_id, a.id`, "t", "[]", "c")
plan(`SELECT m.group_id, m.member_id FROM memberships m WHERE m.tenant_id = ? AND m.member_id IN (SELECT value FROM json_each(?)) AND EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id) ORDER BY m.group_id, m.member_id`, "t", "[]")
plan(`SELECT id, data FROM assignments WHERE tenant_id = ? AND configuration_id = ? AND id > ? AND (source = ? OR group_id = ?) ORDER BY id LIMIT ?`, "t", "c", "a", "x", "y", 3)
plan(`DELETE FROM memberships WHERE tenant_id = ? AND member_id = ? AND EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = memberships.tenant_id AND g.id = memberships.group_id)`, "t", "m")
plan(`SELECT id, data FROM configurations WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))`, "t", "[]")
