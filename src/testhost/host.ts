// Disposable local Debian hosts: created by one process, usable and destroyable from any other through the handle.
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateEd25519KeyPair } from "../primitives/sshKeyPair";
import { run } from "./command";
import { guestFiles, type GuestFile } from "./guestFiles";
import { saveHandle, type HostHandle } from "./handle";
import { ensureBaseImage } from "./image";
import { guestInitScript, type GuestRootLayers } from "./init";
import { createNetwork, hostNetwork, isNetworkFree, MAX_HOST_INDEX, type HostNetwork } from "./network";
import { hostStateDir, OWNER_FILE, REPO_ROOT, STATE_DIR } from "./paths";
import { spawnDetached, waitForListener } from "./processes";
import { discoverPackageSources, type PackageSources } from "./sources";
import { destroyHostByName } from "./teardown";
import { ensureRequiredTools } from "./tools";

const PROXY_PORT = 3128;

export interface CreateHostOptions {
  /** Label for destroyAllHosts({ owner }): lets the test suite clean its own leftovers and not the sandbox's. */
  owner?: string;
}

let packageSources: Promise<PackageSources> | undefined;

function discoverOnce(): Promise<PackageSources> {
  packageSources ??= discoverPackageSources();
  return packageSources;
}

/** Claims the first free index by creating its state dir (mkdir is atomic, so concurrent creators never collide). */
function reserveNetwork(owner: string): HostNetwork {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  for (let index = 1; index <= MAX_HOST_INDEX; index++) {
    const network = hostNetwork(index);
    if (!isNetworkFree(network)) continue;
    try {
      mkdirSync(hostStateDir(network.netns), { mode: 0o700 });
    } catch {
      continue;
    }
    writeFileSync(path.join(hostStateDir(network.netns), OWNER_FILE), owner);
    return network;
  }
  throw new Error(`all ${MAX_HOST_INDEX} host slots (10.200.N.0/30) are taken: run destroyAllHosts()`);
}

function rootLayers(stateDir: string, lower: string): GuestRootLayers {
  const layers = {
    lower,
    upper: path.join(stateDir, "upper"),
    work: path.join(stateDir, "work"),
    merged: path.join(stateDir, "merged"),
  };
  for (const directory of [layers.upper, layers.work, layers.merged]) mkdirSync(directory, { mode: 0o755 });
  return layers;
}

/** Creates the file's parent directories in the upper layer with the image's modes (e.g. /root stays 0700). */
function mkdirLikeImage(layers: GuestRootLayers, relativeDirectory: string): void {
  let current = "";
  for (const part of relativeDirectory.split("/").filter(Boolean)) {
    current = path.join(current, part);
    const inUpper = path.join(layers.upper, current);
    if (existsSync(inUpper)) continue;
    const inImage = path.join(layers.lower, current);
    const mode = existsSync(inImage)
      ? statSync(inImage).mode & 0o7777
      : current.endsWith(".ssh")
        ? 0o700
        : 0o755;
    mkdirSync(inUpper, { mode });
    chmodSync(inUpper, mode);
    chownSync(inUpper, 0, 0);
  }
}

function writeGuestFiles(layers: GuestRootLayers, files: readonly GuestFile[]): void {
  for (const file of files) {
    mkdirLikeImage(layers, path.dirname(file.path));
    const target = path.join(layers.upper, file.path);
    writeFileSync(target, file.content, { mode: file.mode });
    chmodSync(target, file.mode);
  }
}

async function generateHostKey(layers: GuestRootLayers, hostname: string): Promise<string> {
  mkdirLikeImage(layers, "etc/ssh");
  const keyFile = path.join(layers.upper, "etc/ssh/ssh_host_ed25519_key");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `root@${hostname}`, "-f", keyFile]);
  const [type, blob] = readFileSync(`${keyFile}.pub`, "utf8").trim().split(/\s+/);
  return `${type} ${blob}`;
}

async function startProxy(network: HostNetwork, sources: PackageSources, stateDir: string): Promise<number> {
  const logFile = path.join(stateDir, "proxy.log");
  const listen = `${network.hostSideAddress}:${PROXY_PORT}`;
  const pid = spawnDetached(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(__dirname, "proxy.ts"),
      "--listen",
      listen,
      "--allow",
      sources.allowedHosts.join(","),
      "--name",
      network.netns,
    ],
    { logFile, cwd: REPO_ROOT },
  );
  await waitForListener({ host: network.hostSideAddress, port: PROXY_PORT }, { pid, logFile, what: "proxy" });
  return pid;
}

async function startGuest(
  network: HostNetwork,
  layers: GuestRootLayers,
  stateDir: string,
  rootPassword: string,
): Promise<number> {
  const logFile = path.join(stateDir, "guest.log");
  const namespaces = ["--mount", "--pid", "--fork", "--kill-child", "--uts", "--ipc"];
  const pid = spawnDetached(
    "nsenter",
    [
      `--net=/run/netns/${network.netns}`,
      "unshare",
      ...namespaces,
      "sh",
      "-c",
      guestInitScript(layers, network.netns),
    ],
    { logFile, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", GUEST_ROOT_PASSWORD: rootPassword } },
  );
  await waitForListener(
    { host: network.guestAddress, port: 22, bannerPrefix: "SSH-" },
    { pid, logFile, what: "guest sshd" },
  );
  return pid;
}

async function buildHost(network: HostNetwork, owner: string): Promise<HostHandle> {
  const stateDir = hostStateDir(network.netns);
  const sources = await discoverOnce();
  const image = await ensureBaseImage(sources.debianMirror);
  const layers = rootLayers(stateDir, image.rootfs);
  const rootKeys = generateEd25519KeyPair(`root-client@${network.netns}`);
  const rootPassword = randomBytes(12).toString("base64url");
  const proxyUrl = `http://${network.hostSideAddress}:${PROXY_PORT}`;
  const hostKey = await generateHostKey(layers, network.netns);
  writeGuestFiles(
    layers,
    guestFiles({
      hostname: network.netns,
      proxyUrl,
      npmRegistry: sources.npmRegistry,
      debianSources: sources.debianSources,
      authorizedKey: rootKeys.publicKey,
      imageEnvironment: readFileSync(path.join(image.rootfs, "etc/environment"), "utf8"),
      imageSshdConfig: readFileSync(path.join(image.rootfs, "etc/ssh/sshd_config"), "utf8"),
    }),
  );
  await createNetwork(network);
  const proxyPid = await startProxy(network, sources, stateDir);
  const initPid = await startGuest(network, layers, stateDir, rootPassword);
  const handle: HostHandle = {
    name: network.netns,
    index: network.index,
    address: network.guestAddress,
    port: 22,
    hostKey,
    knownHostsLine: `${network.guestAddress} ${hostKey}`,
    rootPrivateKey: rootKeys.privateKey,
    rootPublicKey: rootKeys.publicKey,
    rootPassword,
    proxyUrl,
    npmRegistry: sources.npmRegistry,
    owner,
    netns: network.netns,
    hostVeth: network.hostVeth,
    stateDir,
    initPid,
    proxyPid,
  };
  saveHandle(handle);
  return handle;
}

/** Builds the base image on first use (about a minute), then starts a host from it in a few seconds. */
export async function createHost(options: CreateHostOptions = {}): Promise<HostHandle> {
  await ensureRequiredTools();
  const owner = options.owner ?? "default";
  const network = reserveNetwork(owner);
  try {
    return await buildHost(network, owner);
  } catch (error) {
    destroyHostByName(network.netns);
    throw error;
  }
}
