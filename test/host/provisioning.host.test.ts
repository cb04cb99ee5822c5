// Provisioning a fresh Debian host with the stack's own steps (the `create` strings of the remote.Command chain).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_PATH, hostLayout } from "../../src/render/hostLayout";
import {
  FIREWALL_LOADED_STATE,
  FIREWALL_RULES_FILE,
  NFTABLES_CONF,
} from "../../src/render/shell/steps/firewall";
import { OLD_SSHD_DROP_INS, SSHD_DROP_IN, authorizedKeysPath } from "../../src/render/shell/steps/system";
import { StepFailed, resolvedHostSteps, provisionHost, runSteps } from "../../src/sandbox";
import { type HostHandle, canLoginWithPassword } from "../../src/testhost";
import { APP_ENV, HostPool, type Stack, asRoot, eventually, provisionedStack, withRoot } from "./support";

const pool = new HostPool("host-tests-provisioning");
const PM2_MODULE_CONF = "/home/deploy/.pm2/module_conf.json";

/**
 * Files the steps write (or that the tools they install put down). An idempotent re-run must leave each with the
 * same content, inode and mtime: "replaced only when different" means the file is not even rewritten.
 */
function managedFiles(stack: Stack): string[] {
  const layout = hostLayout(stack.config);
  return [
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/ssh/sshd_config",
    SSHD_DROP_IN,
    FIREWALL_RULES_FILE,
    FIREWALL_LOADED_STATE,
    NFTABLES_CONF,
    "/usr/local/bin/node",
    "/usr/local/lib/node_modules/npm/package.json",
    "/usr/local/lib/node_modules/pnpm/package.json",
    "/usr/local/lib/node_modules/pm2/package.json",
    "/usr/local/etc/npmrc",
    `${layout.home}/.npmrc`,
    layout.envFile,
    authorizedKeysPath(stack.config),
    AGENT_PATH,
  ];
}

/** sha256, inode and mtime (ns) of each managed file. */
async function fingerprint(host: HostHandle, files: string[]): Promise<string> {
  return asRoot(
    host,
    files
      .map(
        (file) => `printf '%s %s\\n' "$(sha256sum < ${file} | cut -c1-64)" "$(stat -c '%i %.9Y %n' ${file})"`,
      )
      .join("\n"),
  );
}

/**
 * Everything on the guest's root file system modified after `marker`, minus what changes by merely running
 * things rather than by writing managed state: kernel/runtime trees (/proc, /sys, /dev, /run, /tmp), logs (/var/log,
 * pm2's logs), pm2's runtime files (daemon pid, sockets, per-process pids, its dump of the process list), npm's
 * cache and logs under ~/.npm, and the apt lists a package check may refresh. Directories are left out: writeFile
 * assembles each candidate as `<file>.pipeline-new` next to the target and removes it when nothing changed, which
 * bumps the directory's mtime without changing its entries (the files themselves are what is compared).
 */
const VOLATILE = [
  "/proc",
  "/sys",
  "/dev",
  "/run",
  "/tmp",
  "/var/log",
  "/var/cache/apt",
  "/var/lib/apt/lists",
  "/root/.npm",
  "/home/deploy/.npm",
  "/home/deploy/.pm2/logs",
  "/home/deploy/.pm2/pids",
];
const VOLATILE_FILES =
  /^\/home\/deploy\/\.pm2\/(pm2\.log|pm2\.pid|rpc\.sock|pub\.sock|dump\.pm2|dump\.pm2\.bak|touch)$/;

async function modifiedSince(host: HostHandle, marker: string): Promise<string[]> {
  const prune = VOLATILE.map((path) => `-path ${path}`).join(" -o ");
  const listing = await asRoot(
    host,
    `find / -xdev \\( ${prune} \\) -prune -o ! -type d -newer ${marker} -print`,
  );
  return listing.split("\n").filter((path) => path !== "" && path !== marker && !VOLATILE_FILES.test(path));
}

