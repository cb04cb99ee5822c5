// Inner scripts (run as root) for the operating-system concerns: packages, the deploy user, sshd.
import type { PipelineConfig } from "../../../config/types";
import { hostLayout } from "../../hostLayout";
import { quote } from "../../../primitives/shellQuote";
import { argv, writeFile } from "../commands";
import { LOAD_SYSTEM_ENVIRONMENT } from "../envFile";

/** What the scripts and the release agent need beyond Debian's essential packages. */
const BASE_PACKAGES = [
  "ca-certificates",
  "curl",
  "git",
  "gpgv", // checks the signature of the Node.js release checksums
  "gzip",
  "iproute2", // ss: the agent looks up the ports a new release listens on (deploy.strategy sideBySide)
  "libatomic1", // linked by the official Node.js builds from 26 on (node: libatomic.so.1: cannot open shared object)
  "openssl",
  "procps",
  "sudo",
  "tar",
  "util-linux",
  "xz-utils",
] as const;

export function basePackagesScript(): string {
  return aptInstallMissingScript(BASE_PACKAGES);
}

/** Installs the Debian packages that are not installed yet (a second run changes nothing). */
export function aptInstallMissingScript(packages: readonly string[]): string {
  return [
    "export DEBIAN_FRONTEND=noninteractive",
    LOAD_SYSTEM_ENVIRONMENT,
    `packages=(${packages.join(" ")})`,
    "missing=()",
    'for package in "${packages[@]}"; do',
    `  if ! dpkg -s "$package" 2>/dev/null | grep -qx 'Status: install ok installed'; then missing+=("$package"); fi`,
    "done",
    'if [ "${#missing[@]}" -gt 0 ]; then',
    "  apt-get update -q",
    '  apt-get install -y -q --no-install-recommends "${missing[@]}"',
    "fi",
  ].join("\n");
}

/** Entries of the root-owned home that the deploy user owns: the release layout and the caches of its tools. */
const USER_OWNED_HOME_DIRS = ["apps", ".pm2", ".cache", ".config", ".local", ".npm"] as const;

/**
 * Bash reads these before a forced command (~/.bashrc: Debian builds bash with SSH_SOURCE_BASHRC) or for login
 * shells; they are root-owned in the root-owned home, so nothing running as the deploy user can plant a hook.
 */
const MANAGED_DOTFILES: Record<string, string> = {
  ".bashrc":
    "# Managed by pipeline: root-owned, so that nothing running as the deploy user can change what its shells run.\n",
  ".profile": "# Managed by pipeline (root-owned).\n",
  ".bash_profile": '# Managed by pipeline (root-owned).\n. "$HOME/.bashrc"\n',
  ".bash_login": "# Managed by pipeline (root-owned).\n",
  ".bash_logout": "# Managed by pipeline (root-owned).\n",
};

/**
 * The deploy user (no password: key login only, no extra groups) and its home. The home is root-owned (root:<its
 * group>, 0750), so root never works in a directory the user can change: root creates the user-owned entries
 * below it once (a planted link or file there from an earlier version is removed first; the user cannot add one
 * once the home is root's), writes the dotfiles, and creates everything deeper as the user itself (`runuser`),
 * so a link planted inside the user's directories is at worst the user's own problem.
 */
