// ci.yml: lint, typecheck, test and build on every pull request and every branch push.
// Also callable (workflow_call) so that each deploy workflow runs the same checks on the commit it ships.
import type { AppConfig, PipelineConfig } from "../../config/types";
import { CI_WORKFLOW_NAME } from "../githubNames";
import { BASH_DEFAULTS, type StepsJob, type Workflow } from "./model";
import { serviceContainers, serviceUrls } from "./services";
import { installSteps } from "./setup";

export type CiJobId = "lint" | "typecheck" | "test" | "build";

export interface CiJobSpec {
  id: CiJobId;
  command: string;
}

/**
 * The CI jobs, in order; a command set to "" drops its job. Branch protection requires exactly these checks.
 * Each job's `name:` equals its id, so the check GitHub reports is the id.
 */
export function ciJobSpecs(app: AppConfig): CiJobSpec[] {
  return (Object.keys(CI_JOB_COMMAND_KEYS) as CiJobId[])
    .map((id) => ({ id, command: app[CI_JOB_COMMAND_KEYS[id]] }))
    .filter((spec) => spec.command.trim() !== "");
}

/** The `app` key whose command each CI job runs, in job order: cross-stack checks name it. */
export const CI_JOB_COMMAND_KEYS = {
  lint: "lintCommand",
  typecheck: "typecheckCommand",
  test: "testCommand",
  build: "buildCommand",
} as const satisfies Record<CiJobId, keyof AppConfig>;

const CI_TIMEOUT_MINUTES = 20;

function ciJob(spec: CiJobSpec, app: AppConfig): StepsJob {
  const isTest = spec.id === "test";
  return {
    name: spec.id,
    "runs-on": "ubuntu-latest",
    "timeout-minutes": CI_TIMEOUT_MINUTES,
    permissions: { contents: "read" },
    services: isTest ? serviceContainers(app.services) : undefined,
    env: isTest ? serviceUrls(app.services) : undefined,
    steps: [...installSteps(app), { name: `Run ${spec.id}`, run: spec.command }],
  };
}

export function ciWorkflow(config: Pick<PipelineConfig, "app">): Workflow {
  const jobs = Object.fromEntries(ciJobSpecs(config.app).map((spec) => [spec.id, ciJob(spec, config.app)]));
  return {
    name: CI_WORKFLOW_NAME,
    on: {
      // Each stack knows only its own deploy branch, so CI runs on every branch push (tags are left out).
      push: { branches: ["**"] },
      pull_request: null,
      workflow_call: null,
    },
    permissions: {},
    // github.workflow keeps the run that a deploy workflow calls out of the group of the plain CI run.
    concurrency: {
      group: "ci-${{ github.workflow }}-${{ github.ref }}",
      "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    },
    defaults: BASH_DEFAULTS,
    jobs,
  };
}
