import type { PipelineSchemaOutput } from "./schema";

export type { ServiceType } from "./schema";

/** Secret values never travel inside PipelineConfig, so no renderer can print them by accident. */
export type PipelineSecrets = Pick<
  PipelineSchemaOutput,
  "adminPrivateKey" | "appEnv" | "notificationWebhook"
>;

/** Validated stack config with every default applied: the only input of renderers and components. */
export interface PipelineConfig extends Omit<
  PipelineSchemaOutput,
  "preventSelfReview" | "adminPrivateKey" | "appEnv" | "notificationWebhook" | "hosts"
> {
  /** The configured hosts; empty when aws.hosts makes the program create them (hostCount() counts both). */
  hosts: HostConfig[];
  /** Pulumi stack name (staging, production, ...). */
  stack: string;
  /** `github:owner`: the user or organization that owns the repository. */
  githubOwner: string;
  preventSelfReview: boolean;
}

/**
 * What every config loader returns: the validated config and, apart from it, the secrets; and warnings about
 * config that is valid but unwise (`pipeline:<key>: <what> (<fix>)`), for the caller to show.
 */
export interface LoadedStack {
  config: PipelineConfig;
  secrets: PipelineSecrets;
  warnings: string[];
}

export type HostConfig = NonNullable<PipelineSchemaOutput["hosts"]>[number];
export type AppConfig = PipelineConfig["app"];

/** How many hosts the stack deploys to: the configured ones, or the ones aws.hosts creates. */
export function hostCount(config: Pick<PipelineConfig, "hosts" | "aws">): number {
  return config.aws?.hosts?.count ?? config.hosts.length;
}
