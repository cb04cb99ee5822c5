import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostConfig, PipelineConfig } from "../../config/types";
import { knownHostsLine } from "../../render/knownHosts";
import {
  type RemoteStep,
  authorizeDeployKeyStep,
  provisioningSteps,
  readHostKeyStep,
} from "../../render/shell/provisioning";
import { childName } from "../naming";
import { reportMalformed } from "../providerValues";

/** A RemoteStep whose scripts may still wait on other resources (the deploy key's public half). */
type StepInputs = Omit<RemoteStep, "create" | "delete"> & {
  create: pulumi.Input<string>;
  delete?: pulumi.Input<string>;
};

export interface ProvisionedHostArgs {
  config: PipelineConfig;
  host: HostConfig;
  adminPrivateKey: pulumi.Input<string>;
  appEnv?: pulumi.Input<string>;
  deployPublicKey: pulumi.Input<string>;
  npmRegistry: string;
}

/** One VPS: one remote.Command per concern, chained in order, each re-run only when its own script changes. */
export class ProvisionedHost extends pulumi.ComponentResource {
  /** This host's known_hosts line, from its host key read back over the pinned connection. */
  readonly knownHostsLine: pulumi.Output<string>;
  /** The command that authorized the current deploy key; the GitHub secret switches only after it. */
  readonly deployKeyAuthorized: command.remote.Command;

  constructor(name: string, args: ProvisionedHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:vps:ProvisionedHost", name, {}, opts);
    const { config, host } = args;
    const connection: command.types.input.remote.ConnectionArgs = {
      host: host.host,
      port: host.port,
      user: config.adminUser,
      privateKey: pulumi.secret(args.adminPrivateKey),
      ...(host.hostKey ? { hostKey: host.hostKey } : {}),
    };

    let previous: command.remote.Command | undefined;
    const run = (step: StepInputs): command.remote.Command => {
      previous = new command.remote.Command(
        childName(name, step.name),
        {
          connection,
          create: step.create,
          ...(step.delete !== undefined ? { delete: step.delete } : {}),
          ...(step.stdin === "appEnv" && args.appEnv !== undefined
            ? { stdin: pulumi.secret(args.appEnv) }
            : {}),
          addPreviousOutputInEnv: false,
          ...(step.touchesSecrets ? { logging: "none" } : {}),
        },
        {
          parent: this,
          dependsOn: previous ? [previous] : [],
          ...(step.touchesSecrets ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
        },
      );
      return previous;
    };

    for (const step of provisioningSteps(config, { npmRegistry: args.npmRegistry })) {
      if (step.stdin === "appEnv" && args.appEnv === undefined) continue;
      run(step);
    }
    const rotation = config.deployKeyRotation;
    const authorize = pulumi.output(args.deployPublicKey).apply((key): RemoteStep | undefined => {
      if (typeof key === "string" && key.startsWith("ssh-"))
        return authorizeDeployKeyStep(config, key, rotation);
      return reportMalformed(
        `${name}: the deploy key has no OpenSSH public key (got ${typeof key})`,
        undefined,
      );
    });
    this.deployKeyAuthorized = run({
      name: `authorize-deploy-key-${rotation}`,
      create: authorize.apply((step) => step?.create ?? "false"),
      delete: authorize.apply((step) => step?.delete ?? "true"),
      touchesSecrets: false,
    });
    const readKey = run(readHostKeyStep);
    this.knownHostsLine = host.hostKey
      ? pulumi.output(knownHostsLine(host.host, host.port, host.hostKey))
      : readKey.stdout.apply((key) =>
          key?.startsWith("ssh-")
            ? knownHostsLine(host.host, host.port, key)
            : reportMalformed(`${name}: reading the host key of ${host.host} printed no public key`, ""),
        );
    this.registerOutputs({ knownHostsLine: this.knownHostsLine });
  }
}
