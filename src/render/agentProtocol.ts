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
  uploadRefused: 76, // the artifact upload exceeded deploy.maxArtifactMegabytes or stalled (uploadIdleTimeoutSeconds)
} as const;
export type AgentExit = keyof typeof AGENT_EXIT;

export interface AgentVerb {
  summary: string;
  /** How many positional arguments the verb takes; the only positional argument is a release id. */
  releaseIds: { min: 0 | 1; max: 0 | 1 };
  /** Accepts `--actor <login>` (who asked, for the audit log). */
  takesActor: boolean;
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
    releaseIds: { min: 1, max: 1 },
    takesActor: true,
    audited: true,
    readsArtifact: true,
    implementation: "verb_deploy",
    exits: [
      ...ALWAYS,
      "badReleaseId",
      "uploadRefused",
      "lockTimeout",
      "badArtifact",
      "installFailed",
      "migrationFailed",
      "reloadFailed",
      "unhealthy",
    ],
  },
  rollback: {
    summary:
      "Switch current to the given release (default: the one before current) and reload pm2. No rebuild.",
    releaseIds: { min: 0, max: 1 },
    takesActor: true,
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
    releaseIds: { min: 0, max: 0 },
    takesActor: false,
    audited: false,
    readsArtifact: false,
    implementation: "verb_releases",
    exits: ALWAYS,
  },
  status: {
    summary: "Current release, pm2 process state and health.",
    releaseIds: { min: 0, max: 0 },
    takesActor: false,
    audited: false,
    readsArtifact: false,
    implementation: "verb_status",
    exits: ALWAYS,
  },
  health: {
    summary: "Exit 0 when the app answers its health path on localhost.",
    releaseIds: { min: 0, max: 0 },
    takesActor: false,
    audited: false,
    readsArtifact: false,
    implementation: "verb_health",
    exits: [...ALWAYS, "unhealthy"],
  },
  migrate: {
    summary: "Run pending migrations in the current release.",
    releaseIds: { min: 0, max: 0 },
    takesActor: true,
    audited: true,
    readsArtifact: false,
    implementation: 'run_migration_verb "$MIGRATE_COMMAND"',
    exits: [...ALWAYS, "lockTimeout", "releaseNotFound", "migrationFailed"],
  },
  "migrate-rollback": {
    summary: "Revert the last migration batch in the current release.",
    releaseIds: { min: 0, max: 0 },
    takesActor: true,
    audited: true,
    readsArtifact: false,
    implementation: 'run_migration_verb "$MIGRATE_ROLLBACK_COMMAND"',
    exits: [...ALWAYS, "lockTimeout", "releaseNotFound", "migrationFailed"],
  },
  "migrate-status": {
    summary: "Print migration status of the current release.",
    releaseIds: { min: 0, max: 0 },
    takesActor: false,
    audited: true,
    readsArtifact: false,
    implementation: 'run_migration_verb "$MIGRATE_STATUS_COMMAND"',
    exits: [...ALWAYS, "lockTimeout", "releaseNotFound", "migrationFailed"],
  },
} as const satisfies Record<string, AgentVerb>;

export type AgentVerbName = keyof typeof AGENT_VERBS;
export const AGENT_VERB_NAMES = Object.keys(AGENT_VERBS) as AgentVerbName[];

/** What goes after `ssh deploy@host`, e.g. `rollback [<release-id>] [--actor <login>]`. */
export function verbUsage(name: AgentVerbName): string {
  const verb: AgentVerb = AGENT_VERBS[name];
  const words: string[] = [name];
  if (verb.releaseIds.min === 1) words.push("<release-id>");
  else if (verb.releaseIds.max === 1) words.push("[<release-id>]");
  if (verb.takesActor) words.push("[--actor <login>]");
  return words.join(" ");
}

export interface AgentCallArguments {
  /** A bash word that expands to the release id, e.g. `"$RELEASE_ID"`. */
  releaseId?: string;
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
  if (args.releaseId !== undefined) {
    if (verb.releaseIds.max === 0) throw new Error(`agent verb ${name} takes no release id`);
    words.push(args.releaseId);
  } else if (verb.releaseIds.min === 1) {
    throw new Error(`agent verb ${name} needs a release id`);
  }
  if (args.actor !== undefined && verb.takesActor) words.push("--actor", args.actor);
  return words.join(" ");
}

/** Release ids sort by time: UTC timestamp + short commit, e.g. 20261122140501-1a2b3c4d5e6f. */
export const RELEASE_ID_PATTERN = "^[0-9]{14}-[0-9a-f]{7,40}$";
/** Shell expression a workflow step uses to make a release id (GITHUB_SHA is set by Actions). */
export const RELEASE_ID_SHELL = '"$(date -u +%Y%m%d%H%M%S)-${GITHUB_SHA:0:12}"';
/** GitHub logins (and bots such as dependabot[bot]) accepted by --actor. */
export const ACTOR_PATTERN = "^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\\[bot\\])?$";

/**
 * The phases of a deploy, in order; the agent prints `release-agent: phase <name> <seconds>s` on stderr at the end
 * of each (phase_done in agent/core.sh), and the runner-side scripts read those lines into the job summary.
 */
export const DEPLOY_PHASES = ["upload", "install", "migrate", "switch", "health"] as const;
export type DeployPhase = (typeof DEPLOY_PHASES)[number];
/** A sed basic regex of a phase line; \1 is the phase, \2 its duration such as 1.25s. */
export const PHASE_LINE_SED = "^release-agent: phase \\([a-z]*\\) \\([0-9]*\\.[0-9]*s\\)$";
