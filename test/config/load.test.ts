import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { loadFromValues } from "../../src/config/fromValues";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpE8hTFaInvZ6s2e5N2m7cDqtVnQ4BqB0mRQ3Z1jr0K";
const RSA_BODY_AS_ED25519 = "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQC7";
/** A well-formed key body of the given type (the type name, then some key material), as OpenSSH encodes it. */
function sshBlob(type: string): string {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, Buffer.alloc(40, 7)]).toString("base64");
}

function validValues(): Record<string, unknown> {
  return {
    repository: "shop",
    environment: "production",
    branch: "main",
    url: "https://shop.example.com",
    ingress: { acmeEmail: "ops@shop.example.com" },
    reviewers: ["octocat", "acme/ops"],
    hosts: [{ host: "vps1.example.com", hostKey: HOST_KEY }],
    app: { name: "shop" },
  };
}

function problemsOf(
  values: Record<string, unknown>,
  owner: string | null = "acme",
  requireSecrets = false,
): string[] {
  try {
    loadFromValues(values, owner ?? undefined, { stack: "production", requireSecrets });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

function withValue(path: string, value: unknown): Record<string, unknown> {
  const values = structuredClone(validValues());
  const keys = path.split(".");
  let target: Record<string, unknown> = values;
  for (const key of keys.slice(0, -1)) {
    target[key] ??= {};
    target = target[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) Reflect.deleteProperty(target, last);
  else target[last] = value;
  return values;
}

describe("loadConfig", () => {
  it("accepts the minimal config and applies every default", () => {
    const config = loadFromValues(validValues(), "acme", {
      stack: "production",
      requireSecrets: false,
    }).config;
    expect(config.hosts).toEqual([{ name: "host-1", host: "vps1.example.com", port: 22, hostKey: HOST_KEY }]);
    expect(config.app.nodeVersion).toBe(26);
    expect(config.deployUser).toBe("deploy");
    expect(config.adminUser).toBe("root");
    expect(config.deployKeyRotation).toBe(0);
    expect(config.deploy.keepReleases).toBe(5);
    expect(config.protection.requiredApprovals).toBe(1);
    expect(config.githubOwner).toBe("acme");
    expect(config.app.migrationsUpToDateCommand).toBe("");
    expect(config.app.migrationsDir).toBe("migrations");
  });

  it("reads values the way Pulumi stores them: objects as JSON strings, numbers and booleans as strings", () => {
    const config = loadFromValues(
      {
        ...validValues(),
        hosts: JSON.stringify([{ host: "10.0.0.5", port: "2222", hostKey: HOST_KEY }]),
        deployKeyRotation: "3",
        ownsRepositorySettings: "true",
        app: JSON.stringify({ name: "shop", port: "8080", instances: "max" }),
      },
      "acme",
      { stack: "production", requireSecrets: false },
    ).config;
    expect(config.hosts[0]).toEqual({ name: "host-1", host: "10.0.0.5", port: 2222, hostKey: HOST_KEY });
    expect(config.deployKeyRotation).toBe(3);
    expect(config.ownsRepositorySettings).toBe(true);
    expect(config.app.port).toBe(8080);
    expect(config.app.instances).toBe("max");
  });

  it("takes deploy.batchSize as a host count, a percentage or Pulumi's string form; serial, no canary, rollback-all by default", () => {
    const deployWith = (deploy: Record<string, unknown>) =>
      loadFromValues({ ...validValues(), deploy }, "acme", { stack: "production", requireSecrets: false })
        .config.deploy;
    expect(deployWith({})).toMatchObject({
      batchSize: 1,
      canary: false,
      canaryBakeSeconds: 60,
      onFailure: "rollback-all",
    });
    expect(deployWith({ batchSize: "3" }).batchSize).toBe(3);
    expect(deployWith({ batchSize: "25%", canary: "true", onFailure: "stop" })).toMatchObject({
      batchSize: "25%",
      canary: true,
      onFailure: "stop",
    });
  });

  it("names each host host-<position> unless the config names it (the name survives an address change)", () => {
    const ingress = { tls: "off", trustedProxies: ["192.0.2.10/32"] };
    const load = (hosts: unknown[]) =>
      loadFromValues({ ...validValues(), ingress, hosts }, "acme", {
        stack: "production",
        requireSecrets: false,
      }).config.hosts;
    expect(
      load([
        { host: "10.0.0.5", hostKey: HOST_KEY },
        { name: "web-b", host: "10.0.0.6", hostKey: HOST_KEY },
        { host: "10.0.0.7", hostKey: HOST_KEY },
      ]).map((h) => h.name),
    ).toEqual(["host-1", "web-b", "host-3"]);
    expect(load([{ host: "10.0.0.9", port: 2200, hostKey: HOST_KEY }]).map((h) => h.name)).toEqual([
      "host-1",
    ]);
  });

  it("accepts ed25519 and ecdsa host keys", () => {
    const ecdsa = `ecdsa-sha2-nistp256 ${sshBlob("ecdsa-sha2-nistp256")} root@vps1`;
    expect(problemsOf(withValue("hosts", [{ host: "a.example.com", hostKey: ecdsa }]))).toEqual([]);
    expect(problemsOf(withValue("hosts", [{ host: "a.example.com", hostKey: HOST_KEY }]))).toEqual([]);
  });

  it.each([
    ["production", true],
    ["Production", true],
    ["prod", true],
    ["production-eu", true],
    ["eu.prod", true],
    ["prod_us", true],
    ["staging", false],
    ["preprod", false],
    ["products", false],
    ["qa", false],
  ])("defaults preventSelfReview for the environment %s to %s", (environment, expected) => {
    const config = loadFromValues({ ...validValues(), environment }, "acme", {
      stack: "x",
      requireSecrets: false,
    }).config;
    expect(config.preventSelfReview).toBe(expected);
  });

  it("prevents self-review by default only for production", () => {
    const prod = loadFromValues(validValues(), "acme", { stack: "production", requireSecrets: false }).config;
    const staging = loadFromValues({ ...validValues(), environment: "staging" }, "acme", {
      stack: "staging",
      requireSecrets: false,
    }).config;
    expect(prod.preventSelfReview).toBe(true);
    expect(staging.preventSelfReview).toBe(false);
  });

  // An app without a build step used to be refused ("must not be empty").
  it.each([
    ["the default build", {}, "pnpm run build", ["dist", "package.json", "pnpm-lock.yaml"]],
    ["no build step", { buildCommand: "" }, "", ["."]],
    [
      "no build step, paths of its own",
      { buildCommand: "", artifactPaths: ["src", "package.json"] },
      "",
      ["src", "package.json"],
    ],
    ["a build, paths of its own", { buildCommand: "make", artifactPaths: ["out"] }, "make", ["out"]],
  ])("defaults app.artifactPaths to what the artifact needs: %s", (_label, app, buildCommand, paths) => {
    const config = loadFromValues(withValue("app", { name: "shop", ...app }), "acme", {
      stack: "production",
      requireSecrets: false,
    }).config;
    expect(config.app.buildCommand).toBe(buildCommand);
    expect(config.app.artifactPaths).toEqual(paths);
  });

  it("fills service versions per type", () => {
    const config = loadFromValues(
      withValue("app.services", [{ type: "postgres" }, { type: "redis", version: "6" }]),
      "acme",
      {
        stack: "production",
        requireSecrets: false,
      },
    ).config;
    expect(config.app.services).toEqual([
      { type: "postgres", version: "16" },
      { type: "redis", version: "6" },
    ]);
  });

  it("reports every problem at once, before anything else happens", () => {
    const problems = problemsOf({ ...withValue("branch", "bad..name"), url: "ftp://x", hosts: [] });
    expect(problems).toHaveLength(3);
  });

  it("requires the admin key only when Pulumi will connect to hosts", () => {
    expect(problemsOf(validValues(), "acme", false)).toEqual([]);
    expect(problemsOf(validValues(), "acme", true)).toEqual([
      "pipeline:adminPrivateKey: is not set (pulumi config set --secret adminPrivateKey < ~/.ssh/id_ed25519)",
    ]);
  });

  it("keeps the webhook secret and the workflows' use of it in step", () => {
    const owner = { ...validValues(), ownsRepositorySettings: true };
    expect(problemsOf({ ...owner, notificationWebhook: "https://hooks.example.com/x" })).toEqual([
      "pipeline:notifications.webhook: is false, but notificationWebhook is set (set notifications.webhook: true in every stack so the workflows use it)",
    ]);
    expect(problemsOf({ ...owner, notifications: { webhook: true } }, "acme", false)).toEqual([]);
    expect(problemsOf({ ...owner, notifications: { webhook: true } }, "acme", true)).toContain(
      "pipeline:notificationWebhook: is not set, but notifications.webhook is true in the stack that owns repository settings (pulumi config set --secret notificationWebhook <url>)",
    );
  });

  it("keeps the program's branch apart from the deploy and base branches, and checks files.mode", () => {
    const base = validValues();
    expect(problemsOf({ ...base, files: { branch: base["branch"] } })[0]).toMatch(
      /^pipeline:files\.branch: must not be, or contain, the deploy branch or baseBranch/,
    );
    expect(problemsOf({ ...base, files: { mode: "push" } })[0]).toMatch(
      /^pipeline:files\.mode: must be pullRequest or direct/,
    );
    expect(problemsOf({ ...base, files: { branch: "bad branch" } })[0]).toMatch(
      /^pipeline:files\.branch: contains a space/,
    );
    expect(problemsOf({ ...base, files: { mode: "direct", baseBranch: "trunk" } })).toEqual([]);
  });

  it("names github:owner when it is missing", () => {
    expect(problemsOf(validValues(), null)).toEqual([
      "github:owner: is not set (pulumi config set github:owner <user-or-org>)",
    ]);
  });

  // Each row: a change to the valid config, and the one message it must produce (path, what is wrong, how to fix).
  const badInputs: Array<[string, string, unknown, RegExp]> = [
    [
      "missing repository",
      "repository",
      undefined,
      /^pipeline:repository: is required \(pulumi config set repository/,
    ],
    [
      "repository with owner",
      "repository",
      "acme/shop",
      /^pipeline:repository: is not a GitHub repository name \(use the repository name without the owner/,
    ],
    ["repository '..'", "repository", "..", /^pipeline:repository: is not a GitHub repository name/],
    [
      "environment with space",
      "environment",
      "prod env",
      /^pipeline:environment: is not a valid environment name/,
    ],
    ["missing branch", "branch", undefined, /^pipeline:branch: is required/],
    [
      "branch with '..'",
      "branch",
      "feature..x",
      /^pipeline:branch: contains '\.\.', which GitHub rejects \(use a branch name/,
    ],
    ["branch with space", "branch", "my branch", /^pipeline:branch: contains a space/],
    ["branch ending in .lock", "branch", "main.lock", /^pipeline:branch: ends with '\.' or '\.lock'/],
    ["branch starting with '-'", "branch", "-main", /^pipeline:branch: starts with '-'/],
    ["branch with wildcard", "branch", "release/*", /^pipeline:branch: contains a space or one of/],
    [
      "url without protocol",
      "url",
      "shop.example.com",
      /^pipeline:url: is not an http\(s\) URL \(use the environment's public URL/,
    ],
    ["url as number", "url", 42, /^pipeline:url: must be a string \(use the public https URL\)/],
    ["reviewers as string", "reviewers", "octocat", /^pipeline:reviewers: must be a list of GitHub logins/],
    [
      "reviewer with bad login",
      "reviewers",
      ["octo_cat"],
      /^pipeline:reviewers\[0\]: is neither a GitHub login nor an org\/team slug/,
    ],
    [
      "team of another organization",
      "reviewers",
      ["other-org/ops"],
      /^pipeline:reviewers\[0\]: team 'other-org\/ops' belongs to 'other-org', not to github:owner 'acme' \(use a team of acme\)/,
    ],
    [
      "more than 6 reviewers",
      "reviewers",
      ["a", "b", "c", "d", "e", "f", "g"],
      /^pipeline:reviewers: has more than 6 entries, GitHub's limit/,
    ],
    [
      "duplicate reviewers",
      "reviewers",
      ["octocat", "OctoCat"],
      /^pipeline:reviewers: names a reviewer twice/,
    ],
    ["negative wait timer", "waitTimer", -1, /^pipeline:waitTimer: must be at least 0/],
    ["wait timer over 30 days", "waitTimer", 50000, /^pipeline:waitTimer: must be at most 43200/],
    ["fractional wait timer", "waitTimer", 1.5, /^pipeline:waitTimer: must be a whole number/],
    ["empty host list", "hosts", [], /^pipeline:hosts: is empty \(list at least one host/],
    [
      "host without hostKey (the command provider would check no host key, on every run)",
      "hosts",
      [{ host: "a.example.com" }],
      /^pipeline:hosts\[0\]\.hostKey: is required \(read the key where no network sits in between: 'cat \/etc\/ssh\/ssh_host_ed25519_key\.pub' on the host's console, or the host keys the cloud provider's console output \(cloud-init\) prints at first boot; then pulumi config set --path 'hosts\[0\]\.hostKey' '<that line>'\. Not ssh-keyscan or a first ssh connection: they trust whatever answers\)$/,
    ],
    [
      "second host without hostKey",
      "hosts",
      [
        { host: "a.example.com", hostKey: HOST_KEY },
        { host: "b.example.com", port: 2222 },
      ],
      /^pipeline:hosts\[1\]\.hostKey: is required \(read the key where no network sits in between: .*--path 'hosts\[1\]\.hostKey'/,
    ],
    [
      "hosts as object",
      "hosts",
      { host: "a.example.com", hostKey: HOST_KEY },
      /^pipeline:hosts: must be a list of \{name\?, host, port\?, hostKey\}/,
    ],
    [
      "bad hostname",
      "hosts",
      [{ host: "bad_host!", hostKey: HOST_KEY }],
      /^pipeline:hosts\[0\]\.host: is not a valid hostname or IPv4 address/,
    ],
    [
      "bad IPv4",
      "hosts",
      [{ host: "300.1.1.1", hostKey: HOST_KEY }],
      /^pipeline:hosts\[0\]\.host: is not a valid hostname/,
    ],
    [
      "port 0",
      "hosts",
      [{ host: "a.example.com", port: 0, hostKey: HOST_KEY }],
      /^pipeline:hosts\[0\]\.port: must be at least 1 \(use the SSH port, usually 22\)/,
    ],
    [
      "port too large",
      "hosts",
      [{ host: "a.example.com", port: 70000, hostKey: HOST_KEY }],
      /^pipeline:hosts\[0\]\.port: must be at most 65535/,
    ],
    [
      "port as word",
      "hosts",
      [{ host: "a.example.com", port: "ssh", hostKey: HOST_KEY }],
      /^pipeline:hosts\[0\]\.port: must be an integer from 1 to 65535/,
    ],
    [
      "duplicate host",
      "hosts",
      [
        { host: "a.example.com", hostKey: HOST_KEY },
        { host: "A.example.com", port: 22, hostKey: HOST_KEY },
      ],
      /^pipeline:hosts: lists the same host and port twice/,
    ],
    [
      "host key of unknown type",
      "hosts",
      [{ host: "a.example.com", hostKey: "ssh-dss AAAAB3NzaC1kc3M=" }],
      /^pipeline:hosts\[0\]\.hostKey: has key type 'ssh-dss'/,
    ],
    [
      "host key that is not base64",
      "hosts",
      [{ host: "a.example.com", hostKey: "ssh-ed25519 not*base64" }],
      /^pipeline:hosts\[0\]\.hostKey: has a key body that is not base64 \(paste the host's public key/,
    ],
    [
      "host key whose body is another type",
      "hosts",
      [{ host: "a.example.com", hostKey: RSA_BODY_AS_ED25519 }],
      /^pipeline:hosts\[0\]\.hostKey: has a key body that is not a ssh-ed25519 key/,
    ],
    [
      "ssh-rsa host key (pulumi-command would pin the SHA-1 algorithm OpenSSH 8.8+ refuses)",
      "hosts",
      [{ host: "a.example.com", hostKey: `ssh-rsa ${sshBlob("ssh-rsa")} root@vps1` }],
      /^pipeline:hosts\[0\]\.hostKey: is an ssh-rsa key: .*OpenSSH 8\.8 and later no longer offer.* \(give the host's ed25519 key, the output of 'cat \/etc\/ssh\/ssh_host_ed25519_key\.pub' on the host, or its ecdsa key, \/etc\/ssh\/ssh_host_ecdsa_key\.pub\)$/,
    ],
    [
      "host name with capitals",
      "hosts",
      [{ name: "Web_1", host: "a.example.com", hostKey: HOST_KEY }],
      /^pipeline:hosts\[0\]\.name: is not a valid host name \(use lowercase letters, digits and '-'/,
    ],
    [
      "two hosts with one name",
      "hosts",
      [
        { name: "web", host: "a.example.com", hostKey: HOST_KEY },
        { name: "web", host: "b.example.com", hostKey: HOST_KEY },
      ],
      /^pipeline:hosts\[1\]\.name: 'web' is the name of an earlier host \(give every host its own name/,
    ],
    [
      "a name that another host has by default",
      "hosts",
      [
        { host: "a.example.com", hostKey: HOST_KEY },
        { name: "host-1", host: "b.example.com", hostKey: HOST_KEY },
      ],
      /^pipeline:hosts\[1\]\.name: 'host-1' is the name of an earlier host \(.*host-<position>\)$/,
    ],
    [
      "host key fingerprint instead of key",
      "hosts",
      [{ host: "a.example.com", hostKey: "SHA256:abc" }],
      /^pipeline:hosts\[0\]\.hostKey: is not '<type> <base64>'/,
    ],
    [
      "unknown host key",
      "hosts",
      [{ host: "a.example.com", user: "root", hostKey: HOST_KEY }],
      /^pipeline:hosts\[0\]\.user: unknown key \(remove it; known keys: name, host, port, hostKey\)/,
    ],
    ["admin user with capitals", "adminUser", "Admin", /^pipeline:adminUser: is not a valid Unix user name/],
    ["deploy user root", "deployUser", "root", /^pipeline:deployUser: must differ from adminUser and root/],
    [
      "deploy user equal to admin",
      "adminUser",
      "deploy",
      /^pipeline:deployUser: must differ from adminUser and root/,
    ],
    [
      "rotation negative",
      "deployKeyRotation",
      -2,
      /^pipeline:deployKeyRotation: must be at least 0 \(bump the integer by one/,
    ],
    [
      "rotation as word",
      "deployKeyRotation",
      "next",
      /^pipeline:deployKeyRotation: must be an integer from 0/,
    ],
    [
      "owns settings as yes",
      "ownsRepositorySettings",
      "yes",
      /^pipeline:ownsRepositorySettings: must be true or false/,
    ],
    [
      "admin key not a key",
      "adminPrivateKey",
      "hunter2",
      /^pipeline:adminPrivateKey: is not a PEM or OpenSSH private key/,
    ],
    [
      "appEnv with a bad line",
      "appEnv",
      "A=1\nnot a pair",
      /^pipeline:appEnv: has a line that is not KEY=value/,
    ],
    [
      "empty string means unset, so a required key is still missing",
      "environment",
      "",
      /^pipeline:environment: is required/,
    ],
    [
      "webhook in a stack that does not own repository settings",
      "notificationWebhook",
      "https://hooks.example.com/x",
      /^pipeline:notificationWebhook: is a repository secret, but this stack does not own/,
    ],
    [
      "Node.js downloads over http",
      "vps.nodeDistUrl",
      "http://nodejs.org/dist",
      /^pipeline:vps\.nodeDistUrl: is not an https URL \(the hosts install what it serves as root: use https, for example https:\/\/nodejs\.org\/dist\)$/,
    ],
    [
      "npm registry over http",
      "vps.npmRegistry",
      "http://registry.example.test/",
      /^pipeline:vps\.npmRegistry: is not an https URL \(the hosts install Node\.js, npm, pnpm and the app's dependencies from it: use the https URL/,
    ],
    [
      "npm registry not a URL",
      "vps.npmRegistry",
      "registry.example.test",
      /^pipeline:vps\.npmRegistry: is not a URL \(.*use the https URL/,
    ],
    [
      "artifact cap of 0 MiB",
      "deploy.maxArtifactMegabytes",
      0,
      /^pipeline:deploy\.maxArtifactMegabytes: must be at least 1 \(use megabytes, such as 1024\)/,
    ],
    [
      "restore cap of 0 MiB",
      "backup.maxRestoreMegabytes",
      0,
      /^pipeline:backup\.maxRestoreMegabytes: must be at least 1 \(use megabytes, such as 10240\)/,
    ],
    [
      "upload idle timeout below 5 s",
      "deploy.uploadIdleTimeoutSeconds",
      2,
      /^pipeline:deploy\.uploadIdleTimeoutSeconds: must be at least 5/,
    ],
    [
      "batch size of 0 hosts",
      "deploy.batchSize",
      0,
      /^pipeline:deploy\.batchSize: must be a whole number of hosts from 1 to 1000 or a percentage from 1% to 100% \(use a number of hosts such as 2, or a percentage such as "25%"\)/,
    ],
    ["batch size of 150%", "deploy.batchSize", "150%", /^pipeline:deploy\.batchSize: must be a whole number/],
    [
      "batch size as a word",
      "deploy.batchSize",
      "half",
      /^pipeline:deploy\.batchSize: must be a whole number/,
    ],
    [
      "batch size as a list",
      "deploy.batchSize",
      [2],
      /^pipeline:deploy\.batchSize: must be a number or a percentage/,
    ],
    ["canary as a word", "deploy.canary", "yes", /^pipeline:deploy\.canary: must be true or false/],
    [
      "canary bake of an hour and more",
      "deploy.canaryBakeSeconds",
      3601,
      /^pipeline:deploy\.canaryBakeSeconds: must be at most 3600/,
    ],
    [
      "unknown failure policy",
      "deploy.onFailure",
      "continue",
      /^pipeline:deploy\.onFailure: must be "rollback-all" or "stop"/,
    ],
    ["missing app", "app", undefined, /^pipeline:app: is required/],
    [
      "missing app name",
      "app.name",
      undefined,
      /^pipeline:app\.name: is required \(pulumi config set --path app\.name/,
    ],
    ["app name with capitals", "app.name", "My App", /^pipeline:app\.name: must be lowercase letters/],
    [
      "misspelled app key",
      "app.nodeVerison",
      20,
      /^pipeline:app\.nodeVerison: unknown key \(did you mean nodeVersion\?\)/,
    ],
    [
      "unsupported node version",
      "app.nodeVersion",
      12,
      /^pipeline:app\.nodeVersion: must be at least 18 \(use a Node\.js major version/,
    ],
    [
      "privileged app port",
      "app.port",
      80,
      /^pipeline:app\.port: must be at least 1024 \(use the unprivileged port/,
    ],
    [
      "health path without slash",
      "app.healthPath",
      "health",
      /^pipeline:app\.healthPath: must start with '\/' and contain no spaces \(for example \/health\)/,
    ],
    [
      "instances zero",
      "app.instances",
      0,
      /^pipeline:app\.instances: must be at least 1 \(use a number of processes from 1 to 64, or 'max'\)/,
    ],
    [
      "multi-line build command",
      "app.buildCommand",
      "pnpm build\npnpm x",
      /^pipeline:app\.buildCommand: must be a single line/,
    ],
    [
      "empty artifact path list",
      "app.artifactPaths",
      [],
      /^pipeline:app\.artifactPaths: must name at least one path \(for example dist\)/,
    ],
    [
      "multi-line migrations up-to-date command",
      "app.migrationsUpToDateCommand",
      "npx knex migrate:list\nexit 0",
      /^pipeline:app\.migrationsUpToDateCommand: must be a single line/,
    ],
    [
      "absolute migrations directory",
      "app.migrationsDir",
      "/srv/migrations",
      /^pipeline:app\.migrationsDir: must be a relative path inside the release, without '\.\.' \(for example migrations\), or ""/,
    ],
    [
      "migrations directory escaping the release",
      "app.migrationsDir",
      "db/../../migrations",
      /^pipeline:app\.migrationsDir: must be a relative path inside the release/,
    ],
    [
      "artifact path escaping the repo",
      "app.artifactPaths",
      ["../secrets"],
      /^pipeline:app\.artifactPaths\[0\]: must be a relative path inside the repository/,
    ],
    [
      "unknown service",
      "app.services",
      [{ type: "oracle" }],
      /^pipeline:app\.services\[0\]\.type: must be one of postgres, redis, mysql, mongodb/,
    ],
    [
      "service twice",
      "app.services",
      [{ type: "redis" }, { type: "redis" }],
      /^pipeline:app\.services: lists a service type twice/,
    ],
    [
      "keep one release only",
      "deploy.keepReleases",
      1,
      /^pipeline:deploy\.keepReleases: must be at least 2 \(keep at least 2 so that rollback has a target\)/,
    ],
    [
      "too many approvals",
      "protection.requiredApprovals",
      7,
      /^pipeline:protection\.requiredApprovals: must be at most 6/,
    ],
    [
      "bad dependabot schedule",
      "dependencyUpdates.schedule",
      "hourly",
      /^pipeline:dependencyUpdates\.schedule: must be daily, weekly or monthly/,
    ],
    ["unknown node source", "vps.nodeSource", "apt", /^pipeline:vps\.nodeSource: must be nodejs or npm/],
    [
      "bad log size",
      "vps.logMaxSize",
      "10 MB",
      /^pipeline:vps\.logMaxSize: is not a size \(use a size such as 10M\)/,
    ],
    ["unknown top-level key", "hostz", [], /^pipeline:hostz: unknown key \(did you mean hosts\?\)/],
  ];

  it.each(badInputs)("rejects %s", (_label, path, value, expected) => {
    const problems = problemsOf(withValue(path, value));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it("covers at least 30 distinct bad inputs", () => {
    expect(new Set(badInputs.map(([label]) => label)).size).toBeGreaterThanOrEqual(30);
  });

  it("accepts a healthy sample of good values", () => {
    for (const [path, value] of [
      ["branch", "release/1.x"],
      ["hosts", [{ host: "203.0.113.10", port: 2222, hostKey: HOST_KEY }]],
      ["reviewers", []],
      ["app.instances", "max"],
      ["app.lintCommand", ""],
      ["app.buildCommand", ""],
    ] as const) {
      expect(problemsOf(withValue(path, value))).toEqual([]);
    }
    const behindLoadBalancer = {
      ...validValues(),
      ingress: { tls: "off", trustedProxies: ["192.0.2.10/32"] },
      hosts: [
        { host: "203.0.113.10", port: 2222, hostKey: HOST_KEY },
        { host: "vps-2.example.com", hostKey: HOST_KEY },
      ],
    };
    expect(problemsOf(behindLoadBalancer)).toEqual([]);
  });
});
