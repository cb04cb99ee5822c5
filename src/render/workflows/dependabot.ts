// .github/dependabot.yml: npm (pnpm lockfiles included) and the pinned actions, on the configured schedule.
import type { PipelineConfig } from "../../config/types";

export interface DependabotUpdate {
  "package-ecosystem": "npm" | "github-actions";
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
  return { version: 2, updates: [update("npm"), update("github-actions")] };
}
