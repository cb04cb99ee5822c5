// The cached Debian base image: debootstrap once, keep a zstd tarball and an extracted copy (the overlay's lower layer).
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  appendFileSync,
  copyFileSync,
  unlinkSync,
} from "node:fs";
import path from "node:path";
import { run } from "./command";
import { CACHE_DIR, DEBIAN_SUITE, IMAGE_RECIPE_VERSION } from "./paths";

const IMAGE_PACKAGES = [
  "openssh-server",
  "ca-certificates",
  "curl",
  "sudo",
  "git",
  "procps",
  "iproute2",
  "xz-utils",
] as const;

const MACHINE_CA_DIR = "/usr/local/share/ca-certificates";
const GUEST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export interface BaseImage {
  tarball: string;
  /** Extracted image, shared read-only by every host as the overlay's lower layer. */
  rootfs: string;
}

function machineCaCertificates(): string[] {
  try {
    return readdirSync(MACHINE_CA_DIR)
      .filter((name) => name.endsWith(".crt"))
      .sort()
      .map((name) => path.join(MACHINE_CA_DIR, name));
  } catch {
    return [];
  }
}

/** Anything that changes the image's content changes its cache name, so a stale image is never reused. */
function imageFingerprint(mirror: string): string {
  const hash = createHash("sha256");
  hash.update([IMAGE_RECIPE_VERSION, DEBIAN_SUITE, mirror, ...IMAGE_PACKAGES].join("\n"));
  for (const certificate of machineCaCertificates()) hash.update(readFileSync(certificate));
  return hash.digest("hex").slice(0, 12);
}

function baseImagePaths(mirror: string): BaseImage {
  const stem = path.join(CACHE_DIR, `${DEBIAN_SUITE}-${IMAGE_RECIPE_VERSION}-${imageFingerprint(mirror)}`);
  return { tarball: `${stem}.tar.zst`, rootfs: `${stem}.rootfs` };
}

function temporarySibling(target: string): string {
  return `${target}.tmp-${process.pid}-${Date.now()}`;
}

/** Rename into place; if a concurrent builder won the race, keep theirs and drop ours. */
function publish(temporary: string, target: string): void {
  try {
    renameSync(temporary, target);
  } catch (error) {
    if (!existsSync(target)) throw error;
    rmSync(temporary, { recursive: true, force: true });
  }
}

function removeBuilderIdentity(root: string): void {
  const sshDir = path.join(root, "etc/ssh");
  for (const name of readdirSync(sshDir).filter((entry) => entry.startsWith("ssh_host_"))) {
    unlinkSync(path.join(sshDir, name));
  }
  for (const file of ["etc/resolv.conf", "etc/hostname"]) rmSync(path.join(root, file), { force: true });
  writeFileSync(path.join(root, "etc/machine-id"), "");
  rmSync(path.join(root, "etc/apt/sources.list"), { force: true });
  rmSync(path.join(root, "var/lib/apt/lists"), { recursive: true, force: true });
  mkdirSync(path.join(root, "var/lib/apt/lists/partial"), { recursive: true });
  rmSync(path.join(root, "var/cache/apt/archives"), { recursive: true, force: true });
  mkdirSync(path.join(root, "var/cache/apt/archives/partial"), { recursive: true });
}

async function trustMachineCertificates(root: string): Promise<void> {
  const target = path.join(root, MACHINE_CA_DIR);
  mkdirSync(target, { recursive: true });
  for (const certificate of machineCaCertificates())
    copyFileSync(certificate, path.join(target, path.basename(certificate)));
  await run("chroot", [root, "update-ca-certificates"]);
  appendFileSync(path.join(root, "etc/environment"), `NODE_EXTRA_CA_CERTS=${GUEST_CA_BUNDLE}\n`);
}

/** pam_loginuid needs CAP_AUDIT_CONTROL, which the guest does not get; as `required` it would refuse every login. */
function relaxLoginUid(root: string): void {
  const file = path.join(root, "etc/pam.d/sshd");
  const text = readFileSync(file, "utf8");
  writeFileSync(
    file,
    text.replace(/^session\s+required\s+pam_loginuid\.so/m, "session optional pam_loginuid.so"),
  );
}

async function buildRootfs(mirror: string, target: string): Promise<void> {
  rmSync(target, { recursive: true, force: true });
  await run("debootstrap", [
    "--variant=minbase",
    `--include=${IMAGE_PACKAGES.join(",")}`,
    DEBIAN_SUITE,
    target,
    mirror,
  ]);
  removeBuilderIdentity(target);
  await trustMachineCertificates(target);
  relaxLoginUid(target);
}

async function packTarball(rootfs: string, tarball: string): Promise<void> {
  const temporary = temporarySibling(tarball);
  await run("tar", ["--numeric-owner", "--xattrs", "-I", "zstd -T0 -3", "-cf", temporary, "-C", rootfs, "."]);
  publish(temporary, tarball);
}

async function unpackTarball(tarball: string, rootfs: string): Promise<void> {
  const temporary = temporarySibling(rootfs);
  mkdirSync(temporary);
  await run("tar", ["--numeric-owner", "--xattrs", "-I", "zstd", "-xf", tarball, "-C", temporary]);
  publish(temporary, rootfs);
}

function pidInLock(lockDir: string): number | undefined {
  try {
    return Number(readFileSync(path.join(lockDir, "pid"), "utf8"));
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One builder per image across processes: the lock is a directory holding the builder's pid; a lock whose
 * builder has died is taken over. Waiters return as soon as the image exists.
 */
async function underBuildLock(image: BaseImage, build: () => Promise<void>): Promise<void> {
  const lockDir = `${image.rootfs}.lock`;
  for (;;) {
    if (existsSync(image.rootfs) && existsSync(image.tarball)) return;
    try {
      mkdirSync(lockDir);
    } catch {
      const holder = pidInLock(lockDir);
      if (holder !== undefined && !Number.isNaN(holder) && !isRunning(holder))
        rmSync(lockDir, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    try {
      writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      if (!(existsSync(image.rootfs) && existsSync(image.tarball))) await build();
      return;
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  }
}

async function buildOrUnpack(mirror: string, image: BaseImage): Promise<void> {
  if (existsSync(image.tarball)) {
    await unpackTarball(image.tarball, image.rootfs);
    return;
  }
  const building = temporarySibling(image.rootfs);
  try {
    await buildRootfs(mirror, building);
    await packTarball(building, image.tarball);
    publish(building, image.rootfs);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

const imagesInProgress = new Map<string, Promise<BaseImage>>();

/**
 * Returns the cached image, building it first if needed (about a minute). Every step writes to a temporary
 * path and renames, so a killed build leaves no half image behind under the final name.
 */
export function ensureBaseImage(mirror: string): Promise<BaseImage> {
  const image = baseImagePaths(mirror);
  if (existsSync(image.rootfs) && existsSync(image.tarball)) return Promise.resolve(image);
  let pending = imagesInProgress.get(image.rootfs);
  if (!pending) {
    mkdirSync(CACHE_DIR, { recursive: true });
    pending = underBuildLock(image, () => buildOrUnpack(mirror, image)).then(() => image);
    pending.finally(() => imagesInProgress.delete(image.rootfs)).catch(() => undefined);
    imagesInProgress.set(image.rootfs, pending);
  }
  return pending;
}
