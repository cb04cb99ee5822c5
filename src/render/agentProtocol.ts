// The contract between the generated workflows and the server-side release agent, as data: the agent's usage
// text, argument table, dispatch and audit flags are rendered from AGENT_VERBS, and the runner-side scripts build
// their calls with agentCall(), so a verb can never be called in a shape the agent refuses.

/** Exit codes of the agent: distinct per failure so that workflows and tests can tell them apart. */
export const AGENT_EXIT = {
  ok: 0,
  usage: 64, // unknown verb, bad or extra arguments
  badReleaseId: 65,
  releaseNotFound: 66,
  badArtifact: 67,
  installFailed: 68,
  unhealthy: 69, // new release failed its health gate; previous release is serving again
  migrationFailed: 70,
  noRollbackTarget: 71,
  internal: 72,
  lockTimeout: 73,
  reloadFailed: 74,
  interrupted: 75, // a signal (cancelled run, lost connection): whatever was half done is undone
  uploadRefused: 76, // an upload (the artifact, a restore's dump) exceeded its cap or stalled (uploadIdleTimeoutSeconds)
  noProxy: 77, // maintenance mode asked of a host without the reverse proxy's maintenance directory
  backupFailed: 78, // the dump command failed: no backup file was kept, nothing was changed
  backupNotFound: 79, // no local copy of that backup (and none streamed on stdin)
  restoreRefused: 80, // restore without maintenance mode on and without --confirm
  restoreFailed: 81, // the restore command failed
} as const;
export type AgentExit = keyof typeof AGENT_EXIT;

/** Release ids sort by time: UTC timestamp + short commit, e.g. 20261122140501-1a2b3c4d5e6f. */
export const RELEASE_ID_PATTERN = "^[0-9]{14}-[0-9a-f]{7,40}$";
export const MAINTENANCE_MODE_PATTERN = "^(on|off|status)$";
/** Backup ids sort by time: UTC timestamp of the dump + the release current then, e.g. 20261122150000-20261122140501-1a2b3c4d5e6f. */
export const BACKUP_ID_PATTERN = "^[0-9]{14}-[0-9]{14}-[0-9a-f]{7,40}$";

/** The kinds of positional argument a verb may take (at most one): how it is written and checked. */
export const AGENT_ARGUMENTS = {
  releaseId: {
    usage: "release-id",
    /** The readonly variable of the agent that holds the pattern. */
    patternVariable: "RELEASE_ID_PATTERN",
    pattern: RELEASE_ID_PATTERN,
    badExit: "badReleaseId",
    description: "a release id (YYYYMMDDhhmmss-<commit>)",
  },
  maintenanceMode: {
    usage: "on|off|status",
    patternVariable: "MAINTENANCE_MODE_PATTERN",
    pattern: MAINTENANCE_MODE_PATTERN,
    badExit: "usage",
    description: "on, off or status",
  },
  backupId: {
    usage: "backup-id",
    patternVariable: "BACKUP_ID_PATTERN",
    pattern: BACKUP_ID_PATTERN,
    badExit: "usage",
    description: "a backup id (YYYYMMDDhhmmss-<release-id>: when it was taken, and the release then current)",
  },
} as const satisfies Record<
  string,
  { usage: string; patternVariable: string; pattern: string; badExit: AgentExit; description: string }
>;
export type AgentArgumentKind = keyof typeof AGENT_ARGUMENTS;

/** Flags without a value a verb may take besides --actor. */
export const AGENT_SWITCHES = {
  "--maintenance":
    "maintenance mode from before the migrations until the call ends (a deploy: until the new release is live or the old one is back); switched off then only when this call switched it on",
  "--backup-taken":
    "the caller backed up the database just before this call (the deploy or migrate workflow's backup step): no backup of the agent's own before the migrations",
  "--confirm":
    "restore even though maintenance mode is off (the app keeps serving while its database is replaced)",
  "--stdin":
    "restore the dump that arrives on stdin (streamed from off-host storage) instead of the host's local copy",
} as const;
export type AgentSwitch = keyof typeof AGENT_SWITCHES;

export interface AgentVerb {
  summary: string;
  /** The verb's one positional argument, if it takes one. */
  argument?: { kind: AgentArgumentKind; required: boolean };
  /** Accepts `--actor <login>` (who asked, for the audit log). */
  takesActor: boolean;
  switches: readonly AgentSwitch[];
  /** Writes a line to the audit log when run directly (everything that arrives with the deploy key is audited). */
  audited: boolean;
  /** Reads a gzip'd tar artifact on stdin. */
  readsArtifact: boolean;
  /** The bash command of the agent that implements the verb (functions of agent/verbs.sh). */
  implementation: string;
  /** Every exit the verb may end with. */
  exits: readonly AgentExit[];
}

