// The chain of remote steps of one host, in the order they run, each after the previous one: provisioning,
// authorizing the CI deploy key, reading the host key back, and, once the GitHub secret holds the new key,
// retiring the key lines of earlier rotations. The VPS component turns each step into one remote.Command; the
// sandbox, the host tests and the benchmark run the same list over SSH. Built here only.
import { hostDatabase } from "../../config/databaseSchema";
import type { PipelineConfig } from "../../config/types";
import {
  AUTHORIZE_DEPLOY_KEY_STEP,
  RETIRE_OLD_DEPLOY_KEYS_STEP,
  authorizeDeployKeyStep,
  retireOldDeployKeysStep,
} from "./deployKeyAuthorization";
import { SSHD_HARDENING_STEP, provisioningSteps } from "./provisioning";
import type { RemoteStep } from "./remoteStep";

/**
 * A step whose scripts need the CI deploy key's public half, which exists only once the key is created.
 * `authorize`: the GitHub secret switches to the key only after this step ran on every host.
 * `retire`: runs only after the secret has switched (docs/invariants.md #6); so does every step after it.
 */
export interface DeployKeyStep {
  name: string;
  deployKeyPhase: "authorize" | "retire";
  withDeployKey(publicKeyOpenssh: string): RemoteStep;
}

export type HostStep = RemoteStep | DeployKeyStep;

export function needsDeployKey(step: HostStep): step is DeployKeyStep {
  return "withDeployKey" in step;
}

export interface HostStepOptions {
  /** Registry URL for hosts (config vps.npmRegistry, or `npm config get registry` of the machine running Pulumi). */
  npmRegistry: string;
  /**
   * The stack sets the secret appEnv: the step that writes shared/.env runs (it reads the value on stdin). It runs
   * with the database group too, which puts DATABASE_URL there.
   */
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
    (step) => step.stdin !== "appEnv" || options.withAppEnv || hostDatabase(config) !== undefined,
  );
  const authorizeDeployKey: DeployKeyStep = {
    name: AUTHORIZE_DEPLOY_KEY_STEP,
    deployKeyPhase: "authorize",
    withDeployKey: (publicKey) => authorizeDeployKeyStep(config, publicKey, rotation),
  };
  const retireOldDeployKeys: DeployKeyStep = {
    name: RETIRE_OLD_DEPLOY_KEYS_STEP,
    deployKeyPhase: "retire",
    withDeployKey: (publicKey) => retireOldDeployKeysStep(config, publicKey, rotation),
  };
  // The key file is written before sshd-hardening points sshd at it: on a host provisioned by an earlier version
  // (keys in ~/.ssh/authorized_keys), the current key is in the new file before sshd stops reading the old one.
  const rootSide = provisioning.filter((step) => !USER_SIDE_STEPS.includes(step.name));
  const userSide = provisioning.filter((step) => USER_SIDE_STEPS.includes(step.name));
  const sshd = rootSide.findIndex((step) => step.name === SSHD_HARDENING_STEP);
  if (sshd < 0) throw new Error(`provisioningSteps() has no ${SSHD_HARDENING_STEP} step`);
  return [
    ...rootSide.slice(0, sshd),
    authorizeDeployKey,
    ...rootSide.slice(sshd),
    readHostKeyStep,
    retireOldDeployKeys,
    ...userSide,
  ];
}

/**
 * Steps that run commands as the deploy user against its own files (pm2, its modules, shared/.env). Whatever
 * that user did to them can make these fail or hang, so they come after the old deploy keys are retired: a
 * compromised deploy user can never keep a retired key authorized by breaking a step in front of the retirement.
 */
const USER_SIDE_STEPS: readonly string[] = ["pm2-logrotate", "pm2-daemon", "app-env"];

/** Where the chain splits: the steps from this index on run only after the deploy key secret has switched. */
export function afterSecretIndex(steps: readonly HostStep[]): number {
  const index = steps.findIndex((step) => needsDeployKey(step) && step.deployKeyPhase === "retire");
  return index < 0 ? steps.length : index;
}

/** The chain with the deploy key filled in, for callers that already hold the key (sandbox, tests, benchmark). */
export function withDeployKeyFilledIn(steps: readonly HostStep[], publicKeyOpenssh: string): RemoteStep[] {
  return steps.map((step) => (needsDeployKey(step) ? step.withDeployKey(publicKeyOpenssh) : step));
}
