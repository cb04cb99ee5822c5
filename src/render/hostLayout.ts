// Where things live on a provisioned host. Shared by the provisioning scripts, the release agent and the tests.
import type { PipelineConfig } from "../config/types";

export const AGENT_PATH = "/usr/local/lib/pipeline/release-agent";
/** Appends one validated line to the audit log; the deploy user may run it as root (sudoers), nothing else. */
export const AUDIT_HELPER_PATH = "/usr/local/lib/pipeline/audit-append";
/**
 * Switches the proxy between an app's two release ports (deploy.strategy sideBySide) and waits for a port's
 * requests in flight; the deploy user may run it as root (sudoers), with nothing but those two ports.
 */
export const UPSTREAM_HELPER_PATH = "/usr/local/lib/pipeline/proxy-upstream";
/** The deploy users' authorized keys: root-owned, outside their homes (sshd's AuthorizedKeysFile for them). */
export const AUTHORIZED_KEYS_DIR = "/etc/ssh/pipeline/authorized_keys";

export const PIPELINE_STATE_DIR = "/var/lib/pipeline";
/**
 * Root-only (0700) directory of the audit helper's locks: the log itself is readable by the deploy user, who could
 * hold a lock on it, so the helper serialises its writers on a file nobody else can open.
 */
export const AUDIT_LOCK_DIR = `${PIPELINE_STATE_DIR}/audit-locks`;

/** Root-owned directory of an app's host state outside the deploy user's home. */
export function appStateDir(appName: string): string {
  return `${PIPELINE_STATE_DIR}/${appName}`;
}

export interface HostLayout {
  home: string;
  appRoot: string;
  releases: string;
  shared: string;
  current: string;
  envFile: string;
  logs: string;
  /** The database dumps of the backup verb: the deploy user's own (0700, files 0600); root never touches them. */
  backups: string;
  /** Root-owned, outside the home: the deploy user and the code it runs can neither change nor truncate it. */
  auditLog: string;
  /** What the audit helper locks (in AUDIT_LOCK_DIR), never the log. */
  auditLock: string;
  /** Root-owned: the only keys sshd accepts for the deploy user. */
  authorizedKeys: string;
  lockFile: string;
  pnpmStore: string;
  /** Made by the reverse-proxy step: owned by the deploy user, readable by the proxy's group (caddy). */
  maintenanceDir: string;
  /** Maintenance mode is on while this file exists (the proxy checks it on every request). */
  maintenanceFlag: string;
}

export function hostLayout(
  config: Pick<PipelineConfig, "deployUser"> & { app: Pick<PipelineConfig["app"], "name"> },
): HostLayout {
  const home = `/home/${config.deployUser}`;
  const maintenanceDir = `${appStateDir(config.app.name)}/maintenance`;
  const appRoot = `${home}/apps/${config.app.name}`;
  return {
    home,
    appRoot,
    releases: `${appRoot}/releases`,
    shared: `${appRoot}/shared`,
    current: `${appRoot}/current`,
    envFile: `${appRoot}/shared/.env`,
    logs: `${appRoot}/shared/logs`,
    backups: `${appRoot}/shared/backups`,
    auditLog: `/var/log/pipeline/${config.app.name}/audit.log`,
    auditLock: `${AUDIT_LOCK_DIR}/${config.app.name}.lock`,
    authorizedKeys: `${AUTHORIZED_KEYS_DIR}/${config.deployUser}`,
    lockFile: `${appRoot}/.deploy.lock`,
    pnpmStore: `${home}/.local/share/pnpm/store`,
    maintenanceDir,
    maintenanceFlag: `${maintenanceDir}/on`,
  };
}
