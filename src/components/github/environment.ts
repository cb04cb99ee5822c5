import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../../config/types";
import { ENV_SECRETS, ENV_VARS } from "../../render/githubNames";
import { childName } from "../naming";
import { resolveReviewerIds } from "./reviewers";

export interface DeploymentEnvironmentArgs {
  config: PipelineConfig;
  /** Private key of the CI deploy key (OpenSSH format); becomes the environment secret. */
  deployPrivateKey: pulumi.Input<string>;
  /** known_hosts lines of every host, pinned by the workflows. */
  knownHosts: pulumi.Input<string>;
  /** `host:port` of every host in deploy order (hostList()). */
  hostList: pulumi.Input<string>;
  /** The backup bucket's variables (AWS_BACKUP_VARS), with aws.backupBucket. */
  backupVariables?: Record<string, pulumi.Input<string>>;
  /** Resources that must exist before the secret switches to a new key (the key authorized on every host). */
  deployKeyReady?: pulumi.Input<pulumi.Resource>[];
}

/** The GitHub environment of one stack: protection rules, branch policy, secrets and variables. */
export class DeploymentEnvironment extends pulumi.ComponentResource {
  readonly environment: github.RepositoryEnvironment;
  readonly deployKeySecret: github.ActionsEnvironmentSecret;

  constructor(name: string, args: DeploymentEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:github:DeploymentEnvironment", name, {}, opts);
    const { config } = args;
    const repository = config.repository;

    this.environment = new github.RepositoryEnvironment(
      childName(name, "environment"),
      {
        repository,
        environment: config.environment,
        waitTimer: config.waitTimer,
        preventSelfReview: config.preventSelfReview,
        canAdminsBypass: !config.protection.enforceAdmins,
        reviewers:
          config.reviewers.length > 0 ? [resolveReviewerIds(config.reviewers, { parent: this })] : [],
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      },
      { parent: this },
    );
    const inEnvironment = { parent: this, dependsOn: [this.environment] };

    new github.RepositoryEnvironmentDeploymentPolicy(
      childName(name, "branch-policy"),
      { repository, environment: config.environment, branchPattern: config.branch },
      inEnvironment,
    );

    this.deployKeySecret = new github.ActionsEnvironmentSecret(
      childName(name, "secret", ENV_SECRETS.deployKey),
      {
        repository,
        environment: config.environment,
        secretName: ENV_SECRETS.deployKey,
        value: pulumi.secret(args.deployPrivateKey),
      },
      {
        parent: this,
        dependsOn: pulumi.output(args.deployKeyReady ?? []).apply((ready) => [this.environment, ...ready]),
      },
    );

    const variables: Record<string, pulumi.Input<string>> = {
      [ENV_VARS.hosts]: args.hostList,
      [ENV_VARS.deployUser]: config.deployUser,
      [ENV_VARS.knownHosts]: args.knownHosts,
      ...args.backupVariables,
    };
    for (const [variableName, value] of Object.entries(variables)) {
      new github.ActionsEnvironmentVariable(
        childName(name, "variable", variableName),
        { repository, environment: config.environment, variableName, value },
        inEnvironment,
      );
    }
    this.registerOutputs({ environment: this.environment.environment });
  }
}
