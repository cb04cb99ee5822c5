import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ENV_SECRETS, ENV_VARS, REPO_SECRETS } from "../../src/render/githubNames";
import { GENERATION, managedGitHubObjects } from "../../src/render/managedObjects";
import { hostSteps, withDeployKeyFilledIn } from "../../src/render/shell/hostSteps";
import { renderRepositoryFiles, requiredStatusChecks, secretUses } from "../../src/render/workflows";
import { SECRETS, exampleStack, type ProgramRun, runStacks, transitiveDependencies } from "./fixtures";
import {
  TEAM_IDS,
  USER_IDS,
  ofType,
  plain,
  plaintextOccurrences,
  type RecordedResource,
} from "./mockRuntime";

const T = {
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  policy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
  envSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  envVariable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  repoSecret: "github:index/actionsSecret:ActionsSecret",
  protection: "github:index/branchProtection:BranchProtection",
  file: "github:index/repositoryFile:RepositoryFile",
  branch: "github:index/branch:Branch",
  pullRequest: "github:index/repositoryPullRequest:RepositoryPullRequest",
  command: "command:remote:Command",
  key: "tls:index/privateKey:PrivateKey",
};

const staging = exampleStack("staging");
const production = exampleStack("production");
let run: ProgramRun;

function ofStack(type: string, stack: "staging" | "production"): RecordedResource[] {
  return ofType(run.runtime, type).filter((r) => r.name.startsWith(`storefront-${stack}-`));
}
function input(resource: RecordedResource | undefined, key: string): unknown {
  return plain(resource?.inputs[key]);
}
/** A program branch's name with its generation (content-dependent) replaced by the placeholder the render prints. */
function generic(branch: unknown): string {
  return String(branch).replace(/\/[0-9a-f]{12}$/, `/${GENERATION}`);
}

beforeAll(async () => {
  run = await runStacks([staging, production]);
});

