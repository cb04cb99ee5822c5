// What a second `pulumi up` changes when the deploy key rotates, a host moves or a host leaves the stack: the
// program is run twice under mocks and the two sets of registered resources are compared by name (the engine
// matches resources by name, so equal names mean in-place updates, and a missing name means a deletion).
import { describe, expect, it } from "vitest";
import { readStackFile } from "../../src/config/fromStackFile";
import { exampleStack, type ProgramRun, runStacks, transitiveDependencies } from "./fixtures";
import { plain, type RecordedResource } from "./mockRuntime";

type Snapshot = Map<string, RecordedResource>;

const SECRET = "storefront-production-github-production-secret-DEPLOY_SSH_KEY";
const HOST_VARIABLES = [
  "storefront-production-github-production-variable-DEPLOY_HOSTS",
  "storefront-production-github-production-variable-DEPLOY_KNOWN_HOSTS",
];

/** The hosts of Pulumi.production.yaml as written there (no names: the default names apply). */
function productionHosts(): Array<Record<string, unknown>> {
  return structuredClone(
    readStackFile("Pulumi.production.yaml").values["hosts"] as Array<Record<string, unknown>>,
  );
}

async function snapshot(
  overrides: Record<string, unknown> = {},
): Promise<{ byName: Snapshot; run: ProgramRun }> {
  const run = await runStacks([exampleStack("production", overrides)]);
  return { byName: new Map(run.runtime.resources.map((r) => [r.name, r])), run };
}

/**
 * Inputs as text, with the deploy key's material replaced by its resource name: the mock makes a fresh key per run,
 * where the engine would keep the one in state while the key resource's name (its rotation) stays the same.
 */
function inputsText(byName: Snapshot, resource: RecordedResource | undefined): string {
  let text = JSON.stringify(plain(resource?.inputs));
  for (const key of byName.values()) {
    if (key.type !== "tls:index/privateKey:PrivateKey") continue;
    const publicKey = String(key.outputs["publicKeyOpenssh"]).trim().split(/\s+/)[1] ?? "";
    const privateKey = JSON.stringify(String(key.outputs["privateKeyOpenssh"])).slice(1, -1);
    text = text.replaceAll(publicKey, `<${key.name}>`).replaceAll(privateKey, `<${key.name} private>`);
  }
  return text;
}

function compare(
  before: Snapshot,
  after: Snapshot,
): { removed: string[]; added: string[]; changed: string[] } {
  return {
    removed: [...before.keys()].filter((n) => !after.has(n)).sort(),
    added: [...after.keys()].filter((n) => !before.has(n)).sort(),
    changed: [...after.entries()]
      .filter(
        ([name, r]) => before.has(name) && inputsText(after, r) !== inputsText(before, before.get(name)),
      )
      .map(([name]) => name)
      .sort(),
  };
}

function commandsOf(byName: Snapshot, host: string): RecordedResource[] {
  return [...byName.values()].filter(
    (r) =>
      r.type === "command:remote:Command" &&
      (plain(r.inputs["connection"]) as { host: string }).host === host,
  );
}

/** Every resource the engine would have to connect to a host for: anything whose inputs name the address. */
function mentioning(byName: Snapshot, text: string): string[] {
  return [...byName.values()]
    .filter((r) => JSON.stringify(plain(r.inputs)).includes(text))
    .map((r) => r.name);
}

describe("bumping pipeline:deployKeyRotation (docs/invariants.md #6)", () => {
  it("changes only the key, the key line steps on each host and the GitHub secret", async () => {
    const before = await snapshot({ deployKeyRotation: 0 });
    const after = await snapshot({ deployKeyRotation: 1 });
    const { removed, added, changed } = compare(before.byName, after.byName);
    expect(removed).toEqual(["storefront-production-vps-deploy-key-0"]);
    expect(added).toEqual(["storefront-production-vps-deploy-key-1"]);
    expect(changed).toEqual(
      [
        SECRET,
        "storefront-production-vps-host-1-authorize-deploy-key",
        "storefront-production-vps-host-1-retire-old-deploy-keys",
        "storefront-production-vps-host-2-authorize-deploy-key",
        "storefront-production-vps-host-2-retire-old-deploy-keys",
      ].sort(),
    );
  });

  it("authorizes the new key on every host before the secret switches, and retires old lines only after it", async () => {
    const { byName, run } = await snapshot({ deployKeyRotation: 1 });
    const authorize = [...byName.values()].filter((r) => r.name.endsWith("-authorize-deploy-key"));
    const retire = [...byName.values()].filter((r) => r.name.endsWith("-retire-old-deploy-keys"));
    expect(authorize).toHaveLength(2);
    expect(retire).toHaveLength(2);
    // The secret waits for every host's whole first phase: the key authorized, and sshd reading the key file.
    const beforeSecret = transitiveDependencies(run, SECRET);
    for (const command of authorize) expect(beforeSecret.has(command.name)).toBe(true);
    for (const command of [...byName.values()].filter((r) => r.name.endsWith("-sshd-hardening")))
      expect(beforeSecret.has(command.name)).toBe(true);
    for (const command of retire) {
      expect(run.dependencies.get(command.name)).toContain(SECRET);
      // ... and the secret never waits for a retirement (that would be a cycle, or the wrong order).
      expect(transitiveDependencies(run, SECRET).has(command.name)).toBe(false);
      expect(String(plain(command.inputs["create"]))).toContain("pipeline-ci-1'");
      expect(String(plain(command.inputs["create"]))).not.toContain("pipeline-ci-0");
    }
    for (const command of authorize) {
      expect(String(plain(command.inputs["create"]))).toContain("pipeline-ci-1'");
      expect(String(plain(command.inputs["create"]))).not.toContain("pipeline-ci-0");
    }
    // Nothing is removed by a deletion: no command carries a delete the engine would run against a host.
    for (const command of [...authorize, ...retire]) expect(command.inputs["delete"]).toBeUndefined();
  });
});

