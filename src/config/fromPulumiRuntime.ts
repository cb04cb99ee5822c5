import * as pulumi from "@pulumi/pulumi";
import { loadFromValues } from "./fromValues";
import { projectValues } from "./keys";
import type { LoadedStack } from "./types";

/**
 * Reads every `pipeline:*` key and github:owner of the running stack (raw, so that secret values are read without Pulumi's
 * "use getSecret" warning; they are wrapped with pulumi.secret wherever they are used) and validates them
 * before any resource is registered.
 */
export function loadFromPulumiRuntime(): LoadedStack {
  const { values, githubOwner } = projectValues(pulumi.runtime.allConfig());
  return loadFromValues(values, githubOwner, { stack: pulumi.getStack(), requireSecrets: true });
}
