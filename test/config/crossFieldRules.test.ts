// One run reports every problem: the keys that fail their own schema, and every rule between keys that can be
// checked on the keys that did parse.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { loadFromValues } from "../../src/config/fromValues";
import { minimalValues } from "./fixtures";

function problemsOf(values: Record<string, unknown>, requireSecrets = false): readonly string[] {
  try {
    loadFromValues(values, "acme", { stack: "staging", requireSecrets });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const HOST_KEY_REQUIRED =
  "pipeline:hosts[0].hostKey: is required (read the key where no network sits in between: 'cat /etc/ssh/ssh_host_ed25519_key.pub' on the host's console, or the host keys the cloud provider's console output (cloud-init) prints at first boot; then pulumi config set --path 'hosts[0].hostKey' '<that line>'. Not ssh-keyscan or a first ssh connection: they trust whatever answers)";
const DEPLOY_USER_IS_ADMIN =
  "pipeline:deployUser: must differ from adminUser and root (use an unprivileged user such as deploy)";

describe("every config problem in one run", () => {
  it("reports a missing hostKey and deployUser equal to adminUser together", () => {
    const values = minimalValues({
      hosts: [{ host: "vps1.example.com" }],
      adminUser: "admin",
      deployUser: "admin",
    });
    expect(problemsOf(values)).toEqual([HOST_KEY_REQUIRED, DEPLOY_USER_IS_ADMIN]);
  });

  it("lists field problems first, then each rule between keys that parsed", () => {
    const values = minimalValues({
      hosts: [{ host: "vps1.example.com" }],
      deployUser: "root",
      branch: "bad..name",
      url: "http://staging.example.com",
      ingress: { tls: "acme" },
      files: { branch: "staging" },
      ownsRepositorySettings: false,
      notificationWebhook: "https://hooks.example.com/x",
      reviewers: ["other-org/ops", "not a login"],
      app: { name: "Storefront" },
    });
    expect(problemsOf(values)).toEqual([
      "pipeline:branch: contains '..', which GitHub rejects (use a branch name such as main or release/1.x)",
      "pipeline:reviewers[1]: is neither a GitHub login nor an org/team slug (for example octocat or my-org/ops)",
      HOST_KEY_REQUIRED,
      "pipeline:app.name: must be lowercase letters, digits and '-', starting with a letter (for example my-app)",
      DEPLOY_USER_IS_ADMIN,
      "pipeline:ingress.acmeEmail: is required when ingress.tls is acme (the contact of the Let's Encrypt account, e.g. ops@example.com; or set ingress.tls to internal or off)",
      "pipeline:url: is http, but the hosts' proxy serves ingress.tls acme on https port 443, and the deploy workflows check url through it (use https://staging.example.com, or set ingress.tls to off when TLS ends at a load balancer in front)",
      "pipeline:notificationWebhook: is a repository secret, but this stack does not own repository settings (set it in the stack with ownsRepositorySettings: true)",
    ]);
  });

  it("checks a rule when the keys it reads parse and skips one that reads a key that did not", () => {
    const values = minimalValues({
      aws: { hosts: { count: 2, sshCidrs: ["203.0.113.0/24"] } },
      files: { branch: "staging", mode: "push" },
      deploy: { keepReleases: 0 },
    });
    expect(problemsOf(values)).toEqual([
      "pipeline:deploy.keepReleases: must be at least 2 (keep at least 2 so that rollback has a target)",
      "pipeline:files.mode: must be pullRequest or direct (pullRequest works with any branch protection; direct needs a token that may bypass it)",
      "pipeline:aws.hosts: is set together with hosts (hosts lists servers you run, aws.hosts makes the program create them: keep one of the two)",
      "pipeline:ingress.tls: is acme (the default) with 2 hosts, but each host would ask Let's Encrypt for the url's host name with its own account and storage, and the HTTP challenge can reach another host, so a certificate comes only by chance and the failures run into Let's Encrypt's rate limits (end TLS at a load balancer in front: set ingress.tls to off and ingress.trustedProxies to the load balancer's addresses; or use one host)",
      // files.branch is the deploy branch, but files did not parse: its rule waits for the next run.
    ]);
  });

  it("adds the secrets a deploy needs and the teams of another owner to the same list", () => {
    const values = minimalValues({
      deployUser: "root",
      reviewers: ["other-org/ops"],
      ownsRepositorySettings: true,
      notifications: { webhook: true },
      url: "ftp://staging.example.com",
    });
    expect(problemsOf(values, true)).toEqual([
      "pipeline:url: is not an http(s) URL (use the environment's public URL, e.g. https://staging.example.com)",
      DEPLOY_USER_IS_ADMIN,
      "pipeline:reviewers[0]: team 'other-org/ops' belongs to 'other-org', not to github:owner 'acme' (use a team of acme)",
      "pipeline:notificationWebhook: is not set, but notifications.webhook is true in the stack that owns repository settings (pulumi config set --secret notificationWebhook <url>)",
      "pipeline:adminPrivateKey: is not set (pulumi config set --secret adminPrivateKey < ~/.ssh/id_ed25519)",
    ]);
  });
});

describe("the release ports (deploy.strategy sideBySide takes app.port and app.port + 1)", () => {
  it("refuses app.port 65535 with sideBySide (the default), and accepts it with reload", () => {
    expect(problemsOf(minimalValues({ app: { name: "storefront", port: 65535 } }))).toEqual([
      "pipeline:app.port: is 65535, but deploy.strategy sideBySide also takes the port after it, 65536, which does not exist (use a lower port such as 3000)",
    ]);
    const reload = minimalValues({
      app: { name: "storefront", port: 65535 },
      deploy: { strategy: "reload" },
    });
    expect(problemsOf(reload)).toEqual([]);
    expect(problemsOf(minimalValues({ app: { name: "storefront", port: 65534 } }))).toEqual([]);
  });
});
