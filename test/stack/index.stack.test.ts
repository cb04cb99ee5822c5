import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { pulumiConfigOf } from "./fixtures";
import { awaitOutput, installMocks, settled } from "./mockRuntime";

describe("index.ts, the program pulumi up runs", () => {
  it("registers the production stack from its Pulumi.production.yaml and exports its outputs", async () => {
    const runtime = installMocks("production");
    pulumi.runtime.setAllConfig(pulumiConfigOf("production"), [
      "pipeline:adminPrivateKey",
      "pipeline:appEnv",
    ]);
    const program = (await import("../../index")) as Record<string, unknown>;
    expect(program["environment"]).toBe("production");
    expect(await awaitOutput(program["hosts"] as pulumi.Output<string[]>)).toEqual([
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
