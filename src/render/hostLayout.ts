// Where things live on a provisioned host. Shared by the provisioning scripts, the release agent and the tests.
import type { PipelineConfig } from "../config/types";

export const AGENT_PATH = "/usr/local/lib/pipeline/release-agent";

export interface HostLayout {
  home: string;
  appRoot: string;
  releases: string;
  shared: string;
  current: string;
  envFile: string;
  logs: string;
  auditLog: string;
  lockFile: string;
  pnpmStore: string;
}

export function hostLayout(config: Pick<PipelineConfig, "deployUser" | "app">): HostLayout {
  const home = `/home/${config.deployUser}`;
  const appRoot = `${home}/apps/${config.app.name}`;
  return {
    home,
    appRoot,
    releases: `${appRoot}/releases`,
    shared: `${appRoot}/shared`,
    current: `${appRoot}/current`,
    envFile: `${appRoot}/shared/.env`,
    logs: `${appRoot}/shared/logs`,
    auditLog: `${appRoot}/shared/logs/audit.log`,
    lockFile: `${appRoot}/.deploy.lock`,
    pnpmStore: `${home}/.local/share/pnpm/store`,
  };
}
