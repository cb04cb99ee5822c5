// Inner scripts (run as root) for pm2: the global install, boot persistence where systemd runs, log rotation.
import type { PipelineConfig } from "../../../config/types";
import { hostLayout } from "../../hostLayout";
import { quote } from "../../../primitives/shellQuote";
import { argv } from "../commands";
import { LOAD_SYSTEM_ENVIRONMENT } from "../envFile";

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
    `  (cd ${quote(home)} && umask 027 && timeout 300 runuser -u ${user} -- env HOME=${quote(home)} PM2_HOME=${quote(`${home}/.pm2`)} "$@")`,
    "}",
  ].join("\n");
}

export function pm2Script(config: PipelineConfig, npmRegistry: string): string {
  const { home } = hostLayout(config);
  const user = config.deployUser;
  return [
    LOAD_SYSTEM_ENVIRONMENT,
    "if ! command -v pm2 >/dev/null 2>&1; then",
    `  npm install --global --no-fund --no-audit --registry ${quote(npmRegistry)} pm2@${PM2_VERSION}`,
    "fi",
    "if [ -d /run/systemd/system ]; then",
    `  if [ ! -f /etc/systemd/system/pm2-${user}.service ]; then`,
    `    ${argv("pm2", "startup", "systemd", "-u", user, "--hp", home)}`,
    "  fi",
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
    `if [ ! -d ${quote(`${home}/.pm2/modules/pm2-logrotate`)} ]; then`,
    "  as_deploy_user pm2 install pm2-logrotate",
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
