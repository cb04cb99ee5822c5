import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../../config/types";
import { knownHostsLine } from "../../render/knownHosts";
import {
  type DeployKeyStep,
  type HostStep,
  afterSecretIndex,
  hostSteps,
  needsDeployKey,
} from "../../render/shell/hostSteps";
import { AUTHORIZE_DEPLOY_KEY_STEP } from "../../render/shell/deployKeyAuthorization";
import type { RemoteStep } from "../../render/shell/remoteStep";
import { ADMIN_ACCESS_STEP, adminAccessStep } from "../../render/shell/steps/adminAccess";
import { ROTATE_HOST_KEY_STEP, hostKeyRotationStep } from "../../render/shell/steps/hostKeyRotation";
import { childName } from "../naming";
import { reportMalformed } from "../providerValues";
import type { FleetHost } from "./fleetHost";

/** A RemoteStep whose commands may still wait on other resources (the deploy key's public half). */
type StepInputs = Pick<RemoteStep, "name" | "stdin" | "touchesSecrets"> & {
  create: pulumi.Input<string>;
};

/**
 * Names of resources before hosts had logical names (`<fleet>-<address>-<port>-authorize-deploy-key-<rotation>`):
 * a stack made by that version adopts them in place (the parent's alias covers the host prefix), so the first
 * update neither deletes them (their stored delete would remove the current key line) nor re-creates them.
 */
function legacyStepName(stepName: string, rotation: number): string | undefined {
  return stepName === AUTHORIZE_DEPLOY_KEY_STEP ? `${stepName}-${rotation}` : undefined;
}

export interface ProvisionedHostArgs {
  config: PipelineConfig;
  host: FleetHost;
  adminPrivateKey: pulumi.Input<string>;
  /** shared/.env (with the DATABASE_URL of the database on the host, when the stack has one). */
  appEnv?: pulumi.Input<string>;
  /** The password of the app's role in the database on the host (the database group). */
  databasePassword?: pulumi.Input<string>;
  deployPublicKey: pulumi.Input<string>;
  npmRegistry: string;
}

/**
 * One VPS: one remote.Command per concern, chained in order, each re-run only when its own script (or the
 * connection) changes. No command has a delete: removing the host from the stack never connects to it.
 * The steps after the deploy key secret (hostSteps' second phase) are added by continueAfterDeployKeySecret().
 */
export class ProvisionedHost extends pulumi.ComponentResource {
  /** This host's known_hosts line, from its host key (the one every connection is pinned to). */
  readonly knownHostsLine: pulumi.Output<string>;
  /**
   * The last command before the GitHub secret may switch: by then the current deploy key is authorized, sshd
   * reads it from the root-owned key file (sshd-hardening runs after the authorize step), and the agent is in
   * place. Waiting for the authorize step alone would let the secret switch before sshd reads that file.
   */
  readonly deployKeyAuthorized: command.remote.Command;
  private readonly run: (step: StepInputs, after?: pulumi.Resource[]) => command.remote.Command;
  private readonly resolve: (step: HostStep) => StepInputs;
  private afterSecret: HostStep[] | undefined;

