// The firewall step (nftables) seen from outside: from this machine's root network namespace, another namespace
// than the guest's, over the veth pair. Only SSH, 80 and 443 get in; the app port answers the host itself only.
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../src/config/types";
import { provisioningSteps } from "../../src/render/shell/provisioning";
import type { RemoteStep } from "../../src/render/shell/remoteStep";
import {
  FIREWALL_LOADED_STATE,
  FIREWALL_RULES_FILE,
  FIREWALL_STEP,
} from "../../src/render/shell/steps/firewall";
import { type HostHandle, connect } from "../../src/testhost";
import { resolvedHostSteps, runSteps, stackOnHosts } from "../../src/sandbox";
import {
  APP_ENV,
  HostPool,
  type Stack,
  asRoot,
  deployOk,
  eventually,
  generateDeployKey,
  makeRelease,
  withRoot,
  writeRunnerFiles,
} from "./support";

const pool = new HostPool("host-tests-firewall");

type Probe = "connected" | "refused" | "timeout";

/** A TCP connect from this machine: an accepted port answers (SYN-ACK, or RST without a listener), a dropped one never. */
function probe(host: HostHandle, port: number, timeoutMs = 3000): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: host.address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("timeout");
    }, timeoutMs);
    socket.on("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve("connected");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === "ECONNREFUSED") resolve("refused");
      else reject(error);
    });
  });
}

function firewallStep(config: PipelineConfig, host: HostHandle): RemoteStep {
  const step = provisioningSteps(config, { npmRegistry: host.npmRegistry }).find(
    (s) => s.name === FIREWALL_STEP,
  );
  if (!step) throw new Error("no firewall step");
  return step;
}

