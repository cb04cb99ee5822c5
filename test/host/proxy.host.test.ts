// The reverse proxy (Debian's Caddy, ingress.tls internal) in front of the example app: TLS from Caddy's local CA,
// the HTTP -> HTTPS redirect, the health path, the body limit, and a second provisioning run that changes nothing.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CADDYFILE, renderCaddyfile } from "../../src/render/shell/steps/reverseProxy";
import { provisioningSteps } from "../../src/render/shell/provisioning";
import { ecosystemFilePath } from "../../src/render/shell/pm2Ecosystem";
import { provisionHost } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  APP_ENV,
  HostPool,
  SITE,
  type Stack,
  asRoot,
  curl,
  deployOk,
  httpsLoad,
  localCaFile,
  makeRelease,
  provisionedStack,
  withRoot,
} from "./support";

const pool = new HostPool("host-tests-proxy");
async function caddyState(host: HostHandle): Promise<string> {
  return asRoot(
    host,
    [
      `stat -c '%i %.9Y' ${CADDYFILE}`,
      "pgrep -u caddy -x caddy",
      // The certificate Caddy serves for the site (kept across reloads).
      `find /var/lib/caddy/.local/share/caddy/certificates -name '${SITE}.crt' -exec sha256sum {} +`,
    ].join("; "),
  );
}

