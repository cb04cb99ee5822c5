// Inner scripts (run as root) for pm2: the global install, boot persistence where systemd runs, log rotation.
import type { PipelineConfig } from "../../../config/types";
import { hostLayout } from "../../hostLayout";
import { quote } from "../../../primitives/shellQuote";
import { argv, writeFile } from "../commands";
import { LOAD_SYSTEM_ENVIRONMENT } from "../envFile";
import { PM2_DAEMON_ENVIRONMENT, pm2DaemonEnvironmentWords } from "../pm2Daemon";

const PM2_VERSION = "6";

/**
 * Runs a command as the deploy user with its pm2 home. The working directory must be one the user can read:
 * from /root, pm2 fails with `spawn node EACCES`.
 */
function asDeployUserFunction(config: PipelineConfig): string {
  const { home } = hostLayout(config);
  const user = config.deployUser;
  return [
    "as_deploy_user() {",
    // umask 027: a pm2 daemon this starts (pm2 install does) passes it to the app and its logs: not world-readable.
    // Bounded: the user controls its own pm2 daemon and could make a call hang.
    `  (cd ${quote(home)} && umask 027 && timeout 300 runuser -u ${user} -- env HOME=${quote(home)} PM2_HOME=${quote(`${home}/.pm2`)} ${pm2DaemonEnvironmentWords()} "$@")`,
    "}",
  ].join("\n");
}

/** The drop-in that gives the daemon systemd starts at boot (`pm2 resurrect`) the same environment. */
export function pm2UnitDropIn(config: Pick<PipelineConfig, "deployUser">): { path: string; content: string } {
  return {
    path: `/etc/systemd/system/pm2-${config.deployUser}.service.d/pipeline.conf`,
    content: [
      "# Written by pipeline: the environment of every start of this pm2 daemon (see the release agent's pm2_cli).",
      "[Service]",
      ...PM2_DAEMON_ENVIRONMENT.map((assignment) => `Environment=${assignment}`),
      "",
    ].join("\n"),
  };
}

export function pm2Script(config: PipelineConfig, npmRegistry: string): string {
  const { home } = hostLayout(config);
  const user = config.deployUser;
  const dropIn = pm2UnitDropIn(config);
  const dropInDirectory = dropIn.path.replace(/\/[^/]+$/, "");
  return [
    LOAD_SYSTEM_ENVIRONMENT,
    "if ! command -v pm2 >/dev/null 2>&1; then",
    `  npm install --global --no-fund --no-audit --registry ${quote(npmRegistry)} pm2@${PM2_VERSION}`,
    "fi",
    "if [ -d /run/systemd/system ]; then",
    `  if [ ! -f /etc/systemd/system/pm2-${user}.service ]; then`,
    `    ${argv("pm2", "startup", "systemd", "-u", user, "--hp", home)}`,
    "  fi",
    `  ${argv("mkdir", "-p", dropInDirectory)}`,
    `  before="$(cat ${quote(dropIn.path)} 2>/dev/null || true)"`,
    ...writeFile(dropIn.path, dropIn.content, { mode: "0644", owner: "root:root" })
      .split("\n")
      .map((line) => `  ${line}`),
    `  if [ "$before" != "$(cat ${quote(dropIn.path)})" ]; then systemctl daemon-reload; fi`,
    "else",
    '  echo "systemd is not running: skipped pm2 startup (the app is not restarted at boot on this host)" >&2',
    "fi",
  ].join("\n");
}

const READ_LOGROTATE_SETTINGS =
  'const m = require(process.argv[1])["pm2-logrotate"] || {}; process.stdout.write(m.max_size + "|" + m.retain)';

export function pm2LogrotateScript(config: PipelineConfig): string {
  const { home } = hostLayout(config);
  return [
    LOAD_SYSTEM_ENVIRONMENT,
    asDeployUserFunction(config),
    // pm2 installs the module with npm from the registry: a failed download is tried twice more before the step fails.
    `if [ ! -d ${quote(`${home}/.pm2/modules/pm2-logrotate`)} ]; then`,
    "  for attempt in 1 2 3; do",
    "    as_deploy_user pm2 install pm2-logrotate && break",
    '    if [ "$attempt" = 3 ]; then echo "pm2 install pm2-logrotate failed 3 times" >&2; exit 1; fi',
    '    sleep "$((attempt * 5))"',
    "  done",
    "fi",
    // `pm2 set` rewrites module_conf.json even when nothing changes: compare first, so a re-run changes nothing.
    `wanted=${quote(`${config.vps.logMaxSize}|${config.vps.logRetainDays}`)}`,
    `current="$(as_deploy_user node -e ${quote(READ_LOGROTATE_SETTINGS)} ${quote(`${home}/.pm2/module_conf.json`)} 2>/dev/null || true)"`,
    // Logs an earlier version's daemon (root's umask 022) made world-readable; as the user (find does not follow links).
    `as_deploy_user find ${quote(hostLayout(config).logs)} ${quote(`${home}/.pm2/logs`)} -type f -perm /o=rwx -exec chmod o-rwx {} + 2>/dev/null || true`,
    'if [ "$current" != "$wanted" ]; then',
    `  as_deploy_user pm2 set pm2-logrotate:max_size ${quote(config.vps.logMaxSize)}`,
    `  as_deploy_user pm2 set pm2-logrotate:retain ${config.vps.logRetainDays}`,
    "fi",
  ].join("\n");
}

/**
 * A daemon started before its environment was set (a host provisioned by an earlier version) keeps its scheduling
 * until it restarts: `pm2 update` saves the process list, restarts the daemon with this environment and brings the
 * apps back (they are down for a moment, once). The pid file and /proc are read as the user, whose files they are.
 */
export function pm2DaemonScript(config: PipelineConfig): string {
  const { home } = hostLayout(config);
  return [
    LOAD_SYSTEM_ENVIRONMENT,
    asDeployUserFunction(config),
    `daemon_pid="$(as_deploy_user cat ${quote(`${home}/.pm2/pm2.pid`)} 2>/dev/null || true)"`,
    'if [[ $daemon_pid =~ ^[0-9]+$ ]] && as_deploy_user kill -0 "$daemon_pid" 2>/dev/null; then',
    `  daemon_env="$(as_deploy_user cat "/proc/$daemon_pid/environ" 2>/dev/null | tr '\\0' '\\n' || true)"`,
    `  wanted=(${pm2DaemonEnvironmentWords()})`,
    "  missing=no",
    '  for assignment in "${wanted[@]}"; do',
    '    grep -qxF "$assignment" <<<"$daemon_env" || missing=yes',
    "  done",
    '  if [ "$missing" = yes ]; then',
    `    echo "restarting the pm2 daemon of ${config.deployUser} once with ${PM2_DAEMON_ENVIRONMENT.join(" ")} (its apps are down for a moment)" >&2`,
    "    as_deploy_user pm2 update >/dev/null",
    "  fi",
    "fi",
  ].join("\n");
}
