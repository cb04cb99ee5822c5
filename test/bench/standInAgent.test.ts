// The fleet benchmark's stand-in agent, run with bash: the agent's contract (forced command, exit codes, progress
// lines, the replaced release) as the runner reads it, and the artifact drained from stdin. The short sleeps only
// keep the tests quick; nothing here is timed.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderStandInAgent } from "../../bench/standInAgent";
import { AGENT_EXIT, DEPLOY_PHASES, PHASE_LINE_SED } from "../../src/render/agentProtocol";
import { renderShipScript } from "../../src/render/runner/shipScript";
import { qaConfig } from "../render/workflows/fixtures";

const QUICK = { install: 0.01, migrate: 0, start: 0.01, health: 0.01, switch: 0.01 };
const RELEASE_A = "20261122140501-1a2b3c4d5e6f";
const RELEASE_B = "20261122150501-2b3c4d5e6f70";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stand-in-"));
  // The state directory of a stand-in host is the app root, which holds the release layout (releases/, shared/).
  for (const entry of ["releases", "shared"]) mkdirSync(join(dir, entry));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The stand-in as sshd runs it for the deploy key: `<agent> --key ci-0`, the client's command in the environment. */
function viaDeployKey(command: string | undefined, stdin: string | Buffer = "") {
  const agent = join(dir, "agent");
  writeFileSync(agent, renderStandInAgent({ stateDir: dir, phaseSeconds: QUICK }));
  const env = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    ...(command === undefined ? {} : { SSH_ORIGINAL_COMMAND: command }),
  };
  const result = spawnSync("bash", [agent, "--key", "ci-0"], { input: stdin, encoding: "utf8", env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The phase lines as the runner's table reads them (PHASE_LINE_SED, with sed). */
function phasesRead(stderr: string): string[] {
  const read = spawnSync("sed", ["-n", `s/${PHASE_LINE_SED}/\\1 \\2\\3/p`], {
    input: stderr,
    encoding: "utf8",
  });
  return read.stdout.trim().split("\n");
}

describe("the stand-in agent", () => {
  it("deploys behind the forced command: drains the whole artifact, names the release it replaces, prints every phase", () => {
    const artifact = Buffer.alloc(1024 * 1024, 7); // far beyond a pipe's buffer: the writer blocks unless it is read
    const run = viaDeployKey(`deploy ${RELEASE_A} --actor octocat`, artifact);
    expect(run.status, run.stderr).toBe(AGENT_EXIT.ok);
    expect(run.stderr).toContain(`release-agent: stand-in received ${artifact.length} bytes`);
    expect(run.stderr).toContain("release-agent: replacing none\n");
    expect(phasesRead(run.stderr).map((line) => line.split(" ")[0])).toEqual([...DEPLOY_PHASES]);
    expect(phasesRead(run.stderr).every((line) => /^[a-z]+ \d+\.\d\ds$/.test(line))).toBe(true);
  });

  it("keeps its releases: the next deploy replaces the last one, `releases` lists them newest first", () => {
    expect(viaDeployKey(`deploy ${RELEASE_A} --actor octocat`, "x").status).toBe(AGENT_EXIT.ok);
    const second = viaDeployKey(`deploy ${RELEASE_B} --backup-taken --actor octocat`, "x");
    expect(second.status).toBe(AGENT_EXIT.ok);
    expect(second.stderr).toContain(`release-agent: replacing ${RELEASE_A}\n`);
    expect(viaDeployKey("releases").stdout).toBe(`* ${RELEASE_B}\n  ${RELEASE_A}\n`);
  });

  it("rolls back to the release before current, or to a named one", () => {
    viaDeployKey(`deploy ${RELEASE_A}`, "x");
    viaDeployKey(`deploy ${RELEASE_B}`, "x");
    const back = viaDeployKey("rollback --actor octocat");
    expect(back.status, back.stderr).toBe(AGENT_EXIT.ok);
    expect(viaDeployKey("releases").stdout).toBe(`  ${RELEASE_B}\n* ${RELEASE_A}\n`);
    expect(viaDeployKey(`rollback ${RELEASE_B} --actor octocat`).status).toBe(AGENT_EXIT.ok);
    expect(viaDeployKey("releases").stdout).toBe(`* ${RELEASE_B}\n  ${RELEASE_A}\n`);
  });

  it.each([
    ["a bad release id", "deploy 2026-not-an-id", "x", "badReleaseId"],
    ["no artifact", `deploy ${RELEASE_A}`, "", "badArtifact"],
    ["an unknown verb", "frobnicate", "", "usage"],
    ["a verb of the contract it does not play", "migrate", "", "usage"],
    ["characters outside the command's set", "health; rm -rf /", "", "usage"],
    ["no release to go back to", "rollback", "", "noRollbackTarget"],
    ["a release that is not there", `rollback ${RELEASE_B}`, "", "releaseNotFound"],
  ] as const)("answers %s with the agent's exit code", (_, command, stdin, exit) => {
    expect(viaDeployKey(command, stdin).status).toBe(AGENT_EXIT[exit]);
  });

  it("refuses the forced command without a command", () => {
    const run = viaDeployKey(undefined);
    expect(run.status).toBe(AGENT_EXIT.usage);
    expect(run.stderr).toContain("release-agent: error: no command given");
  });

  it("is what the ship script expects: three hosts in two batches deploy, each with its phase timings in the table", () => {
    // `ssh` runs the host's stand-in as sshd runs the forced command: the words after user@host become its command.
    const fakeSsh = [
      "#!/usr/bin/env bash",
      "while [[ $1 != *@* ]]; do shift; done",
      "host=${1#*@}",
      "shift",
      'SSH_ORIGINAL_COMMAND="$*" exec bash "$AGENTS/$host" --key ci-0',
      "",
    ].join("\n");
    writeFileSync(join(dir, "ssh"), fakeSsh);
    chmodSync(join(dir, "ssh"), 0o755);
    const hosts = ["qa-1.example.com", "qa-2.example.com", "qa-3.example.com"];
    for (const host of hosts) {
      const state = mkdtempSync(join(dir, "state-"));
      writeFileSync(join(dir, host), renderStandInAgent({ stateDir: state, phaseSeconds: QUICK }));
    }
    writeFileSync(join(dir, "release.tgz"), "artifact-bytes");
    const hostKey = qaConfig().hosts[0]?.hostKey ?? "";
    const config = qaConfig({ hosts: hosts.map((host) => ({ host, hostKey })), deploy: { batchSize: 2 } });
    const run = spawnSync("bash", ["-c", renderShipScript(config)], {
      encoding: "utf8",
      env: {
        PATH: `${dir}:${process.env["PATH"] ?? ""}`,
        AGENTS: dir,
        DEPLOY_HOSTS: hosts.join(" "),
        DEPLOY_USER: "deploy",
        SSH_KEY_FILE: join(dir, "key"),
        KNOWN_HOSTS_FILE: join(dir, "known_hosts"),
        ARTIFACT: join(dir, "release.tgz"),
        RELEASE_ID: RELEASE_A,
        ACTOR: "octocat",
      },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`Deployed ${RELEASE_A} to 3 host(s).`);
    const tableRows = run.stdout.split("\n").filter((line) => /^\| qa-\d/.test(line));
    expect(tableRows).toHaveLength(3);
    for (const row of tableRows) {
      const cells = row.split("|").map((cell) => cell.trim());
      expect(cells[2]).toBe("deployed");
      expect(cells.slice(4, 4 + DEPLOY_PHASES.length).every((cell) => /^\d+\.\d\ds$/.test(cell))).toBe(true);
    }
  });
});