/** What Debian and Ubuntu cloud images ship: sorts before a `50-pipeline.conf`, and sshd keeps the first value. */
const CLOUD_INIT_DROP_IN = "/etc/ssh/sshd_config.d/50-cloud-init.conf";
const CLOUD_INIT_SETTINGS = "PasswordAuthentication yes\n";

/** Reloads the guest's sshd (PID 1 of its namespace) and waits until it accepts connections again. */
async function reloadSshd(host: HostHandle): Promise<void> {
  await asRoot(host, 'kill -HUP "$(pgrep -o -x sshd)"');
  await eventually("sshd answers after the reload", async () => {
    try {
      return (await withRoot(host, (s) => s.exec("true"))).code === 0;
    } catch {
      return false;
    }
  });
}

describe("provisioning a fresh host (a cloud image: 50-cloud-init.conf allows passwords)", () => {
  let stack: Stack;
  let host: HostHandle;
  let rootPasswordLoginBefore: boolean;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    // As root, before any step runs: the cloud image's drop-in, and the drop-in an earlier version of this
    // program wrote (which lost to it), both live.
    await asRoot(host, `printf '%s' '${CLOUD_INIT_SETTINGS}' > ${CLOUD_INIT_DROP_IN}`);
    for (const old of OLD_SSHD_DROP_INS) await asRoot(host, `printf 'PasswordAuthentication no\\n' > ${old}`);
    await reloadSshd(host);
    expect(await asRoot(host, "/usr/sbin/sshd -T | grep -x 'passwordauthentication yes'")).not.toBe("");
    rootPasswordLoginBefore = await canLoginWithPassword(host, "root", host.rootPassword);
    stack = await provisionedStack([host]);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("runs every step of the command graph with exit 0 and installs Node, pnpm and pm2 at the configured majors", async () => {
    const [runs] = stack.runs as [Stack["runs"][number]];
    const planned = resolvedHostSteps(stack.config, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: stack.key.publicKey,
    });
    expect(runs.map((run) => run.name)).toEqual(planned.map((step) => step.name));
    expect(runs.filter((run) => run.code !== 0)).toEqual([]);

    const versions = await asRoot(
      host,
      "node --version; pnpm --version; command -v pm2; runuser -u deploy -- node --version",
    );
    const [node, pnpm, pm2, nodeForDeploy] = versions.trim().split("\n");
    expect(node).toMatch(new RegExp(`^v${stack.config.app.nodeVersion}\\.`));
    expect(pnpm).toMatch(new RegExp(`^${stack.config.app.pnpmVersion}\\.`));
    expect(pm2).toBe("/usr/local/bin/pm2");
    expect(nodeForDeploy).toBe(node);
  });

  it("creates the deploy user without a password in a root-owned home, and the release layout it owns", async () => {
    const layout = hostLayout(stack.config);
    const user = stack.config.deployUser;
    expect(await asRoot(host, `getent passwd ${user} | cut -d: -f6,7`)).toBe(`${layout.home}:/bin/bash\n`);
    expect(await asRoot(host, `getent shadow ${user} | cut -d: -f2`)).toBe("*\n");
    expect(await asRoot(host, `stat -c '%U:%G %a' ${layout.home}`)).toBe(`root:${user} 750\n`);
    const dirs = [layout.appRoot, layout.releases, layout.shared, layout.logs];
    expect(await asRoot(host, `stat -c '%U %a %n' ${dirs.join(" ")}`)).toBe(
      dirs.map((dir) => `${user} 750 ${dir}\n`).join(""),
    );
  });

  it("writes shared/.env from appEnv, mode 0600, owned by the deploy user", async () => {
    const envFile = hostLayout(stack.config).envFile;
    expect(await asRoot(host, `stat -c '%a %U %G' ${envFile}`)).toBe("600 deploy deploy\n");
    expect(await asRoot(host, `cat ${envFile}`)).toBe(APP_ENV);
  });

  it("installs the release agent root-owned and not writable by the deploy user", async () => {
    expect(await asRoot(host, `stat -c '%a %U %G' ${AGENT_PATH} $(dirname ${AGENT_PATH})`)).toBe(
      "755 root root\n755 root root\n",
    );
    const write = await withRoot(host, (s) => s.exec(`runuser -u deploy -- sh -c 'echo x >> ${AGENT_PATH}'`));
    expect(write.code).not.toBe(0);
  });

  it("wins over the image's 50-cloud-init.conf without touching it, and removes the old 50-pipeline.conf", async () => {
    expect(await asRoot(host, "ls /etc/ssh/sshd_config.d")).toBe("00-pipeline.conf\n50-cloud-init.conf\n");
    expect(await asRoot(host, `cat ${CLOUD_INIT_DROP_IN}`)).toBe(CLOUD_INIT_SETTINGS);
    expect(await asRoot(host, "/usr/sbin/sshd -T")).toMatch(/^passwordauthentication no$/m);
  });

  it("stops before reloading sshd when a file read earlier sets a weaker value, and names that file", async () => {
    const early = "/etc/ssh/sshd_config.d/0-early.conf";
    const sshdStep = resolvedHostSteps(stack.config, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: stack.key.publicKey,
    }).filter((step) => step.name === "sshd-hardening");
    await asRoot(host, `printf '# first\\nPasswordAuthentication yes\\n' > ${early}`);
    try {
      const failure = await runSteps(host, sshdStep).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StepFailed);
      expect((failure as StepFailed).stderr).toContain(
        `sshd would not apply 'passwordauthentication no': ${early}:2 sets passwordauthentication before ${SSHD_DROP_IN} does`,
      );
    } finally {
      await asRoot(host, `rm -f ${early}`);
    }
    expect(await canLoginWithPassword(host, "root", host.rootPassword)).toBe(false);
  });

  it("hardens sshd: no password login, root only with a key", async () => {
    const effective = await asRoot(host, "/usr/sbin/sshd -T");
    expect(effective).toMatch(/^passwordauthentication no$/m);
    expect(effective).toMatch(/^kbdinteractiveauthentication no$/m);
    expect(effective).toMatch(/^permitrootlogin (prohibit-password|without-password)$/m);
  });

  it("refuses password logins afterwards, for root and for the deploy user, where a fresh host accepted root's", async () => {
    expect(rootPasswordLoginBefore).toBe(true);
    expect(await canLoginWithPassword(host, "root", host.rootPassword)).toBe(false);

    // Give the deploy user a real password for a moment: sshd itself must refuse it, not just the missing password.
    const password = "a-Password-that-works-9";
    await asRoot(host, `echo 'deploy:${password}' | chpasswd`);
    try {
      expect(await canLoginWithPassword(host, "deploy", password)).toBe(false);
    } finally {
      await asRoot(host, "usermod --password '*' deploy");
    }
  });

  it("changes nothing when it runs a second time", async () => {
    const files = managedFiles(stack);
    const marker = "/root/.before-second-run";
    const before = await fingerprint(host, files);
    const moduleConfBefore = await asRoot(host, `sha256sum < ${PM2_MODULE_CONF}`);
    await asRoot(host, `touch ${marker}`);

    const runs = await provisionHost(host, stack.config, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: stack.key.publicKey,
    });
    expect(runs.filter((run) => run.code !== 0)).toEqual([]);

    expect(await fingerprint(host, files)).toBe(before);
    expect(await modifiedSince(host, marker)).toEqual([]);
    expect(await asRoot(host, `grep -c 'pipeline-ci-0$' ${authorizedKeysPath(stack.config)}`)).toBe("1\n");
    expect(await asRoot(host, `sha256sum < ${PM2_MODULE_CONF}`)).toBe(moduleConfBefore);
  });
});
