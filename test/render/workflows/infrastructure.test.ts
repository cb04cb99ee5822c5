// This repository's own workflows are rendered from src/render/workflows/infrastructure.ts; the committed files
// must be exactly that output. UPDATE_WORKFLOWS=1 rewrites them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  INFRASTRUCTURE_ENVIRONMENTS,
  REGENERATE_COMMAND,
  previewWorkflow,
  renderInfrastructureWorkflows,
  upWorkflow,
} from "../../../src/render/workflows/infrastructure";

const ROOT = join(__dirname, "../../..");

describe("this repository's workflows", () => {
  it.each(renderInfrastructureWorkflows())("$path is committed as rendered", ({ path, content }) => {
    if (process.env["UPDATE_WORKFLOWS"] === "1") writeFileSync(join(ROOT, path), content);
    const committed = readFileSync(join(ROOT, path), "utf8");
    expect(committed, `out of date: run ${REGENERATE_COMMAND}`).toBe(content);
  });

  it("preview: tests and previews both stacks on pull requests; only previews may comment", () => {
    const preview = previewWorkflow();
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(preview.permissions).toEqual({});
    expect(Object.keys(preview.jobs)).toEqual(["test", "preview-staging", "preview-production"]);
    expect(preview.jobs["test"]?.permissions).toEqual({ contents: "read" });
    expect(preview.jobs["preview-production"]?.permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
    });
  });

  it("preview: checks every stack together (npm run check) before each preview", () => {
    for (const id of ["preview-staging", "preview-production"]) {
      const job = previewWorkflow().jobs[id];
      const steps = (job && "steps" in job ? job.steps : []) ?? [];
      const check = steps.findIndex((step) => step.run === "npm run check");
      const preview = steps.findIndex((step) => step.name?.startsWith("pulumi preview"));
      expect(check, id).toBeGreaterThan(-1);
      expect(check, id).toBeLessThan(preview);
    }
  });

  // A pull request runs its own copy of this workflow: a repository secret would reach any branch's code.
  it("hands the Pulumi credentials only to jobs in an environment whose rules gate them", () => {
    const gated = new Set<string>([
      INFRASTRUCTURE_ENVIRONMENTS.preview,
      ...Object.values(INFRASTRUCTURE_ENVIRONMENTS.up),
    ]);
    for (const workflow of [previewWorkflow(), upWorkflow()]) {
      for (const [id, job] of Object.entries(workflow.jobs)) {
        const usesSecrets = JSON.stringify(job).includes("secrets.");
        const environment = "environment" in job ? job.environment?.name : undefined;
        if (usesSecrets) expect(gated.has(environment ?? ""), `${workflow.name}/${id}`).toBe(true);
      }
    }
    const preview = previewWorkflow().jobs["preview-staging"];
    expect(preview && "environment" in preview ? preview.environment : undefined).toEqual({
      name: "pulumi-preview",
    });
  });

  it("up: staging, then production in its environment, after the tests", () => {
    const up = upWorkflow();
    expect(up.on).toEqual({ push: { branches: ["main"] } });
    expect(up.jobs["staging"]?.needs).toEqual(["test"]);
    const production = up.jobs["production"];
    expect(production?.needs).toEqual(["staging"]);
    expect(production && "environment" in production ? production.environment : undefined).toEqual({
      name: "pulumi-up-production",
    });
    expect(up.concurrency).toEqual({ group: "pulumi-up", "cancel-in-progress": false });
  });
});
