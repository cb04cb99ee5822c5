import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../../config/types";
import { REPO_SECRETS } from "../../render/githubNames";
import { childName } from "../naming";

/** Repository-wide secrets: only the stack with ownsRepositorySettings creates these. */
export function createRepositorySecrets(
  name: string,
  config: PipelineConfig,
  secrets: { notificationWebhook?: pulumi.Input<string> },
  parent: pulumi.Resource,
): github.ActionsSecret[] {
  if (!config.ownsRepositorySettings || secrets.notificationWebhook === undefined) return [];
  return [
    new github.ActionsSecret(
      childName(name, "secret", REPO_SECRETS.notificationWebhook),
      {
        repository: config.repository,
        secretName: REPO_SECRETS.notificationWebhook,
        value: pulumi.secret(secrets.notificationWebhook),
      },
      { parent },
    ),
  ];
}
