// The stack config users write, with every default stated once, next to its key.
// The README's config reference is generated from these descriptions (npm run docs).
// Rules between keys live in crossFieldRules.ts: they run on the keys that parsed, whatever else failed.
import { z } from "zod";
import { appSchema } from "./appSchema";
import { awsSchema } from "./awsSchema";
import { backupSchema } from "./backupSchema";
import { databaseSchema } from "./databaseSchema";
import {
  ENVIRONMENT_NAME,
  GITHUB_LOGIN,
  GITHUB_TEAM,
  REPOSITORY_NAME,
  UNIX_USER,
  boolean,
  branchNameProblem,
  hostKeyProblem,
  httpsUrlProblem,
  integer,
  isHostname,
  matching,
  text,
} from "./rules";
import {
  dependencyUpdatesSchema,
  deploySchema,
  filesSchema,
  firewallSchema,
  ingressSchema,
  notificationsSchema,
  protectionSchema,
  releaseSchema,
  vpsSchema,
} from "./settingsSchemas";

export type { ServiceType } from "./appSchema";

/** A host's logical name: its resources are named after it, so it must not change when the address does. */
const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** The name of the host at `index` when the config gives none: its position, which an address change keeps. */
export function defaultHostName(index: number): string {
  return `host-${index + 1}`;
}

const hostSchema = z.strictObject({
  name: matching(
    HOST_NAME,
    "is not a valid host name",
    "use lowercase letters, digits and '-', at most 32 characters, e.g. web-1",
  ).optional(),
  host: text("use a hostname or IPv4 address").refine(isHostname, {
    error: "is not a valid hostname or IPv4 address (for example vps1.example.com or 203.0.113.10)",
  }),
  port: integer(1, 65535, "use the SSH port, usually 22").default(22),
  hostKey: text("paste the line of /etc/ssh/ssh_host_ed25519_key.pub").superRefine((value, ctx) => {
    const problem = hostKeyProblem(value);
    if (problem) {
      const fix = problem.startsWith("is an ssh-rsa key")
        ? "give the host's ed25519 key, the output of 'cat /etc/ssh/ssh_host_ed25519_key.pub' on the host, or its ecdsa key, /etc/ssh/ssh_host_ecdsa_key.pub"
        : "paste the host's public key, e.g. the output of 'cat /etc/ssh/ssh_host_ed25519_key.pub' on the host";
      ctx.addIssue({ code: "custom", message: `${problem} (${fix})` });
    }
  }),
});

