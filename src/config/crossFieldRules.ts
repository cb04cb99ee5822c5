// Rules between config keys. Each names the top-level keys it reads and runs whenever those keys parsed, even
// when other keys did not, so one run reports every problem. Messages read "<what is wrong> (<how to fix>)".
import { sshPrivateKeyType } from "../primitives/sshPrivateKeyType";
import { databaseIdentifierProblem, hostDatabase } from "./databaseSchema";
import { httpsUrlProblem } from "./rules";
import type { PipelineSchemaOutput } from "./schema";

type Fields = PipelineSchemaOutput;

/** How many hosts the stack has: made by aws.hosts, else listed (one while neither is given yet). */
function hostsOfStack(c: { aws?: { hosts?: { count: number } }; hosts?: readonly unknown[] }): number {
  return c.aws?.hosts?.count ?? c.hosts?.length ?? 1;
}

/** The top-level keys whose values passed their own schema, with those values (optional keys may be undefined). */
export type ParsedFields = Partial<Fields>;

export interface ConfigProblem {
  path: readonly PropertyKey[];
  message: string;
}

export interface RuleContext {
  /** `github:owner`; undefined when it is not set. */
  githubOwner: string | undefined;
  /** pulumi up/preview: secrets must be present. */
  requireSecrets: boolean;
}

type CrossFieldRule = (fields: ParsedFields, context: RuleContext) => ConfigProblem[];

function rule<K extends keyof Fields>(
  needs: readonly K[],
  check: (c: Pick<Fields, K>, context: RuleContext) => ConfigProblem[],
): CrossFieldRule {
  return (fields, context) =>
    needs.every((key) => Object.hasOwn(fields, key)) ? check(fields as Pick<Fields, K>, context) : [];
}

const when = (condition: boolean, path: PropertyKey[], message: string): ConfigProblem[] =>
  condition ? [{ path, message }] : [];

/**
 * Hosts come from exactly one place: the hosts list, or aws.hosts (the program creates them). A DNS record needs
 * hosts whose addresses the program knows (aws.hosts) and a url inside the zone.
 */
const hostSourceRules: CrossFieldRule[] = [
  rule(["hosts", "aws"], (c) => [
    ...when(
      c.hosts !== undefined && c.aws?.hosts !== undefined,
      ["aws", "hosts"],
      "is set together with hosts (hosts lists servers you run, aws.hosts makes the program create them: keep one of the two)",
    ),
    ...when(
      c.hosts === undefined && c.aws?.hosts === undefined,
      ["hosts"],
      "is required (list your servers: pulumi config set --path 'hosts[0].host' <address>, with their hostKey; or set aws.hosts to let the program create them on EC2)",
    ),
  ]),
  rule(["aws"], (c) =>
    when(
      c.aws?.dnsZone !== undefined && c.aws.hosts === undefined,
      ["aws", "dnsZone"],
      "is set without aws.hosts (the record points at the Elastic IPs of the hosts the program creates: set aws.hosts, or remove aws.dnsZone and point DNS at your hosts yourself)",
    ),
  ),
  rule(["aws", "url"], (c) => {
    const zone = c.aws?.dnsZone;
    if (zone === undefined || httpsUrlProblem(c.url) !== undefined) return [];
    const name = new URL(c.url).hostname.toLowerCase();
    return when(
      name !== zone && !name.endsWith(`.${zone}`),
      ["aws", "dnsZone"],
      `is '${zone}', but url's host name '${name}' is not inside it (use the zone that holds ${name}, or change url)`,
    );
  }),
];

/**
 * The database on the host is the app's one database: one host (each host would have its own, with its own data),
 * one DATABASE_URL (the program's), and names that are not the server's own (defaults come from app.name).
 */
