// What the agent does for the boundary between root and the deploy user: production installs without lifecycle
// scripts unless the app lists what may build, and audit lines only through the root-owned helper's format check.
import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import {
  AUDIT_SUDOERS_FILE,
  auditLogScript,
  auditSudoersRule,
  renderAuditHelper,
} from "../../../src/render/shell/auditHelper";
import { AgentSandbox, type SandboxOptions } from "./agentHarness";
import { staging } from "./fixtures";

const sandboxes: AgentSandbox[] = [];
afterEach(() => {
  for (const box of sandboxes.splice(0)) box.dispose();
});

function sandbox(config: PipelineConfig = staging, options: SandboxOptions = {}): AgentSandbox {
  const box = new AgentSandbox(config, options);
  sandboxes.push(box);
  return box;
}

const withScripts = (config: PipelineConfig, dependencyScripts: "listed" | "none"): PipelineConfig => ({
  ...config,
  deploy: { ...config.deploy, dependencyScripts },
});

describe("install_dependencies", () => {
  const install = (box: AgentSandbox, packageJson: object): string[] => {
    writeFileSync(box.path("APP_HOME", "package.json"), JSON.stringify(packageJson));
    const result = box.run('install_dependencies "$APP_HOME"');
    expect(result.status, result.stderr).toBe(0);
    return box.stubCalls().filter((call) => call.startsWith("pnpm "));
  };
  const flags = (calls: string[]): string =>
    (calls[0] ?? "").replace(/ --store-dir .*$/, "").replace("pnpm install --prod --frozen-lockfile ", "");

  it("turns lifecycle scripts off when package.json lists no pnpm.onlyBuiltDependencies", () => {
    expect(flags(install(sandbox(), { name: "app" }))).toBe("--ignore-pnpmfile --ignore-scripts");
    expect(flags(install(sandbox(), { pnpm: { neverBuiltDependencies: ["x"] } }))).toBe(
      "--ignore-pnpmfile --ignore-scripts",
    );
  });

  it("lets pnpm run the scripts of the listed dependencies when the app lists them", () => {
    expect(flags(install(sandbox(), { pnpm: { onlyBuiltDependencies: ["esbuild"] } }))).toBe(
      "--ignore-pnpmfile",
    );
    expect(flags(install(sandbox(), { pnpm: { onlyBuiltDependencies: [] } }))).toBe("--ignore-pnpmfile");
  });

  it('runs no script at all with deploy.dependencyScripts "none", whatever the app lists', () => {
    const box = sandbox(withScripts(staging, "none"));
    expect(flags(install(box, { pnpm: { onlyBuiltDependencies: ["esbuild"] } }))).toBe(
      "--ignore-pnpmfile --ignore-scripts",
    );
  });

  it("reads package.json as data: a file that is not JSON turns scripts off", () => {
    const box = sandbox();
    writeFileSync(
      box.path("APP_HOME", "package.json"),
      "module.exports = { pnpm: { onlyBuiltDependencies: [] } }",
    );
    expect(box.run('install_dependencies "$APP_HOME"').status).toBe(0);
    expect(box.stubCalls().at(-1)).toContain("--ignore-scripts");
  });
});

