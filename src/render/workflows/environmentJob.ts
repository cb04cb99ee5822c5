// The job shape shared by deploy, rollback and migrate: it runs in the stack's environment (secrets, reviewers,
// URL), with an empty token, in one queue per environment.
import type { PipelineConfig } from "../../config/types";
import type { Concurrency, Step, StepsJob } from "./model";

/** Deploy, rollback and migrate of one environment never overlap; a running one is never cancelled. */
function environmentConcurrency(environment: string): Concurrency {
  return { group: `deploy-${environment}`, "cancel-in-progress": false };
}

/** Worst case per host: waiting for the lock, installing, the health gate; plus a margin. */
export function hostStepsTimeoutMinutes(config: Pick<PipelineConfig, "hosts" | "deploy">): number {
  const perHostSeconds = config.deploy.lockTimeoutSeconds + config.deploy.healthTimeoutSeconds + 600;
  const publicCheckSeconds =
    config.deploy.publicCheckAttempts * (config.deploy.publicCheckIntervalSeconds + 10);
  return Math.ceil((config.hosts.length * perHostSeconds + publicCheckSeconds) / 60) + 5;
}

export function environmentJob(
  config: Pick<PipelineConfig, "environment" | "url">,
  job: { name: string; timeoutMinutes: number; needs?: string[]; steps: Step[] },
): StepsJob {
  return {
    name: job.name,
    ...(job.needs ? { needs: job.needs } : {}),
    "runs-on": "ubuntu-latest",
    "timeout-minutes": job.timeoutMinutes,
    permissions: {},
    environment: { name: config.environment, url: config.url },
    concurrency: environmentConcurrency(config.environment),
    steps: job.steps,
  };
}
