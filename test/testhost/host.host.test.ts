import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateEd25519KeyPair } from "../../src/primitives/sshKeyPair";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canLoginWithPassword,
  connect,
  createHost,
  destroyAllHosts,
  destroyHost,
  HostKeyMismatchError,
  loadHandle,
  sshCommandLineArgs,
  writeSshClientFiles,
  type HostHandle,
  type HostSession,
} from "../../src/testhost";
import { CACHE_DIR, REPO_ROOT, STATE_DIR } from "../../src/testhost/paths";
import { attempt } from "../../src/testhost/attempt";

const OWNER = "testhost-self-test";

interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runLocal(command: string, args: readonly string[], cwd?: string): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? Number((error as NodeJS.ErrnoException).code ?? 1) : 0;
      resolve({ code: Number.isNaN(code) ? 1 : code, stdout, stderr });
    });
  });
}

async function execOk(session: HostSession, command: string): Promise<string> {
  const result = await session.exec(command);
  expect(result, `${command}\n${result.stderr}`).toMatchObject({ code: 0 });
  return result.stdout;
}

/** Every trace a host can leave on the machine, for the "nothing left behind" checks. */
async function tracesOf(handle: HostHandle): Promise<string[]> {
  const traces: string[] = [];
  const mentionsHost = new RegExp(`${handle.netns}(?!\\d)`);
  const netns = (await runLocal("ip", ["netns", "list"])).stdout;
  if (netns.split("\n").some((line) => line.split(" ")[0] === handle.netns))
    traces.push(`netns ${handle.netns}`);
  if ((await runLocal("ip", ["link", "show", handle.hostVeth])).code === 0)
    traces.push(`veth ${handle.hostVeth}`);
  if (existsSync(handle.stateDir)) traces.push(`state dir ${handle.stateDir}`);
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    // a process may exit while we look
    const cmdline = attempt(() => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "), "");
    const mountinfo = attempt(() => readFileSync(`/proc/${pid}/mountinfo`, "utf8"), "");
    if (mentionsHost.test(cmdline)) traces.push(`process ${pid}: ${cmdline}`);
    if (mountinfo.includes(handle.stateDir))
      traces.push(`mount of ${handle.stateDir} seen by process ${pid}`);
  }
  return traces;
}

/** Creates a host in a separate Node process that exits right away, as `sandbox up` does. */
async function createHostInAnotherProcess(): Promise<HostHandle> {
  const script = `require("./src/testhost").createHost({ owner: ${JSON.stringify(OWNER)} })
    .then((handle) => console.log(handle.name), (error) => { console.error(error); process.exit(1); });`;
  const result = await runLocal(process.execPath, ["--import", "tsx", "-e", script], REPO_ROOT);
  expect(result, result.stderr).toMatchObject({ code: 0 });
  return loadHandle(result.stdout.trim());
}

