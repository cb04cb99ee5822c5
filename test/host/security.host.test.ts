// The boundary between root and the deploy user (issue 8, findings 1, 2, 11): root never follows a path the deploy
// user can change, and nothing running as the deploy user (the app, a dependency's install script, a migration)
// can change which keys log in, what the deploy key runs, or the audit log.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostLayout } from "../../src/render/hostLayout";
import { hostSteps, withDeployKeyFilledIn } from "../../src/render/shell/hostSteps";
import { deployUserScript } from "../../src/render/shell/steps/system";
import { quote } from "../../src/primitives/shellQuote";
import { asRoot as rootCommand } from "../../src/render/shell/commands";
import { callAgent, runSteps, stackOnHosts } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  APP_ENV,
  HostPool,
  type Release,
  type Stack,
  asRoot,
  auditEntries,
  deploy,
  deployOk,
  eventually,
  generateDeployKey,
  servedGet,
  makeRelease,
  provisionedStack,
  withRoot,
  writeRunnerFiles,
} from "./support";

const pool = new HostPool("host-tests-security");

/** Files a root write, chmod or chown through a planted link would change. */
const VICTIMS = ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/ssh", "/etc/ssh/sshd_config"];
const FINGERPRINT = `stat -c '%n %u:%g %a %s %Y' ${VICTIMS.join(" ")}; sha256sum /etc/passwd /etc/shadow /etc/group`;

