// Provisioning of one host as an ordered list of idempotent steps, the first part of the host's step chain
// (hostSteps.ts).
import type { PipelineConfig } from "../../config/types";
import { AGENT_PATH, hostLayout } from "../hostLayout";
import { ensureDirectory, writeFile, writeFileFromStdin } from "./commands";
import { renderReleaseAgent } from "./releaseAgent";
import { type RemoteStep, rootStep } from "./remoteStep";
import { nodeScript, pnpmScript } from "./steps/node";
import { pm2LogrotateScript, pm2Script } from "./steps/pm2";
import { basePackagesScript, deployUserScript, sshdHardeningScript } from "./steps/system";

export interface ProvisionOptions {
  /** Registry URL for hosts (config vps.npmRegistry, or `npm config get registry` of the machine running Pulumi). */
  npmRegistry: string;
}

/** Every step re-runs only when its own script text changes: nothing volatile is rendered into a script. */
export function provisioningSteps(config: PipelineConfig, options: ProvisionOptions): RemoteStep[] {
  const registry = options.npmRegistry;
  return [
    rootStep(config, "base-packages", basePackagesScript()),
    rootStep(config, "deploy-user", deployUserScript(config)),
    rootStep(config, "sshd-hardening", sshdHardeningScript()),
    rootStep(config, "node", nodeScript(config, registry)),
    rootStep(config, "pnpm", pnpmScript(config, registry)),
    rootStep(config, "pm2", pm2Script(config, registry)),
    rootStep(config, "pm2-logrotate", pm2LogrotateScript(config)),
    appEnvStep(config),
    rootStep(config, "release-agent", releaseAgentScript(config)),
  ];
}

/**
 * shared/.env from the appEnv secret on stdin: mode 0600, replaced only when the content differs, never printed.
 * hostSteps() leaves this step out when the stack has no appEnv (the secret never enters PipelineConfig).
 */
function appEnvStep(config: PipelineConfig): RemoteStep {
  const script = writeFileFromStdin(hostLayout(config).envFile, {
    mode: "0600",
    owner: `${config.deployUser}:`,
  });
  return { ...rootStep(config, "app-env", script), stdin: "appEnv", touchesSecrets: true };
}

function releaseAgentScript(config: PipelineConfig): string {
  const directory = AGENT_PATH.replace(/\/[^/]+$/, "");
  return [
    ensureDirectory(directory, { mode: "0755", owner: "root:root" }),
    writeFile(AGENT_PATH, renderReleaseAgent(config), { mode: "0755", owner: "root:root" }),
  ].join("\n");
}
