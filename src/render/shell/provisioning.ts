// Provisioning of one host as an ordered list of idempotent steps. The VPS component maps each step to one
// remote.Command (chained in array order); the host tests run the very same `create` strings over SSH.
import type { PipelineConfig } from "../../config/types";
import { AGENT_PATH, hostLayout } from "../hostLayout";
import { asRoot, ensureDirectory, writeFile, writeFileFromStdin } from "./commands";
import { renderReleaseAgent } from "./releaseAgent";
import { nodeScript, pnpmScript } from "./steps/node";
import { pm2LogrotateScript, pm2Script } from "./steps/pm2";
import { basePackagesScript, deployUserScript, sshdHardeningScript } from "./steps/system";

export { authorizeDeployKeyStep, deployKeyLine, readHostKeyStep } from "./deployKey";

export interface RemoteStep {
  /** kebab-case concern name, unique, e.g. "base-packages". */
  name: string;
  /** The full command string for remote.Command.create (already wrapped with asRoot). */
  create: string;
  /** For remote.Command.delete, if the step must undo something on removal. */
  delete?: string;
  /** This step reads the secret config value appEnv on stdin. */
  stdin?: "appEnv";
  /** The component sets logging "none" and marks stdout/stderr secret. */
  touchesSecrets: boolean;
  /** The bash script inside `create` (what shellcheck lints; `create` runs it as root). Set on every rendered step. */
  script?: string;
  /** The bash script inside `delete`. */
  deleteScript?: string;
}

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

function rootStep(config: PipelineConfig, name: string, script: string): RemoteStep {
  return { name, script, create: asRoot(script, config.adminUser), touchesSecrets: false };
}

/**
 * shared/.env from the appEnv secret on stdin: mode 0600, replaced only when the content differs, never printed.
 * The component skips this step when the stack has no appEnv (the secret never enters PipelineConfig).
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
