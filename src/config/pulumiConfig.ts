import * as pulumi from "@pulumi/pulumi";
import { PROJECT, loadStack } from "./load";
import type { PipelineConfig, PipelineSecrets } from "./types";

/**
 * Reads every `pipeline:*` key of the running stack (raw, so that secret values are read without Pulumi's
 * "use getSecret" warning; they are wrapped with pulumi.secret wherever they are used) and validates them
 * before any resource is registered.
 */
export function loadPulumiStack(): { config: PipelineConfig; secrets: PipelineSecrets } {
  const all = pulumi.runtime.allConfig();
  const prefix = `${PROJECT}:`;
  const values = Object.fromEntries(
    Object.entries(all)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
  return loadStack(values, all["github:owner"], { stack: pulumi.getStack(), requireSecrets: true });
}
