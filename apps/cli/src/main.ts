/**
 * `enrollctl`: the operator CLI of the enrollment-configuration-assignment
 * service. Commands mirror Microsoft's Graph CLI (`mgc`): kebab-case nouns that
 * follow the URL, HTTP-style verbs, `--<entity>-id` flags and `--body`. Every
 * command runs remote (Graph HTTP API) or local (directly on the store).
 *
 * This module only declares the commands: what runs them (core, stores, HTTP)
 * is imported when a command runs, so `--help` answers fast.
 *
 * @since 0.1.0
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as CliOutput from "effect/cli/CliOutput"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Argument from "effect/cli/Argument"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Id } from "@enrollment/core"
import { booleanFlag, normalize } from "./Argv.ts"
import { ExitCode, type ExitClass } from "./ExitCode.ts"
import { usage } from "./Failure.ts"
import type { Operation, Parent, Planned } from "./Operation.ts"
import { type Globals, outputs, stores } from "./Settings.ts"

type Rt = typeof import("./Runtime.ts")
type Failed = import("./Failure.ts").CommandFailed

/** The release (`--version`); a test keeps it equal to `package.json`'s. */
const version = "0.6.3"
const opt = Option.getOrUndefined

// ---------------------------------------------------------------------------
// Global flags, shared by every command (accepted before or after the command)

const root = Command.make("enrollctl").pipe(
  Command.withSharedFlags({
    baseUrl: Flag.String("base-url").pipe(
      Flag.withDescription("Remote mode: the Graph API base URL, e.g. http://127.0.0.1:8080/beta (env ENROLLCTL_BASE_URL)"),
      Flag.optional
    ),
    token: Flag.String("token").pipe(
      Flag.withDescription(
        "Remote mode: bearer token (env ENROLLCTL_TOKEN); default: minted from the server's secret (--data-dir's auth-secret, else AUTH_HS256_SECRET, else the data directory's)"
      ),
      Flag.optional
    ),
    dataDir: Flag.String("data-dir").pipe(
      Flag.withDescription("The server's data directory: SQLite file and local secret (env ENROLLCTL_DATA_DIR; default ./data); not with --store memory or PostgreSQL, nor with a token (--token, ENROLLCTL_TOKEN) in remote mode"),
      Flag.optional
    ),
    store: Flag.Literals("store", stores).pipe(
      Flag.withDescription("Local mode: operate directly on this store (env ENROLLCTL_STORE)"),
      Flag.optional
    ),
    databaseUrl: Flag.String("database-url").pipe(
      Flag.withDescription("Local mode on PostgreSQL: postgres://… (env ENROLLCTL_DATABASE_URL)"),
      Flag.optional
    ),
    databaseSchema: Flag.String("database-schema").pipe(
      Flag.withDescription("Local mode on PostgreSQL: the schema that holds the store, as the server's DATABASE_SCHEMA (1 to 63 bytes, not pg_… or information_schema; env ENROLLCTL_DATABASE_SCHEMA; default public); made only by import --create"),
      Flag.optional
    ),
    tenant: Flag.String("tenant").pipe(
      Flag.withDescription(
        "Tenant id for local mode and minted tokens (env ENROLLCTL_TENANT; default 00000000-0000-0000-0000-000000000001): 1 to 128 characters, no '/', no control characters; with --token, the token's own tenant (tid)"
      ),
      Flag.optional
    ),
    output: Flag.Literals("output", outputs).pipe(
      Flag.withAlias("o"),
      Flag.withDescription("Output format (default: table on a terminal, json when piped)"),
      Flag.optional
    ),
    timeout: Flag.String("timeout").pipe(
      Flag.withDescription(
        "Remote mode: seconds to wait for one attempt of a request, its whole answer (env ENROLLCTL_TIMEOUT; default 100; decimals allowed; 0: no limit of enrollctl's own)"
      ),
      Flag.optional
    ),
    select: Flag.String("select").pipe(
      Flag.withDescription(
        "Properties to print, comma-separated, as the server's $select takes them (in any case; printed as declared): id,target; * for all; microsoft.graph.<derived type>/<property>"
      ),
      Flag.optional
    ),
    debug: booleanFlag("debug").pipe(
      Flag.withDescription("Print the HTTP exchange (token redacted) and error details to stderr"),
      Flag.withDefault(false)
    )
  }),
  Command.withDescription(
    "Operate the enrollment-configuration-assignment service (Microsoft Graph beta), remotely over its HTTP API or locally on its store."
  ),
  Command.withExamples([
    {
      command: "enrollctl --base-url http://127.0.0.1:8080/beta --data-dir ./data device-management device-enrollment-configurations list",
      description: "List configurations on a local server, with a token minted from its secret"
    },
    {
      command: "enrollctl --store sqlite --data-dir ./data users list -o json",
      description: "List users directly in the SQLite store"
    }
  ])
)

const globalsOf = (g: Command.Command.Config.Infer<{}> & Record<string, any>): Globals => ({
  baseUrl: opt(g.baseUrl),
  token: opt(g.token),
  dataDir: opt(g.dataDir),
  store: opt(g.store),
  databaseUrl: opt(g.databaseUrl),
  databaseSchema: opt(g.databaseSchema),
  tenant: opt(g.tenant),
  output: opt(g.output),
  timeout: opt(g.timeout),
  select: opt(g.select),
  debug: g.debug
})

const loadRuntime: Effect.Effect<Rt> = Effect.promise(() => import("./Runtime.ts"))
const loadRemote: Effect.Effect<typeof import("./Remote.ts")> = Effect.promise(() => import("./Remote.ts"))

/**
 * The runtime, and the globals of the run with remote mode's token settled (`Remote.settle`: a
 * token given checked against a tenant given, or one minted from `AUTH_HS256_SECRET`).
 */
const prepared = Effect.gen(function*() {
  const g = globalsOf(yield* root)
  const rt = yield* loadRuntime
  const Remote = yield* loadRemote
  return { rt, raw: yield* Remote.settle(g) }
})