export const pipelineSchema = z.strictObject({
  repository: matching(
    REPOSITORY_NAME,
    "is not a GitHub repository name",
    "use the repository name without the owner, e.g. my-app",
  ).describe("The app repository (under github:owner). Required."),
  environment: matching(
    ENVIRONMENT_NAME,
    "is not a valid environment name",
    "use letters, digits, '.', '_' or '-', e.g. staging",
  ).describe("GitHub environment this stack owns (staging, production, ...). Required."),
  branch: text("use a branch name such as main")
    .superRefine((name, ctx) => {
      const problem = branchNameProblem(name);
      if (problem)
        ctx.addIssue({
          code: "custom",
          message: `${problem}, which GitHub rejects (use a branch name such as main or release/1.x)`,
        });
    })
    .describe("Branch whose pushes deploy to this environment. Required."),
  url: text("use the public https URL")
    .refine((u) => httpsUrlProblem(u) === undefined, {
      error: "is not an http(s) URL (use the environment's public URL, e.g. https://staging.example.com)",
    })
    .describe("Public URL of the environment: shown on deployments and checked after each deploy. Required."),
  reviewers: z
    .array(
      text("use a GitHub login or org/team").refine((r) => GITHUB_LOGIN.test(r) || GITHUB_TEAM.test(r), {
        error: "is neither a GitHub login nor an org/team slug (for example octocat or my-org/ops)",
      }),
      { error: "must be a list of GitHub logins and org/team slugs (for example [octocat, my-org/ops])" },
    )
    .max(6, {
      error: "has more than 6 entries, GitHub's limit for required reviewers (keep at most 6, or use a team)",
    })
    .refine((list) => new Set(list.map((r) => r.toLowerCase())).size === list.length, {
      error: "names a reviewer twice (list each login or team once)",
    })
    .default([])
    .describe(
      "Required reviewers of deployments: logins and org/team slugs (at most 6). Needs a public repo or a paid plan.",
    ),
  waitTimer: integer(0, 43200, "use minutes from 0 to 43200 (30 days)")
    .default(0)
    .describe("Minutes a deployment waits before it starts. Needs a public repo or a paid plan."),
  preventSelfReview: boolean()
    .optional()
    .describe(
      "Whoever triggered a deployment cannot approve it. Default: true for a production-like environment (a name with the word production or prod, e.g. production-eu, prod, eu.prod), else false.",
    ),
  hosts: z
    .array(hostSchema, {
      error:
        "must be a list of {name?, host, port?, hostKey} (for example [{name: web-1, host: vps1.example.com, hostKey: ssh-ed25519 AAAA...}])",
    })
    .min(1, { error: "is empty (list at least one host to deploy to)" })
    .max(20, { error: "lists more than 20 hosts (split them into several stacks)" })
    .refine((list) => new Set(list.map((h) => `${h.host.toLowerCase()}:${h.port}`)).size === list.length, {
      error: "lists the same host and port twice (keep one entry per server)",
    })
    .transform((list) => list.map((h, index) => ({ ...h, name: h.name ?? defaultHostName(index) })))
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((h, index) => {
        if (seen.has(h.name)) {
          ctx.addIssue({
            code: "custom",
            path: [index, "name"],
            message: `'${h.name}' is the name of an earlier host (give every host its own name; a host without one is called host-<position>)`,
          });
        }
        seen.add(h.name);
      });
    })
    .optional()
    .describe(
      "Servers of this environment, deployed in this order (one after another, or in batches: deploy.batchSize): {name, host, port (default 22), hostKey (required: the host's ed25519 or ecdsa public key, read on its console, never with ssh-keyscan)}. name (default host-<position>: host-1, host-2, ...) names the host's resources and must stay the same when its address or port changes; removing a host that is not the last renumbers the hosts after it, which re-runs their steps unless every host has a name. Required, unless aws.hosts lets the program create the hosts.",
    ),
  adminUser: matching(UNIX_USER, "is not a valid Unix user name", "for example root or admin")
    .default("root")
    .describe("User Pulumi connects as to provision the hosts (root, or a user with passwordless sudo)."),
  adminPrivateKey: text("pulumi config set --secret adminPrivateKey < ~/.ssh/id_ed25519")
    .refine((k) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), {
      error:
        "is not a PEM or OpenSSH private key (pulumi config set --secret adminPrivateKey < ~/.ssh/id_ed25519)",
    })
    .optional()
    .describe("Secret. Private key of adminUser. Required by pulumi up/preview; not needed to render."),
  deployUser: matching(UNIX_USER, "is not a valid Unix user name", "for example deploy")
    .default("deploy")
    .describe("Unprivileged user that owns the releases, runs pm2 and receives deploys."),
  deployKeyRotation: integer(0, 1_000_000, "bump the integer by one to rotate the key")
    .default(0)
    .describe(
      "Bump to rotate the CI deploy key: the new key is authorized first, the secret switched, the old key removed.",
    ),
  ownsRepositorySettings: boolean()
    .default(false)
    .describe(
      "Exactly one stack sets this: it manages the repository-wide objects (CI, release, Dependabot, repository secrets).",
    ),
  appEnv: text("pulumi config set --secret appEnv < .env.production")
    .refine(
      (env) =>
        env
          .split("\n")
          .every(
            (line) =>
              line.trim() === "" ||
              line.trimStart().startsWith("#") ||
              /^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(line),
          ),
      {
        error: "has a line that is not KEY=value or a comment (fix the .env content)",
      },
    )
    .optional()
    .describe("Secret. Contents of the app's .env on the hosts (shared/.env, mode 0600). Default: none."),
  notificationWebhook: text("use the webhook URL")
    .refine((u) => httpsUrlProblem(u) === undefined, {
      error: "is not an http(s) URL (paste the Slack/Discord/Teams incoming-webhook URL)",
    })
    .optional()
    .describe("Secret, repository-wide. Incoming-webhook URL notified of deploy results. Default: none."),
  app: appSchema,
  deploy: deploySchema,
  protection: protectionSchema,
  release: releaseSchema,
  dependencyUpdates: dependencyUpdatesSchema,
  notifications: notificationsSchema,
  files: filesSchema,
  vps: vpsSchema,
  firewall: firewallSchema,
  ingress: ingressSchema,
  backup: backupSchema,
  database: databaseSchema,
  aws: awsSchema,
});

export type PipelineSchemaOutput = z.output<typeof pipelineSchema>;
