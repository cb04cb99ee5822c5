import * as pulumi from "@pulumi/pulumi";
import { loadStack, projectValues } from "./load";
import type { PipelineConfig, PipelineSecrets } from "./types";

/**
 * Reads every `pipeline:*` key and github:owner of the running stack (raw, so that secret values are read without Pulumi's
 * "use getSecret" warning; they are wrapped with pulumi.secret wherever they are used) and validates them
 * before any resource is registered.
 */
export function loadPulumiStack(): { config: PipelineConfig; secrets: PipelineSecrets } {
  const { values, githubOwner } = projectValues(pulumi.runtime.allConfig());
  return loadStack(values, githubOwner, { stack: pulumi.getStack(), requireSecrets: true });
}
