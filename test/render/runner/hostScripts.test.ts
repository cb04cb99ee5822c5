// Runs the rendered ship script with bash against a stand-in `ssh` on PATH that records its calls.
// (The real-host tests run the same script against real OpenSSH servers.)
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderMigrateScript } from "../../../src/render/runner/migrateScript";
import { renderRollbackScript } from "../../../src/render/runner/rollbackScript";
import { renderShipScript } from "../../../src/render/runner/shipScript";
import { qaConfig } from "../workflows/fixtures";

const FAKE_SSH = `#!/usr/bin/env bash
bytes="$(wc -c | tr -d ' ')"
echo "$* stdin=$bytes" >> "$SSH_LOG"
if [[ " $* " == *" releases "* ]]; then printf '%s\n' "$RELEASES_LISTING"; exit 0; fi
if [ -n "\${FAIL_HOST:-}" ] && [[ " $* " == *"@$FAIL_HOST "* ]]; then exit "$FAIL_CODE"; fi
echo "deployed on the fake host"
`;

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ship-"));
  writeFileSync(join(dir, "ssh"), FAKE_SSH);
  chmodSync(join(dir, "ssh"), 0o755);
  writeFileSync(join(dir, "release.tgz"), "artifact-bytes");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function ship(env: Record<string, string>, script = renderShipScript(qaConfig())) {
  const result = spawnSync("bash", ["-c", script], {
    encoding: "utf8",
    env: {
      PATH: `${dir}:${process.env["PATH"] ?? ""}`,
      SSH_LOG: join(dir, "ssh.log"),
      DEPLOY_HOSTS: "qa-1.example.com qa-2.example.com:2222 qa-3.example.com",
      DEPLOY_USER: "deploy",
      SSH_KEY_FILE: join(dir, "key"),
      KNOWN_HOSTS_FILE: join(dir, "known_hosts"),
      ARTIFACT: join(dir, "release.tgz"),
      RELEASE_ID: "20261122140501-1a2b3c4d5e6f",
      ACTOR: "octocat",
      ...env,
    },
  });
  const calls = existsSync(join(dir, "ssh.log"))
    ? readFileSync(join(dir, "ssh.log"), "utf8").trim().split("\n")
    : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

describe("renderShipScript", () => {
  it("deploys to every host in order with strict host key checking and the artifact on stdin", () => {
    const run = ship({});
    expect(run.status).toBe(0);
    expect(run.calls).toHaveLength(3);
    expect(run.calls[0]).toBe(
      `-F none -T -i ${dir}/key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes ` +
        `-o UserKnownHostsFile=${dir}/known_hosts -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20 ` +
        `-o ServerAliveInterval=15 -o ServerAliveCountMax=4 -p 22 deploy@qa-1.example.com ` +
        `deploy 20261122140501-1a2b3c4d5e6f --actor octocat stdin=14`,
    );
    expect(run.calls[1]).toContain("-p 2222 deploy@qa-2.example.com deploy");
    expect(run.stdout).toMatch(
      /OK {3}\[1\/3\] qa-1\.example\.com: deploy 20261122140501-1a2b3c4d5e6f in \d+s/,
    );
    expect(run.stdout).toContain("Deployed 20261122140501-1a2b3c4d5e6f to 3 host(s).");
  });

  it("stops at the first failing host with its exit code and never touches the later ones", () => {
    const run = ship({ FAIL_HOST: "qa-2.example.com", FAIL_CODE: "69" });
    expect(run.status).toBe(69);
    expect(run.calls).toHaveLength(2);
    expect(run.stdout).toContain("FAIL [2/3] qa-2.example.com:2222: exit 69: unhealthy");
    expect(run.stdout).toContain("SKIP qa-3.example.com: not touched");
  });

  it("explains an ssh failure (exit 255)", () => {
    const run = ship({ FAIL_HOST: "qa-1.example.com", FAIL_CODE: "255" });
    expect(run.status).toBe(255);
    expect(run.stdout).toContain("ssh failed (connection, host key or authentication)");
    expect(run.calls).toHaveLength(1);
  });

  it.each([
    ["RELEASE_ID", "latest; rm -rf /"],
    ["RELEASE_ID", "20261122140501-XYZ"],
    ["ACTOR", "octo cat"],
    ["DEPLOY_HOSTS", " "],
    ["ARTIFACT", "/nonexistent/release.tgz"],
    ["DEPLOY_USER", ""],
  ])("refuses %s=%j before any ssh call (exit 64)", (name, value) => {
    const run = ship({ [name]: value });
    expect(run.status).toBe(64);
    expect(run.calls).toEqual([]);
  });

  it("accepts bot actors such as dependabot[bot]", () => {
    expect(ship({ ACTOR: "dependabot[bot]" }).status).toBe(0);
  });
});

describe("renderRollbackScript", () => {
  const rollback = (env: Record<string, string>) => ship(env, renderRollbackScript(qaConfig()));
  const LISTING = [
    "* 20261122140501-aaaaaaaaaaaa",
    "  20261121100000-bbbbbbbbbbbb",
    "  20261120100000-cccccccccccc",
  ].join("\n");

  it("switches every host to the given release", () => {
    const run = rollback({ TARGET_RELEASE: "20261120100000-cccccccccccc" });
    expect(run.status).toBe(0);
    expect(run.calls.map((c) => c.replace(/^.* deploy@/, ""))).toEqual([
      "qa-1.example.com rollback 20261120100000-cccccccccccc --actor octocat stdin=0",
      "qa-2.example.com rollback 20261120100000-cccccccccccc --actor octocat stdin=0",
      "qa-3.example.com rollback 20261120100000-cccccccccccc --actor octocat stdin=0",
    ]);
  });

  it("without a release, sends every host to the release before the first host's current one", () => {
    const run = rollback({ RELEASES_LISTING: LISTING });
    expect(run.status).toBe(0);
    expect(run.calls[0]).toContain("deploy@qa-1.example.com releases");
    expect(run.calls.slice(1).every((c) => c.includes("rollback 20261121100000-bbbbbbbbbbbb --actor"))).toBe(
      true,
    );
  });

  it("fails with 71 when there is no earlier release", () => {
    const run = rollback({ RELEASES_LISTING: "* 20261122140501-aaaaaaaaaaaa" });
    expect(run.status).toBe(71);
    expect(run.calls).toHaveLength(1);
  });

  it("refuses a release id that is not one", () => {
    expect(rollback({ TARGET_RELEASE: "../../etc" }).status).toBe(64);
  });
});

describe("renderMigrateScript", () => {
  const migrate = (action: string, maintenance = "false") =>
    ship({ MIGRATE_ACTION: action, MIGRATE_MAINTENANCE: maintenance }, renderMigrateScript(qaConfig()));

  it.each([
    ["migrate", "false", "migrate --actor octocat"],
    ["rollback", "false", "migrate-rollback --actor octocat"],
    ["status", "false", "migrate-status"],
    ["migrate", "true", "migrate --maintenance --actor octocat"],
    ["rollback", "true", "migrate-rollback --maintenance --actor octocat"],
  ])("%s with maintenance %s runs `%s` on the first host only", (action, maintenance, verb) => {
    const run = migrate(action, maintenance);
    expect(run.status).toBe(0);
    expect(run.calls).toHaveLength(1);
    expect(run.calls[0]).toContain(`deploy@qa-1.example.com ${verb} stdin=0`);
  });

  it("refuses an unknown action, status in maintenance and a maintenance value that is not a boolean", () => {
    expect(migrate("drop-database").status).toBe(64);
    const status = migrate("status", "true");
    expect(status.status).toBe(64);
    expect(status.stderr).toContain("maintenance only with migrate, rollback");
    expect(migrate("migrate", "yes").status).toBe(64);
    expect(migrate("migrate", "yes").calls).toHaveLength(0);
  });
});
