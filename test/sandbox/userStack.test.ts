// A stack file used with the sandbox: its hosts are replaced by local ones, so their host keys may be missing or
// placeholders there (and the sandbox says it ignores those it finds); loading the stack for pulumi still requires
// them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { loadFromStackFile, readStackFile } from "../../src/config/fromStackFile";
import { loadFromValues } from "../../src/config/fromValues";
import {
  type LocalHost,
  ignoredHostKeysNote,
  userStackBeforeHosts,
  userStackOnHosts,
} from "../../src/sandbox/userStack";

const LOCAL_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R";
const dir = mkdtempSync(join(tmpdir(), "user-stack-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stackFile(name: string, hosts: string, more: string[] = []): string {
  const file = join(dir, `Pulumi.${name}.yaml`);
  writeFileSync(
    file,
    [
      "config:",
      "  github:owner: someone",
      "  pipeline:repository: shop",
      "  pipeline:environment: staging",
      "  pipeline:branch: main",
      "  pipeline:url: https://shop.example.com",
      "  pipeline:ingress:",
      "    acmeEmail: ops@example.com",
      "  pipeline:hosts:",
      hosts,
      "  pipeline:app:",
      "    name: shop",
      ...more,
      "",
    ].join("\n"),
  );
  return file;
}

const WITHOUT_KEYS = stackFile(
  "nokeys",
  ["    - name: web-1", "      host: web-1.example.com", "    - host: web-2.example.com"].join("\n"),
);
const PLACEHOLDER_KEY = stackFile(
  "placeholder",
  ["    - name: web-1", "      host: web-1.example.com", "      hostKey: TODO"].join("\n"),
);

const local = (index: number): LocalHost => ({
  address: `10.200.${index}.2`,
  port: 22,
  hostKey: LOCAL_KEY,
  npmRegistry: "https://registry.test/",
});

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("a stack file in the sandbox", () => {
  it("needs no host keys: its hosts become the local hosts, with their own pinned keys and its host names", () => {
    const config = userStackOnHosts(WITHOUT_KEYS, [local(1), local(2)]);
    expect(config.hosts).toEqual([
      { name: "web-1", host: "10.200.1.2", port: 22, hostKey: LOCAL_KEY },
      { name: "host-2", host: "10.200.2.2", port: 22, hostKey: LOCAL_KEY },
    ]);
    expect(userStackOnHosts(PLACEHOLDER_KEY, [local(1)]).hosts[0]?.hostKey).toBe(LOCAL_KEY);
  });

  it("is checked before any host exists as the sandbox will use it, host keys left out", () => {
    expect(userStackBeforeHosts(WITHOUT_KEYS).app.name).toBe("shop");
    expect(userStackBeforeHosts(WITHOUT_KEYS).hosts.map((h) => h.name)).toEqual(["web-1", "host-2"]);
    expect(userStackBeforeHosts(PLACEHOLDER_KEY).hosts).toHaveLength(1);
  });

  it("still stops on the stack's other config errors before any host exists", () => {
    const bad = stackFile("bad", "    - host: web-1.example.com", ["  pipeline:deployUser: Root!"]);
    expect(problemsOf(() => userStackBeforeHosts(bad)).join("\n")).toMatch(/^pipeline:deployUser: /m);
  });

  it("says that it ignores the host keys a stack file lists, and nothing when it lists none", () => {
    expect(ignoredHostKeysNote(PLACEHOLDER_KEY)).toBe(
      "the stack's host keys (hosts[].hostKey) are ignored: the sandbox replaces its hosts with local ones and pins their own keys",
    );
    expect(ignoredHostKeysNote(WITHOUT_KEYS)).toBeUndefined();
  });
});

describe("the same stack file for pulumi", () => {
  it("requires each host's key, offline (render, check) and as pulumi up loads it", () => {
    const missing = [
      /^pipeline:hosts\[0\]\.hostKey: is required /,
      /^pipeline:hosts\[1\]\.hostKey: is required /,
    ];
    const offline = problemsOf(() => loadFromStackFile(WITHOUT_KEYS));
    const { values, githubOwner } = readStackFile(WITHOUT_KEYS);
    const pulumiUp = problemsOf(() =>
      loadFromValues({ ...values, adminPrivateKey: "key" }, githubOwner, {
        stack: "nokeys",
        requireSecrets: true,
      }),
    );
    for (const problems of [offline, pulumiUp]) {
      for (const pattern of missing)
        expect(
          problems.some((p) => pattern.test(p)),
          problems.join("\n"),
        ).toBe(true);
    }
    expect(problemsOf(() => loadFromStackFile(PLACEHOLDER_KEY)).join("\n")).toMatch(
      /^pipeline:hosts\[0\]\.hostKey: /m,
    );
  });
});
