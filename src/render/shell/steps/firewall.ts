// Inner script (run as root) of the firewall step: an nftables table of its own that lets in only SSH, 80 and 443.
import type { PipelineConfig } from "../../../config/types";
import { quote } from "../../../primitives/shellQuote";
import { PIPELINE_STATE_DIR } from "../../hostLayout";
import { LOAD_SYSTEM_ENVIRONMENT } from "../envFile";

export const FIREWALL_STEP = "firewall";
export const FIREWALL_TABLE = "inet pipeline";
export const FIREWALL_RULES_FILE = "/etc/nftables.d/pipeline.nft";
/** Debian's nftables.service loads this file at boot; the step adds an include of FIREWALL_RULES_FILE. */
export const NFTABLES_CONF = "/etc/nftables.conf";
/** `nft list table inet pipeline` right after the step's last load: a second run compares against it. */
export const FIREWALL_LOADED_STATE = `${PIPELINE_STATE_DIR}/firewall.loaded`;

type FirewallInput = Pick<PipelineConfig, "firewall"> & Partial<Pick<PipelineConfig, "aws">>;

/** The EC2 instance metadata service (IPv4, and IPv6 on Nitro instances): it serves the user data to anyone asking. */
export const METADATA_ADDRESSES = { ipv4: "169.254.169.254", ipv6: "fd00:ec2::254" } as const;

/**
 * On hosts the program creates on EC2 only root may reach the metadata service: the app, the deploy user and every
 * other local user get a reset. (The program attaches no instance profile, so there are no instance credentials an
 * app could need there; other clouds' hosts keep their metadata service as it is.)
 */
export function blocksMetadataService(config: FirewallInput): boolean {
  return config.aws?.hosts !== undefined;
}

function metadataOutputChain(): string[] {
  return [
    "  chain output {",
    "    type filter hook output priority filter; policy accept;",
    // A reset, so that a client fails at once instead of waiting for its timeout; anything but TCP is dropped.
    `    ip daddr ${METADATA_ADDRESSES.ipv4} meta skuid != 0 meta l4proto tcp reject with tcp reset`,
    `    ip daddr ${METADATA_ADDRESSES.ipv4} meta skuid != 0 drop`,
    `    ip6 daddr ${METADATA_ADDRESSES.ipv6} meta skuid != 0 meta l4proto tcp reject with tcp reset`,
    `    ip6 daddr ${METADATA_ADDRESSES.ipv6} meta skuid != 0 drop`,
    "  }",
  ];
}

/**
 * TCP ports open to the world besides SSH: 80, 443 and the extra ports. SSH is whatever sshd listens on, read on
 * each host (`sshd -T`): the script stays the same for every host, so a host that moves or leaves the stack
 * changes no other host's step, and the port sshd really uses is open even behind a port forward.
 */
export function firewallTcpPorts(config: FirewallInput): number[] {
  return [...new Set([80, 443, ...config.firewall.extraTcpPorts])].sort((a, b) => a - b);
}

/** The script's $1: the connection running it (its 4th field is the server port), which must get in again. */
export const FIREWALL_CALLER_VARIABLES = ["SSH_CONNECTION"] as const;

/**
 * `sshd_ports`: the TCP ports in `sshd -T` output on stdin, space-separated: each `port` line and the port of each
 * `listenaddress` line (`0.0.0.0:2222`, `[::]:2222`). sshd -T prints `port 22` even when `ListenAddress
 * 0.0.0.0:2222` is all sshd binds, so the port lines alone could lock SSH out.
 */
export const SSHD_PORTS_FUNCTION = [
  "sshd_ports() {",
  `  awk '$1 == "port" || $1 == "listenaddress" { port = $2; sub(/.*:/, "", port); if (port ~ /^[0-9]+$/) print port }' | sort -nu | paste -sd ' '`,
  "}",
].join("\n");

/**
 * `admits_connection <SSH_CONNECTION> <open ports>`: fails, saying why, when the rule set would drop new
 * connections to the server port the given connection came in on (a port forward or socket activation that sshd
 * -T does not show). No connection (a console): nothing to check.
 */
export const ADMITS_CONNECTION_FUNCTION = [
  "admits_connection() {",
  "  local client server server_port",
  '  read -r client _ server server_port _ <<<"$1"',
  '  if [ -z "${server_port-}" ]; then return 0; fi',
  '  case " $2 " in *" $server_port "*) return 0 ;; esac',
  '  echo "not loading the firewall: it opens TCP $2 but not $server_port, the port of the SSH connection running this step (from $client to $server), so the next connection would be dropped; the old rules stay. Make sshd name that port (Port or ListenAddress in sshd_config) or list it in pipeline:firewall.extraTcpPorts" >&2',
  "  return 1",
  "}",
].join("\n");

/** Where the script puts the ports sshd listens on. */
const SSH_PORTS_PLACEHOLDER = "@SSH_PORTS@";

/**
 * The rules file: one nft -f transaction that declares, deletes and redefines the table (so a chain or rule an
 * earlier version had is gone too), atomically: packets see the old table or the new one, never none. Other
 * tables (Docker's, the image's) are left alone; a packet must pass every base chain, so this drop is final.
 * Established/related first: the connection that loads the rules (and every other open one) keeps working.
 */
