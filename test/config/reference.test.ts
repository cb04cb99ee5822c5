import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { withConfigReference } from "../../src/cli/docs";
import { renderProjectFile } from "../../src/config/projectFile";
import { configReference } from "../../src/config/reference";
import { pipelineSchema } from "../../src/config/schema";
import { objectShape } from "../../src/config/schemaWalk";

describe("the config reference", () => {
  it("is documented in the README exactly as the schema states it (run npm run docs after changing the schema)", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(withConfigReference(readme)).toBe(readme);
  });

  it("is declared in Pulumi.yaml exactly as the schema states it", () => {
    expect(readFileSync("Pulumi.yaml", "utf8")).toBe(renderProjectFile());
  });

  it("describes every key and states a default for every optional one", () => {
    const docs = configReference();
    expect(docs.length).toBeGreaterThan(50);
    for (const doc of docs) expect(doc.description, doc.key).not.toBe("");
    expect(docs.find((d) => d.key === "app.port")?.defaultValue).toBe(3000);
    expect(docs.find((d) => d.key === "aws.hosts.sshCidrs")?.required).toBe(true);
  });

  it("lists every field of every group of settings (backup.keep, not just backup)", () => {
    const keys = new Set(configReference().map((doc) => doc.key));
    for (const [group, node] of Object.entries(objectShape(pipelineSchema))) {
      for (const field of Object.keys(objectShape(node)))
        expect(keys, `${group}.${field}`).toContain(`${group}.${field}`);
    }
  });

  it("declares the required keys without a default so that Pulumi asks for them", () => {
    const project = parse(renderProjectFile()) as { config: Record<string, { default?: unknown }> };
    for (const key of ["repository", "environment", "branch", "url", "app", "adminPrivateKey"]) {
      expect(project.config[key], key).toBeDefined();
      expect(project.config[key]?.default, key).toBeUndefined();
    }
    expect(project.config["deployUser"]?.default).toBe("deploy");
  });
});
