// Inner scripts (run as root) for the operating-system concerns: packages, the deploy user, sshd.
import type { PipelineConfig } from "../../../config/types";
import { hostLayout } from "../../hostLayout";
import { quote } from "../../../primitives/shellQuote";
import { argv, ensureDirectory, writeFile } from "../commands";
import { LOAD_SYSTEM_ENVIRONMENT } from "../envFile";

/** What the scripts and the release agent need beyond Debian's essential packages. */
const BASE_PACKAGES = [
  "ca-certificates",
  "curl",
  "git",
  "gzip",
  "openssl",
  "procps",
  "sudo",
  "tar",
  "util-linux",
  "xz-utils",
] as const;

export function basePackagesScript(): string {
  return [
    "export DEBIAN_FRONTEND=noninteractive",
    LOAD_SYSTEM_ENVIRONMENT,
    "missing=()",
    `for package in ${BASE_PACKAGES.join(" ")}; do`,
    `  if ! dpkg -s "$package" 2>/dev/null | grep -qx 'Status: install ok installed'; then missing+=("$package"); fi`,
    "done",
    'if [ "${#missing[@]}" -gt 0 ]; then',
    "  apt-get update -q",
    '  apt-get install -y -q --no-install-recommends "${missing[@]}"',
    "fi",
  ].join("\n");
}

/** The deploy user (no password: key login only) and the release layout it owns. */
export function deployUserScript(config: PipelineConfig): string {
  const layout = hostLayout(config);
  const user = config.deployUser;
  const owned = { mode: "0755", owner: `${user}:` };
  return [
    `if ! id -u ${user} >/dev/null 2>&1; then`,
    `  ${argv("useradd", "--create-home", "--home-dir", layout.home, "--shell", "/bin/bash", "--user-group", user)}`,
    "fi",
    `if [ "$(getent passwd ${user} | cut -d: -f7)" != /bin/bash ]; then usermod --shell /bin/bash ${user}; fi`,
    // '*' = no password can match, but (unlike a locked '!') key logins work even with UsePAM no.
    `if [ "$(getent shadow ${user} | cut -d: -f2)" != '*' ]; then usermod --password '*' ${user}; fi`,
    // sshd's StrictModes refuses keys under a group- or world-writable home.
    argv("chmod", "go-w", layout.home),
    ensureDirectory(`${layout.home}/.ssh`, { mode: "0700", owner: `${user}:` }),
    `if [ ! -e ${quote(authorizedKeysPath(config))} ]; then ${argv("install", "-m", "0600", "/dev/null", authorizedKeysPath(config))}; fi`,
    argv("chown", `${user}:`, authorizedKeysPath(config)),
    ensureDirectory(`${layout.home}/apps`, owned),
    ensureDirectory(layout.appRoot, owned),
    ensureDirectory(layout.releases, owned),
    ensureDirectory(layout.shared, owned),
    ensureDirectory(layout.logs, { mode: "0750", owner: `${user}:` }),
  ].join("\n");
}

export function authorizedKeysPath(config: Pick<PipelineConfig, "deployUser" | "app">): string {
  return `${hostLayout(config).home}/.ssh/authorized_keys`;
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

const SSHD_SETTINGS = [
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "PermitRootLogin prohibit-password",
  "PermitEmptyPasswords no",
  "PubkeyAuthentication yes",
  "X11Forwarding no",
  "MaxAuthTries 5",
  "LoginGraceTime 30",
] as const;

/** `sshd -T` lines that must hold after the reload; sshd prints prohibit-password as without-password. */
const EFFECTIVE_SSHD_SETTINGS = [
  "passwordauthentication no",
  "kbdinteractiveauthentication no",
  "permitrootlogin (prohibit-password|without-password)",
  "permitemptypasswords no",
  "x11forwarding no",
] as const;

function sshdDropIn(): string {
  return [
    "# Managed by pipeline (pulumi up rewrites this file).",
    "# Read first (Include at the top of /etc/ssh/sshd_config, 00- before the other drop-ins such as",
    "# 50-cloud-init.conf): sshd keeps the first value it reads, so these win.",
    ...SSHD_SETTINGS,
    "",
  ].join("\n");
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

export function sshdHardeningScript(): string {
  return [
    "main_config=/etc/ssh/sshd_config",
    FIRST_FILE_SETTING,
    `mkdir -p ${SSHD_DROP_IN_DIR} /run/sshd`,
    // Debian has the Include at the top of the main file; add it (at the top, so it wins) where it is missing.
    "if ! grep -Eq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\\.d/\\*\\.conf' \"$main_config\"; then",
    "  sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' \"$main_config\"",
    "fi",
    writeFile(SSHD_DROP_IN, sshdDropIn(), { mode: "0644", owner: "root:root" }),
    argv("rm", "-f", ...OLD_SSHD_DROP_INS),
    "if ! problems=$(/usr/sbin/sshd -t 2>&1); then",
    '  echo "sshd -t rejects the configuration, not reloading sshd: $problems" >&2',
    "  exit 1",
    "fi",
    "effective=$(/usr/sbin/sshd -T)",
    `for expected in ${EFFECTIVE_SSHD_SETTINGS.map(quote).join(" ")}; do`,
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
    RELOAD_SSHD,
  ].join("\n");
}

/** systemd hosts reload the unit; elsewhere (containers, the test hosts) the listener gets SIGHUP and re-executes. */
const RELOAD_SSHD = [
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
