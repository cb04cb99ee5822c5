// .github/dependabot.yml: npm (pnpm lockfiles included), on the configured schedule.
// No github-actions ecosystem: the action pins live in the generated workflow files, which this program owns.
// A bot editing them would be overwritten by the next pulumi up (or, without a refresh, make it fail with 409).
import type { PipelineConfig } from "../../config/types";

export interface DependabotUpdate {
  "package-ecosystem": "npm";
  directory: string;
  schedule: { interval: "daily" | "weekly" | "monthly" };
  "open-pull-requests-limit": number;
}

export interface DependabotConfig {
  version: 2;
  updates: DependabotUpdate[];
}

export function dependabotConfig(config: Pick<PipelineConfig, "dependencyUpdates">): DependabotConfig {
  const { schedule, openPullRequestsLimit } = config.dependencyUpdates;
  const update = (ecosystem: DependabotUpdate["package-ecosystem"]): DependabotUpdate => ({
    "package-ecosystem": ecosystem,
    directory: "/",
    schedule: { interval: schedule },
    "open-pull-requests-limit": openPullRequestsLimit,
  });
  return { version: 2, updates: [update("npm")] };
}