  constructor(name: string, args: ProvisionedHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:vps:ProvisionedHost", name, {}, opts);
    const { config, host } = args;
    const connectionPinnedTo = (
      hostKey: pulumi.Input<string>,
    ): command.types.input.remote.ConnectionArgs => ({
      host: host.host,
      port: host.port,
      user: config.adminUser,
      privateKey: pulumi.secret(args.adminPrivateKey),
      hostKey, // always set: the provider checks no host key without it
      ...(host.machine ? host.machine.bootWait : {}),
    });
    // A host the program created trusts its user data's key for one step only: the one that replaces it.
    const rotated = host.machine
      ? rotateHostKey(childName(name, ROTATE_HOST_KEY_STEP), {
          parent: this,
          adminUser: config.adminUser,
          bootstrap: connectionPinnedTo(host.hostKey),
          instanceId: host.machine.id,
        })
      : undefined;
    const pinnedKey = rotated ? rotated.hostKey : pulumi.output(host.hostKey);
    const connection = connectionPinnedTo(pinnedKey);
    const rotation = rotated ? [rotated.step] : [];

    const stdinOf = (step: StepInputs): pulumi.Input<string> | undefined => {
      if (step.stdin === undefined) return undefined;
      const value = step.stdin === "appEnv" ? args.appEnv : args.databasePassword;
      if (value === undefined)
        throw new Error(`${name}: step ${step.name} reads ${step.stdin}, which is not given`);
      return value;
    };
    let previous: command.remote.Command | undefined;
    this.run = (step, after = []) => {
      const legacy = legacyStepName(step.name, config.deployKeyRotation);
      const stdin = stdinOf(step);
      previous = new command.remote.Command(
        childName(name, step.name),
        {
          connection,
          create: step.create,
          ...(stdin !== undefined ? { stdin: pulumi.secret(stdin) } : {}),
          addPreviousOutputInEnv: false,
          // A replaced EC2 instance keeps its address: its new id makes every step run on it (after a new host key).
          ...(host.machine ? { triggers: [host.machine.id] } : {}),
          ...(step.touchesSecrets ? { logging: "none" } : {}),
        },
        {
          parent: this,
          dependsOn: [...(previous ? [previous] : rotation), ...after],
          ...(legacy ? { aliases: [{ name: childName(name, legacy) }] } : {}),
          ...(step.touchesSecrets ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
        },
      );
      return previous;
    };

    const withDeployKey = (step: DeployKeyStep): StepInputs => {
      const rendered = pulumi.output(args.deployPublicKey).apply((key): RemoteStep | undefined => {
        if (typeof key === "string" && key.startsWith("ssh-")) return step.withDeployKey(key);
        return reportMalformed(
          `${name}: the deploy key has no OpenSSH public key (got ${typeof key})`,
          undefined,
        );
      });
      return { name: step.name, create: rendered.apply((r) => r?.create ?? "false"), touchesSecrets: false };
    };
    this.resolve = (step) => (needsDeployKey(step) ? withDeployKey(step) : step);

    if (host.machine) {
      // Applies a new admin key over SSH (the instance ignores its user data's): the old key stops working.
      const adminAccess = pulumi
        .output(host.machine.adminPublicKey)
        .apply((key) => adminAccessStep(config, key).create);
      this.run({ name: ADMIN_ACCESS_STEP, create: adminAccess, touchesSecrets: false });
    }
    const steps = hostSteps(config, {
      npmRegistry: args.npmRegistry,
      withAppEnv: args.appEnv !== undefined,
    });
    const split = afterSecretIndex(steps);
    let beforeSecret: command.remote.Command | undefined;
    for (const step of steps.slice(0, split)) beforeSecret = this.run(this.resolve(step));
    this.afterSecret = steps.slice(split);
    if (
      !beforeSecret ||
      !steps.slice(0, split).some((s) => needsDeployKey(s) && s.deployKeyPhase === "authorize")
    )
      throw new Error("hostSteps() lost the deploy key step");
    this.deployKeyAuthorized = beforeSecret;
    this.knownHostsLine = pulumi
      .all([host.host, pinnedKey])
      .apply(([address, hostKey]) => knownHostsLine(address, host.port, hostKey));
    this.registerOutputs({ knownHostsLine: this.knownHostsLine });
  }

  /**
   * The rest of the chain (retiring the key lines of earlier rotations), each step after `secretSwitched`: the
   * resources that hand the current deploy key to the workflows. Called once, after the GitHub side exists.
   */
  continueAfterDeployKeySecret(secretSwitched: pulumi.Resource[]): void {
    if (this.afterSecret === undefined) throw new Error("continueAfterDeployKeySecret() called twice");
    if (secretSwitched.length === 0) throw new Error("the steps after the deploy key secret need the secret");
    for (const step of this.afterSecret) this.run(this.resolve(step), secretSwitched);
    this.afterSecret = undefined;
  }
}

/**
 * Runs the host key rotation over a connection pinned to the bootstrap key (user data) and returns the key it
 * printed. It runs once per instance: its only trigger is the instance id and its script never changes, and later
 * changes of the connection (a new admin key) are ignored, as the instance ignores its user data's: a second run
 * would dial a host that no longer holds the bootstrap key.
 */
/** A well-formed ed25519 public key of 32 zero bytes: no host presents it, so a connection pinned to it fails. */
export const UNMATCHABLE_HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

function rotateHostKey(
  name: string,
  args: {
    parent: pulumi.Resource;
    adminUser: string;
    bootstrap: command.types.input.remote.ConnectionArgs;
    instanceId: pulumi.Input<string>;
  },
): { step: command.remote.Command; hostKey: pulumi.Output<string> } {
  const step = new command.remote.Command(
    name,
    {
      connection: args.bootstrap,
      create: hostKeyRotationStep(args).create,
      addPreviousOutputInEnv: false,
      triggers: [args.instanceId],
    },
    { parent: args.parent, ignoreChanges: ["connection"] },
  );
  const hostKey = step.stdout.apply((printed: unknown) => {
    const key = typeof printed === "string" ? printed.trim() : "";
    if (/^ssh-ed25519 [A-Za-z0-9+/]+=*$/.test(key)) return key;
    // Never an empty key, with which the provider would check none: the update fails, and no later step connects.
    return reportMalformed(
      `${name}: the host key rotation printed no ed25519 public key (got ${JSON.stringify(key)})`,
      UNMATCHABLE_HOST_KEY,
    );
  });
  return { step, hostKey };
}
