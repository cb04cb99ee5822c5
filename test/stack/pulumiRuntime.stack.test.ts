// What `pulumi up` hands the program: every value a string, and the list of keys that were stored encrypted.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { loadFromPulumiRuntime } from "../../src/config/fromPulumiRuntime";
import { SECRETS, pulumiConfigOf } from "./fixtures";
import { installMocks } from "./mockRuntime";

describe("loadFromPulumiRuntime", () => {
  it("accepts secrets that Pulumi marks as secret", () => {
    installMocks("staging");
    pulumi.runtime.setAllConfig(pulumiConfigOf("staging"), ["pipeline:adminPrivateKey", "pipeline:appEnv"]);
    expect(loadFromPulumiRuntime().secrets.appEnv).toBe(SECRETS.appEnv);
  });

  it("refuses an appEnv set without --secret, before any resource exists", () => {
    const runtime = installMocks("staging");
    pulumi.runtime.setAllConfig(pulumiConfigOf("staging"), ["pipeline:adminPrivateKey"]);
    expect(() => loadFromPulumiRuntime()).toThrow(
      "pipeline:appEnv: is stored in plain text in the stack file; a secret must be encrypted (pulumi config set --secret appEnv < .env.staging)",
    );
    expect(runtime.resources).toEqual([]);
  });

  it("refuses hosts without their host key (which the sandbox ignores), before any resource exists", () => {
    const runtime = installMocks("staging");
    const config = pulumiConfigOf("staging");
    const hosts = JSON.parse(config["pipeline:hosts"] ?? "[]") as Record<string, unknown>[];
    const withoutKeys = hosts.map((host) =>
      Object.fromEntries(Object.entries(host).filter(([key]) => key !== "hostKey")),
    );
    pulumi.runtime.setAllConfig({ ...config, "pipeline:hosts": JSON.stringify(withoutKeys) }, [
      "pipeline:adminPrivateKey",
      "pipeline:appEnv",
    ]);
    expect(() => loadFromPulumiRuntime()).toThrow(/pipeline:hosts\[0\]\.hostKey: is required/);
    expect(runtime.resources).toEqual([]);
  });
});