describe("disposable local Debian hosts", () => {
  let first: HostHandle;
  let second: HostHandle;
  let firstSession: HostSession;
  let secondSession: HostSession;
  let clientDir: string;

  beforeAll(async () => {
    destroyAllHosts({ owner: OWNER });
    [first, second] = await Promise.all([createHost({ owner: OWNER }), createHost({ owner: OWNER })]);
    [firstSession, secondSession] = await Promise.all([connect(first), connect(second)]);
    clientDir = mkdtempSync(path.join(tmpdir(), "testhost-client-"));
  });

  afterAll(async () => {
    firstSession?.end();
    secondSession?.end();
    for (const handle of [first, second]) if (handle) await destroyHost(handle);
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  it("runs two hosts at once, each with its own address, host key and hostname", async () => {
    expect(first.address).not.toBe(second.address);
    expect(first.hostKey).not.toBe(second.hostKey);
    expect(first.hostKey).toMatch(/^ssh-ed25519 AAAA\S+$/);
    expect(first.knownHostsLine).toBe(`${first.address} ${first.hostKey}`);
    expect((await execOk(firstSession, "hostname")).trim()).toBe(first.name);
    expect((await execOk(secondSession, "hostname")).trim()).toBe(second.name);
    expect(await execOk(firstSession, "id -un")).toBe("root\n");
  });

  it("serializes the handle as plain JSON", () => {
    const roundTripped = JSON.parse(JSON.stringify(first)) as HostHandle;
    expect(roundTripped).toEqual(first);
    expect(loadHandle(first.name)).toEqual(first);
  });

  it("passes stdin to the command and reports exit codes and stderr", async () => {
    const echoed = await firstSession.exec("cat; echo oops >&2; exit 3", { stdin: "hello from stdin" });
    expect(echoed).toEqual({ code: 3, signal: null, stdout: "hello from stdin", stderr: "oops\n" });
    const withPty = await firstSession.exec("tty", { pty: true });
    expect(withPty.stdout).toMatch(/^\/dev\/pts\/\d+/);
  });

  it("runs sshd as PID 1 of the guest's own PID namespace", async () => {
    const processes = await execOk(firstSession, "ps -eo pid=,comm=");
    const pidOne = processes.split("\n").find((line) => line.trim().startsWith("1 "));
    expect(pidOne?.trim()).toBe("1 sshd");
    expect(processes).not.toContain("vitest");
    expect(processes).not.toContain("node");
  });

  it("rejects a server whose host key is not the expected one", async () => {
    const impostor = { ...first, hostKey: second.hostKey };
    await expect(connect(impostor)).rejects.toBeInstanceOf(HostKeyMismatchError);
    await expect(canLoginWithPassword(impostor, "root", first.rootPassword)).rejects.toBeInstanceOf(
      HostKeyMismatchError,
    );
  });

  it("is reachable with OpenSSH under strict host key checking, and refuses a wrong known_hosts entry", async () => {
    const files = writeSshClientFiles(first, clientDir);
    const good = await runLocal("ssh", [
      ...sshCommandLineArgs(first, files.keyFile, files.knownHostsFile),
      "hostname",
    ]);
    expect(good, good.stderr).toMatchObject({ code: 0, stdout: `${first.name}\n` });

    const wrongKnownHosts = writeSshClientFiles(
      { ...first, name: "wrong", knownHostsLine: `${first.address} ${second.hostKey}` },
      clientDir,
    );
    const bad = await runLocal("ssh", [
      ...sshCommandLineArgs(first, files.keyFile, wrongKnownHosts.knownHostsFile),
      "hostname",
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("Host key verification failed");
  });

  it("starts with root password login enabled (for hardening to switch off), and checks the password", async () => {
    expect(await canLoginWithPassword(first, "root", first.rootPassword)).toBe(true);
    expect(await canLoginWithPassword(first, "root", "not-the-password")).toBe(false);
    const passwordSession = await connect(first, { password: first.rootPassword });
    expect(await execOk(passwordSession, "echo ok")).toBe("ok\n");
    passwordSession.end();
  });

  it("grants root a shell and port forwarding before any hardening", async () => {
    expect(await firstSession.tryShell()).toBe(true);
    expect(await firstSession.tryForwardOut("127.0.0.1", 22)).toBe(true);
  });

  it("reports a refused pty and refused port forwarding for a restricted key", async () => {
    const restricted = generateEd25519KeyPair("restricted");
    const keyLine = `no-pty,no-port-forwarding ${restricted.publicKey}`;
    await execOk(secondSession, `echo '${keyLine}' >> /root/.ssh/authorized_keys`);
    const session = await connect(second, { privateKey: restricted.privateKey });
    expect(await session.tryShell()).toBe(false);
    expect(await session.tryForwardOut("127.0.0.1", 22)).toBe(false);
    expect(await execOk(session, "echo still runs commands")).toBe("still runs commands\n");
    session.end();
  });

  it("keeps capabilities that reach the machine's kernel out of the guest", async () => {
    const mount = await firstSession.exec("mkdir -p /mnt/probe && mount -t tmpfs probe /mnt/probe");
    expect(mount.code).not.toBe(0);
    // The bounding set: no sys_admin, sys_module, sys_rawio, sys_time or mknod. net_admin stays (the firewall
    // step's nft needs it): it acts on the guest's own network namespace, which it cannot leave without sys_admin.
    const bounding = BigInt(
      `0x${(await execOk(firstSession, "grep CapBnd /proc/self/status")).split(/\s+/)[1]}`,
    );
    const has = (bit: number) => (bounding >> BigInt(bit)) & 1n;
    expect([21, 16, 17, 25, 27].map(has)).toEqual([0n, 0n, 0n, 0n, 0n]);
    expect(has(12)).toBe(1n);
  });

  it("reaches the npm registry and the Debian mirror through the proxy", async () => {
    const ping = await firstSession.exec('curl -fsS "${npm_config_registry}-/ping"');
    expect(ping, ping.stderr).toMatchObject({ code: 0 });
    const metadata = await firstSession.exec('curl -fsS "${npm_config_registry}is-number/latest"');
    expect(JSON.parse(metadata.stdout)).toMatchObject({ name: "is-number" });
    const update = await firstSession.exec("apt-get update -q", { timeoutMs: 300_000 });
    expect(update, update.stdout + update.stderr).toMatchObject({ code: 0 });
    expect(update.stdout + update.stderr).not.toMatch(/^(W|E): /m);
    expect(await execOk(firstSession, "echo $NODE_EXTRA_CA_CERTS")).toBe(
      "/etc/ssl/certs/ca-certificates.crt\n",
    );
  });

  it("refuses destinations outside the allow-list, and the guest has no route around the proxy", async () => {
    const denied = await firstSession.exec("curl -sS -o /dev/null https://example.com/");
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("403");
    const deniedPlain = await firstSession.exec(
      "curl -sS -o /dev/null -w '%{http_code}' http://example.com/",
    );
    expect(deniedPlain.stdout).toBe("403");
    const direct = await firstSession.exec(
      "curl -sS --noproxy '*' --max-time 10 -o /dev/null https://1.1.1.1/",
    );
    expect(direct.code).not.toBe(0);
    expect(readFileSync(path.join(first.stateDir, "proxy.log"), "utf8")).toContain(
      "DENY CONNECT example.com:443",
    );
  });

  it("keeps a host created by a process that has exited, and destroys it from this one without a trace", async () => {
    const orphan = await createHostInAnotherProcess();
    const session = await connect(orphan);
    expect((await execOk(session, "hostname")).trim()).toBe(orphan.name);
    session.end();

    await destroyHost(orphan);
    expect(await tracesOf(orphan)).toEqual([]);
    await expect(destroyHost(orphan)).resolves.toBeUndefined();
  });

  it("destroys one host without touching the other, leaving nothing behind", async () => {
    firstSession.end();
    await destroyHost(first);
    expect(await tracesOf(first)).toEqual([]);
    await destroyHost(first);

    expect((await execOk(secondSession, "hostname")).trim()).toBe(second.name);
    secondSession.end();
    await destroyHost(second);
    expect(await tracesOf(second)).toEqual([]);

    const rootMounts = readFileSync("/proc/self/mountinfo", "utf8");
    expect(rootMounts).not.toContain(STATE_DIR);
    expect(rootMounts).not.toContain(CACHE_DIR);
  });
});