export function deployUserScript(config: PipelineConfig): string {
  const layout = hostLayout(config);
  const user = config.deployUser;
  const asUser = `runuser -u ${user} --`;
  return [
    `user=${quote(user)}`,
    `home=${quote(layout.home)}`,
    'if ! id -u "$user" >/dev/null 2>&1; then',
    '  useradd --create-home --home-dir "$home" --shell /bin/bash --user-group "$user"',
    "fi",
    REFUSE_UNSAFE_DEPLOY_USER,
    'if [ "$(getent passwd "$user" | cut -d: -f7)" != /bin/bash ]; then usermod --shell /bin/bash "$user"; fi',
    // '*' = no password can match, but (unlike a locked '!') key logins work even with UsePAM no.
    `if [ "$(getent shadow "$user" | cut -d: -f2)" != '*' ]; then usermod --password '*' "$user"; fi`,
    'group=$(id -gn "$user")',
    'if [ -L "$home" ] || [ ! -d "$home" ]; then echo "$home is not a directory" >&2; exit 1; fi',
    'if [ "$(stat -c %u:%G:%a "$home")" != "0:$group:750" ]; then chown root:"$group" "$home" && chmod 0750 "$home"; fi',
    `for entry in ${USER_OWNED_HOME_DIRS.join(" ")}; do`,
    '  path="$home/$entry"',
    '  if [ -L "$path" ] || { [ -e "$path" ] && [ ! -d "$path" ]; }; then rm -f -- "$path"; fi',
    '  if [ ! -d "$path" ]; then install -d -m 0750 -o "$user" -g "$group" -- "$path"; fi',
    '  if [ "$(stat -c %U "$path")" != "$user" ]; then chown -h "$user":"$group" -- "$path"; fi',
    "done",
    ...Object.entries(MANAGED_DOTFILES).map(([name, content]) =>
      writeFile(`${layout.home}/${name}`, content, { mode: "0644", owner: "root:root" }),
    ),
    // Deeper levels: created by the user, in its own directories (a link it put there is followed with its rights).
    "# shellcheck disable=SC2016 # the script is expanded by the deploy user's bash",
    `(cd "$home" && ${asUser} bash --norc -c ${quote(USER_LAYOUT_SCRIPT)} layout ${[layout.appRoot, layout.releases, layout.shared, layout.logs].map(quote).join(" ")})`,
  ].join("\n");
}

const USER_LAYOUT_SCRIPT = [
  'for dir in "$@"; do',
  '  mkdir -p -- "$dir"',
  '  chmod 0750 -- "$dir" || echo "warning: could not make $dir private (is it a link to a directory of another user?)" >&2',
  "done",
].join("\n");

/**
 * An existing deploy user in groups other than its own gets their powers too (sudo and docker: root; adm: the
 * system logs); so would every dependency and migration it runs. Refused, with the fix.
 */
const REFUSE_UNSAFE_DEPLOY_USER = [
  'if [ "$(id -u "$user")" -eq 0 ]; then echo "pipeline:deployUser $user has uid 0: choose an unprivileged user" >&2; exit 1; fi',
  "extra=$(id -Gn \"$user\" | tr ' ' '\\n' | grep -vxF -- \"$(id -gn \"$user\")\" | tr '\\n' ' ' || true)",
  'if [ -n "${extra% }" ]; then',
  '  echo "pipeline:deployUser $user is also in the group(s) ${extra% }: the deploy user runs every deployed dependency and migration, which would get those groups\' rights too. Remove it from them (gpasswd -d $user <group>) or set pipeline:deployUser to a new user." >&2',
  "  exit 1",
  "fi",
  'actual_home=$(getent passwd "$user" | cut -d: -f6)',
  'if [ "$actual_home" != "$home" ]; then',
  '  echo "pipeline:deployUser $user has the home $actual_home, the pipeline needs $home (usermod --home $home --move-home $user, or a new user)" >&2',
  "  exit 1",
  "fi",
].join("\n");

/** The deploy user's authorized keys: root-owned, outside the home; sshd reads only this file for the user. */
export function authorizedKeysPath(config: Pick<PipelineConfig, "deployUser" | "app">): string {
  return hostLayout(config).authorizedKeys;
}

const SSHD_DROP_IN_DIR = "/etc/ssh/sshd_config.d";
/**
 * sshd keeps the first value it reads and reads the drop-ins in lexical order, at the Include at the top of the
 * main file: `00-` sorts before what images ship (Debian/Ubuntu cloud images: 50-cloud-init.conf, often with
 * `PasswordAuthentication yes`), so these settings win there.
 */
