import type { PipelineSchemaOutput } from "./schema";

export type { ServiceType } from "./schema";

/** Validated stack config with every default applied: the only input of renderers and components. */
export interface PipelineConfig extends Omit<PipelineSchemaOutput, "preventSelfReview"> {
  /** Pulumi stack name (staging, production, ...). */
  stack: string;
  /** `github:owner`: the user or organization that owns the repository. */
  githubOwner: string;
  preventSelfReview: boolean;
}

export type HostConfig = PipelineConfig["hosts"][number];
export type AppConfig = PipelineConfig["app"];
