import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { loadFromValues } from "./fromValues";
import { PROJECT, SECRET_KEYS, type SecretKey, projectValues } from "./keys";
import type { LoadedStack } from "./types";

/**
 * Whether Pulumi handed a config value to the program as a secret. The SDK has this (runtime/config.js,
 * marked internal: it is what makes `Config.get` warn about secrets) but does not declare it.
 */
const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean })
  .isConfigSecret;

/** Set secret keys whose values arrived in plain text (Pulumi.yaml can only declare the admin key secret). */
function plaintextSecrets(values: Record<string, unknown>): SecretKey[] {
  if (isConfigSecret === undefined) return [];
  return SECRET_KEYS.filter(
    (key) => values[key] !== undefined && values[key] !== "" && !isConfigSecret(`${PROJECT}:${key}`),
  );
}

/**
 * Reads every `pipeline:*` key and github:owner of the running stack (raw, so that secret values are read without Pulumi's
 * "use getSecret" warning; they are wrapped with pulumi.secret wherever they are used) and validates them
 * before any resource is registered. Config warnings go to Pulumi's log (shown by preview and up).
 */
export function loadFromPulumiRuntime(): LoadedStack {
  const { values, githubOwner } = projectValues(pulumi.runtime.allConfig());
  const loaded = loadFromValues(values, githubOwner, {
    stack: pulumi.getStack(),
    requireSecrets: true,
    plaintextSecrets: plaintextSecrets(values),
  });
  for (const warning of loaded.warnings) void pulumi.log.warn(warning);
  return loaded;
}
