import * as pulumi from "@pulumi/pulumi";
import { ConfigError, MISSING_ADMIN_KEY } from "./config/errors";
import type { PipelineConfig, PipelineSecrets } from "./config/types";
import { AwsInfrastructure } from "./components/aws/awsInfrastructure";
import { GitHubPipeline } from "./components/github/githubPipeline";
import { Fleet } from "./components/vps/fleet";
import { type FleetHost, configuredHosts } from "./components/vps/fleetHost";
import { hostList } from "./render/runner/hostLoopEnvironment";

export interface PipelineOptions {
  /** npm registry URL the hosts use when the config does not name one. */
  npmRegistry: string;
}

export interface PipelineOutputs {
  environment: string;
  /** `host:port` of every host, in deploy order. */
  hosts: pulumi.Output<string[]>;
  knownHosts: pulumi.Output<string>;
  deployPublicKey: pulumi.Output<string>;
  files: string[];
}

/** One stack's whole pipeline. Both stacks can be built in one process (the stack tests do). */
export function createPipeline(
  config: PipelineConfig,
  secrets: PipelineSecrets,
  options: PipelineOptions,
  opts?: pulumi.ComponentResourceOptions,
): PipelineOutputs {
  const name = `${config.app.name}-${config.environment}`;
  const secret = (value: string | undefined) => (value === undefined ? undefined : pulumi.secret(value));
  const adminPrivateKey = pulumi.secret(required(secrets.adminPrivateKey));
  const { aws } = config;
  const cloud =
    aws === undefined
      ? undefined
      : new AwsInfrastructure(`${name}-aws`, { config: { ...config, aws }, adminPrivateKey }, opts);
  const hosts = cloud?.hosts ?? configuredHosts(config);
  const fleet = new Fleet(
    `${name}-vps`,
    {
      config,
      hosts,
      adminPrivateKey,
      ...(secrets.appEnv !== undefined ? { appEnv: pulumi.secret(secrets.appEnv) } : {}),
      npmRegistry: config.vps.npmRegistry ?? options.npmRegistry,
    },
    opts,
  );
  const webhook = secret(secrets.notificationWebhook);
  const gitHub = new GitHubPipeline(
    `${name}-github`,
    {
      config,
      deployPrivateKey: pulumi.secret(fleet.deployKey.privateKeyOpenssh),
      knownHosts: fleet.knownHosts,
      hostList: addressesOf(hosts).apply(hostList),
      ...(cloud?.backupVariables ? { backupVariables: cloud.backupVariables } : {}),
      deployKeyReady: fleet.deployKeyAuthorizedEverywhere,
      ...(webhook ? { notificationWebhook: webhook } : {}),
    },
    opts,
  );
  // The old key lines go only once the secret holds the new key (the components do not import each other).
  fleet.continueAfterDeployKeySecret([gitHub.environment.deployKeySecret]);
  return {
    environment: config.environment,
    hosts: addressesOf(hosts).apply((list) => list.map((h) => `${h.host}:${h.port}`)),
    knownHosts: fleet.knownHosts,
    deployPublicKey: fleet.deployKey.publicKeyOpenssh,
    files: gitHub.filePaths,
  };
}

function addressesOf(hosts: readonly FleetHost[]): pulumi.Output<Array<{ host: string; port: number }>> {
  return pulumi.all(hosts.map((h) => pulumi.output(h.host).apply((host) => ({ host, port: h.port }))));
}

function required(adminPrivateKey: string | undefined): string {
  // loadFromValues with requireSecrets reports this with the other problems; this guards direct callers.
  if (adminPrivateKey === undefined) throw new ConfigError([MISSING_ADMIN_KEY]);
  return adminPrivateKey;
}
