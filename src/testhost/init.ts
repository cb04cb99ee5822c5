// The script that turns a fresh set of namespaces into a guest: overlay root, /proc, /dev, pivot_root, sshd as PID 1.
import { singleQuote } from "../primitives/shellQuote";

export interface GuestRootLayers {
  lower: string;
  upper: string;
  work: string;
  merged: string;
}

/**
 * What sshd, PAM, sudo, apt and npm need, and net_admin for the firewall step's nftables rules (netlink answers
 * without it "cache initialization failed: Operation not permitted"): it acts on the guest's own network
 * namespace only, which the guest cannot leave (setns needs sys_admin). Everything else (sys_admin, sys_module,
 * mknod, ...) is dropped.
 */
const GUEST_CAPABILITIES = [
  "chown",
  "dac_override",
  "dac_read_search",
  "fowner",
  "fsetid",
  "kill",
  "setgid",
  "setuid",
  "setpcap",
  "setfcap",
  "net_admin",
  "net_bind_service",
  "net_raw",
  "sys_chroot",
  "sys_resource",
  "ipc_lock",
  "audit_write",
] as const;

const DEVICE_NODES: ReadonlyArray<[name: string, major: number, minor: number]> = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
];

function mountRoot(layers: GuestRootLayers): string[] {
  const root = singleQuote(layers.merged);
  return [
    "mount --make-rprivate /",
    `mount -t overlay overlay -o ${singleQuote(`lowerdir=${layers.lower},upperdir=${layers.upper},workdir=${layers.work}`)} ${root}`,
    `mount -t proc -o nosuid,nodev,noexec proc ${root}/proc`,
    `mount -t sysfs -o ro,nosuid,nodev,noexec sysfs ${root}/sys`,
    `mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs ${root}/run`,
    `mkdir -p ${root}/run/sshd ${root}/run/lock`,
  ];
}

function mountDev(merged: string): string[] {
  const dev = `${singleQuote(merged)}/dev`;
  return [
    `mount -t tmpfs -o nosuid,mode=755 tmpfs ${dev}`,
    ...DEVICE_NODES.map(([name, major, minor]) => `mknod -m 666 ${dev}/${name} c ${major} ${minor}`),
    `mkdir ${dev}/pts ${dev}/shm`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts ${dev}/pts`,
    `mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs ${dev}/shm`,
    `ln -s pts/ptmx ${dev}/ptmx`,
    `ln -s /proc/self/fd ${dev}/fd`,
    `ln -s /proc/self/fd/0 ${dev}/stdin`,
    `ln -s /proc/self/fd/1 ${dev}/stdout`,
    `ln -s /proc/self/fd/2 ${dev}/stderr`,
  ];
}

function switchRoot(merged: string): string[] {
  return [
    `cd ${singleQuote(merged)}`,
    "mkdir -p .old-root",
    "pivot_root . .old-root",
    "cd /",
    "umount -l /.old-root",
    "rmdir /.old-root",
  ];
}

/**
 * Runs inside `unshare --mount --pid --fork --uts --ipc` (already in the host's netns). The root password arrives in
 * $GUEST_ROOT_PASSWORD so that it never shows in a process list.
 */
export function guestInitScript(layers: GuestRootLayers, hostname: string): string {
  const bounding = ["-all", ...GUEST_CAPABILITIES.map((capability) => `+${capability}`)].join(",");
  return [
    "set -eu",
    ...mountRoot(layers),
    ...mountDev(layers.merged),
    ...switchRoot(layers.merged),
    `echo ${singleQuote(hostname)} > /proc/sys/kernel/hostname`,
    'echo "root:$GUEST_ROOT_PASSWORD" | chpasswd',
    "unset GUEST_ROOT_PASSWORD",
    `exec setpriv --bounding-set ${bounding} /usr/sbin/sshd -D -e`,
  ].join("\n");
}
