// The chain of remote steps of one host, in the order they run, each after the previous one: provisioning, then
// authorizing the CI deploy key, then reading the host key back. The VPS component turns each step into one
// remote.Command; the sandbox, the host tests and the benchmark run the same list over SSH. Built here only.
import type { PipelineConfig } from "../../config/types";
import { authorizeDeployKeyStep, authorizeDeployKeyStepName } from "./deployKeyAuthorization";
import { provisioningSteps } from "./provisioning";
import type { RemoteStep } from "./remoteStep";

/** A step whose scripts need the CI deploy key's public half, which exists only once the key is created. */
export interface DeployKeyStep {
  name: string;
  withDeployKey(publicKeyOpenssh: string): RemoteStep;
}

export type HostStep = RemoteStep | DeployKeyStep;

export function needsDeployKey(step: HostStep): step is DeployKeyStep {
  return "withDeployKey" in step;
}

export interface HostStepOptions {
  /** Registry URL for hosts (config vps.npmRegistry, or `npm config get registry` of the machine running Pulumi). */
  npmRegistry: string;
  /** The stack sets the secret appEnv: the step that writes shared/.env runs (it reads the value on stdin). */
  withAppEnv: boolean;
}

/** Prints the host's ed25519 public key (world-readable: no root needed); known_hosts is built from it. */
export const readHostKeyStep: RemoteStep = {
  name: "read-host-key",
  script: "cat /etc/ssh/ssh_host_ed25519_key.pub",
  create: "cat /etc/ssh/ssh_host_ed25519_key.pub",
  touchesSecrets: false,
};

export function hostSteps(config: PipelineConfig, options: HostStepOptions): HostStep[] {
  const rotation = config.deployKeyRotation;
  const provisioning = provisioningSteps(config, { npmRegistry: options.npmRegistry }).filter(
    (step) => step.stdin !== "appEnv" || options.withAppEnv,
  );
  const authorizeDeployKey: DeployKeyStep = {
    name: authorizeDeployKeyStepName(rotation),
    withDeployKey: (publicKey) => authorizeDeployKeyStep(config, publicKey, rotation),
  };
  return [...provisioning, authorizeDeployKey, readHostKeyStep];
}

/** The chain with the deploy key filled in, for callers that already hold the key (sandbox, tests, benchmark). */
export function withDeployKeyFilledIn(steps: readonly HostStep[], publicKeyOpenssh: string): RemoteStep[] {
  return steps.map((step) => (needsDeployKey(step) ? step.withDeployKey(publicKeyOpenssh) : step));
}
