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
  "preventSelfReview" | "adminPrivateKey" | "appEnv" | "notificationWebhook"
> {
  /** Pulumi stack name (staging, production, ...). */
  stack: string;
  /** `github:owner`: the user or organization that owns the repository. */
  githubOwner: string;
  preventSelfReview: boolean;
}

/** What every config loader returns: the validated config and, apart from it, the secrets. */
export interface LoadedStack {
  config: PipelineConfig;
  secrets: PipelineSecrets;
}

export type HostConfig = PipelineConfig["hosts"][number];
export type AppConfig = PipelineConfig["app"];
