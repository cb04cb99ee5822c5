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

// Answers `releases` with $RELEASES_LISTING; every call to $FAIL_HOST whose verb is $FAIL_VERB (default: deploy
// and rollback) exits with $FAIL_CODE, after printing $FAIL_OUTPUT when set; a deploy names the release it replaces
// ($REPLACING) and prints the agent's phase lines; SLOW makes deploys take a while.
const FAKE_SSH = `#!/usr/bin/env bash
bytes="$(wc -c | tr -d ' ')"
echo "$* stdin=$bytes" >> "$SSH_LOG"
if [[ " $* " == *" releases "* ]]; then printf '%s\n' "$RELEASES_LISTING"; exit 0; fi
verb_fails() { [[ " $* " == *" \${FAIL_VERB:-deploy} "* ]] || { [ -z "\${FAIL_VERB:-}" ] && [[ " $* " == *" rollback "* ]]; }; }
if [ -n "\${FAIL_HOST:-}" ] && [[ " $* " == *"@$FAIL_HOST "* ]] && verb_fails "$@"; then
  if [ -n "\${FAIL_OUTPUT:-}" ]; then printf '%s\\n' "$FAIL_OUTPUT" >&2; fi
  echo "release-agent: error: failing on purpose" >&2
  exit "$FAIL_CODE"
fi
if [[ " $* " == *" deploy "* ]]; then
  echo "release-agent: replacing \${REPLACING:-20261120100000-cccccccccccc}" >&2
  if [ -n "\${SLOW:-}" ]; then sleep "$SLOW"; fi
  echo "release-agent: phase upload 0.25s" >&2
  echo "release-agent: phase install 1.50s" >&2
  echo "deployed on the fake host"
fi
`;

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ship-"));
  writeFileSync(join(dir, "ssh"), FAKE_SSH);
  chmodSync(join(dir, "ssh"), 0o755);
  writeFileSync(join(dir, "release.tgz"), "artifact-bytes");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** qaConfig with the three hosts the tests list in DEPLOY_HOSTS. */
function threeHosts(deploy: Record<string, unknown> = {}) {
  const hostKey = qaConfig().hosts[0]?.hostKey ?? "";
  return qaConfig({
    hosts: [
      { host: "qa-1.example.com", hostKey },
      { host: "qa-2.example.com", port: 2222, hostKey },
      { host: "qa-3.example.com", hostKey },
    ],
    deploy,
  });
}

function ship(env: Record<string, string>, script = renderShipScript(threeHosts())) {
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
      RELEASES_LISTING: "* 20261120100000-cccccccccccc",
      ...env,
    },
  });
  const calls = existsSync(join(dir, "ssh.log"))
    ? readFileSync(join(dir, "ssh.log"), "utf8").trim().split("\n")
    : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

