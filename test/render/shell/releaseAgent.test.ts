import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AGENT_EXIT, AGENT_VERB_NAMES, verbUsage } from "../../../src/render/agentProtocol";
import { renderEcosystem } from "../../../src/render/shell/pm2Ecosystem";
import { exitVariableName, renderReleaseAgent } from "../../../src/render/shell/releaseAgent";
import { production, staging } from "./fixtures";

// The agent validates its whole command line before it touches the filesystem, so these cases run it for real
// (as whoever runs the tests; production's deploy user "app" is assumed not to be that user).
const scratch = mkdtempSync(join(tmpdir(), "release-agent-"));
const agentPath = join(scratch, "release-agent");
writeFileSync(agentPath, renderReleaseAgent(production), { mode: 0o755 });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const RELEASE = "20261122140501-1a2b3c4d5e6f";

function runDirect(...args: string[]) {
  return spawnSync("bash", [agentPath, ...args], { encoding: "utf8", input: "", cwd: scratch });
}

function runForced(command: string | undefined, ...forcedArgs: string[]) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  if (command !== undefined) env.SSH_ORIGINAL_COMMAND = command;
  return spawnSync("bash", [agentPath, ...(forcedArgs.length > 0 ? forcedArgs : ["--key", "ci-3"])], {
    encoding: "utf8",
    input: "",
    cwd: scratch,
    env,
  });
}

const REJECTED_COMMANDS: ReadonlyArray<readonly [string, number]> = [
  ["", AGENT_EXIT.usage],
  ["frobnicate", AGENT_EXIT.usage],
  ["bash", AGENT_EXIT.usage],
  ["deploy", AGENT_EXIT.usage],
  ["deploy 1;id", AGENT_EXIT.usage],
  ["deploy $(id)", AGENT_EXIT.usage],
  ["deploy `id`", AGENT_EXIT.usage],
  ["deploy 123 | sh", AGENT_EXIT.usage],
  [`deploy ${RELEASE} && id`, AGENT_EXIT.usage],
  [`deploy ${RELEASE}\nid`, AGENT_EXIT.usage],
  [`deploy ${RELEASE}\tid`, AGENT_EXIT.usage],
  [`deploy ../../etc`, AGENT_EXIT.usage],
  [`deploy ${RELEASE} ${RELEASE}`, AGENT_EXIT.usage],
  [`deploy ${RELEASE} --actor`, AGENT_EXIT.usage],
  [`deploy ${RELEASE} --actor -x`, AGENT_EXIT.usage],
  [`deploy ${RELEASE} --actor a --actor b`, AGENT_EXIT.usage],
  [`deploy ${RELEASE} --actor ${"a".repeat(40)}`, AGENT_EXIT.usage],
  [`deploy ${RELEASE} --force`, AGENT_EXIT.usage],
  ["deploy 123", AGENT_EXIT.badReleaseId],
  ["deploy 20261122140501-XYZ1234", AGENT_EXIT.badReleaseId],
  ["deploy 2026112214050-1a2b3c4", AGENT_EXIT.badReleaseId],
  ["rollback 2026", AGENT_EXIT.badReleaseId],
  [`rollback ${RELEASE} extra`, AGENT_EXIT.usage],
  ["releases extra", AGENT_EXIT.usage],
  ["status --actor octocat", AGENT_EXIT.usage],
  ["health now", AGENT_EXIT.usage],
  ["migrate-status --actor octocat", AGENT_EXIT.usage],
  [`migrate ${RELEASE}`, AGENT_EXIT.usage],
  ["x".repeat(2000), AGENT_EXIT.usage],
];

