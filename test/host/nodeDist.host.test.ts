// vps.nodeSource "nodejs" (the default) against a stand-in for the Node.js distribution: a local HTTP server with
// the official layout (latest-v<major>.x/SHASUMS256.txt + node-v<version>-linux-x64.tar.xz), built from this
// machine's own Node and npm (same Debian release as the hosts). Proves the checksum is enforced.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisioningSteps } from "../../src/render/shell/provisioning";
import type { RemoteStep } from "../../src/render/shell/remoteStep";
import { runSteps, stackOnHosts } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import { HostPool, asRoot } from "./support";

const pool = new HostPool("host-tests-node-dist");
const version = process.versions.node;
const major = Number(version.split(".")[0]);
const tarballName = `node-v${version}-linux-x64.tar.xz`;

/** A tarball shaped like the official one: node-v<version>-linux-x64/{bin/node,bin/npm,bin/npx,lib/node_modules/npm}. */
function buildOfficialLikeTarball(dir: string): Buffer {
  const root = join(dir, `node-v${version}-linux-x64`);
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "lib/node_modules"), { recursive: true });
  cpSync(process.execPath, join(root, "bin/node"));
  const npmDir = dirname(
    dirname(realpathSync(execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim())),
  );
  cpSync(npmDir, join(root, "lib/node_modules/npm"), { recursive: true });
  symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(root, "bin/npm"));
  symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(root, "bin/npx"));
  const tarball = join(dir, tarballName);
  execFileSync("tar", ["-cJf", tarball, "-C", dir, `node-v${version}-linux-x64`], {
    env: { ...process.env, XZ_OPT: "-0 -T0" }, // speed over size: the file never leaves this machine
  });
  return readFileSync(tarball);
}

function serve(files: Map<string, Buffer>, address: string): Promise<Server> {
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    res.writeHead(body ? 200 : 404).end(body ?? "not found\n");
  });
  return new Promise((resolve) => server.listen(0, address, () => resolve(server)));
}

describe("installing Node from the Node.js distribution (vps.nodeSource: nodejs)", () => {
  let host: HostHandle;
  let server: Server;
  const files = new Map<string, Buffer>();
  let steps: RemoteStep[];

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    const tarball = buildOfficialLikeTarball(mkdtempSync(join(tmpdir(), "node-dist-")));
    const gateway = host.proxyUrl.replace(/^http:\/\/([^:]+):.*$/, "$1");
    server = await serve(files, gateway);
    const port = (server.address() as { port: number }).port;
    files.set(`/dist/latest-v${major}.x/${tarballName}`, tarball);
    // The guest reaches its gateway directly: keep the allow-list proxy for everything else.
    await asRoot(host, `sed -i 's/^\\(no_proxy\\|NO_PROXY\\)=.*/&,${gateway}/' /etc/environment`);
    const config = stackOnHosts([host], {
      app: { name: "example-app", nodeVersion: major },
      vps: {
        nodeSource: "nodejs",
        nodeDistUrl: `http://${gateway}:${port}/dist/`,
        npmRegistry: host.npmRegistry,
      },
    });
    steps = provisioningSteps(config, { npmRegistry: host.npmRegistry }).filter((s) =>
      ["base-packages", "deploy-user", "node", "pnpm"].includes(s.name),
    );
  });

  afterAll(async () => {
    server.close();
    await pool.destroy();
  });

  function publishChecksum(sha256: string): void {
    files.set(`/dist/latest-v${major}.x/SHASUMS256.txt`, Buffer.from(`${sha256}  ${tarballName}\n`));
  }

  it("refuses a tarball whose checksum does not match SHASUMS256.txt and installs nothing", async () => {
    publishChecksum("0".repeat(64));
    await expect(runSteps(host, steps)).rejects.toThrow(/step node failed/);
    expect(await asRoot(host, "test -e /usr/local/bin/node && echo present || echo absent")).toBe("absent\n");
  });

  it("installs the listed version, with npm, and pnpm on top of it", async () => {
    const tarball = files.get(`/dist/latest-v${major}.x/${tarballName}`) ?? Buffer.alloc(0);
    publishChecksum(createHash("sha256").update(tarball).digest("hex"));
    const runs = await runSteps(host, steps);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(await asRoot(host, "/usr/local/bin/node --version")).toBe(`v${version}\n`);
    expect(await asRoot(host, "/usr/local/bin/npm --version")).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(
      await asRoot(host, "cd /home/deploy && runuser -u deploy -- /usr/local/bin/pnpm --version"),
    ).toMatch(/^9\./);
  });

  it("skips the download when the configured major is already installed", async () => {
    files.clear(); // a re-run that tried to download would now fail
    const runs = await runSteps(host, steps);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
  });
});
