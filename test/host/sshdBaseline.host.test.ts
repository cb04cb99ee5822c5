// The sshd baseline on a real host (CIS Debian 12 section 5.1 and dev-sec ssh-hardening, where they fit): what
// `sshd -T` reports after the reload, who may log in at all, and no forwarding for the deploy user.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizedKeysPath,
  deployUserEffectiveSshdSettings,
  sshdSettings,
} from "../../src/render/shell/steps/system";
import { provisionHost } from "../../src/sandbox";
import { type HostHandle, sshCommandLineArgs } from "../../src/testhost";
import { APP_ENV, HostPool, type Stack, asRoot, generateDeployKey, provisionedStack } from "./support";

const pool = new HostPool("host-tests-sshd-baseline");

interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** OpenSSH's client with `args`; stdin stays open until `until` is seen in stdout or `ms` pass, then it is killed. */
function ssh(args: string[], until: string, ms = 10_000): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", ["-F", "none", ...args]);
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes(until)) child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the sshd baseline", () => {
  let stack: Stack;
  let host: HostHandle;
  let dir: string;
  let rootKeyFile: string;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack([host]);
    dir = mkdtempSync(join(tmpdir(), "sshd-baseline-"));
    rootKeyFile = join(dir, "root-key");
    writeFileSync(rootKeyFile, host.rootPrivateKey, { mode: 0o600 });
  });

  afterAll(async () => {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is what sshd -T reports after the reload, for everyone and for the deploy user", async () => {
    const global = await asRoot(host, "/usr/sbin/sshd -T");
    const expected = sshdSettings(stack.config).effective;
    expect(expected).toEqual(expect.arrayContaining(["allowusers root", "allowusers deploy"]));
    for (const line of expected) expect(global).toMatch(new RegExp(`^${line}$`, "m"));
    expect(global).not.toMatch(/^acceptenv /m);
    expect(global.split("\n").filter((line) => line.startsWith("allowusers "))).toEqual([
      "allowusers root",
      "allowusers deploy",
    ]);

    const deployUser = await asRoot(
      host,
      `/usr/sbin/sshd -T -C user=${stack.config.deployUser},host=x,addr=127.0.0.1`,
    );
    for (const line of deployUserEffectiveSshdSettings())
      expect(deployUser).toMatch(new RegExp(`^${line}$`, "m"));
    // The admin user keeps its forwarding (tunnels to the database, for example).
    const admin = await asRoot(host, "/usr/sbin/sshd -T -C user=root,host=x,addr=127.0.0.1");
    expect(admin).toMatch(/^allowtcpforwarding yes$/m);
    expect(admin).toMatch(/^disableforwarding no$/m);
  });

  it("refuses a user that is not listed, even with a valid key", async () => {
    const key = generateDeployKey("intruder");
    const keyFile = join(dir, "intruder-key");
    writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
    await asRoot(
      host,
      [
        "useradd --create-home --shell /bin/bash intruder",
        "usermod --password '*' intruder",
        "install -d -m 0700 -o intruder -g intruder /home/intruder/.ssh",
        `printf '%s\\n' '${key.publicKey.trim()}' > /home/intruder/.ssh/authorized_keys`,
        "chown intruder: /home/intruder/.ssh/authorized_keys && chmod 0600 /home/intruder/.ssh/authorized_keys",
      ].join(" && "),
    );
    const refused = await ssh(
      [...sshCommandLineArgs(host, keyFile, stack.files.knownHostsFile, "intruder"), "echo in"],
      "in",
    );
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Permission denied");
  });

  it("gives the deploy user no forwarding, even with a key line without restrictions (root: control)", async () => {
    const key = generateDeployKey("unrestricted");
    const keyFile = join(dir, "unrestricted-key");
    writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
    await asRoot(host, `printf '%s\\n' '${key.publicKey.trim()}' >> ${authorizedKeysPath(stack.config)}`);

    // -W: the client asks sshd to connect to 127.0.0.1:22 and relays it (a direct-tcpip channel).
    const forward = (user: string, file: string) =>
      ssh(
        ["-W", "127.0.0.1:22", ...sshCommandLineArgs(host, file, stack.files.knownHostsFile, user)],
        "SSH-2.0-",
      );
    const root = await forward("root", rootKeyFile);
    expect(root.stdout).toMatch(/^SSH-2\.0-OpenSSH/);

    const deploy = await forward(stack.config.deployUser, keyFile);
    expect(deploy.stdout).toBe("");
    expect(deploy.stderr).toMatch(/administratively prohibited|open failed/);

    // The same key can log in (the line is unrestricted), so the refusal above is sshd's, not the key's.
    const login = await ssh(
      [
        ...sshCommandLineArgs(host, keyFile, stack.files.knownHostsFile, stack.config.deployUser),
        "echo logged-in",
      ],
      "logged-in",
    );
    expect(login.stdout).toContain("logged-in");
  });

  it("keeps the provisioning connection: a second run of every step over one connection succeeds", async () => {
    const runs = await provisionHost(host, stack.config, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: stack.key.publicKey,
    });
    expect(runs.map((run) => `${run.name} ${run.code}`).filter((line) => !line.endsWith(" 0"))).toEqual([]);
    expect(runs.map((run) => run.name)).toContain("sshd-hardening");
    expect(await asRoot(host, "/usr/sbin/sshd -T | grep -x 'maxauthtries 4'")).toBe("maxauthtries 4\n");
  });
});
