import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SECRETS } from "./fixtures";
import { awaitOutput, installMocks, settled } from "./mockRuntime";

/** Config as `pulumi config` hands it to the program: every value a string, objects as JSON. */
function stackConfig(stack: string): Record<string, string> {
  const document = parse(readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> };
  const config = Object.fromEntries(
    Object.entries(document.config).map(([key, value]) => [
      key,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
  return {
    ...config,
    "pipeline:adminPrivateKey": SECRETS.adminPrivateKey,
    "pipeline:appEnv": SECRETS.appEnv,
  };
}

describe("index.ts, the program pulumi up runs", () => {
  it("registers the production stack from its Pulumi.production.yaml and exports its outputs", async () => {
    const runtime = installMocks("production");
    pulumi.runtime.setAllConfig(stackConfig("production"), ["pipeline:adminPrivateKey", "pipeline:appEnv"]);
    const program = (await import("../../index")) as Record<string, unknown>;
    expect(program["environment"]).toBe("production");
    expect(program["hosts"]).toEqual([
      "web-1.storefront.example.com:22",
      "web-2.storefront.example.com:2222",
    ]);
    expect(await awaitOutput(program["knownHosts"] as pulumi.Output<string>)).toContain(
      "[web-2.storefront.example.com]:2222 ssh-ed25519 ",
    );
    await settled(runtime);
    const types = new Set(runtime.resources.map((r) => r.type));
    for (const type of [
      "github:index/repositoryEnvironment:RepositoryEnvironment",
      "github:index/branchProtection:BranchProtection",
      "github:index/repositoryFile:RepositoryFile",
      "command:remote:Command",
      "tls:index/privateKey:PrivateKey",
    ]) {
      expect(types).toContain(type);
    }
  });
});
