// The action pins: each is the release that was checked in the action's own repository (its tag's commit, and an
// action.yml with `runs.using: node24`, since GitHub Actions no longer runs Node 20 actions), and Renovate's
// custom manager (renovate.json) reads every pin of actions.ts, SHA and version together.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ACTIONS, type ActionPin, actionRef, pinnedVersion } from "../../../src/render/workflows/actions";

const ROOT = join(__dirname, "../../..");
const ACTIONS_FILE = "src/render/workflows/actions.ts";

/**
 * Evidence, read with `git tag`, `git rev-parse <tag>^{commit}` and `git show <tag>:action.yml` in each action's
 * repository (the newest release tag of the stored snapshot, snapshot date in brackets).
 */
const CHECKED: Array<ActionPin & { runsUsing: string; evidence: string }> = [
  {
    repository: "actions/checkout",
    version: "v7.0.1",
    sha: "3d3c42e5aac5ba805825da76410c181273ba90b1",
    runsUsing: "node24",
    evidence: "newest tag v7.0.1 [2026-07-22]",
  },
  {
    repository: "actions/setup-node",
    version: "v7.0.0",
    sha: "820762786026740c76f36085b0efc47a31fe5020",
    runsUsing: "node24",
    evidence: "newest tag v7.0.0 [2026-08-18]",
  },
  {
    repository: "actions/upload-artifact",
    version: "v7.0.0",
    sha: "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
    runsUsing: "node24",
    evidence: "newest tag v7.0.0 [2026-03-01]",
  },
  {
    repository: "actions/download-artifact",
    version: "v8.0.1",
    sha: "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
    runsUsing: "node24",
    evidence: "newest tag v8.0.1 [2026-05-04]",
  },
  {
    repository: "actions/github-script",
    version: "v8.0.0",
    sha: "ed597411d8f924073f98dfc5c65a23a2325f34cd",
    runsUsing: "node24",
    evidence: "newest tag v8.0.0 [2025-09-04]",
  },
  {
    repository: "aws-actions/configure-aws-credentials",
    version: "v6.2.3",
    sha: "e6de054238d6b7531b4efff3b6587d9aade6a06c",
    runsUsing: "node24",
    evidence: "newest tag v6.2.3 [2026-08-18]",
  },
  {
    repository: "pulumi/actions",
    version: "v7.0.0",
    sha: "8e5e406f4007fca908480587cb9893c07090f58d",
    runsUsing: "node24",
    evidence: "newest tag v7.0.0 [2026-07-02]",
  },
];

const pins = (list: ActionPin[]) =>
  list
    .map(({ repository, sha, version }) => ({ repository, sha, version }))
    .sort((a, b) => a.repository.localeCompare(b.repository));

describe("the action pins", () => {
  it("are the releases checked in each action's repository (tag, commit, runs.using node24)", () => {
    expect(pins(Object.values(ACTIONS))).toEqual(pins(CHECKED));
    for (const pin of CHECKED) expect(pin.runsUsing, pin.repository).toBe("node24");
  });

  it("are full commit SHAs with a vX.Y.Z release, rendered as the `# vX.Y.Z` comment", () => {
    for (const pin of Object.values(ACTIONS)) {
      expect(pin.sha, pin.repository).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.version, pin.repository).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(pinnedVersion(actionRef(pin))).toBe(pin.version);
    }
  });
});

interface RegexManager {
  customType: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate: string;
  versioningTemplate: string;
}

/** Renovate's `/.../` file pattern as a RegExp. */
function filePattern(pattern: string): RegExp {
  const match = /^\/(.*)\/([a-z]*)$/.exec(pattern);
  if (!match) throw new Error(`not a /regex/ pattern: ${pattern}`);
  return new RegExp(match[1] ?? "", match[2]);
}

describe("Renovate's custom manager for the pins (renovate.json)", () => {
  const config = JSON.parse(readFileSync(join(ROOT, "renovate.json"), "utf8")) as {
    enabledManagers: string[];
    customManagers: RegexManager[];
  };
  const managers = config.customManagers.filter((m) =>
    m.managerFilePatterns.some((p) => filePattern(p).test(ACTIONS_FILE)),
  );

  it("is one regex manager for actions.ts, looking up GitHub tags as semver versions, and is enabled", () => {
    expect(managers).toHaveLength(1);
    expect(managers[0]).toMatchObject({
      customType: "regex",
      datasourceTemplate: "github-tags",
      versioningTemplate: "semver",
    });
    expect(config.enabledManagers).toContain("custom.regex");
  });

  it("captures depName, currentValue and currentDigest of every pin in actions.ts, and nothing else", () => {
    const source = readFileSync(join(ROOT, ACTIONS_FILE), "utf8");
    const captured = (managers[0]?.matchStrings ?? []).flatMap((matchString) =>
      [...source.matchAll(new RegExp(matchString, "g"))].map((m) => ({
        repository: m.groups?.depName ?? "",
        sha: m.groups?.currentDigest ?? "",
        version: m.groups?.currentValue ?? "",
      })),
    );
    expect(pins(captured)).toEqual(pins(Object.values(ACTIONS)));
  });
});
