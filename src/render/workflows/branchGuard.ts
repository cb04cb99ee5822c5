// The first job of every workflow that runs in a stack's environment. The environment's deployment branch policy
// lets only the stack's branch in, and GitHub refuses a job from any other ref before its first step, with a
// message about protection rules. A workflow dispatched from the Actions page runs on the default branch unless
// another is picked, so for an environment whose branch is not the default one that refusal would be the rule:
// this job fails first and says which branch to pick.
import type { PipelineConfig } from "../../config/types";
import type { StepsJob } from "./model";

export const BRANCH_GUARD_JOB = "branch";

export function branchGuardJob(config: Pick<PipelineConfig, "branch" | "environment">): StepsJob {
  return {
    name: `runs on ${config.branch}`,
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 2,
    permissions: {},
    steps: [
      {
        name: `Check that this run is on ${config.branch}`,
        env: { RUN_REF: "${{ github.ref }}", DEPLOY_BRANCH: config.branch, ENVIRONMENT: config.environment },
        run: [
          'if [ "$RUN_REF" != "refs/heads/$DEPLOY_BRANCH" ]; then',
          '  echo "::error title=Wrong branch::This run is on $RUN_REF, but only the branch $DEPLOY_BRANCH may deploy to the environment $ENVIRONMENT. Run the workflow again and pick $DEPLOY_BRANCH under \\"Use workflow from\\" (the branch needs this workflow file: merge the default branch into it)."',
          "  exit 1",
          "fi",
        ].join("\n"),
      },
    ],
  };
}