describe("firewall (nftables) on a provisioned host, probed from another network namespace", () => {
  let stack: Stack;
  let host: HostHandle;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    // The real default: no extra ports (the sandbox's stacks open the app port, there is no proxy in front of it).
    // deploy.strategy reload: without the reverse proxy there is no proxy to switch between release ports.
    const config = stackOnHosts([host], {
      firewall: { extraTcpPorts: [] },
      deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30, strategy: "reload" },
    });
    const key = generateDeployKey("pipeline-ci-0");
    // The whole chain but the reverse proxy, so that nothing listens on 80 and 443: an accepted port then answers
    // with a reset, a dropped one not at all (test/host/proxy.host.test.ts covers the proxy behind this firewall).
    const steps = resolvedHostSteps(config, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: key.publicKey,
    }).filter((step) => step.name !== "reverse-proxy");
    const runs = await runSteps(host, steps, APP_ENV);
    stack = { hosts: [host], config, key, files: writeRunnerFiles(config, key.privateKey), runs: [runs] };
    await deployOk(stack, makeRelease(stack.config));
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("loads the table inet pipeline with policy drop and the rules file", async () => {
    const table = await asRoot(host, "nft list table inet pipeline");
    expect(table).toContain("policy drop;");
    expect(table).toContain("tcp dport 22 accept");
    expect(table).toContain("tcp dport { 80, 443 } accept");
    expect(await asRoot(host, `cat ${FIREWALL_LOADED_STATE}`)).toBe(table);
    expect(await asRoot(host, `stat -c '%a %U:%G' ${FIREWALL_RULES_FILE}`)).toBe("644 root:root\n");
    expect(
      await asRoot(host, "grep -x 'include \"/etc/nftables.d/pipeline.nft\"' /etc/nftables.conf"),
    ).not.toBe("");
  });

  it("lets SSH in, answers 80 and 443 with a reset (accepted, no listener), and drops the app port while the app listens", async () => {
    // The app serves on the host itself.
    expect(await asRoot(host, `curl -fsS http://127.0.0.1:${stack.config.app.port}/health`)).not.toBe("");
    expect(await asRoot(host, `ss -Htln 'sport = :${stack.config.app.port}'`)).not.toBe("");
    expect(await probe(host, 22)).toBe("connected");
    // Accepted, with no listener: the kernel answers with a reset; a dropped port would time out.
    expect(await probe(host, 80)).toBe("refused");
    expect(await probe(host, 443)).toBe("refused");
    expect(await probe(host, stack.config.app.port)).toBe("timeout");
  });

  it("keeps the SSH session that loads a changed rule set, and changes nothing on a second run", async () => {
    const session = await connect(host);
    try {
      const opened = firewallStep(
        { ...stack.config, firewall: { enabled: true, extraTcpPorts: [8443] } },
        host,
      );
      const first = await session.exec(opened.create, { timeoutMs: 300_000 });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain("firewall loaded: inbound TCP 22 (sshd), 80, 443, 8443;");
      expect(await probe(host, 8443)).toBe("refused");
      const back = await session.exec(firewallStep(stack.config, host).create, { timeoutMs: 300_000 });
      expect(back.code, back.stderr).toBe(0);
      expect(back.stderr).toContain("firewall loaded: inbound TCP 22 (sshd), 80, 443;");
      // The same connection still carries commands after two loads.
      const after = await session.exec("nft list table inet pipeline | grep -c 8443 || true");
      expect(after.code).toBe(0);
      expect(after.stdout.trim()).toBe("0");
      const fingerprint = `stat -c '%i %.9Y' ${FIREWALL_RULES_FILE} ${FIREWALL_LOADED_STATE} /etc/nftables.conf`;
      const before = await session.exec(fingerprint);
      const again = await session.exec(firewallStep(stack.config, host).create, { timeoutMs: 300_000 });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain("firewall rules already loaded");
      expect((await session.exec(fingerprint)).stdout).toBe(before.stdout);
    } finally {
      session.end();
    }
    expect(await probe(host, 8443)).toBe("timeout");
  });

  it("keeps SSH open on a host whose sshd listens only through ListenAddress on another port, and refuses a rule set that would drop the connection running it", async () => {
    const LISTEN_DROP_IN = "/etc/ssh/sshd_config.d/10-listen.conf";
    const on2222 = { ...host, port: 2222 };
    /** Reloads sshd through a connection on its current port, and waits until it answers on the new one. */
    const reloadSshd = async (from: HostHandle, to: HostHandle): Promise<void> => {
      await withRoot(from, (s) => s.exec('kill -HUP "$(pgrep -o -x sshd)"'));
      await eventually(`sshd answers on port ${to.port}`, async () => {
        try {
          return (await withRoot(to, (s) => s.exec("true"))).code === 0;
        } catch {
          return false;
        }
      });
    };
    // From a blank slate: no firewall, then sshd on 2222 only. `sshd -T` still says `port 22`.
    await asRoot(
      host,
      firewallStep({ ...stack.config, firewall: { enabled: false, extraTcpPorts: [] } }, host).create,
    );
    await asRoot(host, `printf 'ListenAddress 0.0.0.0:2222\\n' >${LISTEN_DROP_IN}`);
    await reloadSshd(host, on2222);
    try {
      expect(await asRoot(on2222, "/usr/sbin/sshd -T | grep -E '^(port|listenaddress) ' | sort")).toBe(
        "listenaddress 0.0.0.0:2222\nport 22\n",
      );
      const session = await connect(on2222);
      try {
        const loaded = await session.exec(firewallStep(stack.config, host).create, { timeoutMs: 300_000 });
        expect(loaded.code, loaded.stderr).toBe(0);
        expect(loaded.stderr).toContain("firewall loaded: inbound TCP 22, 2222 (sshd), 80, 443;");
        // The next connection gets in.
        expect(await probe(host, 2222)).toBe("connected");
        expect((await withRoot(on2222, (s) => s.exec("echo in"))).stdout).toBe("in\n");

        // A connection on a port the rules would not open (as behind a port forward or socket activation that
        // sshd -T does not show): refused before anything is written or loaded.
        const fingerprint = `nft list table inet pipeline; stat -c '%i %.9Y' ${FIREWALL_RULES_FILE} ${FIREWALL_LOADED_STATE}`;
        const before = (await session.exec(fingerprint)).stdout;
        const elsewhere = "SSH_CONNECTION='10.200.0.1 50000 10.200.0.2 2299'; ";
        const refused = await session.exec(
          elsewhere +
            firewallStep({ ...stack.config, firewall: { enabled: true, extraTcpPorts: [8443] } }, host)
              .create,
          { timeoutMs: 300_000 },
        );
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(
          "not loading the firewall: it opens TCP 22 2222 80 443 8443 but not 2299, the port of the SSH connection running this step",
        );
        expect(refused.stderr).toContain("pipeline:firewall.extraTcpPorts");
        expect((await session.exec(fingerprint)).stdout).toBe(before);
      } finally {
        session.end();
      }
    } finally {
      await asRoot(on2222, `rm -f ${LISTEN_DROP_IN}`);
      await reloadSshd(on2222, host);
    }
  });

  it("removes its table when disabled, and the app port answers again", async () => {
    const off = firewallStep({ ...stack.config, firewall: { enabled: false, extraTcpPorts: [] } }, host);
    await asRoot(host, off.create);
    expect(await asRoot(host, "nft list tables")).not.toContain("pipeline");
    expect(await probe(host, stack.config.app.port)).toBe("connected");
    await asRoot(host, firewallStep(stack.config, host).create);
    expect(await probe(host, stack.config.app.port)).toBe("timeout");
  });
});