describe("the GitHub side of each stack", () => {
  it("builds both stacks in one process without reporting an error", () => {
    expect(pulumi.log.hasErrors()).toBe(false);
    expect(run.runtime.calls.length).toBeGreaterThan(0);
  });

  it("creates the environment with resolved reviewer ids, wait timer, self-review rule and a custom branch policy", () => {
    const [env] = ofStack(T.environment, "production");
    expect(input(env, "environment")).toBe("production");
    expect(input(env, "waitTimer")).toBe(5);
    expect(input(env, "preventSelfReview")).toBe(true);
    expect(input(env, "reviewers")).toEqual([
      { users: [USER_IDS["octocat"]], teams: [TEAM_IDS["release-managers"]] },
    ]);
    expect(input(env, "deploymentBranchPolicy")).toEqual({
      protectedBranches: false,
      customBranchPolicies: true,
    });
    expect(ofStack(T.policy, "production").map((p) => input(p, "branchPattern"))).toEqual(["main"]);
    expect(ofStack(T.policy, "staging").map((p) => input(p, "branchPattern"))).toEqual(["staging"]);
    expect(input(ofStack(T.environment, "staging")[0], "reviewers")).toEqual([]);
  });

  it("publishes the same secret and variable names in every environment", () => {
    for (const stack of ["staging", "production"] as const) {
      expect(ofStack(T.envSecret, stack).map((s) => input(s, "secretName"))).toEqual(
        Object.values(ENV_SECRETS),
      );
      expect(
        ofStack(T.envVariable, stack)
          .map((v) => input(v, "variableName"))
          .sort(),
      ).toEqual(Object.values(ENV_VARS).sort());
    }
  });

  it("publishes the host list and the pinned host keys, never a scanned key", () => {
    const variables = Object.fromEntries(
      ofStack(T.envVariable, "production").map((v) => [input(v, "variableName"), input(v, "value")]),
    );
    expect(variables[ENV_VARS.hosts]).toBe(
      "web-1.storefront.example.com:22 web-2.storefront.example.com:2222",
    );
    const [first, second] = production.config.hosts;
    expect(variables[ENV_VARS.knownHosts]).toBe(
      `web-1.storefront.example.com ${first?.hostKey}\n[web-2.storefront.example.com]:2222 ${second?.hostKey}\n`,
    );
  });

  it("commits exactly the rendered files, one after another, on the stack's own branch", () => {
    for (const { config } of [staging, production]) {
      const files = ofStack(T.file, config.stack as "staging" | "production");
      const [branch] = ofStack(T.branch, config.stack as "staging" | "production");
      expect(files.map((f) => input(f, "file"))).toEqual(renderRepositoryFiles(config).map((f) => f.path));
      expect(files.every((f) => input(f, "overwriteOnCreate") === true)).toBe(true);
      expect(files.every((f) => input(f, "branch") === input(branch, "branch"))).toBe(true);
      files.forEach((file, index) => {
        const previous = files[index - 1];
        expect(run.dependencies.get(file.name)).toEqual([previous?.name ?? branch?.name]);
      });
    }
  });

  it("puts repository-wide objects only in the stack that owns repository settings", () => {
    expect(ofStack(T.repoSecret, "production").map((s) => input(s, "secretName"))).toEqual([
      REPO_SECRETS.notificationWebhook,
    ]);
    expect(ofStack(T.repoSecret, "staging")).toEqual([]);
    const stagingPaths = ofStack(T.file, "staging").map((f) => String(input(f, "file")));
    expect(
      stagingPaths.some(
        (p) => p.endsWith("/ci.yml") || p.endsWith("/release.yml") || p.endsWith("dependabot.yml"),
      ),
    ).toBe(false);
  });

  it("manages exactly the objects the offline render lists for the stack", () => {
    const identity: Record<string, (r: RecordedResource) => string> = {
      [T.environment]: (r) => `environment:${input(r, "environment")}`,
      [T.policy]: (r) => `deployment-branch-policy:${input(r, "environment")}:${input(r, "branchPattern")}`,
      [T.envSecret]: (r) => `environment-secret:${input(r, "environment")}:${input(r, "secretName")}`,
      [T.envVariable]: (r) => `environment-variable:${input(r, "environment")}:${input(r, "variableName")}`,
      [T.repoSecret]: (r) => `repository-secret:${input(r, "secretName")}`,
      [T.protection]: (r) => `branch-protection:${input(r, "pattern")}`,
      [T.file]: (r) => `file:${input(r, "file")}`,
      [T.branch]: (r) => `program-branch:${generic(input(r, "branch"))}`,
      [T.pullRequest]: (r) => `pull-request:${generic(input(r, "headRef"))}`,
    };
    for (const { config } of [staging, production]) {
      const registered = Object.entries(identity).flatMap(([type, id]) =>
        ofStack(type, config.stack as "staging" | "production").map(id),
      );
      const listed = managedGitHubObjects(config).map((o) => `${o.kind}:${o.id}`);
      expect(registered.sort()).toEqual(listed.sort());
    }
  });

  it("protects each stack's branch with the configured rules (production: two approvals, code owners)", () => {
    const [rule] = ofStack(T.protection, "production");
    expect(input(rule, "pattern")).toBe("main");
    expect(input(rule, "enforceAdmins")).toBe(true);
    expect(input(rule, "allowsForcePushes")).toBe(false);
    expect(input(rule, "allowsDeletions")).toBe(false);
    expect(input(rule, "requiredLinearHistory")).toBe(true);
    expect(input(rule, "requireConversationResolution")).toBe(true);
    expect(input(rule, "requiredPullRequestReviews")).toMatchObject([
      { requiredApprovingReviewCount: 2, dismissStaleReviews: true },
    ]);
    expect(input(rule, "requiredStatusChecks")).toMatchObject([{ strict: true }]);
  });
});

