import { describe, expect, it } from "vitest";
import { CI_WORKFLOW_NAME, CI_WORKFLOW_PATH } from "../../../src/render/githubNames";
import { renderRepositoryFiles, requiredStatusChecks } from "../../../src/render/workflows";
import { ACTIONS, actionRef } from "../../../src/render/workflows/actions";
import { jobOf, productionConfig, qaConfig, stepNamed, variantConfig, workflowAt } from "./fixtures";

const ciOf = (config = productionConfig()) => workflowAt(renderRepositoryFiles(config), CI_WORKFLOW_PATH);

describe("ci.yml", () => {
  it("is named CI and runs on pull requests, every branch push and when a deploy calls it", () => {
    const ci = ciOf();
    expect(ci.name).toBe(CI_WORKFLOW_NAME);
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
    expect(ci.on["push"]).toEqual({ branches: ["**"] });
  });

  it("grants nothing at the top and contents: read per job", () => {
    const ci = ciOf();
    expect(ci.permissions).toEqual({});
    for (const job of Object.values(ci.jobs)) expect(job.permissions).toEqual({ contents: "read" });
  });

  it("cancels superseded runs only for pull requests", () => {
    expect(ciOf().concurrency).toEqual({
      group: "ci-${{ github.workflow }}-${{ github.ref }}",
      "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    });
  });

  it("defines lint, typecheck, test and build, each named by its id, with a timeout", () => {
    const ci = ciOf();
    expect(Object.keys(ci.jobs)).toEqual(["lint", "typecheck", "test", "build"]);
    for (const [id, job] of Object.entries(ci.jobs)) {
      expect(job.name).toBe(id);
      expect(job["timeout-minutes"]).toBeGreaterThan(0);
    }
  });

  it("requires exactly the CI job names as status checks", () => {
    for (const config of [productionConfig(), variantConfig()]) {
      const names = Object.values(ciOf(config).jobs).map((job) => job.name);
      expect(requiredStatusChecks(config)).toEqual(names);
    }
  });

  it("drops the jobs whose command is empty, and their checks", () => {
    const config = variantConfig();
    expect(Object.keys(ciOf(config).jobs)).toEqual(["test"]);
    expect(requiredStatusChecks(config)).toEqual(["test"]);
  });

  it("runs each configured command after checkout, Node, pnpm, the pnpm store cache and install", () => {
    const lint = jobOf(ciOf(), "lint");
    expect(lint.steps?.map((s) => s.uses ?? s.run)).toEqual([
      actionRef(ACTIONS.checkout),
      actionRef(ACTIONS.setupNode),
      `npm install --global --no-fund --no-audit pnpm@"$(node -p "require('./package.json').packageManager.replace(/^pnpm@/, '').replace(/[+].*$/, '')")"`,
      actionRef(ACTIONS.setupNode),
      "pnpm install --frozen-lockfile",
      "pnpm run lint",
    ]);
    expect(stepNamed(lint, "Check out").with).toEqual({ "persist-credentials": false });
    expect(stepNamed(lint, "Set up Node.js").with).toEqual({ "node-version": 26 });
    expect(stepNamed(lint, "Cache the pnpm store").with).toEqual({
      "node-version": 26,
      cache: "pnpm",
      "cache-dependency-path": "pnpm-lock.yaml",
    });
  });

  it("installs the packageManager field's pnpm, or app.pnpmVersion for an app without the field", () => {
    const config = qaConfig({ app: { name: "storefront", packageManagerField: false, pnpmVersion: 10 } });
    expect(stepNamed(jobOf(ciOf(config), "lint"), "Set up pnpm").run).toBe(
      "npm install --global --no-fund --no-audit pnpm@10",
    );
  });

  it("uses no pnpm/action-setup (its releases run on Node 20)", () => {
    const uses = Object.values(ciOf().jobs).flatMap((job) => (job.steps ?? []).map((s) => s.uses ?? ""));
    expect(uses.filter((u) => u.includes("pnpm/action-setup"))).toEqual([]);
  });

  it("gives the test job health-checked postgres and redis and their URLs", () => {
    const test = jobOf(ciOf(qaConfig()), "test");
    expect(test.services?.["postgres"]?.image).toBe("postgres:16");
    expect(test.services?.["postgres"]?.options).toContain('--health-cmd "pg_isready -U postgres"');
    expect(test.services?.["redis"]?.options).toContain('--health-cmd "redis-cli ping"');
    expect(test.env).toMatchObject({
      DATABASE_URL: "postgres://postgres:postgres@localhost:5432/test",
      REDIS_URL: "redis://localhost:6379",
    });
    expect(jobOf(ciOf(qaConfig()), "lint").services).toBeUndefined();
  });

  it("checks mysql with mysqladmin and mongodb with mongosh; the first database listed owns DATABASE_URL", () => {
    const test = jobOf(ciOf(variantConfig()), "test");
    expect(Object.keys(test.services ?? {})).toEqual(["mysql", "mongodb", "postgres", "redis"]);
    expect(test.services?.["mysql"]?.options).toContain("mysqladmin ping");
    expect(test.services?.["mongodb"]?.image).toBe("mongo:6");
    expect(test.services?.["mongodb"]?.options).toContain("mongosh");
    expect(test.env?.["DATABASE_URL"]).toMatch(/^mysql:/);
    expect(test.env?.["POSTGRES_URL"]).toMatch(/^postgres:/);
  });

  it("has no services when none are configured", () => {
    expect(jobOf(ciOf(), "test").services).toBeUndefined();
  });
});