/** Exits every verb may end with: a refused command line, a signal, or a failure the agent did not expect. */
const ALWAYS: readonly AgentExit[] = ["ok", "usage", "internal", "interrupted"];

export const AGENT_VERBS = {
  deploy: {
    summary:
      "Receive the artifact from stdin (before taking the lock, size-capped, given up when it stalls), unpack it into releases/<id>, install production dependencies, run migrations, switch current, reload pm2, gate on health; switch back when unhealthy.",
    argument: { kind: "releaseId", required: true },
    takesActor: true,
    switches: ["--maintenance", "--backup-taken"],
    audited: true,
    readsArtifact: true,
    implementation: "verb_deploy",
    exits: [
      ...ALWAYS,
      "badReleaseId",
      "backupFailed",
      "uploadRefused",
      "lockTimeout",
      "badArtifact",
      "installFailed",
      "migrationFailed",
      "reloadFailed",
      "unhealthy",
      "noProxy",
    ],
  },
  rollback: {
    summary:
      "Switch current to the given release (default: the one before current) and reload pm2. No rebuild. Warns first when the target lacks migration files (app.migrationsDir) of the current release, naming them and the order that works.",
    argument: { kind: "releaseId", required: false },
    takesActor: true,
    switches: [],
    audited: true,
    readsArtifact: false,
    implementation: "verb_rollback",
    exits: [
      ...ALWAYS,
      "badReleaseId",
      "lockTimeout",
      "releaseNotFound",
      "noRollbackTarget",
      "reloadFailed",
      "unhealthy",
    ],
  },
  releases: {
    summary: "List releases, newest first; the current one is marked with '*'.",
    takesActor: false,
    switches: [],
    audited: false,
    readsArtifact: false,
    implementation: "verb_releases",
    exits: ALWAYS,
  },
  status: {
    summary: "Current release, pm2 process state and health.",
    takesActor: false,
    switches: [],
    audited: false,
    readsArtifact: false,
    implementation: "verb_status",
    exits: ALWAYS,
  },
  health: {
    summary: "Exit 0 when the app answers its health path on localhost.",
    takesActor: false,
    switches: [],
    audited: false,
    readsArtifact: false,
    implementation: "verb_health",
    exits: [...ALWAYS, "unhealthy"],
  },
  migrate: {
    summary:
      "Run pending migrations in the current release (with backup.beforeMigrations, a backup first unless app.migrationsUpToDateCommand exits 0).",
    takesActor: true,
    switches: ["--maintenance", "--backup-taken"],
    audited: true,
    readsArtifact: false,
    implementation: 'run_migration_verb "$MIGRATE_COMMAND" up',
    exits: [...ALWAYS, "lockTimeout", "releaseNotFound", "backupFailed", "migrationFailed", "noProxy"],
  },
  "migrate-rollback": {
    summary:
      "Revert the last migration batch in the current release (with backup.beforeMigrations, a backup first).",
    takesActor: true,
    switches: ["--maintenance", "--backup-taken"],
    audited: true,
    readsArtifact: false,
    implementation: 'run_migration_verb "$MIGRATE_ROLLBACK_COMMAND" down',
    exits: [...ALWAYS, "lockTimeout", "releaseNotFound", "backupFailed", "migrationFailed", "noProxy"],
  },
  "migrate-status": {
    summary: "Print migration status of the current release.",
    takesActor: false,
    switches: [],
    audited: true,
    readsArtifact: false,
    implementation: 'run_migration_verb "$MIGRATE_STATUS_COMMAND" status',
    exits: [...ALWAYS, "lockTimeout", "releaseNotFound", "migrationFailed"],
  },
  maintenance: {
    summary:
      "Switch maintenance mode on or off, or print it: while on, the proxy answers everything but the health path with 503, Retry-After and the maintenance page. Survives deploys and proxy reloads.",
    argument: { kind: "maintenanceMode", required: true },
    takesActor: true,
    switches: [],
    audited: true,
    readsArtifact: false,
    implementation: "verb_maintenance",
    exits: [...ALWAYS, "noProxy"],
  },
  backup: {
    summary:
      "Dump the database (backup.dumpCommand, with the current release's environment) into shared/backups/<backup-id>.dump (0600; a failed dump keeps no file), write the dump to stdout, and keep the backup.keep newest. Without an id: now + the current release; a given id must name the current release.",
    argument: { kind: "backupId", required: false },
    takesActor: true,
    switches: [],
    audited: true,
    readsArtifact: false,
    implementation: "verb_backup",
    exits: [...ALWAYS, "lockTimeout", "releaseNotFound", "backupFailed"],
  },
  backups: {
    summary: "List the backups on this host, newest first, with their size in bytes.",
    takesActor: false,
    switches: [],
    audited: false,
    readsArtifact: false,
    implementation: "verb_backups",
    exits: ALWAYS,
  },
  restore: {
    summary:
      "Restore a backup into the database (backup.restoreCommand, with the current release's environment): the host's local copy, or with --stdin the dump on stdin (at most backup.maxRestoreMegabytes). Refused unless maintenance mode is on or --confirm is given.",
    argument: { kind: "backupId", required: true },
    takesActor: true,
    switches: ["--confirm", "--stdin"],
    audited: true,
    readsArtifact: false,
    implementation: "verb_restore",
    exits: [
      ...ALWAYS,
      "restoreRefused",
      "uploadRefused",
      "backupNotFound",
      "lockTimeout",
      "releaseNotFound",
      "restoreFailed",
    ],
  },
} as const satisfies Record<string, AgentVerb>;

