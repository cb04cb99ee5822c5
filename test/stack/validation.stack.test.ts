import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { loadFromPulumiRuntime } from "../../src/config/fromPulumiRuntime";
import { installMocks, settled } from "./mockRuntime";

describe("bad config under pulumi", () => {
  it("fails with every problem named by key before any resource is registered", async () => {
    const runtime = installMocks("staging");
    pulumi.runtime.setAllConfig({
      "github:owner": "acme-shop",
      "pipeline:repository": "storefront",
      "pipeline:environment": "staging",
      "pipeline:branch": "bad..branch",
      "pipeline:url": "https://staging.example.com",
      "pipeline:ingress": JSON.stringify({ acmeEmail: "ops@example.com" }),
      "pipeline:hosts": JSON.stringify([{ host: "web-1.example.com", port: 0 }]),
      "pipeline:app": JSON.stringify({ name: "storefront", healthPath: "health" }),
    });
    let error: unknown;
    try {
      loadFromPulumiRuntime();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(":").slice(0, 2).join(":"))).toEqual([
      "pipeline:branch",
      "pipeline:hosts[0].port",
      "pipeline:hosts[0].hostKey",
      "pipeline:app.healthPath",
      "pipeline:adminPrivateKey",
    ]);
    await settled(runtime);
    expect(runtime.resources).toEqual([]);
  });
});
