// The sandbox's command line (npm run sandbox -- <verb> [options]): its verbs, the options each takes and their
// usage text, checked before anything runs. --help, for the command or a verb, prints the usage.
import { parseArgs } from "node:util";
import { BACKUP_ID_PATTERN } from "../render/agentProtocol";

export const DEFAULT_LOG_LINES = 50;
const MAX_LOG_LINES = 10_000;

const OPTIONS = {
  hosts: {
    type: "string",
    usage: "--hosts N",
    help: "how many local hosts (default: as many as the stack file lists, else 1)",
  },
  stack: {
    type: "string",
    usage: "--stack <name>",
    help: "your stack file Pulumi.<name>.yaml in the current directory (later verbs: the one the sandbox is up with)",
  },
  config: {
    type: "string",
    usage: "--config <file>",
    help: "your stack file at any path (later verbs: the one the sandbox is up with)",
  },
  app: {
    type: "string",
    usage: "--app <dir>",
    help: "your app's directory: built here with the stack's app.installCommand and app.buildCommand",
  },
  artifact: {
    type: "string",
    usage: "--artifact <file.tgz>",
    help: "a release artifact built elsewhere (a tar.gz of app.artifactPaths)",
  },
  "env-file": {
    type: "string",
    usage: "--env-file <file>",
    help: "the app's environment (KEY=value lines) on the hosts",
  },
  unhealthy: {
    type: "boolean",
    usage: "--unhealthy",
    help: "ship the bundled example app built so that its /health answers 503, to watch the health gate switch back (the example app only: not with --app, --artifact or a sandbox brought up with your app)",
  },
  confirm: {
    type: "boolean",
    usage: "--confirm",
    help: "restore even though maintenance mode is off (the app keeps serving while its database is replaced)",
  },
  lines: {
    type: "string",
    usage: "--lines N",
    help: `how many of the last lines of each log file (default ${DEFAULT_LOG_LINES}, at most ${MAX_LOG_LINES})`,
  },
  help: { type: "boolean", usage: "--help", help: "print this help" },
} as const;

export type SandboxOption = Exclude<keyof typeof OPTIONS, "help">;
type BooleanOption = "unhealthy" | "confirm";

interface VerbSpec {
  /** The verb's line in the usage text, after the verb. */
  usage: string;
  summary: string;
  options: readonly SandboxOption[];
  /** Positional arguments after the verb: at most this many. */
  maxArguments: number;
  /** What the first positional argument must be, when the verb checks it before anything runs. */
  argument?: ArgumentSpec;
}

interface ArgumentSpec {
  /** How the usage text names it, e.g. <backup-id>. */
  name: string;
  required: boolean;
  /** The words it may be. */
  choices?: readonly string[];
  /** A pattern it must match, and what it is then called. */
  pattern?: { regex: string; description: string };
}

const SAME_STACK = ["stack", "config"] as const;

export const SANDBOX_VERBS = {
  up: {
    usage:
      "[--hosts N] [--stack <name> | --config <file>] [--app <dir> | --artifact <file.tgz>] [--env-file <file>]",
    summary:
      "Create local hosts, provision them with the stack's own steps and deploy the first release (the example app, or your app with your stack file).",
    options: ["hosts", ...SAME_STACK, "app", "artifact", "env-file"],
    maxArguments: 0,
  },
  deploy: {
    usage: "[--app <dir> | --artifact <file.tgz> | --unhealthy]",
    summary:
      "Build and ship a new release with the deploy workflow's own script; without --app or --artifact, the app the sandbox was brought up with.",
    options: ["app", "artifact", "unhealthy", ...SAME_STACK],
    maxArguments: 0,
  },
  rollback: {
    usage: "[<release-id>]",
    summary: "Switch back to the previous release, or to <release-id> (see status).",
    options: [...SAME_STACK],
    maxArguments: 1,
  },
  status: {
    usage: "",
    summary: "Print each host's releases (* = current), the app's URL and how to reach it.",
    options: [...SAME_STACK],
    maxArguments: 0,
  },
  down: {
    usage: "",
    summary: "Destroy the hosts and the sandbox's state; nothing is left behind.",
    options: [],
    maxArguments: 0,
  },
  shell: {
    usage: "[<host>]",
    summary:
      "A root shell on a host (the admin user the sandbox provisions with): <host> is its number (1, 2, ...), its name in the stack or its address; default the first. With stdin not a terminal, runs what it reads (echo id | npm run sandbox -- shell).",
    options: [...SAME_STACK],
    maxArguments: 1,
  },
  logs: {
    usage: "[--lines N]",
    summary: "The last lines of the app's pm2 logs on each host (shared/logs/<app>-out.log and -error.log).",
    options: ["lines", ...SAME_STACK],
    maxArguments: 0,
  },
  backup: {
    usage: "",
    summary:
      "Back up the database now on the first host (the database is shared), with the workflows' own backup script (backup.dumpCommand); prints the backup id.",
    options: [...SAME_STACK],
    maxArguments: 0,
  },
  backups: {
    usage: "",
    summary:
      "List the backups on the first host, newest first, with their size in bytes (the agent's backups verb).",
    options: [...SAME_STACK],
    maxArguments: 0,
  },
  restore: {
    usage: "<backup-id> [--confirm]",
    summary:
      "Restore a backup (see backups) on the first host with the restore workflow's own script (backup.restoreCommand). Refused unless maintenance mode is on or --confirm is given.",
    options: ["confirm", ...SAME_STACK],
    maxArguments: 1,
    argument: {
      name: "<backup-id>",
      required: true,
      pattern: {
        regex: BACKUP_ID_PATTERN,
        description: "a backup id (YYYYMMDDhhmmss-<release-id>, as backups lists them)",
      },
    },
  },
  migrate: {
    usage: "[up|down|status]",
    summary:
      "Run the migrate workflow's own script on the first host: up (default) applies pending migrations (app.migrateCommand), down reverts the last batch (app.migrateRollbackCommand), status lists them (app.migrateStatusCommand).",
    options: [...SAME_STACK],
    maxArguments: 1,
    argument: { name: "up|down|status", required: false, choices: ["up", "down", "status"] },
  },
  maintenance: {
    usage: "on|off|status",
    summary:
      "Switch maintenance mode on or off on every host, or print it (the agent's maintenance verb): while on, the proxy answers everything but the health path with 503 and the maintenance page.",
    options: [...SAME_STACK],
    maxArguments: 1,
    argument: { name: "on|off|status", required: true, choices: ["on", "off", "status"] },
  },
} as const satisfies Record<string, VerbSpec>;

