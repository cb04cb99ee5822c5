// Secret config values must be stored encrypted. Pulumi.yaml can declare only the admin key `secret: true`
// (a secret with a plain default is refused by Pulumi), so the program refuses plaintext optional secrets itself.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError } from "../../src/config/errors";
import { loadFromStackFile } from "../../src/config/fromStackFile";
import { loadFromValues } from "../../src/config/fromValues";
import { renderProjectFile } from "../../src/config/projectFile";
import { minimalValues } from "./fixtures";

const dir = mkdtempSync(join(tmpdir(), "secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STACK = [
  "config:",
  "  github:owner: acme",
  "  pipeline:repository: shop",
  "  pipeline:environment: staging",
  "  pipeline:branch: staging",
  "  pipeline:url: https://staging.shop.example.com",
  "  pipeline:ingress:",
  "    acmeEmail: ops@shop.example.com",
  "  pipeline:hosts:",
  "    - host: vps1.example.com",
  "      hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R",
  "  pipeline:app:",
  "    name: shop",
];

function problemsOfStackFile(extraLines: string[]): string[] {
  const file = join(dir, "Pulumi.staging.yaml");
  writeFileSync(file, [...STACK, ...extraLines, ""].join("\n"));
  try {
    loadFromStackFile(file);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("secret values in a stack file", () => {
  it("accepts encrypted ones", () => {
    expect(
      problemsOfStackFile([
        "  pipeline:appEnv:",
        "    secure: v1:abc:def",
        "  pipeline:notificationWebhook:",
        "    secure: v1:ghi:jkl",
      ]),
    ).toEqual([]);
  });

  it("refuses plaintext ones and gives the command that stores them encrypted", () => {
    expect(
      problemsOfStackFile([
        "  pipeline:ownsRepositorySettings: true",
        "  pipeline:notifications:",
        "    webhook: true",
        "  pipeline:appEnv: DATABASE_URL=postgres://u:p@db/shop",
        "  pipeline:notificationWebhook: https://hooks.example.com/T/B/x",
        "  pipeline:adminPrivateKey: '-----BEGIN OPENSSH PRIVATE KEY-----'",
      ]),
    ).toEqual([
      "pipeline:adminPrivateKey: is stored in plain text in the stack file; a secret must be encrypted (pulumi config set --secret adminPrivateKey < ~/.ssh/id_ed25519)",
      "pipeline:appEnv: is stored in plain text in the stack file; a secret must be encrypted (pulumi config set --secret appEnv < .env.staging)",
      "pipeline:notificationWebhook: is stored in plain text in the stack file; a secret must be encrypted (pulumi config set --secret notificationWebhook <url>)",
    ]);
  });

  it("never repeats the secret value in the message", () => {
    const problems = problemsOfStackFile(["  pipeline:appEnv: TOKEN=hunter2"]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });
});

describe("loadFromValues with plaintextSecrets", () => {
  it("reports only the keys it is told about", () => {
    const values = minimalValues({ appEnv: "A=1" });
    expect(() => loadFromValues(values, "acme", { stack: "staging", requireSecrets: false })).not.toThrow();
    expect(() =>
      loadFromValues(values, "acme", {
        stack: "staging",
        requireSecrets: false,
        plaintextSecrets: ["appEnv"],
      }),
    ).toThrow(/pipeline:appEnv: is stored in plain text/);
  });
});

describe("Pulumi.yaml's declaration of the admin key", () => {
  it("is a required string secret, so Pulumi refuses a plaintext value and asks for a missing one", () => {
    const project = parse(renderProjectFile()) as { config: Record<string, Record<string, unknown>> };
    expect(project.config["adminPrivateKey"]).toMatchObject({ type: "string", secret: true });
    expect(project.config["adminPrivateKey"]).not.toHaveProperty("default");
    for (const key of ["appEnv", "notificationWebhook"])
      expect(project.config[key]).not.toHaveProperty("secret");
  });
});