describe("audit", () => {
  it("hands the line to the helper, which stamps the time and appends it", () => {
    const box = sandbox();
    const result = box.run("KEY_ID=ci-3 ACTOR=octocat VERB=deploy RELEASE=20261122140501-1a2b3c4; audit 0");
    expect(result.stderr).toBe("");
    expect(readFileSync(box.path("AUDIT_LOG"), "utf8")).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ key=ci-3 actor=octocat verb=deploy release=20261122140501-1a2b3c4 result=ok exit=0\n$/,
    );
  });

  it("the helper refuses anything but one audit line (no forged time, no second line, no spaces in values)", () => {
    const box = sandbox();
    const forged = [
      "2026-01-01T00:00:00Z key=ci-1 actor=a verb=deploy release=- result=ok exit=0",
      "key=ci-1 actor=a b verb=deploy release=- result=ok exit=0",
      "key=ci-1 actor=a verb=deploy release=- result=ok exit=0 extra",
      "",
    ];
    for (const line of forged) {
      const result = box.run(`printf '%s\\n' ${JSON.stringify(line)} | sudo -n "$AUDIT_HELPER"`);
      expect(result.status, line).toBe(65);
    }
    const twoLines = box.run(
      `printf 'key=ci-1 actor=a verb=v release=- result=ok exit=0\\nkey=ci-1 actor=b verb=v release=- result=ok exit=0\\n' | sudo -n "$AUDIT_HELPER"`,
    );
    expect(twoLines.status).toBe(0);
    expect(readFileSync(box.path("AUDIT_LOG"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("the helper writes whole lines whatever file-size limit the caller set, each on a line of its own", () => {
    const box = sandbox();
    const line = "key=ci-1 actor=a verb=deploy release=- result=ok exit=0";
    // A cut line left at the end of the log, and a limit set to end the next append in the middle.
    const result = box.run(
      [
        `printf '%s cut' "$(head -c 1000 /dev/zero | tr '\\0' x)" >"$AUDIT_LOG"`,
        `ulimit -S -f 1; printf '%s\\n' '${line}' | sudo -n "$AUDIT_HELPER"`,
      ].join("\n"),
    );
    expect(result.status, result.stderr).toBe(0);
    const lines = readFileSync(box.path("AUDIT_LOG"), "utf8").split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ${line}$`));
    expect(lines[2]).toBe("");
  });

  const LINE = "key=ci-1 actor=a verb=deploy release=- result=ok exit=0";
  /** Starts `holder` (a subshell that takes a lock) in the background and waits until it holds it. */
  const HOLD = (holder: string) =>
    [
      'mkfifo "$SANDBOX_DIR/held"',
      `( ${holder} && echo >"$SANDBOX_DIR/held" && exec sleep 30 ) &`,
      "holder=$!",
      'read -r <"$SANDBOX_DIR/held"',
    ].join("\n");

  it("the helper does not wait for a lock on the log: the deploy user may read it, and hold one there", () => {
    const box = sandbox();
    const result = box.run(
      [
        ': >"$AUDIT_LOG"',
        // The attacker: an exclusive lock on a read-only descriptor of the log, held for longer than the test.
        HOLD('exec 7<"$AUDIT_LOG" && flock -x 7'),
        // timeout: only so that the old helper, which waits for that lock, fails here instead of hanging.
        `status=0; printf '%s\\n' '${LINE}' | timeout 10 sudo -n "$AUDIT_HELPER" || status=$?`,
        'kill "$holder"',
        'echo "helper $status"',
      ].join("\n"),
    );
    expect(result.stdout).toBe("helper 0\n");
    expect(readFileSync(box.path("AUDIT_LOG"), "utf8")).toMatch(new RegExp(` ${LINE}\\n$`));
  });

  it("the helper waits a bounded time for another audit write, then gives its line up with exit 75", () => {
    const box = sandbox(staging, { auditLockWaitSeconds: 1 });
    const result = box.run(
      [
        HOLD(`exec 7>>${JSON.stringify(box.auditLock)} && flock -x 7`),
        `status=0; printf '%s\\n' '${LINE}' | sudo -n "$AUDIT_HELPER" || status=$?`,
        'kill "$holder"',
        'echo "helper $status"',
      ].join("\n"),
    );
    expect(result.stdout).toBe("helper 75\n");
    expect(result.stderr).toContain(`audit-append: ${box.auditLock} stayed locked for 1s; line not written`);
  });

  it("the agent lets go of the deploy lock before it writes the audit line: a waiting audit cannot keep it", () => {
    const box = sandbox();
    const result = box.run(
      [
        "take_lock",
        "AUDITED=yes",
        // Stands in for the helper: records whether another process could take the deploy lock meanwhile.
        'sudo() { if flock -n "$LOCK_FILE" true; then echo free; else echo held; fi >"$SANDBOX_DIR/during-audit"; cat >/dev/null; }',
        "trap on_exit EXIT",
      ].join("\n"),
    );
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(`${box.root}/during-audit`, "utf8")).toBe("free\n");
  });

  it("is installed with a sudoers rule for exactly the helper, checked by visudo before it is put in place", () => {
    expect(auditSudoersRule(staging)).toBe(
      "# Managed by pipeline (pulumi up rewrites this file): the audit log's only writer.\ndeploy ALL=(root) NOPASSWD: /usr/local/lib/pipeline/audit-append\n",
    );
    const script = auditLogScript(staging);
    expect(script.indexOf('visudo -c -q -f "$check"')).toBeLessThan(
      script.indexOf(`mv -fT "$check" ${AUDIT_SUDOERS_FILE}`),
    );
    expect(script).toContain('chown root:"$group" /var/log/pipeline/storefront');
    // The helper's lock: a root-only directory, outside everything the deploy user may read.
    expect(script).toContain(
      "mkdir -p /var/lib/pipeline/audit-locks\nchmod 0700 /var/lib/pipeline/audit-locks\nchown root:root /var/lib/pipeline/audit-locks",
    );
    expect(renderAuditHelper(staging)).toContain(
      "readonly AUDIT_LOCK=/var/lib/pipeline/audit-locks/storefront.lock\n",
    );
  });
});
