// Names of the stack config: the project namespace, the secret keys, and `namespace:key` splitting.

export const PROJECT = "pipeline";

/** Keys that hold secrets: never printed, always wrapped with pulumi.secret. */
export const SECRET_KEYS = ["adminPrivateKey", "appEnv", "notificationWebhook"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** A stack's config keyed `namespace:key` (bare keys are the project's) -> project values and github:owner. */
export function projectValues(config: Record<string, unknown>): {
  values: Record<string, unknown>;
  githubOwner: string | undefined;
} {
  const values: Record<string, unknown> = {};
  let githubOwner: string | undefined;
  for (const [fullKey, value] of Object.entries(config)) {
    const [namespace, key] = fullKey.includes(":") ? fullKey.split(":", 2) : [PROJECT, fullKey];
    if (namespace === "github" && key === "owner") githubOwner = String(value);
    else if (namespace === PROJECT && key !== undefined) values[key] = value;
  }
  return { values, githubOwner };
}