const databaseRules: CrossFieldRule[] = [
  rule(["database", "appEnv"], (c) =>
    when(
      c.database.enabled && c.appEnv !== undefined && setsDatabaseUrl(c.appEnv),
      ["appEnv"],
      "sets DATABASE_URL, but database.enabled makes the program set it to the database on the host (remove the DATABASE_URL line from appEnv to use the host's database, or set database.enabled to false to keep your external database)",
    ),
  ),
  rule(["database", "hosts", "aws"], (c) => {
    const count = hostsOfStack(c);
    return when(
      c.database.enabled && count > 1,
      ["database", "enabled"],
      `is true with ${count} hosts, but each host would run its own database with its own data (use one host, or an external database that every host reaches: set database.enabled to false and DATABASE_URL in appEnv)`,
    );
  }),
  rule(["database", "app"], (c) => {
    const resolved = hostDatabase(c);
    if (resolved === undefined) return [];
    return (["name", "user"] as const).flatMap((key) => {
      const problem = c.database[key] === undefined ? databaseIdentifierProblem(resolved[key]) : undefined;
      return when(
        problem !== undefined,
        ["database", key],
        `defaults to '${resolved[key]}' from app.name, which ${problem ?? ""} (set database.${key}, e.g. app_${key === "name" ? "db" : "user"})`,
      );
    });
  }),
];

/** Side-by-side releases take app.port and the port after it. */
const releasePortRules: CrossFieldRule[] = [
  rule(["deploy", "app", "database"], (c) => {
    if (c.deploy.strategy !== "sideBySide") return [];
    const second = c.app.port + 1;
    return [
      ...when(
        second > 65535,
        ["app", "port"],
        `is ${c.app.port}, but deploy.strategy sideBySide also takes the port after it, ${second}, which does not exist (use a lower port such as 3000)`,
      ),
      ...when(
        c.database.enabled && c.database.port === second,
        ["database", "port"],
        `is ${second}, the second release port of deploy.strategy sideBySide (app.port + 1): use another port, such as ${second === 5432 ? 5433 : 5432}`,
      ),
    ];
  }),
];

function setsDatabaseUrl(appEnv: string): boolean {
  return appEnv.split("\n").some((line) => /^\s*DATABASE_URL=/.test(line));
}