interface Doc {
  readonly description: string
  readonly examples: ReadonlyArray<{ readonly command: string; readonly description: string }>
}

/** What a command runs, from its flags: its operation, and the body it sends still to be read (`Planned`). */
type Plan<F extends Command.Command.FlagConfig> = (
  input: Command.Command.Config.Infer<F>,
  rt: Rt
) => Planned

/** A plan with no body to read. */
const ready = (operation: Operation): Planned => ({ _tag: "Ready", operation })

/**
 * A plan whose operation sends `body` (`--body` read, the flags merged in), read once everything
 * else is checked; `check`, the body's flags that need no body, is checked with the other flags.
 */
const unread = (
  body: Effect.Effect<unknown, Failed>,
  operation: (body: unknown) => Operation,
  check?: Effect.Effect<void, Failed>
): Planned => ({
  _tag: "Unread",
  body,
  operation,
  check
})

/** A command that runs one operation. */
const leaf = <const N extends string, const F extends Command.Command.FlagConfig>(
  name: N,
  flags: F,
  doc: Doc,
  plan: Plan<F>
) =>
  Command.make(name, flags, (input) =>
    Effect.gen(function*() {
      const { raw, rt } = yield* prepared
      yield* rt.execute(raw, plan(input, rt))
    })).pipe(Command.withDescription(doc.description), Command.withExamples(doc.examples))

const group = <const N extends string>(name: N, description: string) =>
  Command.make(name).pipe(Command.withDescription(description))

// ---------------------------------------------------------------------------
// Reusable flags

/** An id flag, checked as the server checks a key (SPEC 2: 1–128 characters, no '/', no control characters) in both modes. */
const id = (name: string, what: string) =>
  Flag.String(name).pipe(Flag.withSchema(Id.Id), Flag.withDescription(`The ${what}'s id: 1 to 128 characters, no '/', no control characters`))
const cfgId = id("device-enrollment-configuration-id", "device enrollment configuration")
const assignmentId = id("enrollment-configuration-assignment-id", "enrollment configuration assignment")
const body = Flag.String("body").pipe(
  Flag.withDescription("Request body: JSON, @file.json, or - for standard input"),
  Flag.optional
)
/** An assignment's `--body`, which the target flags are merged into (`Body.assignment`). */
const assignmentBody = Flag.String("body").pipe(
  Flag.withDescription(
    "Request body: JSON, @file.json, or - for standard input; target flags given with it are merged in and win (their target properties over the body's target's)"
  ),
  Flag.optional
)
/**
 * What the assign action takes: the whole new set (it replaces every assignment).
 * Its `--body` is required; it is parsed as optional so that a missing one fails
 * with this text (`Body.required`) rather than the parser's bare "missing flag".
 */
const assignBodyText =
  `the assign action replaces every assignment of the configuration with {"enrollmentConfigurationAssignments":[…]} (an empty array clears the set)`
const assignBody = Flag.String("body").pipe(
  Flag.withDescription(`Required: ${assignBodyText}; JSON, @file.json, or - for standard input`),
  Flag.optional
)
const ifMatch = Flag.String("if-match").pipe(
  Flag.withDescription("Only if the entity's ETag matches (W/\"…\", or * for any)"),
  Flag.optional
)
const top = Flag.Int("top").pipe(Flag.withDescription("At most this many items (default: all, following every page)"), Flag.optional)
const str = (name: string, description: string) => Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)
/** `--filter` on a directory list: the server's `$filter` on that list (its route names the properties). */
const directoryFilter = (properties: string) =>
  str(
    "filter",
    `OData $filter, the server's directory grammar (both modes): p eq v, p ne v, p in (v, …), startswith(p,'text'), not, and, or, parentheses; over ${properties}; v a quoted string (compared without regard to case), true, false or null`
  )
/** `--type` on a member list: only the users or the groups (the server's cast, `…/members/microsoft.graph.user`). */
const memberType = Flag.Literals("type", ["user", "group"]).pipe(
  Flag.withDescription("Only the members of this type: user or group (the server's type cast, …/members/microsoft.graph.user; both modes)"),
  Flag.optional
)
/** `--expand` on configuration reads: the server's `$expand`. */
const expand = str(
  "expand",
  "OData $expand: assignments (or *) writes each configuration's assignments after its own properties, as the server's $expand=assignments does (both modes)"
)

const assignmentFlags = {
  targetType: Flag.Literals("target-type", [
    "group",
    "exclusion-group",
    "all-devices",
    "all-licensed-users",
    "configuration-manager-collection",
    "none"
  ]).pipe(
    Flag.withDescription(
      "Target type; builds target.@odata.type (over --body's). none: no target, so not with --group-id, --collection-id, --filter-id or --filter-type"
    ),
    Flag.optional
  ),
  groupId: str("group-id", "Target group id (group, exclusion-group)"),
  collectionId: str("collection-id", "Target collection id (configuration-manager-collection)"),
  filterId: str("filter-id", "Assignment filter id (target.deviceAndAppManagementAssignmentFilterId)"),
  filterType: Flag.Literals("filter-type", ["none", "include", "exclude"]).pipe(
    Flag.withDescription("Assignment filter type"),
    Flag.optional
  ),
  source: Flag.Literals("source", ["direct", "policySets"]).pipe(Flag.withDescription("Assignment source"), Flag.optional),
  sourceId: str("source-id", "Policy set id when the source is policySets")
}

/** The expanded assignment flags given. */
const assignmentFlagsOf = (i: Record<string, any>): import("./Body.ts").AssignmentFlags => ({
  targetType: opt(i.targetType),
  groupId: opt(i.groupId),
  collectionId: opt(i.collectionId),
  filterId: opt(i.filterId),
  filterType: opt(i.filterType),
  source: opt(i.source),
  sourceId: opt(i.sourceId)
})

