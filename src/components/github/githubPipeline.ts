import type * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../../config/types";
import { renderRepositoryFiles, requiredStatusChecks } from "../../render/workflows";
import { childName } from "../naming";
import { createBranchProtection } from "./branchProtection";
import { DeploymentEnvironment } from "./environment";
import { createRepositorySecrets } from "./repositorySettings";
import { type DeliveredFiles, deliverFiles } from "./workflowFiles";

export interface GitHubPipelineArgs {
  config: PipelineConfig;
  deployPrivateKey: pulumi.Input<string>;
  knownHosts: pulumi.Input<string>;
  /** DEPLOY_HOSTS: `host:port` of every host in deploy order. */
  hostList: pulumi.Input<string>;
  backupVariables?: Record<string, pulumi.Input<string>>;
  deployKeyReady: pulumi.Input<pulumi.Resource>[];
  notificationWebhook?: pulumi.Input<string>;
}

/** Everything this stack manages on GitHub. */
export class GitHubPipeline extends pulumi.ComponentResource {
  readonly environment: DeploymentEnvironment;
  readonly files: DeliveredFiles;
  readonly filePaths: string[];
  readonly branchProtection?: github.BranchProtection;

  constructor(name: string, args: GitHubPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:github:GitHubPipeline", name, {}, opts);
    const { config } = args;
    this.environment = new DeploymentEnvironment(
      childName(name, config.environment),
      {
        config,
        deployPrivateKey: args.deployPrivateKey,
        knownHosts: args.knownHosts,
        hostList: args.hostList,
        ...(args.backupVariables ? { backupVariables: args.backupVariables } : {}),
        deployKeyReady: args.deployKeyReady,
      },
      { parent: this },
    );
    createRepositorySecrets(name, config, { notificationWebhook: args.notificationWebhook }, this);
    const files = renderRepositoryFiles(config);
    this.filePaths = files.map((f) => f.path);
    this.files = deliverFiles(name, config, files, this);
    if (config.protection.enabled) {
      // direct mode: after the last commit, so the protection never races the commits (and on destroy it goes
      // first, so the deletions are not refused). pullRequest mode writes to a branch the rule does not match.
      const after = this.files.lastDirectCommit ? [this.files.lastDirectCommit] : [];
      this.branchProtection = createBranchProtection(
        name,
        { config, requiredChecks: requiredStatusChecks(config) },
        this,
        after,
      );
    }
    this.registerOutputs({});
  }
}