describe("the product's invariants (docs/invariants.md)", () => {
  const allFiles = () => [
    ...renderRepositoryFiles(staging.config),
    ...renderRepositoryFiles(production.config),
  ];

  it("1. every required status check is a job of the generated CI workflow", () => {
    const ci = allFiles().find((f) => f.path === ".github/workflows/ci.yml");
    const workflow = parse(ci?.content ?? "") as { jobs: Record<string, { name?: string }> };
    const checkNames = Object.entries(workflow.jobs).map(([id, job]) => job.name ?? id);
    for (const stack of ["staging", "production"] as const) {
      const contexts = (
        input(ofStack(T.protection, stack)[0], "requiredStatusChecks") as Array<{ contexts: string[] }>
      )[0]?.contexts;
      expect(contexts?.length).toBeGreaterThan(0);
      expect(checkNames).toEqual(expect.arrayContaining(contexts ?? []));
    }
    expect(requiredStatusChecks(production.config)).toEqual(requiredStatusChecks(staging.config));
  });

  it("2. every secrets.X / vars.X a job uses is declared for that job's environment or the repository", () => {
    const declared = new Set<string>(["secrets:GITHUB_TOKEN"]);
    for (const s of ofType(run.runtime, T.envSecret))
      declared.add(`secrets:${input(s, "environment")}:${input(s, "secretName")}`);
    for (const v of ofType(run.runtime, T.envVariable))
      declared.add(`vars:${input(v, "environment")}:${input(v, "variableName")}`);
    for (const s of ofType(run.runtime, T.repoSecret)) declared.add(`secrets:${input(s, "secretName")}`);
    const uses = secretUses(allFiles());
    expect(uses.length).toBeGreaterThan(0);
    const undeclared = uses.filter(
      (use) =>
        !declared.has(`${use.kind}:${use.name}`) &&
        !(use.environment && declared.has(`${use.kind}:${use.environment}:${use.name}`)),
    );
    expect(undeclared).toEqual([]);
  });

  it("3. no GitHub object is managed by two stacks", () => {
    const ids = (stack: "staging" | "production") =>
      new Set([
        ...ofStack(T.file, stack).map((f) => `file:${input(f, "file")}`),
        ...ofStack(T.protection, stack).map((p) => `branch:${input(p, "pattern")}`),
        ...ofStack(T.branch, stack).map((b) => `branch:${input(b, "branch")}`),
        ...ofStack(T.pullRequest, stack).map((p) => `pull-request:${input(p, "headRef")}`),
        ...ofStack(T.environment, stack).map((e) => `environment:${input(e, "environment")}`),
        ...ofStack(T.envSecret, stack).map(
          (s) => `secret:${input(s, "environment")}:${input(s, "secretName")}`,
        ),
        ...ofStack(T.envVariable, stack).map(
          (v) => `variable:${input(v, "environment")}:${input(v, "variableName")}`,
        ),
        ...ofStack(T.repoSecret, stack).map((s) => `secret:repository:${input(s, "secretName")}`),
      ]);
    const shared = [...ids("staging")].filter((id) => ids("production").has(id));
    expect(ids("staging").size).toBeGreaterThan(5);
    expect(shared).toEqual([]);
    const rendered = (stack: typeof staging) =>
      managedGitHubObjects(stack.config).map((o) => `${o.kind}:${o.id}`);
    expect(rendered(staging).filter((id) => rendered(production).includes(id))).toEqual([]);
  });

  it("4. every secret value is a Pulumi secret wherever it is an input", () => {
    const deployKeys = ofType(run.runtime, T.envSecret).map((s) => String(input(s, "value")));
    const needles = [SECRETS.adminPrivateKey, SECRETS.appEnv, SECRETS.notificationWebhook, ...deployKeys];
    for (const needle of needles) {
      const leaks = run.runtime.resources.flatMap((r) =>
        plaintextOccurrences(r.inputs, needle).map((path) => `${r.name}.${path}`),
      );
      expect(leaks).toEqual([]);
    }
    // and the values did reach the resources that need them
    const commands = ofType(run.runtime, T.command);
    expect(commands.some((c) => input(c, "stdin") === SECRETS.appEnv)).toBe(true);
    expect(
      commands.every(
        (c) => (input(c, "connection") as { privateKey: string }).privateKey === SECRETS.adminPrivateKey,
      ),
    ).toBe(true);
  });
});

