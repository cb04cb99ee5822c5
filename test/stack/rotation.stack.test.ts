import { describe, expect, it } from "vitest";
import { exampleStack, runStacks } from "./fixtures";
import { plain, type RecordedResource } from "./mockRuntime";

type Snapshot = Map<string, RecordedResource>;

async function snapshot(
  rotation: number,
): Promise<{ byName: Snapshot; dependencies: Map<string, string[]> }> {
  const run = await runStacks([exampleStack("production", { deployKeyRotation: rotation })]);
  return { byName: new Map(run.runtime.resources.map((r) => [r.name, r])), dependencies: run.dependencies };
}

describe("bumping pipeline:deployKeyRotation (docs/invariants.md #6)", () => {
  it("changes only the key, the key line on each host and the GitHub secret", async () => {
    const before = await snapshot(0);
    const after = await snapshot(1);
    const removed = [...before.byName.keys()].filter((n) => !after.byName.has(n));
    const added = [...after.byName.keys()].filter((n) => !before.byName.has(n));
    expect(removed.sort()).toEqual([
      "storefront-production-vps-deploy-key-0",
      "storefront-production-vps-web-1.storefront.example.com-22-authorize-deploy-key-0",
      "storefront-production-vps-web-2.storefront.example.com-2222-authorize-deploy-key-0",
    ]);
    expect(added.sort()).toEqual(removed.map((n) => n.replace(/-0$/, "-1")).sort());

    const changed = [...after.byName.entries()]
      .filter(
        ([name, r]) =>
          before.byName.has(name) &&
          JSON.stringify(plain(r.inputs)) !== JSON.stringify(plain(before.byName.get(name)?.inputs)),
      )
      .map(([name]) => name);
    expect(changed).toEqual(["storefront-production-github-production-secret-DEPLOY_SSH_KEY"]);
  });

  it("installs the new key line before the secret switches, and removes the old line only when the old key goes", async () => {
    const { byName, dependencies } = await snapshot(1);
    const secretDeps =
      dependencies.get("storefront-production-github-production-secret-DEPLOY_SSH_KEY") ?? [];
    const authorize = [...byName.values()].filter((r) => r.name.endsWith("authorize-deploy-key-1"));
    expect(authorize).toHaveLength(2);
    expect(secretDeps).toEqual(expect.arrayContaining(authorize.map((r) => r.name)));
    expect(plain(byName.get("storefront-production-vps-deploy-key-1")?.inputs)).toEqual({
      algorithm: "ED25519",
    });
    for (const command of authorize) {
      // create adds this key's line; delete (run when the next rotation drops this resource) removes exactly it
      expect(String(plain(command.inputs["create"]))).toContain("pipeline-ci-1");
      expect(String(plain(command.inputs["delete"]))).toContain("pipeline-ci-1");
    }
  });
});
