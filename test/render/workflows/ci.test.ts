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

  it("runs each configured command after checkout, pnpm, Node with the pnpm cache and install", () => {
    const lint = jobOf(ciOf(), "lint");
    expect(lint.steps?.map((s) => s.uses ?? s.run)).toEqual([
      actionRef(ACTIONS.checkout),
      actionRef(ACTIONS.setupPnpm),
      actionRef(ACTIONS.setupNode),
      "pnpm install --frozen-lockfile",
      "pnpm run lint",
    ]);
    expect(stepNamed(lint, "Check out").with).toEqual({ "persist-credentials": false });
    expect(stepNamed(lint, "Set up Node.js").with).toMatchObject({ "node-version": 20, cache: "pnpm" });
    // pnpm/action-setup takes the version from package.json's packageManager field and refuses a second one.
    expect(stepNamed(lint, "Set up pnpm").with).toBeUndefined();
  });

  it("gives pnpm/action-setup a version only for an app without a packageManager field", () => {
    const config = qaConfig({ app: { name: "storefront", packageManagerField: false, pnpmVersion: 10 } });
    expect(stepNamed(jobOf(ciOf(config), "lint"), "Set up pnpm").with).toEqual({ version: 10 });
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