describe("the reverse proxy in front of the app (ingress.tls internal)", () => {
  let stack: Stack;
  let host: HostHandle;
  let caFile: string;
  let releaseId: string;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    // The in-place reload (deploy.strategy reload): the last test reloads its workers under load. The proxy's side
    // of side-by-side releases: proxyUpstream.host.test.ts and sideBySide.host.test.ts.
    stack = await provisionedStack([host], {
      url: `https://${SITE}`,
      ingress: { tls: "internal", maxBodyMegabytes: 1 },
      deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30, strategy: "reload" },
    });
    const release = makeRelease(stack.config);
    releaseId = release.id;
    await deployOk(stack, release);
    caFile = await localCaFile(host);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("installs Caddy, writes the rendered Caddyfile and runs Caddy as the caddy user", async () => {
    const [runs] = stack.runs as [Stack["runs"][number]];
    expect(runs.find((r) => r.name === "reverse-proxy")?.code).toBe(0);
    expect(await asRoot(host, `cat ${CADDYFILE}`)).toBe(renderCaddyfile(stack.config));
    expect(await asRoot(host, `stat -c '%U:%G %a' ${CADDYFILE}`)).toBe("root:root 644\n");
    expect((await asRoot(host, "ps -o user= -C caddy")).trim().split("\n")).toEqual(["caddy"]);
    // Only CAP_NET_BIND_SERVICE (bit 10), ambient: what Debian's unit gives it (AmbientCapabilities).
    expect(await asRoot(host, 'grep -E "^Cap(Eff|Amb)" /proc/"$(pgrep -u caddy -x caddy)"/status')).toBe(
      "CapEff:\t0000000000000400\nCapAmb:\t0000000000000400\n",
    );
    // The admin API is a socket only the caddy user (and root) can use, not localhost:2019.
    expect(await asRoot(host, "ss -Hltn | awk '{print $4}' | sort")).not.toContain(":2019");
  });

  it("serves the app over TLS for the url's host name, with the security headers, without Server, and without HTTP/3 (no Alt-Svc)", async () => {
    const answer = await curl(host, caFile, `https://${SITE}/`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ build: releaseId });
    expect(answer.headers).toContain("strict-transport-security: max-age=31536000");
    expect(answer.headers).toContain("x-content-type-options: nosniff");
    expect(answer.headers).toContain("x-frame-options: sameorigin");
    expect(answer.headers).toContain("referrer-policy: strict-origin-when-cross-origin");
    expect(answer.headers).not.toMatch(/^server:/m);
    // Caddy 2.6 advertises HTTP/3 on UDP 443 unless told otherwise: the firewall and the security group open TCP only.
    expect(answer.headers).not.toMatch(/^alt-svc:/m);
  });

  it("answers the health path through the proxy", async () => {
    const answer = await curl(host, caFile, `https://${SITE}${stack.config.app.healthPath}`);
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: "ok\n" });
  });

  it("redirects http to https", async () => {
    const answer = await curl(host, caFile, `http://${SITE}/some/path?x=1`);
    expect(answer.status).toBe(308);
    expect(answer.headers).toContain(`location: https://${SITE}/some/path?x=1`);
  });

  it("passes a body up to ingress.maxBodyMegabytes on to the app, never a larger one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proxy-body-"));
    const [small, big] = [join(dir, "small"), join(dir, "big")];
    writeFileSync(small, Buffer.alloc(900_000, 97));
    writeFileSync(big, Buffer.alloc(2_000_000, 97));
    const passed = await curl(host, caFile, `https://${SITE}/upload`, ["--data-binary", `@${small}`]);
    expect({ status: passed.status, body: passed.body }).toEqual({ status: 200, body: '{"bytes":900000}\n' });
    // Caddy stops reading at the limit and closes the connection while curl may still be sending (curl then
    // reports a send failure, not the status). Debian's Caddy 2.6.2 answers 502, not 413: reverse_proxy turns
    // request_body's MaxBytesError into a proxy error (statusError); caddyserver/caddy#6701 (2.9) maps it to 413.
    const refused = await curl(host, caFile, `https://${SITE}/upload`, [
      "--http1.1",
      "--data-binary",
      `@${big}`,
    ]).catch(() => undefined);
    if (refused) expect(refused.status).toBe(502);
    const logged = await asRoot(host, 'grep -F \'"uri":"/upload"\' /var/log/caddy/access.log');
    expect(
      logged
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { status: number }).status),
    ).toEqual([200, 502]);
    expect(await asRoot(host, "grep -c 'request body too large' /var/log/caddy/caddy.log")).toBe("1\n");
  });

  it("changes nothing on a second provisioning run: same Caddyfile, same Caddy process, same certificate", async () => {
    const before = await caddyState(host);
    await asRoot(host, "touch /tmp/proxy-marker && sleep 0.01");
    await provisionHost(host, stack.config, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: stack.key.publicKey,
    });
    expect(await caddyState(host)).toBe(before);
    const modified = await asRoot(
      host,
      "find /etc /var/lib/caddy /usr -xdev ! -type d -newer /tmp/proxy-marker -print",
    );
    expect(modified).toBe("");
  });

  it("reloads gracefully when the config changes: same process and certificate, new Caddyfile", async () => {
    const before = (await caddyState(host)).split("\n");
    const changed = { ...stack.config, ingress: { ...stack.config.ingress, retrySeconds: 5 } };
    await provisionHost(host, changed, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: stack.key.publicKey,
    });
    const after = (await caddyState(host)).split("\n");
    expect(after[0]).not.toBe(before[0]);
    expect(after.slice(1)).toEqual(before.slice(1));
    expect(await asRoot(host, `grep lb_try_duration ${CADDYFILE}`)).toBe("\t\tlb_try_duration 5s\n");
    expect((await curl(host, caFile, `https://${SITE}/`)).status).toBe(200);
  });

  // The pm2 daemon is the cluster primary (src/render/shell/pm2Daemon.ts). With Node's round-robin scheduling a
  // worker exiting at once on SIGINT could die holding a connection the daemon handed it, and the request hung
  // (reproduced: 26 timeouts in 30 reloads). A daemon from an earlier version is restarted once by provisioning.
  it("loses no request through the proxy across ten pm2 reloads of workers that exit at once on SIGINT", async () => {
    const user = stack.config.deployUser;
    const asUser = `runuser -u ${user} -- env HOME=/home/${user} PM2_HOME=/home/${user}/.pm2`;
    const daemonEnvironment = (): Promise<string> =>
      asRoot(
        host,
        `cd /; ${asUser} sh -c 'tr "\\0" "\\n" </proc/$(cat "$PM2_HOME/pm2.pid")/environ' | grep NODE_CLUSTER_SCHED_POLICY || true`,
      );
    expect(await daemonEnvironment()).toBe("NODE_CLUSTER_SCHED_POLICY=none\n");

    // A daemon started without the setting, as an earlier version's provisioning left it.
    await asRoot(host, `cd /; ${asUser} pm2 kill >/dev/null; ${asUser} pm2 resurrect >/dev/null`);
    expect(await daemonEnvironment()).toBe("");
    const step = provisioningSteps(stack.config, { npmRegistry: host.npmRegistry }).find(
      (s) => s.name === "pm2-daemon",
    );
    const restart = await withRoot(host, (session) => session.exec(step?.create ?? "false"));
    expect(restart.code).toBe(0);
    expect(restart.stderr).toContain(`restarting the pm2 daemon of ${user} once`);
    expect(await daemonEnvironment()).toBe("NODE_CLUSTER_SCHED_POLICY=none\n");
    const again = await withRoot(host, (session) => session.exec(step?.create ?? "false"));
    expect([again.code, again.stderr]).toEqual([0, ""]);

    const envFile = `/home/${user}/apps/${stack.config.app.name}/shared/.env`;
    await asRoot(host, `cd /; ${asUser} sh -c 'echo EXAMPLE_APP_DRAIN=off >>${envFile}'`);
    const load = httpsLoad(`https://${SITE}/`, caFile, host.address, 8, 5);
    const reloads = await asRoot(
      host,
      `cd /; for i in 1 2 3 4 5 6 7 8 9 10; do ${asUser} NODE_CLUSTER_SCHED_POLICY=none pm2 startOrReload ${ecosystemFilePath(stack.config)} --update-env >/dev/null 2>&1 && echo ok; done`,
    );
    const seen = await load.stop();
    await asRoot(
      host,
      `cd /; ${asUser} sh -c 'grep -v EXAMPLE_APP_DRAIN ${envFile} >${envFile}.new; mv ${envFile}.new ${envFile}'`,
    );
    expect(reloads).toBe("ok\n".repeat(10));
    expect(seen.failures).toEqual([]);
    expect(seen.sent).toBeGreaterThan(1000);
  });
});
