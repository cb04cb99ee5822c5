import * as pulumi from "@pulumi/pulumi";
import { ConfigError, MISSING_ADMIN_KEY } from "./config/errors";
import type { PipelineConfig, PipelineSecrets } from "./config/types";
import { GitHubPipeline } from "./components/github/githubPipeline";
import { Fleet } from "./components/vps/fleet";

export interface PipelineOptions {
  /** npm registry URL the hosts use when the config does not name one. */
  npmRegistry: string;
}

export interface PipelineOutputs {
  environment: string;
  hosts: string[];
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
  const fleet = new Fleet(
    `${name}-vps`,
    {
      config,
      adminPrivateKey: pulumi.secret(required(secrets.adminPrivateKey)),
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
      deployKeyReady: fleet.deployKeyAuthorizedEverywhere,
      ...(webhook ? { notificationWebhook: webhook } : {}),
    },
    opts,
  );
  // The old key lines go only once the secret holds the new key (the components do not import each other).
  fleet.continueAfterDeployKeySecret([gitHub.environment.deployKeySecret]);
  return {
    environment: config.environment,
    hosts: config.hosts.map((h) => `${h.host}:${h.port}`),
    knownHosts: fleet.knownHosts,
    deployPublicKey: fleet.deployKey.publicKeyOpenssh,
    files: gitHub.filePaths,
  };
}

function required(adminPrivateKey: string | undefined): string {
  // loadFromValues with requireSecrets reports this with the other problems; this guards direct callers.
  if (adminPrivateKey === undefined) throw new ConfigError([MISSING_ADMIN_KEY]);
  return adminPrivateKey;
}
