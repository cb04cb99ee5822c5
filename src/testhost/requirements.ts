// Debian packages the disposable hosts need on the machine that runs them (CI installs these up front).
// `node --import tsx src/testhost/requirements.ts` prints them space-separated, for `apt-get install -y $(...)`.
export const REQUIRED_APT_PACKAGES = [
  "debootstrap",
  "zstd",
  "iproute2",
  "util-linux",
  "mount",
  "openssh-client",
] as const;

type RequiredAptPackage = (typeof REQUIRED_APT_PACKAGES)[number];

/** Each command the library runs on the machine, and the apt package that provides it. */
export const REQUIRED_COMMANDS: Readonly<Record<string, RequiredAptPackage>> = {
  debootstrap: "debootstrap",
  zstd: "zstd",
  ip: "iproute2",
  unshare: "util-linux",
  nsenter: "util-linux",
  setpriv: "util-linux",
  umount: "mount",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
};

if (require.main === module) console.log(REQUIRED_APT_PACKAGES.join(" "));