describe("a host that moves (hosts[].host or hosts[].port changes)", () => {
  it("keeps every resource name: the moved host's steps are updated in place against the new address", async () => {
    const before = await snapshot();
    const hosts = productionHosts();
    const second = hosts[1] as Record<string, unknown>;
    second["host"] = "web-2b.storefront.example.com";
    second["port"] = 22;
    const after = await snapshot({ hosts });
    const { removed, added, changed } = compare(before.byName, after.byName);
    expect(removed).toEqual([]);
    expect(added).toEqual([]);
    const movedCommands = commandsOf(after.byName, "web-2b.storefront.example.com").map((r) => r.name);
    expect(movedCommands.length).toBeGreaterThan(5);
    expect(movedCommands.every((n) => n.startsWith("storefront-production-vps-host-2-"))).toBe(true);
    expect(changed).toEqual([...movedCommands, ...HOST_VARIABLES].sort());
    expect(mentioning(after.byName, "web-2.storefront.example.com")).toEqual([]);
  });

  it("keeps the names when only the port changes", async () => {
    const before = await snapshot();
    const hosts = productionHosts();
    (hosts[0] as Record<string, unknown>)["port"] = 2022;
    const after = await snapshot({ hosts });
    const { removed, added, changed } = compare(before.byName, after.byName);
    expect([removed, added]).toEqual([[], []]);
    expect(changed.filter((n) => !HOST_VARIABLES.includes(n)).every((n) => n.includes("-vps-host-1-"))).toBe(
      true,
    );
  });

  it("names resources after hosts[].name when given, whatever the address", async () => {
    const hosts = productionHosts().map((h, i) => ({ ...h, name: `web-${i + 1}` }));
    const { byName } = await snapshot({ hosts });
    const names = [...byName.keys()].filter((n) => n.startsWith("storefront-production-vps-"));
    expect(names.filter((n) => n.includes("storefront.example.com"))).toEqual([]);
    expect(names).toContain("storefront-production-vps-web-2-authorize-deploy-key");
  });
});

describe("a host that leaves the stack", () => {
  it("only drops its own resources, none of which has a delete, and registers nothing that reaches it", async () => {
    const before = await snapshot();
    const after = await snapshot({ hosts: productionHosts().slice(0, 1) });
    const { removed, added, changed } = compare(before.byName, after.byName);
    expect(added).toEqual([]);
    expect(removed.length).toBeGreaterThan(5);
    expect(removed.every((n) => n.startsWith("storefront-production-vps-host-2"))).toBe(true);
    // The engine deletes them with the state they were created with: none holds a delete command, so
    // pulumi-command's Delete returns without dialing (remote/commandController.go).
    for (const name of removed) expect(before.byName.get(name)?.inputs["delete"]).toBeUndefined();
    // On the VPS side nothing else changes; on GitHub the host list, known_hosts and the workflows (whose
    // timeouts grow with the number of hosts) follow.
    expect(changed.filter((n) => n.includes("-vps-"))).toEqual([]);
    expect(changed).toEqual(expect.arrayContaining(HOST_VARIABLES));
    expect(changed).not.toContain(SECRET);
    expect(mentioning(after.byName, "web-2.storefront.example.com")).toEqual([]);
  });

  it("renumbers the unnamed hosts after a removed one in place (their steps re-run), without deleting through them", async () => {
    const hosts = [
      ...productionHosts(),
      { host: "web-3.storefront.example.com", hostKey: productionHosts()[0]?.["hostKey"] },
    ];
    const before = await snapshot({ hosts });
    const after = await snapshot({ hosts: [hosts[0], hosts[2]] });
    const { removed, added } = compare(before.byName, after.byName);
    expect(added).toEqual([]);
    expect(removed.every((n) => n.startsWith("storefront-production-vps-host-3"))).toBe(true);
    expect(commandsOf(after.byName, "web-3.storefront.example.com")[0]?.name).toMatch(/-vps-host-2-/);
  });
});

describe("stacks created before hosts had names", () => {
  it("adopt the address-named resources through aliases instead of deleting them", async () => {
    const { run } = await snapshot({ deployKeyRotation: 4 });
    expect(run.aliases.get("storefront-production-vps-host-2")).toEqual([
      "storefront-production-vps-web-2.storefront.example.com-2222",
    ]);
    // The old authorize command held a delete that removes the current key line: it must be adopted, not deleted.
    expect(run.aliases.get("storefront-production-vps-host-2-authorize-deploy-key")).toEqual([
      "storefront-production-vps-host-2-authorize-deploy-key-4",
    ]);
  });
});
