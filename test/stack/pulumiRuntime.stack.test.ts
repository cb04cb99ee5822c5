// What `pulumi up` hands the program: every value a string, and the list of keys that were stored encrypted.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadFromPulumiRuntime } from "../../src/config/fromPulumiRuntime";
import { SECRETS, pulumiConfigOf } from "./fixtures";
import { installMocks } from "./mockRuntime";

describe("loadFromPulumiRuntime", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

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

  it("shows config warnings in Pulumi's log: a Node.js line past its end of life", () => {
    installMocks("staging");
    const config = pulumiConfigOf("staging");
    const app = { ...(JSON.parse(config["pipeline:app"] ?? "{}") as object), nodeVersion: 20 };
    pulumi.runtime.setAllConfig({ ...config, "pipeline:app": JSON.stringify(app) }, [
      "pipeline:adminPrivateKey",
      "pipeline:appEnv",
    ]);
    const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue();
    // 2026-04-30 has passed for good: the warning does not depend on the day the test runs.
    expect(loadFromPulumiRuntime().warnings).toHaveLength(1);
    expect(warn.mock.calls).toEqual([
      [
        expect.stringMatching(
          /^pipeline:app\.nodeVersion: Node\.js 20 reached end of life on 2026-04-30 \(set app\.nodeVersion to \d+/,
        ),
      ],
    ]);
  });
});