describe("release agent argument validation (run locally)", () => {
  it.skipIf(userInfo().username === production.deployUser)(
    "passes a valid command through to the user check",
    () => {
      const result = runForced(`deploy ${RELEASE} --actor dependabot[bot]`);
      expect(result.stderr).toContain("run the agent as app");
      expect(result.status).toBe(AGENT_EXIT.usage);
    },
  );

  const cases = REJECTED_COMMANDS.map(([command, code]) => ({
    label:
      command.length > 80
        ? `${command.slice(0, 20)}... (${command.length} characters)`
        : JSON.stringify(command),
    command,
    code,
  }));
  it.each(cases)("SSH_ORIGINAL_COMMAND $label exits $code", ({ command, code }) => {
    const result = runForced(command);
    expect(result.status, result.stderr).toBe(code);
    expect(result.stdout).toBe("");
  });

  it("rejects a missing command, a bad key id and extra forced-command arguments", () => {
    expect(runForced(undefined).status).toBe(AGENT_EXIT.usage);
    expect(runForced("releases", "--key", "ci-1;id").status).toBe(AGENT_EXIT.usage);
    expect(runForced("releases", "--key", "ci-1", "releases").status).toBe(AGENT_EXIT.usage);
    expect(runForced("releases", "--key").status).toBe(AGENT_EXIT.usage);
  });

  it("applies the same rules to direct invocations", () => {
    expect(runDirect().status).toBe(AGENT_EXIT.usage);
    expect(runDirect("deploy", "1;id").status).toBe(AGENT_EXIT.usage);
    expect(runDirect("deploy", `${RELEASE} x`).status).toBe(AGENT_EXIT.usage);
    expect(runDirect("deploy", "$(id)").status).toBe(AGENT_EXIT.usage);
    expect(runDirect("rollback", "123").status).toBe(AGENT_EXIT.badReleaseId);
    expect(runDirect("releases", "extra").status).toBe(AGENT_EXIT.usage);
    const usage = runDirect("nope");
    expect(usage.stderr).toContain("unknown verb");
    for (const name of AGENT_VERB_NAMES) expect(usage.stderr).toContain(verbUsage(name));
  });
});