/**
 * An assignment's plan: `--body` with the target flags merged in, the flags' contradiction (a
 * usage error) checked before the store is opened or the secret checked.
 */
const assignmentPlan = (rt: Rt, i: Record<string, any>, operation: (body: unknown) => Operation) =>
  unread(rt.Body.assignment(opt(i.body), assignmentFlagsOf(i)), operation, rt.Body.assignmentConflict(assignmentFlagsOf(i)))

// ---------------------------------------------------------------------------
// Assignments, on the three path families

interface Family {
  readonly path: string
  readonly parentExample: string
  readonly parentFlags: Command.Command.FlagConfig
  readonly parentOf: (input: any) => Parent
}

const tenantFamily: Family = {
  path: "enrollctl device-management device-enrollment-configurations",
  parentExample: "",
  parentFlags: {},
  parentOf: () => ({ _tag: "Tenant" })
}
const userFamily: Family = {
  path: "enrollctl users device-enrollment-configurations",
  parentExample: " --user-id u1",
  parentFlags: { userId: id("user-id", "user") },
  parentOf: (i) => ({ _tag: "User", userId: i.userId })
}
const invitationFamily: Family = {
  path: "enrollctl invitations invited-user device-enrollment-configurations",
  parentExample: " --invitation-id i1",
  parentFlags: { invitationId: id("invitation-id", "invitation") },
  parentOf: (i) => ({ _tag: "Invitation", invitationId: i.invitationId })
}

const assignments = (f: Family) => {
  const p = `${f.path} assignments`
  const x = f.parentExample
  const where = f === tenantFamily ? "" : " (reached through the user: the configuration must be targeted to it)"
  return group("assignments", `Assignments of a device enrollment configuration${where}`).pipe(
    Command.withSubcommands([
      leaf("list", { ...f.parentFlags, cfgId, top, filter: str("filter", "OData $filter, e.g. \"source eq 'direct'\" or \"isof(target,'microsoft.graph.groupAssignmentTarget')\" (the server's grammar, both modes)") }, {
        description: `List the assignments of a configuration${where}`,
        examples: [
          { command: `${p} list${x} --device-enrollment-configuration-id C`, description: "List every assignment" },
          { command: `${p} list${x} --device-enrollment-configuration-id C -o json --select id,target`, description: "Only ids and targets, as JSON" }
        ]
      }, (i) =>
        ready({
          _tag: "assignments.list",
          parent: f.parentOf(i),
          configurationId: i.cfgId,
          list: { top: opt(i.top) },
          filter: opt(i.filter)
        })),
      leaf("get", { ...f.parentFlags, cfgId, assignmentId }, {
        description: "Get one assignment",
        examples: [{
          command: `${p} get${x} --device-enrollment-configuration-id C --enrollment-configuration-assignment-id A`,
          description: "Show assignment A"
        }]
      }, (i) =>
        ready({ _tag: "assignments.get", parent: f.parentOf(i), configurationId: i.cfgId, id: i.assignmentId })),
      leaf("create", { ...f.parentFlags, cfgId, body: assignmentBody, ...assignmentFlags }, {
        description: "Create an assignment (POST): --body, or the target flags",
        examples: [
          {
            command: `${p} create${x} --device-enrollment-configuration-id C --target-type group --group-id g1 --filter-id f1 --filter-type include`,
            description: "Assign to group g1 with an include filter"
          },
          {
            command: `${p} create${x} --device-enrollment-configuration-id C --body @assignment.json`,
            description: "Create from a JSON file"
          }
        ]
      }, (i, rt) =>
        assignmentPlan(rt, i, (b) => ({
          _tag: "assignments.create",
          parent: f.parentOf(i),
          configurationId: i.cfgId,
          body: b
        }))),
      leaf("patch", { ...f.parentFlags, cfgId, assignmentId, body: assignmentBody, ifMatch, ...assignmentFlags }, {
        description: "Update an assignment (PATCH, merged by Graph's typed rules): --body, or the target flags",
        examples: [
          {
            command: `${p} patch${x} --device-enrollment-configuration-id C --enrollment-configuration-assignment-id A --body '{"target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"g"}}'`,
            description: "Point the assignment at group g"
          },
          {
            command: `${p} patch${x} --device-enrollment-configuration-id C --enrollment-configuration-assignment-id A --target-type exclusion-group`,
            description: "Turn a group target into an exclusion (groupId and filter are kept)"
          }
        ]
      }, (i, rt) =>
        assignmentPlan(rt, i, (b) => ({
          _tag: "assignments.patch",
          parent: f.parentOf(i),
          configurationId: i.cfgId,
          id: i.assignmentId,
          body: b,
          ifMatch: opt(i.ifMatch)
        }))),
      leaf("delete", { ...f.parentFlags, cfgId, assignmentId, ifMatch }, {
        description: "Delete an assignment",
        examples: [{
          command: `${p} delete${x} --device-enrollment-configuration-id C --enrollment-configuration-assignment-id A`,
          description: "Delete assignment A"
        }]
      }, (i) =>
        ready({
          _tag: "assignments.delete",
          parent: f.parentOf(i),
          configurationId: i.cfgId,
          id: i.assignmentId,
          ifMatch: opt(i.ifMatch)
        }))
    ])
  )
}

/** Configurations reached through a user (list and get), with their assignments. */
const userConfigurations = (f: Family) =>
  group("device-enrollment-configurations", "The device enrollment configurations targeted to the user, lowest priority first").pipe(
    Command.withSubcommands([
      leaf("list", { ...f.parentFlags, top, expand }, {
        description: "List the configurations targeted to the user, lowest priority first; --expand assignments adds each one's assignments",
        examples: [
          { command: `${f.path} list${f.parentExample}`, description: "What reaches this user" },
          { command: `${f.path} list${f.parentExample} --expand assignments -o json`, description: "With every assignment of each configuration" }
        ]
      }, (i) =>
        ready({ _tag: "configurations.list", parent: f.parentOf(i), list: { top: opt(i.top) }, expand: opt(i.expand) })),
      leaf("get", { ...f.parentFlags, cfgId, expand }, {
        description: "Get one configuration through the user: not found when it is not targeted to the user (as on the server)",
        examples: [
          { command: `${f.path} get${f.parentExample} --device-enrollment-configuration-id C`, description: "Does C reach this user? (exit 3 when it does not)" },
          { command: `${f.path} get${f.parentExample} --device-enrollment-configuration-id C --expand assignments -o json`, description: "C with the assignments that target it" }
        ]
      }, (i) =>
        ready({ _tag: "configurations.get", parent: f.parentOf(i), id: i.cfgId, expand: opt(i.expand) })),
      assignments(f)
    ])
  )

