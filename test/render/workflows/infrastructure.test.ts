// This repository's own workflows are rendered from src/render/workflows/infrastructure.ts; the committed files
// must be exactly that output. UPDATE_WORKFLOWS=1 rewrites them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
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

  it("up: staging, then production in its environment, after the tests", () => {
    const up = upWorkflow();
    expect(up.on).toEqual({ push: { branches: ["main"] } });
    expect(up.jobs["staging"]?.needs).toEqual(["test"]);
    const production = up.jobs["production"];
    expect(production?.needs).toEqual(["staging"]);
    expect(production && "environment" in production ? production.environment : undefined).toEqual({
      name: "production",
    });
    expect(up.concurrency).toEqual({ group: "pulumi-up", "cancel-in-progress": false });
  });
});