export type SandboxVerb = keyof typeof SANDBOX_VERBS;

const PROGRAM = "npm run sandbox --";

export interface SandboxOptions {
  hosts?: string;
  stack?: string;
  config?: string;
  app?: string;
  artifact?: string;
  "env-file"?: string;
  lines?: string;
  unhealthy: boolean;
  confirm: boolean;
}

export type SandboxCommand =
  | { kind: "help"; text: string }
  | { kind: "run"; verb: SandboxVerb; argument?: string; options: SandboxOptions };

/** A command line the sandbox refuses; the message ends with the usage that applies. */
export class SandboxUsageError extends Error {}

const isVerb = (word: string | undefined): word is SandboxVerb =>
  word !== undefined && Object.hasOwn(SANDBOX_VERBS, word);

/** The usage of every verb. */
export function sandboxUsage(): string {
  const lines = Object.entries(SANDBOX_VERBS).map(([verb, spec]) => `  ${verb} ${spec.usage}`.trimEnd());
  return [
    `usage: ${PROGRAM} <verb> [options]`,
    ...lines,
    `${PROGRAM} <verb> --help describes a verb and its options.`,
  ].join("\n");
}

/** One verb's usage, what it does and its options. */
export function verbUsage(verb: SandboxVerb): string {
  const spec: VerbSpec = SANDBOX_VERBS[verb];
  const options = [...spec.options, "help" as const].map((name) => OPTIONS[name]);
  const width = Math.max(...options.map((option) => option.usage.length));
  return [
    `usage: ${PROGRAM} ${verb} ${spec.usage}`.trimEnd(),
    spec.summary,
    "options:",
    ...options.map((option) => `  ${option.usage.padEnd(width)}  ${option.help}`),
  ].join("\n");
}

function refuse(problem: string, verb?: SandboxVerb): never {
  throw new SandboxUsageError(`${problem}\n${verb === undefined ? sandboxUsage() : verbUsage(verb)}`);
}

function checkArgument(verb: SandboxVerb, word: string | undefined): void {
  const spec: ArgumentSpec | undefined = (SANDBOX_VERBS[verb] as VerbSpec).argument;
  if (spec === undefined) return;
  if (word === undefined) {
    if (spec.required) refuse(`${verb} needs ${spec.name}`, verb);
    return;
  }
  if (spec.choices !== undefined && !spec.choices.includes(word))
    refuse(`${verb} takes ${spec.name}, not ${word}`, verb);
  if (spec.pattern !== undefined && !new RegExp(spec.pattern.regex).test(word))
    refuse(`${verb}: ${word} is not ${spec.pattern.description}`, verb);
}

function checkLines(value: string, verb: SandboxVerb): void {
  const lines = Number(value);
  if (!/^[0-9]+$/.test(value) || lines < 1 || lines > MAX_LOG_LINES)
    refuse(`--lines takes a number from 1 to ${MAX_LOG_LINES}, not ${value}`, verb);
}

/** The verb and its checked options, or the help asked for; throws SandboxUsageError for anything else. */
export function parseSandboxCommand(args: readonly string[]): SandboxCommand {
  const parsed = parseArgs({
    args: [...args],
    options: Object.fromEntries(Object.entries(OPTIONS).map(([name, o]) => [name, { type: o.type }])),
    strict: false,
    allowPositionals: true,
  });
  const [first, ...rest] = parsed.positionals;
  const verb = isVerb(first) ? first : undefined;
  if (parsed.values["help"] === true) return { kind: "help", text: verb ? verbUsage(verb) : sandboxUsage() };
  if (first === undefined) refuse("no verb given");
  if (verb === undefined) refuse(`unknown verb ${first}`);
  const spec: VerbSpec = SANDBOX_VERBS[verb];
  if (rest.length > spec.maxArguments) refuse(`${verb} takes no argument ${rest[spec.maxArguments]}`, verb);
  checkArgument(verb, rest[0]);
  const options: SandboxOptions = { unhealthy: false, confirm: false };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (!(spec.options as readonly string[]).includes(name))
      refuse(`${verb} takes no option --${name}`, verb);
    const option = OPTIONS[name as SandboxOption];
    if (option.type === "string") {
      if (typeof value !== "string") refuse(`${option.usage} needs a value`, verb);
      if (name === "lines") checkLines(value, verb);
      options[name as Exclude<SandboxOption, BooleanOption>] = value;
    } else if (value !== true) {
      refuse(`--${name} takes no value`, verb);
    } else {
      options[name as BooleanOption] = true;
    }
  }
  return { kind: "run", verb, ...(rest[0] !== undefined ? { argument: rest[0] } : {}), options };
}
