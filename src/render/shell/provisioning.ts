// Provisioning of one host as an ordered list of idempotent steps, the first part of the host's step chain
// (hostSteps.ts).
import { hostDatabase } from "../../config/databaseSchema";
import type { PipelineConfig } from "../../config/types";
import { AGENT_PATH, hostLayout } from "../hostLayout";
import { quote } from "../../primitives/shellQuote";
import { auditLogScript } from "./auditHelper";
import { ensureDirectory, shell, writeFile } from "./commands";
import { LOAD_SYSTEM_ENVIRONMENT } from "./envFile";
import { ecosystemFilePath, slotEcosystemPath } from "./pm2Ecosystem";
import { slotAppName, slotPorts } from "../releaseSlots";
import { renderReleaseAgent } from "./releaseAgent";
import { type RemoteStep, rootStep } from "./remoteStep";
import { DATABASE_STEP, databaseScript } from "./steps/database";
import { FIREWALL_CALLER_VARIABLES, FIREWALL_STEP, firewallScript } from "./steps/firewall";
import { nodeScript, pnpmScript } from "./steps/node";
import { POSTGRES_CLIENT_STEP, postgresClientScript, usesPostgresClient } from "./steps/postgresClient";
import { pm2DaemonEnvironmentWords } from "./pm2Daemon";
import { pm2DaemonScript, pm2LogrotateScript, pm2Script } from "./steps/pm2";
import { reverseProxyScript } from "./steps/reverseProxy";
import { basePackagesScript, deployUserScript, sshdHardeningScript } from "./steps/system";

export interface ProvisionOptions {
  /** Registry URL for hosts (config vps.npmRegistry, or `npm config get registry` of the machine running Pulumi). */
  npmRegistry: string;
}

export const SSHD_HARDENING_STEP = "sshd-hardening";

/** Every step re-runs only when its own script text changes: nothing volatile is rendered into a script. */
export function provisioningSteps(config: PipelineConfig, options: ProvisionOptions): RemoteStep[] {
  const registry = options.npmRegistry;
  return [
    rootStep(config, "base-packages", basePackagesScript()),
    rootStep(config, "deploy-user", deployUserScript(config)),
    rootStep(config, SSHD_HARDENING_STEP, sshdHardeningScript(config)),
    rootStep(config, FIREWALL_STEP, firewallScript(config), FIREWALL_CALLER_VARIABLES),
    rootStep(config, "node", nodeScript(config, registry)),
    rootStep(config, "pnpm", pnpmScript(config, registry)),
    rootStep(config, "pm2", pm2Script(config, registry)),
    rootStep(config, "pm2-logrotate", pm2LogrotateScript(config)),
    rootStep(config, "pm2-daemon", pm2DaemonScript(config)),
    appEnvStep(config),
    ...databaseSteps(config),
    rootStep(config, "release-agent", releaseAgentScript(config)),
    rootStep(config, "reverse-proxy", reverseProxyScript(config)),
  ];
}

/**
 * The database server on the host (its package brings the client programs of its own major version, which the
 * backups then use), or else the client alone when the backup commands need it.
 */
function databaseSteps(config: PipelineConfig): RemoteStep[] {
  const database = hostDatabase(config);
  if (database !== undefined)
    return [
      {
        ...rootStep(config, DATABASE_STEP, databaseScript(database)),
        stdin: "databasePassword",
        touchesSecrets: true,
      },
    ];
  return usesPostgresClient(config) ? [rootStep(config, POSTGRES_CLIENT_STEP, postgresClientScript())] : [];
}

/**
 * shared/.env from the appEnv secret on stdin, written by the deploy user itself (shared/ is its directory: a link
 * it planted there is its own problem, never a root write): mode 0600, replaced only when the content differs,
 * never printed. A changed file reloads the running app (as the user, with the ecosystem file of the last
 * deploy), so a rotated secret takes effect now, not at the next deploy. hostSteps() leaves this step out when
 * the stack has no appEnv and no database on the host (the secret never enters PipelineConfig). With the
 * database group, stdin also holds the DATABASE_URL line (appEnvWithDatabaseUrl).
 */
function appEnvStep(config: PipelineConfig): RemoteStep {
  const layout = hostLayout(config);
  const asUser = [
    "umask 077",
    `env_file=${quote(layout.envFile)}`,
    'new=$(mktemp "$env_file.pipeline-XXXXXX")',
    'cat >"$new"',
    'if [ -f "$env_file" ] && [ ! -L "$env_file" ] && cmp -s "$new" "$env_file"; then rm -f "$new"; exit 0; fi',
    'mv -fT "$new" "$env_file"',
    // pm2 talks to the user's own daemon, which the user controls: bounded, and a failed reload only delays the
    // new .env to the next deploy.
    "umask 027",
    "reload() {",
    '  if [ -f "$2" ] && timeout 30 pm2 describe "$1" >/dev/null 2>&1; then',
    '    echo "shared/.env changed: reloading $1" >&2',
    '    timeout 120 pm2 startOrReload "$2" --update-env >&2 ||',
    '      echo "warning: pm2 could not reload $1; the new shared/.env applies at the next deploy" >&2',
    "  fi",
    "}",
    // The in-place app (deploy.strategy reload), and each release running side by side, the warm one too.
    `reload ${quote(config.app.name)} ${quote(ecosystemFilePath(config))}`,
    ...slotPorts(config).map(
      (port) => `reload ${quote(slotAppName(config, port))} ${quote(slotEcosystemPath(config, port))}`,
    ),
  ].join("\n");
  const script = [
    LOAD_SYSTEM_ENVIRONMENT,
    `cd ${quote(layout.home)} || exit 1`,
    "# shellcheck disable=SC2016 # the script is expanded by the deploy user's bash",
    `timeout 300 runuser -u ${config.deployUser} -- env HOME=${quote(layout.home)} PM2_HOME=${quote(`${layout.home}/.pm2`)} ${pm2DaemonEnvironmentWords()} ${shell(asUser)}`,
  ].join("\n");
  return { ...rootStep(config, "app-env", script), stdin: "appEnv", touchesSecrets: true };
}

function releaseAgentScript(config: PipelineConfig): string {
  const directory = AGENT_PATH.replace(/\/[^/]+$/, "");
  return [
    ensureDirectory(directory, { mode: "0755", owner: "root:root" }),
    writeFile(AGENT_PATH, renderReleaseAgent(config), { mode: "0755", owner: "root:root" }),
    auditLogScript(config),
  ].join("\n");
}