// ---------------------------------------------------------------------------
// Configurations (tenant family)

const configurationFlags = {
  displayName: str("display-name", "displayName"),
  description: str("description", "description"),
  priority: Flag.Int("priority").pipe(Flag.withDescription("priority (lower wins)"), Flag.optional)
}
const configurationFields = (rt: Rt, i: Record<string, any>, type?: string) =>
  rt.Body.defined({
    // The bare name, or either spelling `--body` takes (`#microsoft.graph.X`, `microsoft.graph.X`; since 0.4.0).
    ...(type === undefined ? {} : { "@odata.type": `#microsoft.graph.${type.replace(/^#?microsoft\.graph\./, "")}` }),
    displayName: opt(i.displayName),
    description: opt(i.description),
    priority: opt(i.priority)
  })

const C = "enrollctl device-management device-enrollment-configurations"
const configurations = group("device-enrollment-configurations", "Device enrollment configurations and their assignments").pipe(
  Command.withSubcommands([
    leaf("list", { top, expand, filter: directoryFilter("id, displayName, description, deviceEnrollmentConfigurationType") }, {
      description: "List the tenant's configurations; --expand assignments adds each one's assignments, --filter keeps those the server's $filter keeps",
      examples: [
        { command: `${C} list`, description: "Every configuration" },
        { command: `${C} list --expand assignments -o json`, description: "Every configuration with its assignments, in one request" },
        { command: `${C} list --filter "deviceEnrollmentConfigurationType eq 'limit'"`, description: "The device limit configurations" }
      ]
    }, (i) =>
      ready({ _tag: "configurations.list", parent: { _tag: "Tenant" }, list: { top: opt(i.top) }, expand: opt(i.expand), filter: opt(i.filter) })),
    leaf("get", { cfgId, expand }, {
      description: "Get one configuration; --expand assignments adds its assignments",
      examples: [
        { command: `${C} get --device-enrollment-configuration-id C -o yaml`, description: "Show C as YAML" },
        { command: `${C} get --device-enrollment-configuration-id C --expand assignments`, description: "C with its assignments (a table shows their targets)" }
      ]
    }, (i) => ready({ _tag: "configurations.get", parent: { _tag: "Tenant" }, id: i.cfgId, expand: opt(i.expand) })),
    leaf("create", {
      body,
      type: Flag.String("type").pipe(
        Flag.withDescription("Concrete type, e.g. deviceEnrollmentLimitConfiguration, or as @odata.type writes it (microsoft.graph.deviceEnrollmentLimitConfiguration, with or without #)"),
        Flag.optional
      ),
      ...configurationFlags
    }, {
      description: "Create a configuration: --body, or --type with the property flags",
      examples: [
        { command: `${C} create --type deviceEnrollmentLimitConfiguration --display-name Limit --priority 1`, description: "A device limit configuration" },
        { command: `${C} create --body @configuration.json`, description: "From a file" }
      ]
    }, (i, rt) =>
      unread(rt.Body.resolve(opt(i.body), configurationFields(rt, i, opt(i.type))), (b) => ({ _tag: "configurations.create", body: b }))),
    leaf("patch", { cfgId, body, ifMatch, ...configurationFlags }, {
      description: "Update a configuration (PATCH)",
      examples: [{ command: `${C} patch --device-enrollment-configuration-id C --display-name "New name"`, description: "Rename C" }]
    }, (i, rt) =>
      unread(rt.Body.resolve(opt(i.body), configurationFields(rt, i)), (b) => ({
        _tag: "configurations.patch",
        id: i.cfgId,
        body: b,
        ifMatch: opt(i.ifMatch)
      }))),
    leaf("delete", { cfgId, ifMatch }, {
      description: "Delete a configuration and its assignments",
      examples: [
        { command: `${C} delete --device-enrollment-configuration-id C`, description: "Delete C" },
        { command: `${C} delete --device-enrollment-configuration-id C --if-match 'W/"…"'`, description: "Delete C only if it is still the version read (else exit 4)" }
      ]
    }, (i) => ready({ _tag: "configurations.delete", id: i.cfgId, ifMatch: opt(i.ifMatch) })),
    leaf("assign", { cfgId, body: assignBody, ifMatch }, {
      description: "Replace every assignment of a configuration at once (the assign action); --body is required",
      examples: [
        {
          command:
            `${C} assign --device-enrollment-configuration-id C --body '{"enrollmentConfigurationAssignments":[{"target":{"@odata.type":"#microsoft.graph.allLicensedUsersAssignmentTarget"}}]}'`,
          description: "Assign C to all licensed users only"
        },
        {
          command: `${C} assign --device-enrollment-configuration-id C --body '{"enrollmentConfigurationAssignments":[]}'`,
          description: "Remove every assignment of C"
        },
        {
          command: `${C} assign --device-enrollment-configuration-id C --body @assignments.json --if-match 'W/"…"'`,
          description: "Replace them only if C is still the version read (its ETag; else exit 4)"
        }
      ]
    }, (i, rt) =>
      unread(
        rt.Body.required(opt(i.body), assignBodyText),
        (b) => ({ _tag: "configurations.assign", id: i.cfgId, body: b, ifMatch: opt(i.ifMatch) }),
        rt.Body.present(opt(i.body), assignBodyText)
      )),
    leaf("set-priority", { cfgId, body, priority: configurationFlags.priority, ifMatch }, {
      description: "Set a configuration's priority (the setPriority action)",
      examples: [{ command: `${C} set-priority --device-enrollment-configuration-id C --priority 2`, description: "Give C priority 2" }]
    }, (i, rt) =>
      unread(
        rt.Body.resolve(opt(i.body), rt.Body.defined({ priority: opt(i.priority) })),
        (b) => ({ _tag: "configurations.setPriority", id: i.cfgId, body: b, ifMatch: opt(i.ifMatch) }),
        // Neither: a usage error, as a missing required flag is (since 0.4.0; before, the server's
        // or the store's 400 "priority: expected an Int32, got nothing").
        opt(i.priority) === undefined && opt(i.body) === undefined
          ? Effect.fail(usage("set-priority needs --priority N (or --body '{\"priority\":N}')"))
          : Effect.void
      )),
    assignments(tenantFamily)
  ])
)

