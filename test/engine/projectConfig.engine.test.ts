// Pulumi.yaml and the stack files as the real CLI reads them: what the engine itself checks before any program runs.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateEd25519KeyPair } from "../../src/primitives/sshKeyPair";
import { createEngineWorkspace, type EngineWorkspace, writeStackFile } from "./engineWorkspace";

let workspace: EngineWorkspace;

beforeEach(() => {
  workspace = createEngineWorkspace();
});
afterEach(() => workspace.dispose());

async function initStack(stack: string): Promise<void> {
  const init = await workspace.pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"]);
  expect(init.code, init.stderr).toBe(0);
}

async function setAdminKey(stack: string, secret: boolean): Promise<void> {
  const key = generateEd25519KeyPair("engine-test").privateKey;
  const set = await workspace.pulumi(
    ["config", "set", ...(secret ? ["--secret"] : []), "adminPrivateKey", "--stack", stack],
    key,
  );
  expect(set.code, set.stderr).toBe(0);
}

const output = (run: { stdout: string; stderr: string }): string => `${run.stdout}${run.stderr}`;

describe("the project file and the committed stacks under the real CLI", () => {
  it.each(["staging", "production"])(
    "%s: the CLI loads Pulumi.yaml and reads every key of the stack file",
    async (stack) => {
      await initStack(stack);
      await setAdminKey(stack, true);
      const config = await workspace.pulumi(["config", "--stack", stack, "--json"]);
      expect(config.code, config.stderr).toBe(0);
      const values = JSON.parse(config.stdout) as Record<
        string,
        { value?: unknown; objectValue?: unknown; secret: boolean }
      >;
      expect(values["pipeline:repository"]?.value).toBe("storefront");
      expect(values["pipeline:environment"]?.value).toBe(stack);
      expect(values["pipeline:hosts"]?.objectValue).toEqual(expect.any(Array));
      expect(values["pipeline:adminPrivateKey"]).toEqual({ secret: true });
    },
  );

  it("lists nothing until the admin key is set: Pulumi.yaml declares it required, and the CLI says which key", async () => {
    await initStack("staging");
    const config = await workspace.pulumi(["config", "--stack", "staging"]);
    expect(config.code).not.toBe(0);
    expect(config.stderr).toContain("Stack 'staging' is missing configuration value 'adminPrivateKey'");
  });
});

describe("secrets: the engine refuses a plaintext admin key (Pulumi.yaml declares it secret)", () => {
  it("config set without --secret is accepted by the CLI, then preview refuses the stack before the program runs", async () => {
    await initStack("staging");
    await setAdminKey("staging", false);
    const preview = await workspace.pulumi(["preview", "--stack", "staging"]);
    expect(preview.code).not.toBe(0);
    expect(output(preview)).toContain(
      "Stack 'staging' with configuration key 'adminPrivateKey' must be encrypted as it's secret",
    );
  });

  it("with --secret it is stored encrypted in the stack file", async () => {
    await initStack("staging");
    const before = workspace.stackFile("staging");
    await setAdminKey("staging", true);
    const after = workspace.stackFile("staging");
    expect(after).toMatch(/pipeline:adminPrivateKey:\n\s+secure: v1:\S+/);
    expect(after).not.toContain("PRIVATE KEY");
    expect(after.replace(/\n {2}pipeline:adminPrivateKey:\n\s+secure: \S+/, "")).toBe(before);
  });
});

describe("required keys: the engine refuses a stack without one, naming it, before the program runs", () => {
  it("a stack without pipeline:repository", async () => {
    await initStack("staging");
    await setAdminKey("staging", true);
    writeStackFile(
      workspace,
      "staging",
      workspace.stackFile("staging").replace(/^ {2}pipeline:repository: .*\n/m, ""),
    );
    const preview = await workspace.pulumi(["preview", "--stack", "staging"]);
    expect(preview.code).not.toBe(0);
    expect(output(preview)).toContain("Stack 'staging' is missing configuration value 'repository'");
  });
});
