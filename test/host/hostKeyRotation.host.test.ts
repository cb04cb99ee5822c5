// Issue 18 items 1 and 2 on a real host: the host key from the user data only bootstraps (the rotation step replaces it and
// prints the new one, which is then the only key the host presents), and on EC2 hosts the firewall keeps every user
// but root away from the metadata service, which serves that user data.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsSchema } from "../../src/config/awsSchema";
import { provisioningSteps } from "../../src/render/shell/provisioning";
import { adminAccessStep } from "../../src/render/shell/steps/adminAccess";
import { hostKeyRotationStep } from "../../src/render/shell/steps/hostKeyRotation";
import { FIREWALL_STEP, METADATA_ADDRESSES } from "../../src/render/shell/steps/firewall";
import { stackOnHosts } from "../../src/sandbox";
import { type HostHandle, connect } from "../../src/testhost";
import { HostKeyMismatchError } from "../../src/testhost/ssh";
import { quote } from "../../src/primitives/shellQuote";
import { HostPool, asRoot, generateDeployKey, withRoot } from "./support";

const pool = new HostPool("host-tests-host-key-rotation");

/** The ed25519 key the host presents to a new connection, as `ssh-ed25519 AAAA...`. */
function presentedKey(host: HostHandle): string {
  const scanned = execFileSync(
    "ssh-keyscan",
    ["-t", "ed25519", "-p", String(host.port), "-T", "20", host.address],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
  const [, type, blob] = scanned.trim().split(/\s+/);
  return `${type} ${blob}`;
}

const keyOf = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(" ");

describe("host key rotation on a real host", () => {
  let host: HostHandle;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("replaces the bootstrap key: the new key it prints is the only one the host presents, the old one is refused", async () => {
    const bootstrap = keyOf(host.hostKey);
    expect(presentedKey(host)).toBe(bootstrap);
    // pinned to the bootstrap key, as the rotation's connection is
    const rotation = await withRoot(host, (session) =>
      session.exec(hostKeyRotationStep({ adminUser: "root" }).create, { timeoutMs: 120_000 }),
    );
    expect(rotation.code, rotation.stderr).toBe(0);
    const printed = rotation.stdout;
    expect(printed).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=*\n$/);
    const rotated = keyOf(printed);
    expect(rotated).not.toBe(bootstrap);

    expect(presentedKey(host)).toBe(rotated);
    await expect(connect(host)).rejects.toBeInstanceOf(HostKeyMismatchError);
    const pinned = { ...host, hostKey: rotated };
    expect(await asRoot(pinned, "ls /etc/ssh | grep '^ssh_host_' | sort")).toBe(
      "ssh_host_ed25519_key\nssh_host_ed25519_key.pub\n",
    );
    expect(await asRoot(pinned, "stat -c '%a %U:%G' /etc/ssh/ssh_host_ed25519_key")).toBe("600 root:root\n");
    expect(await asRoot(pinned, "ls -d /etc/ssh/pipeline-host-key-* 2>/dev/null || true")).toBe("");
  });
});

describe("the firewall of an EC2 host and the metadata service", () => {
  let host: HostHandle;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    const config = {
      ...stackOnHosts([host], { firewall: { extraTcpPorts: [] } }),
      aws: awsSchema.parse({ hosts: { sshCidrs: ["10.200.0.0/16"] } }),
    };
    const firewall = provisioningSteps(config, { npmRegistry: host.npmRegistry }).find(
      (step) => step.name === FIREWALL_STEP,
    );
    if (!firewall) throw new Error("no firewall step");
    // The metadata address on the host itself: sshd (listening on every address) answers there.
    await asRoot(host, `ip addr add ${METADATA_ADDRESSES.ipv4}/32 dev lo && useradd --no-create-home app`);
    const loaded = await withRoot(host, (session) => session.exec(firewall.create, { timeoutMs: 300_000 }));
    expect(loaded.code, loaded.stderr).toBe(0);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  /** Opens a TCP connection to the metadata address's port 22 as `user`; prints "open" or bash's error. */
  const dial = (user: string) =>
    withRoot(host, (session) =>
      session.exec(
        `runuser -u ${user} -- bash --norc -c 'exec 3<>/dev/tcp/${METADATA_ADDRESSES.ipv4}/22 && echo open' 2>&1 || true`,
        { timeoutMs: 60_000 },
      ),
    );

  it("lets root reach it", async () => {
    expect((await dial("root")).stdout).toBe("open\n");
  });

  it("resets every other user's connection at once (an app's user, nobody)", async () => {
    for (const attempt of [await dial("app"), await dial("nobody")]) {
      expect(attempt.stdout).toContain("Connection refused");
      expect(attempt.stdout).not.toContain("open");
    }
  });
});

describe("admin access on a host the program created: a new admin key applied over SSH", () => {
  let host: HostHandle;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("leaves the configured key as the admin's only key: the old one no longer logs in", async () => {
    const next = generateDeployKey("admin-next");
    // What the README asks first: the new key authorized next to the old one, with the old one.
    await asRoot(host, `printf '%s\\n' ${quote(next.publicKey)} >>/root/.ssh/authorized_keys`);
    const withNext = { ...host, rootPrivateKey: next.privateKey };
    const applied = await withRoot(withNext, (session) =>
      session.exec(adminAccessStep({ adminUser: "root" }, next.publicKey).create, { timeoutMs: 60_000 }),
    );
    expect(applied.code, applied.stderr).toBe(0);
    expect(await asRoot(withNext, "cat /root/.ssh/authorized_keys")).toBe(`${next.publicKey.trim()}\n`);
    expect(await asRoot(withNext, "stat -c '%a %U' /root/.ssh/authorized_keys")).toBe("600 root\n");
    await expect(connect(host)).rejects.toThrow(/authentication/i);
  });
});
