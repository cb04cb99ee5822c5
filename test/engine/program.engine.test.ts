// index.ts itself under the real engine (an inline Automation API program: no language host binary is needed).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readInstallReport } from "../../src/engine/install";
import { engineLayout } from "../../src/engine/engineLayout";
import { generateEd25519KeyPair } from "../../src/primitives/sshKeyPair";
import { createEngineWorkspace, type EngineWorkspace } from "./engineWorkspace";

let workspace: EngineWorkspace;

beforeAll(async () => {
  workspace = createEngineWorkspace(["staging"]);
  for (const args of [
    ["stack", "init", "staging", "--secrets-provider", "passphrase"],
    ["config", "set", "--secret", "adminPrivateKey", "--stack", "staging"],
  ]) {
    const run = await workspace.pulumi(args, generateEd25519KeyPair("engine-test").privateKey);
    expect(run.code, run.stderr).toBe(0);
  }
});
afterAll(() => workspace.dispose());

/** Resource plugins the engine install could not provide (the Go module proxy serves none today: see its report). */
const missingPlugins = (): string[] =>
  (readInstallReport(engineLayout()) ?? [])
    .filter((piece) => piece.kind === "resource" && piece.status !== "built" && piece.status !== "cached")
    .map((piece) => piece.name);

describe("the program's config stage under the real engine", () => {
  it("a plaintext appEnv reaches the program as a non-secret and is refused with the key and the fix", async () => {
    const set = await workspace.pulumi(
      ["config", "set", "appEnv", "--stack", "staging"],
      "DATABASE_URL=postgres://x",
    );
    expect(set.code, set.stderr).toBe(0);
    const preview = await workspace.runProgram("preview", "staging");
    expect(preview.ok).toBe(false);
    expect(preview.output).toContain(
      "pipeline:appEnv: is stored in plain text in the stack file; a secret must be encrypted (pulumi config set --secret appEnv < .env.staging)",
    );
  });

  it("the same value set with --secret passes the config stage", async () => {
    const set = await workspace.pulumi(
      ["config", "set", "--secret", "appEnv", "--stack", "staging"],
      "DATABASE_URL=postgres://x",
    );
    expect(set.code, set.stderr).toBe(0);
    const preview = await workspace.runProgram("preview", "staging");
    expect(preview.output).not.toContain("Invalid stack config");
    expect(preview.output).toContain("pipeline:github:GitHubPipeline");
  });
});

describe("pulumi preview of the staging stack", () => {
  it("succeeds, or fails only for a resource plugin the engine install reported it could not build", async () => {
    const preview = await workspace.runProgram("preview", "staging");
    const missing = missingPlugins();
    if (missing.length === 0) {
      expect(preview.ok, preview.output).toBe(true);
      return;
    }
    expect(preview.ok).toBe(false);
    const errors = preview.output.split("\n").filter((line) => /\berror: /.test(line));
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors)
      expect(line).toMatch(
        new RegExp(
          `no resource plugin 'pulumi-resource-(${missing.join("|")})' found in the workspace at version v[0-9.]+`,
        ),
      );
  });
});
