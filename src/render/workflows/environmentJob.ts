// The job shape shared by deploy, rollback and migrate: it runs in the stack's environment (secrets, reviewers,
// URL), with an empty token, in one queue per environment.
import { type PipelineConfig, hostCount } from "../../config/types";
import { planBatches } from "../runner/batchPlan";
import { BRANCH_GUARD_JOB } from "./branchGuard";
import type { Concurrency, Permissions, Step, StepsJob } from "./model";

/**
 * Deploy, rollback and migrate jobs of one environment never overlap; a running one is never cancelled. GitHub
 * keeps one pending job per group and cancels an older pending one when another arrives.
 */
function environmentConcurrency(environment: string): Concurrency {
  return { group: `deploy-${environment}`, "cancel-in-progress": false };
}

/**
 * Deploy runs wait for each other as whole runs, so a push never has a deploy job pending in the environment's
 * group while an earlier deploy runs: a rollback or migration waiting there is not replaced by a later push (a
 * newer push replaces only an older pending deploy run, whose commit it contains).
 */
export function deployRunsConcurrency(environment: string): Concurrency {
  return { group: `deploy-runs-${environment}`, "cancel-in-progress": false };
}

/**
 * Worst case per batch (the hosts of a batch run in parallel): waiting for the lock, installing, the health gate;
 * plus the canary's bake, and with rollback-all a second pass that puts the switched hosts back; plus a margin.
 */
export function hostStepsTimeoutMinutes(config: Pick<PipelineConfig, "hosts" | "aws" | "deploy">): number {
  const { deploy } = config;
  const batches = planBatches(hostCount(config), deploy).length;
  const perBatchSeconds = deploy.lockTimeoutSeconds + deploy.healthTimeoutSeconds + 600;
  const bakeSeconds = deploy.canary ? deploy.canaryBakeSeconds : 0;
  const restoreSeconds =
    deploy.onFailure === "rollback-all"
      ? batches * (deploy.lockTimeoutSeconds + deploy.healthTimeoutSeconds + 60)
      : 0;
  const publicCheckSeconds = deploy.publicCheckAttempts * (deploy.publicCheckIntervalSeconds + 10);
  const seconds = batches * perBatchSeconds + bakeSeconds + restoreSeconds + publicCheckSeconds;
  return Math.ceil(seconds / 60) + 5;
}

/** Runs after the branch guard (branchGuard.ts) and the given jobs. */
export function environmentJob(
  config: Pick<PipelineConfig, "environment" | "url">,
  job: { name: string; timeoutMinutes: number; needs?: string[]; permissions?: Permissions; steps: Step[] },
): StepsJob {
  return {
    name: job.name,
    needs: [BRANCH_GUARD_JOB, ...(job.needs ?? [])],
    "runs-on": "ubuntu-latest",
    "timeout-minutes": job.timeoutMinutes,
    permissions: job.permissions ?? {},
    environment: { name: config.environment, url: config.url },
    concurrency: environmentConcurrency(config.environment),
    steps: job.steps,
  };
}
