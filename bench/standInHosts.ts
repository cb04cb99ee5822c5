// Stand-in hosts for the fleet benchmark: test hosts with a real sshd, the real deploy user, the real deploy key line
// (forced command, every restriction) and the real sshd settings that make sshd read only that key file, from the
// stack's own step chain; in place of the release agent at its path, the CPU-light stand-in (standInAgent.ts). No
// Node, pnpm, pm2, Caddy or app: nothing else runs on them.
import type { PipelineConfig } from "../src/config/types";
import { AGENT_PATH, hostLayout } from "../src/render/hostLayout";
import { ensureDirectory, writeFile } from "../src/render/shell/commands";
import { AUTHORIZE_DEPLOY_KEY_STEP } from "../src/render/shell/deployKeyAuthorization";
import { SSHD_HARDENING_STEP } from "../src/render/shell/provisioning";
import { type RemoteStep, rootStep } from "../src/render/shell/remoteStep";
import { type ProvisionInput, resolvedHostSteps } from "../src/sandbox";
import { type PhaseSeconds, renderStandInAgent } from "./standInAgent";

/** The steps of the real chain a stand-in host runs, in the chain's order. */
export const REAL_STEPS = ["deploy-user", AUTHORIZE_DEPLOY_KEY_STEP, SSHD_HARDENING_STEP] as const;
export const STAND_IN_AGENT_STEP = "stand-in-agent";

/** Where the stand-in keeps its release list: the app root, which the deploy-user step makes the user's own. */
export function standInStateDir(config: PipelineConfig): string {
  return hostLayout(config).appRoot;
}

/** Writes the stand-in where the deploy key's forced command points (root-owned, as the real agent). */
export function standInAgentStep(config: PipelineConfig, phaseSeconds?: PhaseSeconds): RemoteStep {
  const agent = renderStandInAgent({
    stateDir: standInStateDir(config),
    ...(phaseSeconds === undefined ? {} : { phaseSeconds }),
  });
  const script = [
    ensureDirectory(AGENT_PATH.replace(/\/[^/]+$/, ""), { mode: "0755", owner: "root:root" }),
    writeFile(AGENT_PATH, agent, { mode: "0755", owner: "root:root" }),
  ].join("\n");
  return rootStep(config, STAND_IN_AGENT_STEP, script);
}

/** The real steps of REAL_STEPS, as hostSteps() renders them for this stack and key, then the stand-in. */
export function standInHostSteps(
  config: PipelineConfig,
  input: ProvisionInput,
  phaseSeconds?: PhaseSeconds,
): RemoteStep[] {
  const names: readonly string[] = REAL_STEPS;
  const real = resolvedHostSteps(config, input).filter((step) => names.includes(step.name));
  const missing = REAL_STEPS.filter((name) => !real.some((step) => step.name === name));
  if (missing.length > 0) throw new Error(`hostSteps() has no step ${missing.join(", ")}`);
  return [...real, standInAgentStep(config, phaseSeconds)];
}