describe("the VPS side", () => {
  it("pins each host key in the connection and never passes previous output through the environment", () => {
    for (const c of ofStack(T.command, "production")) {
      const connection = input(c, "connection") as { host: string; hostKey?: string; user: string };
      const host = production.config.hosts.find((h) => h.host === connection.host);
      expect(connection.hostKey).toBe(host?.hostKey);
      expect(connection.user).toBe("root");
      expect(input(c, "addPreviousOutputInEnv")).toBe(false);
    }
  });

  it("runs the same chain of steps on every host, each step after the one before (the steps from retiring old keys on also after the secret)", () => {
    const secret = ofStack(T.envSecret, "production")[0]?.name;
    const chains = production.config.hosts.map((h) =>
      ofStack(T.command, "production").filter(
        (c) => (input(c, "connection") as { host: string }).host === h.host,
      ),
    );
    const stepNames = chains.map((chain, i) =>
      chain.map((c) => c.name.replace(`storefront-production-vps-host-${i + 1}-`, "")),
    );
    expect(stepNames[0]?.length).toBeGreaterThan(5);
    expect(stepNames[1]).toEqual(stepNames[0]);
    // Retiring old keys, then the deploy user's own steps, run after the secret switched.
    expect(stepNames[0]?.slice(-4)).toEqual([
      "retire-old-deploy-keys",
      "pm2-logrotate",
      "pm2-daemon",
      "app-env",
    ]);
    for (const chain of chains) {
      const retire = chain.findIndex((c) => c.name.endsWith("-retire-old-deploy-keys"));
      chain.forEach((c, index) => {
        const previous = chain[index - 1];
        const afterSecret = index >= retire ? [secret] : [];
        expect(run.dependencies.get(c.name)).toEqual(previous ? [previous.name, ...afterSecret] : []);
      });
    }
  });

  it("registers exactly hostSteps(), with the commands the sandbox and the host tests run", () => {
    const steps = hostSteps(production.config, { npmRegistry: "https://registry.test/", withAppEnv: true });
    const publicKey = String(plain(ofStack(T.key, "production")[0]?.outputs["publicKeyOpenssh"]));
    const expected = withDeployKeyFilledIn(steps, publicKey);
    for (const host of production.config.hosts) {
      const chain = ofStack(T.command, "production").filter(
        (c) => (input(c, "connection") as { host: string }).host === host.host,
      );
      expect(chain.map((c, index) => c.name.endsWith(`-${steps[index]?.name ?? "?"}`))).toEqual(
        steps.map(() => true),
      );
      expect(chain.map((c) => input(c, "create"))).toEqual(expected.map((s) => s.create));
    }
  });

  it("gives no command a delete or an update: removing or moving a host never needs to connect to it", () => {
    const commands = ofType(run.runtime, T.command);
    expect(commands.length).toBeGreaterThan(20);
    expect(commands.filter((c) => "delete" in c.inputs || "update" in c.inputs).map((c) => c.name)).toEqual(
      [],
    );
  });

  it("switches the deploy key secret only after the key is authorized on every host", () => {
    const secret = ofStack(T.envSecret, "production")[0];
    const authorized = ofStack(T.command, "production").filter((c) =>
      c.name.endsWith("-authorize-deploy-key"),
    );
    expect(authorized).toHaveLength(2);
    const beforeSecret = transitiveDependencies(run, secret?.name ?? "");
    for (const command of authorized) expect(beforeSecret.has(command.name)).toBe(true);
  });

  it("hides the output of steps that touch secrets", () => {
    const envStep = ofStack(T.command, "production").find((c) => input(c, "stdin") !== undefined);
    expect(input(envStep, "logging")).toBe("none");
  });
});