export type AgentVerbName = keyof typeof AGENT_VERBS;
export const AGENT_VERB_NAMES = Object.keys(AGENT_VERBS) as AgentVerbName[];

/** What goes after `ssh deploy@host`, e.g. `rollback [<release-id>] [--actor <login>]`. */
export function verbUsage(name: AgentVerbName): string {
  const verb: AgentVerb = AGENT_VERBS[name];
  const words: string[] = [name];
  if (verb.argument !== undefined) {
    const usage = AGENT_ARGUMENTS[verb.argument.kind].usage;
    words.push(verb.argument.required ? `<${usage}>` : `[<${usage}>]`);
  }
  words.push(...verb.switches.map((flag) => `[${flag}]`));
  if (verb.takesActor) words.push("[--actor <login>]");
  return words.join(" ");
}

export interface AgentCallArguments {
  /** A bash word that expands to the verb's argument, e.g. `"$RELEASE_ID"` or `on`. */
  argument?: string;
  switches?: readonly AgentSwitch[];
  /** A bash word that expands to the actor's login; passed only to verbs that take `--actor`. */
  actor?: string;
}

/**
 * The bash words of one agent call (`deploy "$RELEASE_ID" --actor "$ACTOR"`), checked against the contract:
 * a runner-side script cannot be rendered with a call the agent would refuse.
 */
export function agentCall(name: AgentVerbName, args: AgentCallArguments = {}): string {
  const verb: AgentVerb = AGENT_VERBS[name];
  const words: string[] = [name];
  if (args.argument !== undefined) {
    if (verb.argument === undefined) throw new Error(`agent verb ${name} takes no argument`);
    words.push(args.argument);
  } else if (verb.argument?.required === true) {
    throw new Error(`agent verb ${name} needs ${AGENT_ARGUMENTS[verb.argument.kind].description}`);
  }
  for (const flag of args.switches ?? []) {
    if (!verb.switches.includes(flag)) throw new Error(`agent verb ${name} takes no ${flag}`);
    words.push(flag);
  }
  if (args.actor !== undefined && verb.takesActor) words.push("--actor", args.actor);
  return words.join(" ");
}

/** Shell expression a workflow step uses to make a release id (GITHUB_SHA is set by Actions). */
export const RELEASE_ID_SHELL = '"$(date -u +%Y%m%d%H%M%S)-${GITHUB_SHA:0:12}"';
/** GitHub logins (and bots such as dependabot[bot]) accepted by --actor. */
export const ACTOR_PATTERN = "^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\\[bot\\])?$";

/**
 * The phases of a deploy, in order; the agent prints `release-agent: phase <name> <seconds>s` on stderr at the end
 * of each (phase_done in agent/core.sh), with ` failed` after it for the phase a deploy failed in, and the
 * runner-side scripts read those lines into the job summary.
 */
export const DEPLOY_PHASES = ["upload", "install", "migrate", "start", "health", "switch"] as const;
export type DeployPhase = (typeof DEPLOY_PHASES)[number];
/**
 * Once it holds the lock, a deploy prints `release-agent: replacing <release-id>` (or `none`) on stderr: the release
 * that served before it, what a rollback-all puts back (the runner needs no second connection to ask for it).
 * A sed basic regex; \1 is the release id.
 */
export const REPLACING_LINE_SED = "^release-agent: replacing \\(.*\\)$";
/** A sed basic regex of a phase line; \1 is the phase, \2 its duration such as 1.25s, \3 ` failed` or nothing. */
export const PHASE_LINE_SED =
  "^release-agent: phase \\([a-z]*\\) \\([0-9]*\\.[0-9]*s\\)\\( failed\\)\\{0,1\\}$";