// ---------------------------------------------------------------------------
// Directory: users, groups and members, invitations

const userFlags = {
  displayName: str("display-name", "displayName"),
  userPrincipalName: str("user-principal-name", "userPrincipalName"),
  mail: str("mail", "mail"),
  userType: Flag.Literals("user-type", ["Member", "Guest"]).pipe(Flag.withDescription("userType"), Flag.optional),
  accountEnabled: booleanFlag("account-enabled").pipe(Flag.withDescription("accountEnabled (--no-account-enabled: false)"), Flag.optional)
}
const userFields = (rt: Rt, i: Record<string, any>) =>
  rt.Body.defined({
    displayName: opt(i.displayName),
    userPrincipalName: opt(i.userPrincipalName),
    mail: opt(i.mail),
    userType: opt(i.userType),
    accountEnabled: opt(i.accountEnabled)
  })
const userId = id("user-id", "user")
const groupId = id("group-id", "group")
/** A member list of a group (direct or transitive), `--type` narrowing it to users or groups. */
const memberList = (tag: "members.list" | "transitiveMembers.list", description: string, examples: Doc["examples"]) =>
  leaf("list", { groupId, top, type: memberType }, { description, examples }, (i) =>
    ready({ _tag: tag, groupId: i.groupId, list: { top: opt(i.top) }, type: opt(i.type) }))

/**
 * `member-of list` and `transitive-member-of list` under users and groups: the groups an
 * object is in (Graph's `memberOf`, `transitiveMemberOf`), for seeing why a configuration
 * reaches a user.
 */
const memberOf = (kind: "user" | "group") => {
  const noun = kind === "user" ? "users" : "groups"
  const example = kind === "user" ? "--user-id u1" : "--group-id g1"
  const idOf = (i: Record<string, any>): string => kind === "user" ? i.userId : i.groupId
  const flags = kind === "user" ? { userId, top } : { groupId, top }
  return ([false, true] as const).map((transitive) =>
    group(transitive ? "transitive-member-of" : "member-of", transitive
      ? `The groups the ${kind} is in, directly or through nested groups (what targeting reads)`
      : `The groups the ${kind} is a direct member of`).pipe(
      Command.withSubcommands([
        leaf("list", flags, {
          description: transitive
            ? `List the groups the ${kind} is in, directly or through nested groups, each once`
            : `List the groups the ${kind} is a direct member of`,
          examples: [{
            command: `enrollctl ${noun} ${transitive ? "transitive-member-of" : "member-of"} list ${example}`,
            description: transitive ? "Every group whose group targets reach it" : "Its direct groups"
          }]
        }, (i) => ready({ _tag: "memberOf.list", member: { kind, id: idOf(i) }, transitive, list: { top: opt(i.top) } }))
      ])
    )
  )
}

const users = group("users", "Users, and the configurations and assignments that reach them").pipe(
  Command.withSubcommands([
    leaf("list", { top, filter: directoryFilter("id, displayName, userPrincipalName, mail, userType, accountEnabled") }, {
      description: "List users; --filter keeps those the server's $filter keeps",
      examples: [
        { command: "enrollctl users list", description: "Every user" },
        { command: "enrollctl users list --filter \"userType eq 'Guest' and accountEnabled eq true\"", description: "Enabled guests" },
        { command: "enrollctl users list --filter \"startswith(userPrincipalName,'ada')\"", description: "Users whose UPN starts with ada (any case)" }
      ]
    }, (i) => ready({ _tag: "users.list", list: { top: opt(i.top) }, filter: opt(i.filter) })),
    leaf("get", { userId }, {
      description: "Get one user",
      examples: [{ command: "enrollctl users get --user-id u1", description: "Show user u1" }]
    }, (i) => ready({ _tag: "users.get", id: i.userId })),
    leaf("create", { body, ...userFlags }, {
      description: "Create a user",
      examples: [{ command: "enrollctl users create --display-name Ada --user-principal-name ada@contoso.com", description: "Create Ada" }]
    }, (i, rt) => unread(rt.Body.resolve(opt(i.body), userFields(rt, i)), (b) => ({ _tag: "users.create", body: b }))),
    leaf("patch", { userId, body, ifMatch, ...userFlags }, {
      description: "Update a user (PATCH)",
      examples: [{ command: "enrollctl users patch --user-id u1 --no-account-enabled", description: "Disable u1" }]
    }, (i, rt) =>
      unread(rt.Body.resolve(opt(i.body), userFields(rt, i)), (b) => ({
        _tag: "users.patch",
        id: i.userId,
        body: b,
        ifMatch: opt(i.ifMatch)
      }))),
    leaf("delete", { userId, ifMatch }, {
      description: "Delete a user (and its memberships)",
      examples: [{ command: "enrollctl users delete --user-id u1", description: "Delete u1" }]
    }, (i) => ready({ _tag: "users.delete", id: i.userId, ifMatch: opt(i.ifMatch) })),
    ...memberOf("user"),
    userConfigurations(userFamily)
  ])
)