export function renderFirewallRules(config: FirewallInput, sshPorts: string = SSH_PORTS_PLACEHOLDER): string {
  return [
    "# Managed by pipeline (pulumi up rewrites this file): inbound, only SSH, HTTP(S) and the listed ports.",
    `table ${FIREWALL_TABLE}`,
    `delete table ${FIREWALL_TABLE}`,
    `table ${FIREWALL_TABLE} {`,
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    "    ct state established,related accept",
    "    ct state invalid drop",
    '    iifname "lo" accept',
    "    icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept",
    "    icmpv6 type { echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept",
    `    tcp dport { ${sshPorts} } accept`,
    `    tcp dport { ${firewallTcpPorts(config).join(", ")} } accept`,
    "  }",
    ...(blocksMetadataService(config) ? metadataOutputChain() : []),
    "}",
    "",
  ].join("\n");
}

export function firewallScript(config: FirewallInput): string {
  return config.firewall.enabled ? applyFirewallScript(config) : removeFirewallScript();
}

const INCLUDE_LINE = `include "${FIREWALL_RULES_FILE}"`;

function applyFirewallScript(config: FirewallInput): string {
  const encoded = Buffer.from(renderFirewallRules(config), "utf8").toString("base64");
  const ports = firewallTcpPorts(config);
  return [
    "export DEBIAN_FRONTEND=noninteractive",
    LOAD_SYSTEM_ENVIRONMENT,
    "if ! dpkg -s nftables 2>/dev/null | grep -qx 'Status: install ok installed'; then",
    "  apt-get update -q",
    "  apt-get install -y -q --no-install-recommends nftables",
    "fi",
    SSHD_PORTS_FUNCTION,
    ADMITS_CONNECTION_FUNCTION,
    // The SSH ports: what sshd listens on; the connection running this step must be one of the open ports.
    "ssh_ports=$(/usr/sbin/sshd -T | sshd_ports)",
    'if [ -z "$ssh_ports" ]; then echo "sshd -T names no port: not loading a firewall that could lock SSH out" >&2; exit 1; fi',
    `admits_connection "\${1-}" "$ssh_ports ${ports.join(" ")}" || exit 1`,
    "ssh_ports=${ssh_ports// /, }",
    `rules=${quote(FIREWALL_RULES_FILE)}`,
    `state=${quote(FIREWALL_LOADED_STATE)}`,
    'mkdir -p "${rules%/*}" "${state%/*}"',
    'candidate=$(mktemp "$rules.check-XXXXXX")',
    `printf %s ${encoded} | base64 -d | sed "s/${SSH_PORTS_PLACEHOLDER}/$ssh_ports/" >"$candidate"`,
    'if ! problems=$(nft -c -f "$candidate" 2>&1); then',
    '  rm -f "$candidate"',
    '  echo "nft rejects the firewall rules, nothing loaded: $problems" >&2',
    "  exit 1",
    "fi",
    'chmod 0644 "$candidate"',
    'chown root:root "$candidate"',
    'if [ -f "$rules" ] && [ ! -L "$rules" ] && cmp -s "$candidate" "$rules" && [ "$(stat -c %a:%u:%g "$rules")" = 644:0:0 ]; then',
    "  unchanged=1",
    '  rm -f "$candidate"',
    "else",
    "  unchanged=0",
    '  mv -fT "$candidate" "$rules"',
    "fi",
    `loaded=$(nft list table ${FIREWALL_TABLE} 2>/dev/null || true)`,
    'if [ "$unchanged" = 1 ] && [ -n "$loaded" ] && [ -f "$state" ] && [ "$loaded" = "$(cat "$state")" ]; then',
    '  echo "firewall rules already loaded" >&2',
    "else",
    '  rm -f "$state"',
    '  nft -f "$rules"',
    `  nft list table ${FIREWALL_TABLE} >"$state"`,
    `  echo "firewall loaded: inbound TCP $ssh_ports (sshd), ${ports.join(", ")}; everything else dropped" >&2`,
    "fi",
    // At boot: Debian's nftables.service loads /etc/nftables.conf (its `flush ruleset`, then this include).
    `if ! grep -qxF ${quote(INCLUDE_LINE)} ${NFTABLES_CONF} 2>/dev/null; then`,
    `  if [ ! -f ${NFTABLES_CONF} ]; then printf '#!/usr/sbin/nft -f\\n' >${NFTABLES_CONF}; fi`,
    `  printf '\\n%s\\n' ${quote(INCLUDE_LINE)} >>${NFTABLES_CONF}`,
    "fi",
    "if [ -d /run/systemd/system ]; then",
    "  if ! systemctl is-enabled --quiet nftables.service; then systemctl enable nftables.service; fi",
    "else",
    '  echo "no systemd: the firewall is loaded now, but nothing loads it at boot" >&2',
    "fi",
  ].join("\n");
}

/** firewall.enabled false: the table, the file and the include go; nftables.service stays as the admin left it. */
function removeFirewallScript(): string {
  return [
    `if command -v nft >/dev/null && nft list table ${FIREWALL_TABLE} >/dev/null 2>&1; then nft delete table ${FIREWALL_TABLE}; fi`,
    `rm -f ${quote(FIREWALL_RULES_FILE)} ${quote(FIREWALL_LOADED_STATE)}`,
    `if grep -qxF ${quote(INCLUDE_LINE)} ${NFTABLES_CONF} 2>/dev/null; then`,
    `  sed -i ${quote(`\\|^${INCLUDE_LINE}$|d`)} ${NFTABLES_CONF}`,
    "fi",
  ].join("\n");
}
