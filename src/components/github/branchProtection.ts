import * as github from "@pulumi/github";
import type * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../../config/types";
import { childName } from "../naming";

export interface BranchRulesArgs {
  config: PipelineConfig;
  /** Names of the CI jobs, as GitHub reports them: derived from the CI renderer, never typed here. */
  requiredChecks: string[];
}

/** Pattern-based protection, which (unlike BranchProtectionV3) works before the branch exists. */
function branchProtectionArgs({ config, requiredChecks }: BranchRulesArgs): github.BranchProtectionArgs {
  const rules = config.protection;
  return {
    repositoryId: config.repository,
    pattern: config.branch,
    enforceAdmins: rules.enforceAdmins,
    allowsDeletions: rules.allowDeletions,
    allowsForcePushes: rules.allowForcePushes,
    requiredLinearHistory: rules.requireLinearHistory,
    requireConversationResolution: rules.requireConversationResolution,
    requiredStatusChecks: [{ strict: rules.strictStatusChecks, contexts: requiredChecks }],
    requiredPullRequestReviews: [
      {
        requiredApprovingReviewCount: rules.requiredApprovals,
        dismissStaleReviews: rules.dismissStaleReviews,
        requireCodeOwnerReviews: rules.requireCodeOwnerReviews,
        requireLastPushApproval: rules.requireLastPushApproval,
        pullRequestBypassers: rules.pullRequestBypassers,
      },
    ],
  };
}

export function createBranchProtection(
  name: string,
  args: BranchRulesArgs,
  parent: pulumi.Resource,
  dependsOn: pulumi.Resource[] = [],
): github.BranchProtection {
  return new github.BranchProtection(childName(name, "branch-protection"), branchProtectionArgs(args), {
    parent,
    dependsOn,
  });
}