const groups = group("groups", "Groups and their members").pipe(
  Command.withSubcommands([
    leaf("list", { top, filter: directoryFilter("id, displayName, description, mailNickname, securityEnabled") }, {
      description: "List groups; --filter keeps those the server's $filter keeps",
      examples: [
        { command: "enrollctl groups list", description: "Every group" },
        { command: "enrollctl groups list --filter \"displayName in ('Sales', 'Marketing')\"", description: "Two groups by name" },
        { command: "enrollctl groups list --filter \"securityEnabled eq true and not startswith(mailNickname,'test')\"", description: "Security groups but the test ones" }
      ]
    }, (i) => ready({ _tag: "groups.list", list: { top: opt(i.top) }, filter: opt(i.filter) })),
    leaf("get", { groupId }, {
      description: "Get one group",
      examples: [{ command: "enrollctl groups get --group-id g1", description: "Show group g1" }]
    }, (i) => ready({ _tag: "groups.get", id: i.groupId })),
    leaf("create", {
      body,
      displayName: str("display-name", "displayName"),
      description: str("description", "description"),
      mailNickname: str("mail-nickname", "mailNickname"),
      securityEnabled: booleanFlag("security-enabled").pipe(Flag.withDescription("securityEnabled"), Flag.optional)
    }, {
      description: "Create a group",
      examples: [{ command: "enrollctl groups create --display-name Sales --mail-nickname sales", description: "Create Sales" }]
    }, (i, rt) =>
      unread(
        rt.Body.resolve(
          opt(i.body),
          rt.Body.defined({
            displayName: opt(i.displayName),
            description: opt(i.description),
            mailNickname: opt(i.mailNickname),
            securityEnabled: opt(i.securityEnabled)
          })
        ),
        (b) => ({ _tag: "groups.create", body: b })
      )),
    leaf("delete", { groupId, ifMatch }, {
      description: "Delete a group (and its memberships)",
      examples: [{ command: "enrollctl groups delete --group-id g1", description: "Delete g1" }]
    }, (i) => ready({ _tag: "groups.delete", id: i.groupId, ifMatch: opt(i.ifMatch) })),
    ...memberOf("group"),
    group("transitive-members", "A group's members, and the members of the groups in it (nested ones too)").pipe(
      Command.withSubcommands([
        memberList("transitiveMembers.list", "List the users and groups in a group, directly or through nested groups, each once: the users a group target reaches", [
          { command: "enrollctl groups transitive-members list --group-id g1 --select id,displayName", description: "Everyone g1 reaches" },
          { command: "enrollctl groups transitive-members list --group-id g1 --type user", description: "The users a group target on g1 reaches" }
        ])
      ])
    ),
    group("members", "A group's direct members (users or groups)").pipe(
      Command.withSubcommands([
        memberList("members.list", "List a group's direct members", [
          { command: "enrollctl groups members list --group-id g1", description: "Members of g1" },
          { command: "enrollctl groups members list --group-id g1 --type group", description: "The groups in g1" }
        ]),
        group("ref", "Membership references").pipe(
          Command.withSubcommands([
            leaf("create", {
              groupId,
              directoryObjectId: id("directory-object-id", "member").pipe(Flag.optional),
              body
            }, {
              description: "Add a member (POST …/members/$ref)",
              examples: [
                { command: "enrollctl groups members ref create --group-id g1 --directory-object-id u1", description: "Add u1 to g1" },
                {
                  command: "enrollctl groups members ref create --group-id g1 --body '{\"@odata.id\":\"https://graph.microsoft.com/beta/directoryObjects/u1\"}'",
                  description: "The same, with Graph's body"
                }
              ]
            }, (i, rt) => {
              const member = opt(i.directoryObjectId)
              // The member's URL as remote mode writes a key (`Remote.key`): an id `.` or `..` in the
              // parenthesis form, which the server's reference rule takes (a dot segment it refuses).
              return unread(
                Effect.flatMap(loadRemote, (Remote) =>
                  rt.Body.resolve(
                    opt(i.body),
                    member === undefined ? {} : { "@odata.id": `https://graph.microsoft.com/beta/${Remote.key("directoryObjects", member)}` }
                  )),
                (b) => ({ _tag: "members.add", groupId: i.groupId, body: b })
              )
            }),
            leaf("delete", { groupId, directoryObjectId: id("directory-object-id", "member") }, {
              description: "Remove a member (DELETE …/members/{id}/$ref)",
              examples: [{ command: "enrollctl groups members ref delete --group-id g1 --directory-object-id u1", description: "Remove u1 from g1" }]
            }, (i) => ready({ _tag: "members.remove", groupId: i.groupId, memberId: i.directoryObjectId }))
          ])
        )
      ])
    )
  ])
)