export const SSHD_DROP_IN = `${SSHD_DROP_IN_DIR}/00-pipeline.conf`;
/** Where earlier versions wrote the drop-in (it lost to 50-cloud-init.conf); removed by the step. */
export const OLD_SSHD_DROP_INS = [`${SSHD_DROP_IN_DIR}/50-pipeline.conf`] as const;

type SshdConfigInput = Pick<PipelineConfig, "adminUser" | "deployUser" | "app" | "vps">;

/**
 * The users sshd lets in at all (AllowUsers): the admin user (the provisioning connection; root when it is root),
 * the deploy user and vps.sshAllowUsers. Everybody else is refused before authentication.
 */
export function sshdAllowedUsers(config: Pick<PipelineConfig, "adminUser" | "deployUser" | "vps">): string[] {
  return [...new Set([config.adminUser, config.deployUser, ...config.vps.sshAllowUsers])];
}

/**
 * The global settings, after the CIS Debian 12 benchmark (section 5.1, SSH server) and dev-sec ssh-hardening
 * where they fit a deploy host; what is left out and why is in the README ("sshd baseline"). `lines` go into the
 * drop-in; `effective` are the lines `sshd -T` must print (lowercase keywords, one line per AllowUsers entry,
 * prohibit-password printed as without-password).
 */
export function sshdSettings(config: SshdConfigInput): { lines: string[]; effective: string[] } {
  const users = sshdAllowedUsers(config);
  const rootLogin = config.adminUser === "root" ? "prohibit-password" : "no";
  const settings: Array<[line: string, ...effective: string[]]> = [
    ["PasswordAuthentication no", "passwordauthentication no"],
    ["KbdInteractiveAuthentication no", "kbdinteractiveauthentication no"],
    [
      `PermitRootLogin ${rootLogin}`,
      rootLogin === "no" ? "permitrootlogin no" : "permitrootlogin (prohibit-password|without-password)",
    ],
    ["PermitEmptyPasswords no", "permitemptypasswords no"],
    ["PubkeyAuthentication yes", "pubkeyauthentication yes"],
    ["HostbasedAuthentication no", "hostbasedauthentication no"],
    ["IgnoreRhosts yes", "ignorerhosts yes"],
    ["GSSAPIAuthentication no", "gssapiauthentication no"],
    ["PermitUserEnvironment no", "permituserenvironment no"],
    ["X11Forwarding no", "x11forwarding no"],
    ["MaxAuthTries 4", "maxauthtries 4"],
    ["MaxSessions 10", "maxsessions 10"],
    // Beyond 10 unauthenticated connections sshd drops 30% of new ones, beyond 60 all of them.
    ["MaxStartups 10:30:60", "maxstartups 10:30:60"],
    ["LoginGraceTime 30", "logingracetime 30"],
    // A client that stops answering is dropped after 4 unanswered probes 15 s apart: about a minute.
    ["ClientAliveInterval 15", "clientaliveinterval 15"],
    ["ClientAliveCountMax 4", "clientalivecountmax 4"],
    // VERBOSE: the auth log names the fingerprint of the key that logged in.
    ["LogLevel VERBOSE", "loglevel VERBOSE"],
    [`AllowUsers ${users.join(" ")}`, ...users.map((user) => `allowusers ${user}`)],
  ];
  return {
    lines: settings.map(([line]) => line),
    effective: settings.flatMap(([, ...effective]) => effective),
  };
}

/**
 * No forwarding of any kind for the deploy user, whatever its key line says (an unrestricted line added by hand
 * included), and no terminal: it runs the release agent and nothing else. Inside its Match block.
 */
const DEPLOY_USER_SSHD_SETTINGS: ReadonlyArray<readonly [line: string, effective: string]> = [
  ["DisableForwarding yes", "disableforwarding yes"],
  ["AllowTcpForwarding no", "allowtcpforwarding no"],
  ["AllowStreamLocalForwarding no", "allowstreamlocalforwarding no"],
  ["AllowAgentForwarding no", "allowagentforwarding no"],
  ["PermitTunnel no", "permittunnel no"],
  ["X11Forwarding no", "x11forwarding no"],
  ["PermitTTY no", "permittty no"],
];

