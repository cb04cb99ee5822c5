import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostConfig, PipelineConfig } from "../../config/types";
import { knownHostsLine } from "../../render/knownHosts";
import { type DeployKeyStep, hostSteps, needsDeployKey, readHostKeyStep } from "../../render/shell/hostSteps";
import type { RemoteStep } from "../../render/shell/remoteStep";
import { childName } from "../naming";
import { reportMalformed } from "../providerValues";

/** A RemoteStep whose commands may still wait on other resources (the deploy key's public half). */
type StepInputs = Pick<RemoteStep, "name" | "stdin" | "touchesSecrets"> & {
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

    const withDeployKey = (step: DeployKeyStep): StepInputs => {
      const rendered = pulumi.output(args.deployPublicKey).apply((key): RemoteStep | undefined => {
        if (typeof key === "string" && key.startsWith("ssh-")) return step.withDeployKey(key);
        return reportMalformed(
          `${name}: the deploy key has no OpenSSH public key (got ${typeof key})`,
          undefined,
        );
      });
      return {
        name: step.name,
        create: rendered.apply((r) => r?.create ?? "false"),
        delete: rendered.apply((r) => r?.delete ?? "true"),
        touchesSecrets: false,
      };
    };

    let deployKeyAuthorized: command.remote.Command | undefined;
    let readKey: command.remote.Command | undefined;
    for (const step of hostSteps(config, {
      npmRegistry: args.npmRegistry,
      withAppEnv: args.appEnv !== undefined,
    })) {
      if (needsDeployKey(step)) deployKeyAuthorized = run(withDeployKey(step));
      else if (step === readHostKeyStep) readKey = run(step);
      else run(step);
    }
    if (!deployKeyAuthorized || !readKey) throw new Error("hostSteps() lost the deploy key or host key step");
    this.deployKeyAuthorized = deployKeyAuthorized;
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