describe("renderShipScript", () => {
  const deployCalls = (calls: string[]) => calls.filter((c) => / deploy \d/.test(c));
  const verbsSent = (calls: string[]) =>
    calls.map((c) =>
      c
        .replace(/^.* deploy@/, "")
        .replace(/ stdin=\d+$/, "")
        .replace(/ --actor octocat$/, ""),
    );

  it("deploys to every host in order with strict host key checking and the artifact on stdin", () => {
    const run = ship({});
    expect(run.status).toBe(0);
    expect(deployCalls(run.calls)).toHaveLength(3);
    expect(deployCalls(run.calls)[0]).toBe(
      `-F none -T -i ${dir}/key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes ` +
        `-o UserKnownHostsFile=${dir}/known_hosts -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20 ` +
        `-o ServerAliveInterval=15 -o ServerAliveCountMax=4 -p 22 deploy@qa-1.example.com ` +
        `deploy 20261122140501-1a2b3c4d5e6f --actor octocat stdin=14`,
    );
    expect(deployCalls(run.calls)[1]).toContain("-p 2222 deploy@qa-2.example.com deploy");
    expect(run.stdout).toMatch(
      /OK {3}\[1\/3\] qa-1\.example\.com: deploy 20261122140501-1a2b3c4d5e6f in \d+s/,
    );
    expect(run.stdout).toContain("Deployed 20261122140501-1a2b3c4d5e6f to 3 host(s).");
  });

  it("makes one connection per host: the deploy itself names the release it replaces", () => {
    expect(verbsSent(ship({}).calls)).toEqual([
      "qa-1.example.com deploy 20261122140501-1a2b3c4d5e6f",
      "qa-2.example.com deploy 20261122140501-1a2b3c4d5e6f",
      "qa-3.example.com deploy 20261122140501-1a2b3c4d5e6f",
    ]);
  });

  it("takes only a release id from the line that names the replaced release", () => {
    const run = ship({
      REPLACING: "20261120100000-cccccccccccc; rm -rf /",
      FAIL_HOST: "qa-2.example.com",
      FAIL_CODE: "69",
    });
    expect(run.status).toBe(69);
    expect(verbsSent(run.calls).filter((call) => call.includes(" rollback "))).toEqual([]);
    expect(run.stdout).toContain("[qa-1.example.com] no release ran here before 20261122140501-1a2b3c4d5e6f");
  });

  it("deploys every host with --backup-taken when the caller backed the database up already, else without", () => {
    const deploys = (script?: string) => {
      rmSync(join(dir, "ssh.log"), { force: true });
      return verbsSent(ship({}, script).calls).filter((call) => call.includes(" deploy "));
    };
    expect(deploys(renderShipScript(threeHosts(), { backupTaken: true }))).toEqual([
      "qa-1.example.com deploy 20261122140501-1a2b3c4d5e6f --backup-taken",
      "qa-2.example.com deploy 20261122140501-1a2b3c4d5e6f --backup-taken",
      "qa-3.example.com deploy 20261122140501-1a2b3c4d5e6f --backup-taken",
    ]);
    expect(deploys()).toEqual([
      "qa-1.example.com deploy 20261122140501-1a2b3c4d5e6f",
      "qa-2.example.com deploy 20261122140501-1a2b3c4d5e6f",
      "qa-3.example.com deploy 20261122140501-1a2b3c4d5e6f",
    ]);
  });

  it("prefixes each line of a host's output with the host", () => {
    const run = ship({});
    expect(run.stdout).toContain("[qa-2.example.com:2222] deployed on the fake host");
    expect(run.stdout).toContain("[qa-1.example.com] release-agent: phase install 1.50s");
  });

  it("after a failing host, puts the hosts already switched back to the release each had (rollback-all)", () => {
    const run = ship({ FAIL_HOST: "qa-3.example.com", FAIL_CODE: "69" });
    expect(run.status).toBe(69);
    expect(run.stdout).toContain("FAIL [3/3] qa-3.example.com: exit 69: unhealthy");
    expect(verbsSent(run.calls).slice(3)).toEqual([
      "qa-1.example.com rollback 20261120100000-cccccccccccc",
      "qa-2.example.com rollback 20261120100000-cccccccccccc",
    ]);
    expect(run.stdout).toMatch(
      /\| qa-1\.example\.com \| deployed, then back to 20261120100000-cccccccccccc \(rollback-all\) \|/,
    );
  });

  it("with onFailure stop, leaves the switched hosts on the new release and never touches the later ones", () => {
    const run = ship(
      { FAIL_HOST: "qa-2.example.com", FAIL_CODE: "69" },
      renderShipScript(threeHosts({ onFailure: "stop" })),
    );
    expect(run.status).toBe(69);
    expect(run.calls.filter((c) => c.includes("qa-3.example.com"))).toEqual([]);
    expect(run.calls.filter((c) => c.includes(" rollback "))).toEqual([]);
    expect(run.stdout).toContain("FAIL [2/3] qa-2.example.com:2222: exit 69: unhealthy");
    expect(run.stdout).toContain("SKIP qa-3.example.com: not touched");
    expect(run.stdout).toContain("STOP: 1 host(s) keep 20261122140501-1a2b3c4d5e6f");
  });

  it("does not go back on a host that had no release before (its first deploy)", () => {
    const run = ship({ FAIL_HOST: "qa-2.example.com", FAIL_CODE: "69", REPLACING: "none" });
    expect(run.status).toBe(69);
    expect(run.calls.filter((c) => c.includes(" rollback "))).toEqual([]);
    expect(run.stdout).toContain("no release ran here before 20261122140501-1a2b3c4d5e6f");
  });

  it("starts every host of a batch before waiting for any (batchSize 2)", () => {
    const run = ship({ SLOW: "1" }, renderShipScript(threeHosts({ batchSize: 2 })));
    expect(run.status).toBe(0);
    const progress = run.stdout.split("\n").filter((line) => /^(==>|OK)/.test(line));
    expect(progress.map((line) => line.replace(/: deploy .*$/, ""))).toEqual([
      "==> [1/3] qa-1.example.com",
      "==> [2/3] qa-2.example.com:2222",
      "OK   [1/3] qa-1.example.com",
      "OK   [2/3] qa-2.example.com:2222",
      "==> [3/3] qa-3.example.com",
      "OK   [3/3] qa-3.example.com",
    ]);
  });

  it("deploys the canary alone, checks its health through the bake, then the others", () => {
    const script = renderShipScript(threeHosts({ canary: true, canaryBakeSeconds: 1, batchSize: 2 }));
    const run = ship({}, script);
    expect(run.status).toBe(0);
    const verbs = verbsSent(run.calls).map((c) => c.replace(/ 2026\S+/, ""));
    expect(verbs.slice(0, 2)).toEqual(["qa-1.example.com deploy", "qa-1.example.com health"]);
    // The other two hosts in one batch, in parallel: their calls may interleave.
    expect(verbs.slice(2).sort()).toEqual(["qa-2.example.com deploy", "qa-3.example.com deploy"]);
    expect(run.stdout).toMatch(/OK {3}canary qa-1\.example\.com: 1 health check\(s\) in 1s/);
  });

  it("a canary that turns unhealthy in its bake goes back, and no other host is touched", () => {
    const script = renderShipScript(threeHosts({ canary: true, canaryBakeSeconds: 1 }));
    const run = ship({ FAIL_HOST: "qa-1.example.com", FAIL_VERB: "health", FAIL_CODE: "69" }, script);
    expect(run.status).toBe(69);
    expect(verbsSent(run.calls)).toEqual([
      "qa-1.example.com deploy 20261122140501-1a2b3c4d5e6f",
      "qa-1.example.com health",
      "qa-1.example.com rollback 20261120100000-cccccccccccc",
    ]);
    expect(run.stdout).toContain("SKIP qa-2.example.com:2222 qa-3.example.com: not touched");
  });

  it("writes the per-host table with the agent's phase timings to $GITHUB_STEP_SUMMARY", () => {
    const summary = join(dir, "summary.md");
    const run = ship(
      { GITHUB_STEP_SUMMARY: summary, FAIL_HOST: "qa-3.example.com", FAIL_CODE: "68" },
      renderShipScript(threeHosts({ onFailure: "stop" })),
    );
    expect(run.status).toBe(68);
    const rows = readFileSync(summary, "utf8")
      .split("\n")
      .filter((line) => line.startsWith("| qa-"));
    expect(rows.map((row) => row.replace(/\| \d+s \|/, "| <time> |"))).toEqual([
      "| qa-1.example.com | deployed | <time> | 0.25s | 1.50s | - | - | - | - |",
      "| qa-2.example.com:2222 | deployed | <time> | 0.25s | 1.50s | - | - | - | - |",
      "| qa-3.example.com | failed: exit 68: install failed | <time> | - | - | - | - | - | - |",
    ]);
  });

  it("reads each host's log once for the table, which it renders once for stdout and the job summary", () => {
    // A sed in front of the real one that counts the table's reads (the phase line pattern) of the hosts' logs.
    const realSed = spawnSync("bash", ["-c", "command -v sed"], { encoding: "utf8" }).stdout.trim();
    const reads = join(dir, "phase-reads.log");
    writeFileSync(
      join(dir, "sed"),
      `#!/usr/bin/env bash\nif [[ "$*" == *"release-agent: phase"* ]]; then echo read >>"${reads}"; fi\nexec ${realSed} "$@"\n`,
    );
    chmodSync(join(dir, "sed"), 0o755);
    const summary = join(dir, "summary.md");
    const run = ship({ GITHUB_STEP_SUMMARY: summary });
    expect(run.status).toBe(0);
    const table = (text: string) => text.split("\n").filter((line) => line.startsWith("| qa-"));
    expect(table(run.stdout)).toHaveLength(3);
    expect(table(readFileSync(summary, "utf8"))).toEqual(table(run.stdout));
    expect(readFileSync(reads, "utf8").trim().split("\n")).toHaveLength(3);
  });

  it("shows the time of the phase a host failed in, marked failed", () => {
    const summary = join(dir, "summary.md");
    const run = ship(
      {
        GITHUB_STEP_SUMMARY: summary,
        FAIL_HOST: "qa-1.example.com",
        FAIL_CODE: "70",
        FAIL_OUTPUT: [
          "release-agent: phase upload 0.25s",
          "release-agent: phase install 1.50s",
          "release-agent: error: migrations failed; 20261122140501-1a2b3c4d5e6f was not switched live",
          "release-agent: phase migrate 0.42s failed",
        ].join("\n"),
      },
      renderShipScript(threeHosts({ onFailure: "stop" })),
    );
    expect(run.status).toBe(70);
    const row = readFileSync(summary, "utf8")
      .split("\n")
      .find((line) => line.startsWith("| qa-1."));
    expect(row?.replace(/\| \d+s \|/, "| <time> |")).toBe(
      "| qa-1.example.com | failed: exit 70: migration failed | <time> | 0.25s | 1.50s | 0.42s failed | - | - | - |",
    );
  });

  it("on SIGTERM (a cancelled run), stops the hosts in progress and puts back the ones already switched", () => {
    const script = renderShipScript(threeHosts());
    const wrapper = `bash -c "$SCRIPT" & pid=$!; sleep 1.5; kill -TERM "$pid"; wait "$pid"`;
    const run = ship({ SLOW: "1", SCRIPT: script }, wrapper);
    expect(run.status).toBe(75);
    expect(run.stdout).toContain("Cancelled (SIGTERM): stopping the hosts in progress");
    expect(verbsSent(run.calls)).toEqual([
      "qa-1.example.com deploy 20261122140501-1a2b3c4d5e6f",
      "qa-2.example.com deploy 20261122140501-1a2b3c4d5e6f",
      "qa-1.example.com rollback 20261120100000-cccccccccccc",
    ]);
    expect(run.stdout).not.toContain("[qa-2.example.com:2222] deployed on the fake host");
  });

  it("refuses a DEPLOY_HOSTS that lists other hosts than the stack's plan (exit 64)", () => {
    const run = ship({ DEPLOY_HOSTS: "qa-1.example.com qa-2.example.com:2222" });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain("DEPLOY_HOSTS lists 2 host(s) but the stack has 3: run pulumi up");
    expect(run.calls).toEqual([]);
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
  const rollback = (env: Record<string, string>) => ship(env, renderRollbackScript(threeHosts()));
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
    ship({ MIGRATE_ACTION: action, MIGRATE_MAINTENANCE: maintenance }, renderMigrateScript(threeHosts()));

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