/** The `sshd -T -C user=<deploy user>,...` lines that must hold for the deploy user's connections. */
export function deployUserEffectiveSshdSettings(): string[] {
  return DEPLOY_USER_SSHD_SETTINGS.map(([, effective]) => effective);
}

function sshdDropIn(config: SshdConfigInput): string {
  return [
    "# Managed by pipeline (pulumi up rewrites this file).",
    "# Read first (Include at the top of /etc/ssh/sshd_config, 00- before the other drop-ins such as",
    "# 50-cloud-init.conf): sshd keeps the first value it reads, so these win.",
    ...sshdSettings(config).lines,
    ...deployUserMatchBlock(config),
    "",
  ].join("\n");
}

/**
 * Last in the drop-in: a Match block ends at the end of the file that holds it (OpenSSH 9.2 restores the global
 * context after an Include; `sshd -T` on a host shows the later drop-ins and the rest of sshd_config apply to
 * every user), so nothing after it here. The deploy user's keys are only the root-owned file: its own
 * ~/.ssh/authorized_keys, which it and the code it runs could change, does not count.
 */
function deployUserMatchBlock(config: Pick<PipelineConfig, "deployUser" | "app">): string[] {
  return [
    "",
    "# The deploy user: only the root-owned key file (never ~/.ssh/authorized_keys). Keep this block last.",
    `Match User ${config.deployUser}`,
    `    AuthorizedKeysFile ${authorizedKeysPath(config)}`,
    ...DEPLOY_USER_SSHD_SETTINGS.map(([line]) => `    ${line}`),
  ];
}

/** `sshd -T -C user=<deploy user>,...` must show exactly this line. */
export function deployUserKeysSetting(config: Pick<PipelineConfig, "deployUser" | "app">): string {
  return `authorizedkeysfile ${authorizedKeysPath(config)}`;
}

/**
 * `first_file_setting <keyword>` prints the file (`file:line`) whose setting of the keyword sshd keeps: the first
 * one in the order sshd reads them (the main file up to its Include, the drop-ins in C-locale order, the rest of
 * the main file). Only used to explain a failed check.
 */
const FIRST_FILE_SETTING = [
  "first_file_setting() {",
  "  local keyword=$1 include_at file found",
  '  local pattern="^[[:space:]]*${keyword}([[:space:]]|=)"',
  "  include_at=$(grep -n -m 1 -i -E '^[[:space:]]*Include[[:space:]]' \"$main_config\" | cut -d: -f1 || true)",
  '  found=$(head -n "$(( ${include_at:-1} - 1 ))" "$main_config" | grep -n -m 1 -i -E "$pattern" | cut -d: -f1 || true)',
  '  if [ -n "$found" ]; then echo "$main_config:$found"; return; fi',
  `  for file in ${SSHD_DROP_IN_DIR}/*.conf; do`,
  '    found=$(grep -n -m 1 -i -E "$pattern" "$file" 2>/dev/null | cut -d: -f1 || true)',
  '    if [ -n "$found" ]; then echo "$file:$found"; return; fi',
  "  done",
  '  found=$(grep -n -m 1 -i -E "$pattern" "$main_config" | cut -d: -f1 || true)',
  '  echo "$main_config${found:+:$found}"',
  "}",
].join("\n");

