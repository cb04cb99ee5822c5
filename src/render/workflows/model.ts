// Typed GitHub Actions workflow model.
// `permissions` is required on the workflow and on every job so that least privilege is a compile error to forget.

export type PermissionLevel = "read" | "write" | "none";
export type PermissionScope =
  | "actions"
  | "checks"
  | "contents"
  | "deployments"
  | "id-token"
  | "issues"
  | "packages"
  | "pull-requests"
  | "statuses";
/** `{}` grants nothing; raise per job. */
export type Permissions = Partial<Record<PermissionScope, PermissionLevel>>;

export interface Concurrency {
  group: string;
  /** A boolean or an expression such as `${{ github.event_name == 'pull_request' }}`. */
  "cancel-in-progress": boolean | string;
}

export interface WorkflowDispatchInput {
  description: string;
  required: boolean;
  type: "string" | "choice" | "boolean";
  default?: string | boolean;
  options?: string[];
}

export interface Triggers {
  push?: { branches?: string[]; tags?: string[] };
  pull_request?: { branches?: string[] } | null;
  workflow_dispatch?: { inputs?: Record<string, WorkflowDispatchInput> } | null;
  workflow_call?: null;
}

export interface Step {
  name: string;
  id?: string;
  if?: string;
  uses?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  run?: string;
  shell?: string;
}

export interface Service {
  image: string;
  env?: Record<string, string>;
  ports: string[];
  options: string;
}

export interface Environment {
  name: string;
  url?: string;
}

/** A job that runs steps on a runner. */
export interface StepsJob {
  name?: string;
  "runs-on": string;
  permissions: Permissions;
  needs?: string[];
  if?: string;
  environment?: Environment;
  concurrency?: Concurrency;
  "timeout-minutes": number;
  services?: Record<string, Service>;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
}

/** A job that calls a reusable workflow (`jobs.<id>.uses`). */
export interface CallJob {
  name?: string;
  permissions: Permissions;
  needs?: string[];
  if?: string;
  uses: string;
}

export type Job = StepsJob | CallJob;

export interface Workflow {
  name: string;
  on: Triggers;
  permissions: Permissions;
  concurrency?: Concurrency;
  env?: Record<string, string>;
  defaults?: { run: { shell: string } };
  jobs: Record<string, Job>;
}

export function isCallJob(job: Job): job is CallJob {
  return "uses" in job;
}

/** Every generated `run:` uses bash with `-eo pipefail` (GitHub's `shell: bash`). */
export const BASH_DEFAULTS = { run: { shell: "bash" } } as const;