const invitationId = id("invitation-id", "invitation")
const invitations = group("invitations", "Invitations of guest users, and what reaches the invited user").pipe(
  Command.withSubcommands([
    leaf("list", {
      top,
      filter: directoryFilter(
        "id, invitedUserEmailAddress, inviteRedirectUrl, invitedUserDisplayName, invitedUserType, sendInvitationMessage, inviteRedeemUrl, status"
      )
    }, {
      description: "List invitations; --filter keeps those the server's $filter keeps",
      examples: [
        { command: "enrollctl invitations list", description: "Every invitation" },
        { command: "enrollctl invitations list --filter \"status eq 'PendingAcceptance'\"", description: "Invitations not redeemed yet" }
      ]
    }, (i) => ready({ _tag: "invitations.list", list: { top: opt(i.top) }, filter: opt(i.filter) })),
    leaf("get", { invitationId }, {
      description: "Get one invitation",
      examples: [{ command: "enrollctl invitations get --invitation-id i1", description: "Show invitation i1" }]
    }, (i) => ready({ _tag: "invitations.get", id: i.invitationId })),
    leaf("create", {
      body,
      invitedUserEmailAddress: str("invited-user-email-address", "invitedUserEmailAddress (required)"),
      inviteRedirectUrl: str("invite-redirect-url", "inviteRedirectUrl (required)"),
      invitedUserDisplayName: str("invited-user-display-name", "invitedUserDisplayName"),
      sendInvitationMessage: booleanFlag("send-invitation-message").pipe(Flag.withDescription("sendInvitationMessage"), Flag.optional)
    }, {
      description: "Invite a guest (creates the invitation and its guest user)",
      examples: [{
        command: "enrollctl invitations create --invited-user-email-address ada@fabrikam.com --invite-redirect-url https://myapps.microsoft.com",
        description: "Invite Ada"
      }]
    }, (i, rt) =>
      unread(
        rt.Body.resolve(
          opt(i.body),
          rt.Body.defined({
            invitedUserEmailAddress: opt(i.invitedUserEmailAddress),
            inviteRedirectUrl: opt(i.inviteRedirectUrl),
            invitedUserDisplayName: opt(i.invitedUserDisplayName),
            sendInvitationMessage: opt(i.sendInvitationMessage)
          })
        ),
        (b) => ({ _tag: "invitations.create", body: b })
      )),
    group("invited-user", "The user an invitation created").pipe(
      Command.withSubcommands([
        leaf("get", { invitationId }, {
          description: "Get the invited user",
          examples: [{ command: "enrollctl invitations invited-user get --invitation-id i1", description: "Who i1 invited" }]
        }, (i) => ready({ _tag: "invitations.invitedUser", invitationId: i.invitationId })),
        userConfigurations(invitationFamily)
      ])
    )
  ])
)

// ---------------------------------------------------------------------------
// token, import, export, backup

const token = Command.make("token", {
  scopes: str("scopes", "Delegated permissions (scp), space-separated, each one the service knows (default: every one it knows)"),
  roles: str("roles", "Application permissions (roles), space-separated, each one the service knows: an application token; not with --scopes"),
  subject: str("subject", "The token's subject (default local-operator)"),
  expiresIn: Flag.String("expires-in").pipe(Flag.withDescription("Lifetime, more than 0: 3600 (seconds), 30m, 1h, 7d"), Flag.withDefault("1h")),
  audience: str("audience", "The token's aud claim: the server's AUTH_AUDIENCE, when it checks one (its start-up line names it)"),
  issuer: str("issuer", "The token's iss claim: the server's AUTH_ISSUER, when it checks one")
}, (i) =>
  Effect.gen(function*() {
    const g = globalsOf(yield* root)
    const Remote = yield* loadRemote
    yield* Remote.token(g, {
      scopes: opt(i.scopes),
      roles: opt(i.roles),
      subject: opt(i.subject),
      expiresIn: i.expiresIn,
      audience: opt(i.audience),
      issuer: opt(i.issuer)
    })
  })).pipe(
    Command.withDescription(
      "Mint an HS256 token with the server's secret (--data-dir's DIR/auth-secret; else AUTH_HS256_SECRET, the server's variable, when set; else ./data/auth-secret); prints the token only. Of the global flags it takes --data-dir, --tenant and --debug"
    ),
    Command.withExamples([
      { command: "enrollctl token --data-dir ./data --tenant T --scopes \"DeviceManagementServiceConfig.ReadWrite.All\"", description: "A token for tenant T" },
      { command: "export ENROLLCTL_TOKEN=$(enrollctl token --data-dir ./data --expires-in 8h)", description: "Use it for the session" },
      { command: "AUTH_HS256_SECRET=… enrollctl token --roles \"User.Read.All\"", description: "An application token for a server started with AUTH_HS256_SECRET" }
    ])
  )

const importCommand = Command.make("import", {
  create: booleanFlag("create").pipe(
    Flag.withDescription(
      "Local mode: make the store (SQLite: DIR/enrollment.sqlite, and DIR; PostgreSQL: the schema and its tables) when it is missing, once the file has been checked; without it a missing store is refused"
    ),
    Flag.withDefault(false)
  ),
  file: Argument.String("file").pipe(Argument.withDescription("JSON lines file (- for standard input)"))
}, (i) =>
  Effect.gen(function*() {
    const { raw, rt } = yield* prepared
    // Import prints no answer: only what it imported (or why it stopped), on standard error, the
    // same whatever -o says. As with export, -o json (the format of its lines, what a command line
    // shared with export carries) leaves it as it is; ENROLLCTL_OUTPUT, a default for answers, is not read.
    if (raw.select !== undefined) return yield* usage("--select does not apply to import: it prints no records, only what it imported, on standard error")
    if (raw.output !== undefined && raw.output !== "json") {
      return yield* usage(`-o ${raw.output} does not apply to import: it prints no answer to format, only what it imported, on standard error`)
    }
    yield* rt.bulkImport(raw, i.file, { create: i.create })
  })).pipe(
    Command.withDescription(
      "Import a whole tenant from JSON lines (users, groups, members, invitations, configurations, assignments): every line and reference checked first, then written; a failed write deletes what was written (remote mode cannot delete invitations: they stay); no --select, no -o table or yaml"
    ),
    Command.withExamples([
      { command: "enrollctl --store sqlite --data-dir ./data import tenant.jsonl", description: "Into the local store" },
      { command: "enrollctl --store sqlite --data-dir ./restored import --create tenant.jsonl", description: "Restore into a new store" },
      { command: "enrollctl --base-url http://127.0.0.1:8080/beta import tenant.jsonl", description: "Through the API" }
    ])
  )

