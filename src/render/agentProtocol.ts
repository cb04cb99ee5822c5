// The contract between the generated workflows and the server-side release agent.
// Workflows call these verbs over SSH (the deploy key's forced command); the agent implements exactly these.

export interface AgentVerb {
  /** What goes after `ssh deploy@host`, e.g. `deploy <release-id>`. */
  usage: string;
  summary: string;
  /** Reads a gzip'd tar artifact on stdin. */
  readsArtifact: boolean;
}

export const AGENT_VERBS = {
  deploy: {
    usage: "deploy <release-id> [--actor <login>]",
    summary:
      "Unpack the artifact from stdin into releases/<id>, install production dependencies, run migrations, switch current, reload pm2, gate on health; switch back when unhealthy.",
    readsArtifact: true,
  },
  rollback: {
    usage: "rollback [<release-id>] [--actor <login>]",
    summary:
      "Switch current to the given release (default: the one before current) and reload pm2. No rebuild.",
    readsArtifact: false,
  },
  releases: {
    usage: "releases",
    summary: "List releases, newest first; the current one is marked with '*'.",
    readsArtifact: false,
  },
  status: {
    usage: "status",
    summary: "Current release, pm2 process state and health.",
    readsArtifact: false,
  },
  health: {
    usage: "health",
    summary: "Exit 0 when the app answers its health path on localhost.",
    readsArtifact: false,
  },
  migrate: {
    usage: "migrate [--actor <login>]",
    summary: "Run pending migrations in the current release.",
    readsArtifact: false,
  },
  "migrate-rollback": {
    usage: "migrate-rollback [--actor <login>]",
    summary: "Revert the last migration batch in the current release.",
    readsArtifact: false,
  },
  "migrate-status": {
    usage: "migrate-status",
    summary: "Print migration status of the current release.",
    readsArtifact: false,
  },
} as const satisfies Record<string, AgentVerb>;

export type AgentVerbName = keyof typeof AGENT_VERBS;
export const AGENT_VERB_NAMES = Object.keys(AGENT_VERBS) as AgentVerbName[];

/** Release ids sort by time: UTC timestamp + short commit, e.g. 20261122140501-1a2b3c4d5e6f. */
export const RELEASE_ID_PATTERN = "^[0-9]{14}-[0-9a-f]{7,40}$";
/** Shell expression a workflow step uses to make a release id (GITHUB_SHA is set by Actions). */
export const RELEASE_ID_SHELL = '"$(date -u +%Y%m%d%H%M%S)-${GITHUB_SHA:0:12}"';
/** GitHub logins (and bots such as dependabot[bot]) accepted by --actor. */
export const ACTOR_PATTERN = "^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\\[bot\\])?$";

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
} as const;
export type AgentExit = keyof typeof AGENT_EXIT;