const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  ...hostSourceRules,
  ...databaseRules,
  ...releasePortRules,
  rule(["deployUser", "adminUser"], (c) =>
    when(
      c.deployUser === c.adminUser || c.deployUser === "root",
      ["deployUser"],
      "must differ from adminUser and root (use an unprivileged user such as deploy)",
    ),
  ),
  rule(["notificationWebhook", "ownsRepositorySettings", "notifications"], (c) =>
    when(
      c.notificationWebhook !== undefined && c.ownsRepositorySettings && !c.notifications.webhook,
      ["notifications", "webhook"],
      "is false, but notificationWebhook is set (set notifications.webhook: true in every stack so the workflows use it)",
    ),
  ),
  rule(["aws", "adminPrivateKey"], (c) => {
    const keyType =
      c.aws?.hosts !== undefined && c.adminPrivateKey !== undefined
        ? sshPrivateKeyType(c.adminPrivateKey)
        : undefined;
    return when(
      keyType?.startsWith("ecdsa-") === true,
      ["adminPrivateKey"],
      `is an ECDSA key (${keyType}), which aws.hosts cannot import as an EC2 key pair (EC2 takes ED25519 and RSA keys): use an ED25519 key (ssh-keygen -t ed25519 -f admin_key, then pulumi config set --secret adminPrivateKey < admin_key)`,
    );
  }),
  rule(["ingress"], (c) =>
    when(
      c.ingress.tls === "acme" && c.ingress.acmeEmail === undefined,
      ["ingress", "acmeEmail"],
      "is required when ingress.tls is acme (the contact of the Let's Encrypt account, e.g. ops@example.com; or set ingress.tls to internal or off)",
    ),
  ),
  // Each host's Caddy would order the one name with its own account and storage; Let's Encrypt fetches the HTTP-01
  // token from several vantage points, which may reach another host, and Caddy shares challenge state only
  // through shared storage (Debian's Caddy has no shared-storage or DNS-challenge module).
  rule(["ingress", "hosts", "aws"], (c) => {
    const count = hostsOfStack(c);
    return when(
      c.ingress.tls === "acme" && count > 1,
      ["ingress", "tls"],
      `is acme (the default) with ${count} hosts, but each host would ask Let's Encrypt for the url's host name with its own account and storage, and the HTTP challenge can reach another host, so a certificate comes only by chance and the failures run into Let's Encrypt's rate limits (end TLS at a load balancer in front: set ingress.tls to off and ingress.trustedProxies to the load balancer's addresses; or use one host)`,
    );
  }),
  rule(["ingress", "url"], (c) =>
    when(
      c.ingress.tls === "acme" && httpsUrlProblem(c.url) === undefined && isIpAddressUrl(c.url),
      ["ingress", "tls"],
      "is acme, but url names an IP address, which Let's Encrypt does not certify (use a DNS name in url, or set ingress.tls to internal or off)",
    ),
  ),
  rule(["ingress", "url"], (c) => {
    const notThroughProxy = c.ingress.tls === "off" ? undefined : proxyBypassProblem(c.url);
    return when(
      notThroughProxy !== undefined,
      ["url"],
      `${notThroughProxy}, but the hosts' proxy serves ingress.tls ${c.ingress.tls} on https port 443, and the deploy workflows check url through it (use https://${hostNameOf(c.url)}, or set ingress.tls to off when TLS ends at a load balancer in front)`,
    );
  }),
  rule(["files", "branch", "environment"], (c) => {
    const programBranch = c.files.branch;
    const clashes =
      programBranch !== undefined &&
      [c.branch, c.files.baseBranch].some(
        (b) => b !== undefined && (b === programBranch || b.startsWith(`${programBranch}/`)),
      );
    return when(
      clashes,
      ["files", "branch"],
      `must not be, or contain, the deploy branch or baseBranch (use a branch of its own such as pipeline/${c.environment})`,
    );
  }),
  rule(["notificationWebhook", "ownsRepositorySettings"], (c) =>
    when(
      c.notificationWebhook !== undefined && !c.ownsRepositorySettings,
      ["notificationWebhook"],
      "is a repository secret, but this stack does not own repository settings (set it in the stack with ownsRepositorySettings: true)",
    ),
  ),
  // The environment API resolves team slugs inside github:owner; a team of another organization cannot review.
  rule(["reviewers"], (c, { githubOwner }) =>
    c.reviewers.flatMap((reviewer, index) => {
      const org = reviewer.includes("/") ? reviewer.split("/")[0] : undefined;
      if (githubOwner === undefined || org === undefined || org.toLowerCase() === githubOwner.toLowerCase())
        return [];
      return [
        {
          path: ["reviewers", index],
          message: `team '${reviewer}' belongs to '${org}', not to github:owner '${githubOwner}' (use a team of ${githubOwner})`,
        },
      ];
    }),
  ),
  rule(["ownsRepositorySettings", "notifications", "notificationWebhook"], (c, { requireSecrets }) =>
    when(
      requireSecrets &&
        c.ownsRepositorySettings &&
        c.notifications.webhook &&
        c.notificationWebhook === undefined,
      ["notificationWebhook"],
      "is not set, but notifications.webhook is true in the stack that owns repository settings (pulumi config set --secret notificationWebhook <url>)",
    ),
  ),
];

/** Every cross-field problem among the keys that parsed; a rule that reads a key that did not parse is skipped. */
export function crossFieldProblems(fields: ParsedFields, context: RuleContext): ConfigProblem[] {
  return CROSS_FIELD_RULES.flatMap((check) => check(fields, context));
}

/** Why `url` would not reach the hosts' proxy over HTTPS (undefined: it does, or it is no URL at all). */
function proxyBypassProblem(url: string): string | undefined {
  if (httpsUrlProblem(url) !== undefined) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== "https:") return `is ${parsed.protocol.slice(0, -1)}`;
  if (parsed.port !== "") return `names port ${parsed.port}`;
  return undefined;
}

function hostNameOf(url: string): string {
  return new URL(url).hostname;
}

function isIpAddressUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[");
}