const batchCommand = Command.make("batch", {
  file: Argument.String("file").pipe(
    Argument.withDescription("The batch as Graph takes it, {\"requests\":[{\"id\",\"method\",\"url\",\"body\"?,\"dependsOn\"?}]} (- for standard input)")
  )
}, (i) =>
  Effect.gen(function*() {
    const { raw, rt } = yield* prepared
    yield* rt.batch(raw, i.file)
  })).pipe(
    Command.withDescription(
      "Remote mode: send a JSON batch (POST $batch, up to 20 requests) and print one response per request; fails (exit code of the first failure) when a request failed"
    ),
    Command.withExamples([
      { command: "enrollctl --base-url http://127.0.0.1:8080/beta batch requests.json", description: "Send the batch in requests.json" },
      {
        command:
          `echo '{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"2","method":"GET","url":"/groups"}]}' | enrollctl --base-url http://127.0.0.1:8080/beta batch - -o json`,
        description: "Two reads in one request, from standard input"
      }
    ])
  )

const exportCommand = Command.make("export", {}, () =>
  Effect.gen(function*() {
    const { raw, rt } = yield* prepared
    // JSON lines, whole records: what import reads back. ENROLLCTL_OUTPUT, a default for answers, is not read.
    if (raw.select !== undefined) return yield* usage("--select does not apply to export: it writes whole records, one JSON line each, as import reads them")
    if (raw.output !== undefined && raw.output !== "json") {
      return yield* usage(`-o ${raw.output} does not apply to export: it writes JSON lines, as import reads them`)
    }
    yield* rt.bulkExport(raw)
  })).pipe(
    Command.withDescription("Export the whole tenant as JSON lines on standard output (no --select, no -o table or yaml)"),
    Command.withExamples([
      { command: "enrollctl --store sqlite --data-dir ./data export > tenant.jsonl", description: "Save the tenant" }
    ])
  )

const backupCommand = Command.make("backup", {
  force: booleanFlag("force").pipe(
    Flag.withDescription("Replace FILE when it exists (by a rename, once the new copy is whole and checked; never the store's own file)"),
    Flag.withDefault(false)
  ),
  file: Argument.String("file").pipe(Argument.withDescription("The backup's file (its directory must exist); refused when it exists, unless --force"))
}, (i) =>
  Effect.gen(function*() {
    const { raw, rt } = yield* prepared
    yield* rt.backup(raw, i.file, { force: i.force })
  })).pipe(
    Command.withDescription(
      "Local mode on SQLite: copy the whole store (every tenant) while the server runs, with SQLite's online backup API (the WAL's commits included, the server's writers not blocked); the copy is checked (PRAGMA integrity_check, a schema this release reads), synced and renamed into place, or nothing is left. Prints one line (-o json: an object). PostgreSQL: use pg_dump"
    ),
    Command.withExamples([
      { command: "enrollctl --store sqlite --data-dir ./data backup /backups/enrollment-$(date +%F).sqlite", description: "Back up the server's store" },
      { command: "enrollctl --store sqlite --data-dir ./data backup --force /backups/latest.sqlite", description: "Replace the last backup" }
    ])
  )

// ---------------------------------------------------------------------------

const command = root.pipe(
  Command.withSubcommands([
    group("device-management", "Device management (Intune)").pipe(Command.withSubcommands([configurations])),
    users,
    groups,
    invitations,
    token,
    importCommand,
    exportCommand,
    batchCommand,
    backupCommand
  ])
)

const isCliError = (e: unknown): boolean => typeof e === "object" && e !== null && "~effect/cli/CliError" in e

/**
 * A mistake the CLI framework found in the command line, in one line: its message, the
 * suggestions it adds on lines of their own (`Did you mean this?`) folded in, control
 * characters written as `\xNN`.
 */
const usageLine = (e: { readonly message: string; readonly suggestions?: ReadonlyArray<string> }): string => {
  const suggestions = e.suggestions ?? []
  const listed = `\n\n  Did you mean this?\n    ${suggestions.join("\n    ")}`
  const text = suggestions.length > 0 && e.message.endsWith(listed)
    ? `${e.message.slice(0, -listed.length)}; did you mean ${suggestions.join(" or ")}?`
    : e.message
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
}

/**
 * Where the CLI framework's own output goes. Help (`--help`, or a command named without its
 * subcommand) and the version print as it prints them, on standard output. A mistake it finds
 * in the command line (a flag missing, unknown or with a bad value, an unknown subcommand) prints
 * as every error does, `error Usage: <message> (see <command> --help)`, on standard error alone:
 * `enrollctl users get > user.json` leaves no help text in the file. Exit 2 ({@link report}).
 */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.sync(() => {
        process.stderr.write(`error Usage: ${event.errors.map(usageLine).join("; ")} (see ${event.commandPath.join(" ")} --help)\n`)
      })
      : CliOutput.defaultPresenter.present(event)
})

/** Prints a failure (stack only with --debug) and answers its exit code. */
const report = (cause: Cause.Cause<unknown>): number => {
  const debug = process.argv.includes("--debug")
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) {
    const e = error.value as any
    if (isCliError(e)) {
      // A mistake in the command line was printed by the presenter; help alone is no failure.
      if (e._tag === "ShowHelp") return (e.errors?.length ?? 0) === 0 ? 0 : ExitCode.usage
      process.stderr.write(`error Usage: ${usageLine(e)}\n`)
      return ExitCode.usage
    }
    if (e?._tag === "CommandFailed") {
      process.stderr.write(`error ${e.code}: ${e.detail}\n`)
      if (debug && e.cause !== undefined) process.stderr.write(`${e.cause?.stack ?? String(e.cause)}\n`)
      return ExitCode[e.exit as ExitClass] ?? 1
    }
  }
  const squashed = Cause.squash(cause) as any
  process.stderr.write(`error InternalError: ${squashed?.message ?? String(squashed)}\n`)
  if (debug) process.stderr.write(`${Cause.pretty(cause)}\n`)
  return ExitCode.other
}

// A flag's value that begins with `-` is joined to its flag first (see `Argv`).
const program = Command.runWith(command, { version })(normalize(process.argv.slice(2))).pipe(Effect.provide(Layer.merge(NodeServices.layer, presenter)))
const exit = await Effect.runPromiseExit(program)
process.exitCode = Exit.isSuccess(exit) ? 0 : report(exit.cause)
