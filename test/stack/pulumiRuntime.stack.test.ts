// What `pulumi up` hands the program: every value a string, and the list of keys that were stored encrypted.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadFromPulumiRuntime } from "../../src/config/fromPulumiRuntime";
import { SECRETS } from "./fixtures";
import { installMocks } from "./mockRuntime";

function stagingConfig(): Record<string, string> {
  const document = parse(readFileSync("Pulumi.staging.yaml", "utf8")) as { config: Record<string, unknown> };
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

describe("loadFromPulumiRuntime", () => {
  it("accepts secrets that Pulumi marks as secret", () => {
    installMocks("staging");
    pulumi.runtime.setAllConfig(stagingConfig(), ["pipeline:adminPrivateKey", "pipeline:appEnv"]);
    expect(loadFromPulumiRuntime().secrets.appEnv).toBe(SECRETS.appEnv);
  });

  it("refuses an appEnv set without --secret, before any resource exists", () => {
    const runtime = installMocks("staging");
    pulumi.runtime.setAllConfig(stagingConfig(), ["pipeline:adminPrivateKey"]);
    expect(() => loadFromPulumiRuntime()).toThrow(
      "pipeline:appEnv: is stored in plain text in the stack file; a secret must be encrypted (pulumi config set --secret appEnv < .env.staging)",
    );
    expect(runtime.resources).toEqual([]);
  });
});