describe("release agent structure", () => {
  const script = renderReleaseAgent(staging);

  it("is strict bash with the config's settings up front", () => {
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain("\nset -euo pipefail\n");
    expect(script).toContain("readonly RELEASES_DIR=/home/deploy/apps/storefront/releases\n");
    expect(script).toContain("readonly HEALTH_PATH=/health\n");
    expect(script).toContain("readonly FIRST_PORT=3000\nreadonly SECOND_PORT=3001\n");
    expect(script).toContain("readonly KEEP_RELEASES=5\n");
    expect(script).toContain("readonly LOCK_FILE=/home/deploy/apps/storefront/.deploy.lock\n");
    expect(script).toContain("readonly PNPM_STORE=/home/deploy/.local/share/pnpm/store\n");
    expect(script).toContain("readonly MIGRATE_COMMAND='pnpm run --if-present migrate'\n");
    // Upload caps in bytes: the artifact's (deploy.maxArtifactMegabytes) and a streamed restore's (backup.*, 10 GiB).
    expect(script).toContain("readonly MAX_ARTIFACT_BYTES=1073741824\n");
    expect(script).toContain("readonly MAX_RESTORE_BYTES=10737418240\n");
    expect(renderReleaseAgent(production)).toContain("readonly HEALTH_PATH='/health?deep=1'\n");
  });

  it("defines every exit code of the contract under one variable each", () => {
    for (const [name, code] of Object.entries(AGENT_EXIT)) {
      expect(script).toContain(`readonly ${exitVariableName(name)}=${code}\n`);
      expect(script).toContain(`    ${code}) echo ${name} ;;`);
    }
    expect(exitVariableName("badReleaseId")).toBe("EXIT_BAD_RELEASE_ID");
  });

  function sourced(commands: string): ReturnType<typeof spawnSync> {
    return spawnSync("bash", ["--norc", "-c", `source "$1"\n${commands}`, "bash", agentPath], {
      encoding: "utf8",
      input: "",
      cwd: scratch,
    });
  }

  it("runs pm2 with the daemon's environment, without the lock's descriptor and without stdin", () => {
    const bin = join(scratch, "fake-bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, "pm2"),
      '#!/bin/bash\necho "args=$* policy=${NODE_CLUSTER_SCHED_POLICY:-unset} fd9=$([ -e /dev/fd/9 ] && echo open || echo closed) stdin=$(cat)"\n',
      { mode: 0o755 },
    );
    const result = sourced(
      `PATH=${bin}:$PATH; exec 9>"${join(scratch, "lock")}"; echo piped | pm2_cli jlist`,
    );
    expect(result.stdout).toBe("args=jlist policy=none fd9=closed stdin=\n");
  });

  it("only defines its functions when sourced (main does not run)", () => {
    const result = sourced('declare -F main verb_deploy dispatch_verb >/dev/null && echo "functions only"');
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("functions only\n");
    expect(result.status).toBe(0);
  });

  it("takes each verb's argument shape from the contract", () => {
    const specs = (names: string[]) =>
      String(sourced(names.map((name) => `verb_spec ${name}`).join("\n")).stdout)
        .trimEnd()
        .split("\n");
    const verbs = [
      "deploy",
      "rollback",
      "status",
      "migrate",
      "migrate-status",
      "maintenance",
      "backup",
      "restore",
    ];
    expect(specs(verbs)).toEqual([
      "1 1 yes RELEASE_ID_PATTERN EXIT_BAD_RELEASE_ID --maintenance,--backup-taken",
      "0 1 yes RELEASE_ID_PATTERN EXIT_BAD_RELEASE_ID -",
      "0 0 no - - -",
      "0 0 yes - - --maintenance,--backup-taken",
      "0 0 no - - -",
      "1 1 yes MAINTENANCE_MODE_PATTERN EXIT_USAGE -",
      "0 1 yes BACKUP_ID_PATTERN EXIT_USAGE -",
      "1 1 yes BACKUP_ID_PATTERN EXIT_USAGE --confirm,--stdin",
    ]);
    expect(specs(AGENT_VERB_NAMES)).toHaveLength(AGENT_VERB_NAMES.length);
    expect(sourced("verb_spec bash").status).toBe(1);
  });

  it("lists the contract's verbs in its usage text", () => {
    const usage = String(sourced('printf "%s\\n" "$USAGE_TEXT"').stdout);
    expect(usage).toBe(AGENT_VERB_NAMES.map((name) => `  ${verbUsage(name)}\n`).join(""));
  });

  it("switches current atomically and keeps the pm2 daemon off the lock", () => {
    expect(script).toContain('ln -sfn "$RELEASES_DIR/$1" "$APP_ROOT/current.tmp"');
    expect(script).toContain('mv -T "$APP_ROOT/current.tmp" "$CURRENT_LINK"');
    expect(script).toContain('flock -w "$LOCK_TIMEOUT_SECONDS" 9');
    expect(script).toContain(
      'pnpm install --prod --frozen-lockfile --ignore-pnpmfile "${scripts[@]}" --store-dir "$PNPM_STORE"',
    );
    expect(script).not.toMatch(/^\s*eval\s/m);
  });
});

describe("pm2 ecosystem file", () => {
  interface EcosystemApp {
    name: string;
    cwd: string;
    script: string;
    exec_mode: string;
    instances: number | string;
    env: Record<string, string>;
  }

  function evaluate(source: string, envFileContent: string | undefined): EcosystemApp {
    const module = { exports: {} as { apps: EcosystemApp[] } };
    const fakeFs = {
      readFileSync: () => {
        if (envFileContent === undefined) throw new Error("ENOENT");
        return envFileContent;
      },
    };
    new Function("require", "module", source)(() => fakeFs, module);
    const app = module.exports.apps[0];
    if (!app) throw new Error("no app");
    return app;
  }

  it("runs the app in cluster mode from the current symlink", () => {
    const app = evaluate(renderEcosystem(production), undefined);
    expect(app).toMatchObject({
      name: "storefront",
      cwd: "/home/app/apps/storefront/current",
      script: "/home/app/apps/storefront/current/dist/server.js",
      exec_mode: "cluster",
      instances: "max",
      env: { NODE_ENV: "production", PORT: "3000" },
    });
  });

  it("loads shared/.env like the agent does, with PORT from config winning", () => {
    const env = evaluate(
      renderEcosystem(staging),
      "# comment\nA=1\nexport B='two words'\nC=\"x=y\"\r\nPORT=9999\nNODE_ENV=staging\nnot a pair\n",
    ).env;
    expect(env).toEqual({ NODE_ENV: "staging", A: "1", B: "two words", C: "x=y", PORT: "3000" });
  });
});