export function sshdHardeningScript(config: SshdConfigInput): string {
  return [
    "main_config=/etc/ssh/sshd_config",
    FIRST_FILE_SETTING,
    `mkdir -p ${SSHD_DROP_IN_DIR} /run/sshd`,
    // Debian has the Include at the top of the main file; add it (at the top, so it wins) where it is missing.
    "if ! grep -Eq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\\.d/\\*\\.conf' \"$main_config\"; then",
    "  sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' \"$main_config\"",
    "fi",
    // No client environment (Debian's main file accepts LANG and LC_*); AcceptEnv adds up, so it goes at the source.
    "if grep -Eqi '^[[:space:]]*AcceptEnv[[:space:]]' \"$main_config\"; then",
    "  sed -i -E 's/^([[:space:]]*AcceptEnv[[:space:]].*)$/# \\1 (disabled by pipeline: sshd accepts no client environment)/I' \"$main_config\"",
    "fi",
    writeFile(SSHD_DROP_IN, sshdDropIn(config), { mode: "0644", owner: "root:root" }),
    argv("rm", "-f", ...OLD_SSHD_DROP_INS),
    "if ! problems=$(/usr/sbin/sshd -t 2>&1); then",
    '  echo "sshd -t rejects the configuration, not reloading sshd: $problems" >&2',
    "  exit 1",
    "fi",
    "effective=$(/usr/sbin/sshd -T)",
    `for expected in ${sshdSettings(config).effective.map(quote).join(" ")}; do`,
    '  if ! grep -Eqx "$expected" <<<"$effective"; then',
    "    keyword=${expected%% *}",
    // sshd sorts the Include glob bytewise: so does the function, in the C locale.
    '    winner=$(export LC_ALL=C; first_file_setting "$keyword")',
    `    if [ "\${winner%%:*}" = ${SSHD_DROP_IN} ]; then`,
    `      echo "sshd would not apply '$expected' although ${SSHD_DROP_IN} sets $keyword first (a Match block or a newer sshd?)" >&2`,
    "    else",
    `      echo "sshd would not apply '$expected': $winner sets $keyword before ${SSHD_DROP_IN} does, and sshd keeps the first value it reads (remove or change that line)" >&2`,
    "    fi",
    "    exit 1",
    "  fi",
    "done",
    `for_deploy_user=$(/usr/sbin/sshd -T -C ${quote(`user=${config.deployUser},host=pipeline-check,addr=127.0.0.1`)})`,
    `if ! grep -qxF ${quote(deployUserKeysSetting(config))} <<<"$for_deploy_user"; then`,
    `  echo "sshd would not read the deploy user's keys from ${authorizedKeysPath(config)} only (another Match block or AuthorizedKeysFile before ${SSHD_DROP_IN}?)" >&2`,
    "  exit 1",
    "fi",
    `for expected in ${deployUserEffectiveSshdSettings().map(quote).join(" ")}; do`,
    '  if ! grep -qxF "$expected" <<<"$for_deploy_user"; then',
    `    echo "sshd would not apply '$expected' to ${config.deployUser} (a Match block before ${SSHD_DROP_IN} sets it?)" >&2`,
    "    exit 1",
    "  fi",
    "done",
    'if accepted=$(grep -E "^acceptenv " <<<"$effective"); then',
    `  echo "sshd would accept client environment variables (\${accepted//$'\\n'/, }): remove the AcceptEnv lines of $(grep -lEi '^[[:space:]]*AcceptEnv[[:space:]]' "$main_config" ${SSHD_DROP_IN_DIR}/*.conf 2>/dev/null | tr '\\n' ' ')" >&2`,
    "  exit 1",
    "fi",
    RELOAD_SSHD,
  ].join("\n");
}

/** systemd hosts reload the unit; elsewhere (containers, the test hosts) the listener gets SIGHUP and re-executes. */
export const RELOAD_SSHD = [
  "if [ -d /run/systemd/system ]; then",
  "  systemctl try-reload-or-restart ssh.service",
  "else",
  '  listener=""',
  "  if [ -s /run/sshd.pid ]; then listener=$(cat /run/sshd.pid); fi",
  '  if [ -z "$listener" ] || ! kill -0 "$listener" 2>/dev/null; then listener=$(pgrep -o -x sshd || true); fi',
  '  if [ -n "$listener" ]; then',
  '    kill -HUP "$listener"',
  "  else",
  '    echo "sshd is not running; the settings apply when it starts" >&2',
  "  fi",
  "fi",
].join("\n");