/** A release whose package.json is changed by `edit` (the example app's build, repacked). */
function releaseWithPackageJson(stack: Stack, edit: (pkg: Record<string, unknown>) => void): Release {
  const release = makeRelease(stack.config);
  const work = mkdtempSync(join(tmpdir(), "evil-artifact-"));
  try {
    execFileSync("tar", ["-xzf", release.artifact, "-C", work]);
    const file = join(work, "package.json");
    const pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    edit(pkg);
    writeFileSync(file, JSON.stringify(pkg, null, 2));
    execFileSync("tar", ["-czf", release.artifact, "-C", work, "--", ...stack.config.app.artifactPaths]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return release;
}

describe("root and the deploy user", () => {
  let stack: Stack;
  let host: HostHandle;
  let user: string;
  let home: string;
  const asUser = (command: string): string =>
    `cd / && runuser -u ${user} -- bash --norc -c ${quote(command)}`;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack([host]);
    user = stack.config.deployUser;
    home = hostLayout(stack.config).home;
    await deployOk(stack, makeRelease(stack.config));
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("keeps the home, the dotfiles, the keys and the audit log root's: the deploy user can change none of them", async () => {
    const layout = hostLayout(stack.config);
    expect(
      await asRoot(host, `stat -c '%U:%G %a' ${home} ${home}/.bashrc ${home}/.profile ${home}/.npmrc`),
    ).toBe(`root:${user} 750\nroot:root 644\nroot:root 644\nroot:root 644\n`);
    expect(await asRoot(host, `stat -c '%U:%G %a' ${layout.authorizedKeys} ${layout.auditLog}`)).toBe(
      `root:root 644\nroot:${user} 640\n`,
    );
    const attempts = [
      `echo 'touch /tmp/hook' >> ${home}/.bashrc`,
      `rm -f ${home}/.bashrc`,
      `mv ${home}/.bashrc ${home}/old`,
      `touch ${home}/.bash_aliases`,
      `mkdir ${home}/.ssh`,
      `echo 'ssh-ed25519 AAAA x' >> ${layout.authorizedKeys}`,
      `: > ${layout.auditLog}`,
      `rm -f ${layout.auditLog}`,
      "sudo -n /bin/true",
      `echo 'forged' | sudo -n /usr/local/lib/pipeline/audit-append`,
    ];
    const outcomes = await withRoot(host, async (session) => {
      const codes: [string, boolean][] = [];
      for (const attempt of attempts) codes.push([attempt, (await session.exec(asUser(attempt))).code === 0]);
      return codes;
    });
    expect(outcomes).toEqual(attempts.map((attempt) => [attempt, false]));
    // The one thing it may do: append a well-formed line through the helper (stamped by the helper).
    await asRoot(
      host,
      asUser(
        "echo 'key=local actor=- verb=status release=- result=ok exit=0' | sudo -n /usr/local/lib/pipeline/audit-append",
      ),
    );
    expect((await auditEntries(host, stack.config, false)).at(-1)).toMatchObject({
      key: "local",
      verb: "status",
    });
  });

  it("lets the deploy user stall no audit write: a deploy completes and is audited while it holds a lock on the log", async () => {
    const { auditLog, auditLock } = hostLayout(stack.config);
    const held = "/tmp/audit-log-lock-held";
    // What the helper locks instead: a file in a directory only root may enter.
    expect(await asRoot(host, `stat -c '%U:%G %a' ${auditLock.replace(/\/[^/]+$/, "")}`)).toBe(
      "root:root 700\n",
    );
    // The attacker: an exclusive lock on a read-only descriptor of the log it may read, held past the deploy.
    await asRoot(
      host,
      asUser(
        `setsid bash -c 'exec 7<${auditLog} && flock -x 7 && echo $$ >${held} && exec sleep 600' </dev/null >/dev/null 2>&1 &`,
      ),
    );
    try {
      await eventually("the deploy user holds its lock on the audit log", async () =>
        (await asRoot(host, `test -s ${held} && echo yes || true`)).includes("yes"),
      );
      const release = makeRelease(stack.config);
      await deployOk(stack, release);
      expect((await auditEntries(host, stack.config)).at(-1)).toMatchObject({
        verb: "deploy",
        release: release.id,
        result: "ok",
      });
      // The lock was held throughout: root cannot take it now either.
      expect(await asRoot(host, `flock -n ${auditLog} true && echo free || echo held`)).toBe("held\n");
    } finally {
      await asRoot(host, `kill "$(cat ${held})"; rm -f ${held}`);
    }
  });

  it("refuses an existing deploy user in the sudo group, naming the group and the fix", async () => {
    const config = stackOnHosts([host], { deployUser: "ops" });
    await asRoot(host, "useradd --create-home --user-group --groups sudo,adm ops");
    const result = await withRoot(host, (s) => s.exec(rootCommand(deployUserScript(config), "root")));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("pipeline:deployUser ops is also in the group(s) adm sudo");
    expect(result.stderr).toContain("gpasswd -d ops <group>");
    expect(await asRoot(host, "stat -c %U /home/ops")).toBe("ops\n");
  });

  it("follows no link planted by the deploy user: re-provisioning an earlier version's home and rotating the key", async () => {
    const layout = hostLayout(stack.config);
    // What an earlier version left (home and dotfiles the user's), and links planted through it.
    await asRoot(host, `chown ${user}: ${home} && chmod 0755 ${home}`);
    await asRoot(
      host,
      asUser(
        [
          `rm -f ${home}/.npmrc ${home}/.bashrc ${home}/.profile`,
          `ln -s /etc/passwd ${home}/.npmrc`,
          `ln -s /etc/shadow ${home}/.bashrc`,
          `ln -s /etc/group ${home}/.profile`,
          `rm -rf ${home}/.cache && ln -s /etc/ssh ${home}/.cache`,
          `mkdir -p ${home}/.ssh && ln -sfn /etc/passwd ${home}/.ssh/authorized_keys`,
          `rm -f ${layout.envFile} && ln -s /etc/passwd ${layout.envFile}`,
          `mv ${layout.logs} ${layout.logs}.old && ln -s /etc/ssh ${layout.logs}`,
        ].join(" && "),
      ),
    );
    const before = await asRoot(host, FINGERPRINT);

    // A second `pulumi up` (every step) and a rotation (authorize a new key, then retire the old one).
    const key1 = generateDeployKey("pipeline-ci-1");
    const rotated = stackOnHosts([host], { deployKeyRotation: 1 });
    await runSteps(
      host,
      withDeployKeyFilledIn(
        hostSteps(rotated, { npmRegistry: host.npmRegistry, withAppEnv: true }),
        key1.publicKey,
      ),
      APP_ENV,
    );

    expect(await asRoot(host, FINGERPRINT)).toBe(before);
    // The links at root's paths are replaced; the user's own (.env, logs) are the user's business, never root's.
    expect(
      await asRoot(
        host,
        `stat -c '%F %U:%G %a' ${home} ${home}/.npmrc ${home}/.bashrc ${home}/.profile ${home}/.cache`,
      ),
    ).toBe(
      `directory root:${user} 750\nregular file root:root 644\nregular file root:root 644\nregular file root:root 644\ndirectory ${user}:${user} 750\n`,
    );
    expect(await asRoot(host, `stat -c '%F %U %a' ${layout.envFile}`)).toBe(`regular file ${user} 600\n`);
    // The key file holds the new key only: the old line is retired, and the planted old file was never root's to
    // read (as the user, it is /etc/passwd, which holds no deploy key line).
    const lines = (await asRoot(host, `cat ${layout.authorizedKeys}`)).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ pipeline-ci-1$/);
    expect((await callAgent(host, user, writeRunnerFiles(rotated, key1.privateKey), "releases")).code).toBe(
      0,
    );
    expect((await callAgent(host, user, stack.files, "releases")).code).toBe(255);
    stack = { ...stack, config: rotated, key: key1, files: writeRunnerFiles(rotated, key1.privateKey) };
    await asRoot(host, `rm -f ${layout.logs} && mv ${layout.logs}.old ${layout.logs}`);
  });

  it("runs no install script of an artifact by default, and one it allows cannot add a key or a shell hook", async () => {
    const attacker = generateDeployKey("attacker");
    const layout = hostLayout(stack.config);
    const evil = [
      `mkdir -p ${home}/.ssh`,
      `echo '${attacker.publicKey.trim()}' >> ${home}/.ssh/authorized_keys`,
      `echo '${attacker.publicKey.trim()}' >> ${layout.authorizedKeys}`,
      `echo 'touch /tmp/hook-ran' >> ${home}/.bashrc`,
      `echo 'touch /tmp/hook-ran' > ${home}/.bash_profile`,
      `: > ${layout.auditLog}`,
    ]
      .map((command) => `(${command}) 2>/dev/null`)
      .concat("touch /tmp/postinstall-ran")
      .join("; ");
    // An upgraded host still has the user's own ~/.ssh: the script can write there, sshd no longer reads it.
    await asRoot(host, `rm -rf ${home}/.ssh && install -d -o ${user} -g ${user} -m 0700 ${home}/.ssh`);
    const auditBefore = (await auditEntries(host, stack.config, false)).length;
    const withPostinstall = (pkg: Record<string, unknown>): void => {
      pkg.scripts = { ...(pkg.scripts as object), postinstall: evil };
    };

    // Default (deploy.dependencyScripts listed, nothing listed): the script does not run.
    const quiet = releaseWithPackageJson(stack, withPostinstall);
    const first = await deployOk(stack, quiet);
    expect(first.stdout + first.stderr).toContain("lifecycle scripts: off");
    expect(await asRoot(host, "ls /tmp/postinstall-ran 2>/dev/null || true")).toBe("");

    // The app opts in (pnpm.onlyBuiltDependencies): pnpm runs the app's own postinstall, as the deploy user.
    const loud = releaseWithPackageJson(stack, (pkg) => {
      withPostinstall(pkg);
      pkg.pnpm = { onlyBuiltDependencies: [] };
    });
    const second = await deploy(stack, loud);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(await asRoot(host, "ls /tmp/postinstall-ran")).toBe("/tmp/postinstall-ran\n");
    // It wrote its key into ~/.ssh/authorized_keys, but the key cannot log in; no hook exists or runs.
    expect(await asRoot(host, `cat ${home}/.ssh/authorized_keys`)).toContain(attacker.publicKey.trim());
    const refused = await callAgent(
      host,
      user,
      writeRunnerFiles(stack.config, attacker.privateKey),
      "releases",
    );
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Permission denied");
    expect(await asRoot(host, `cat ${layout.authorizedKeys}`)).not.toContain(attacker.publicKey.trim());
    expect((await callAgent(host, user, stack.files, "releases")).code).toBe(0);
    expect(
      await asRoot(host, `ls /tmp/hook-ran 2>/dev/null || true; grep -c hook-ran ${home}/.bashrc || true`),
    ).toBe("0\n");
    // The audit log kept every line (the script could not truncate it).
    expect((await auditEntries(host, stack.config, false)).length).toBeGreaterThan(auditBefore + 1);
  });

  it("reloads the app when appEnv changes, and keeps its logs from other users", async () => {
    const before = await servedGet(host, stack.config.app.port, "/");
    expect(JSON.parse(before.body)).toMatchObject({ greeting: "hello from the host tests" });
    const appEnv = hostSteps(stack.config, { npmRegistry: host.npmRegistry, withAppEnv: true }).find(
      (step) => step.name === "app-env",
    );
    if (!appEnv || "withDeployKey" in appEnv) throw new Error("no app-env step");
    await runSteps(host, [appEnv], "GREETING=rotated secret\n");
    await eventually("the app serves the new environment", async () => {
      const answer = await servedGet(host, stack.config.app.port, "/");
      return (JSON.parse(answer.body) as { greeting: string }).greeting === "rotated secret";
    });
    const logs = hostLayout(stack.config).logs;
    expect(await asRoot(host, `find ${logs}/ ${home}/.pm2/logs/ -type f -perm /o=rwx`)).toBe("");
  });
});
