// Debian packages the disposable hosts need on the machine that runs them (CI installs these up front).
export const REQUIRED_APT_PACKAGES = [
  "debootstrap",
  "zstd",
  "iproute2",
  "util-linux",
  "openssh-client",
] as const;

export type RequiredAptPackage = (typeof REQUIRED_APT_PACKAGES)[number];

/** Each command the library runs on the machine, and the apt package that provides it. */
export const REQUIRED_COMMANDS: Readonly<Record<string, RequiredAptPackage>> = {
  debootstrap: "debootstrap",
  zstd: "zstd",
  ip: "iproute2",
  unshare: "util-linux",
  nsenter: "util-linux",
  setpriv: "util-linux",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
};
