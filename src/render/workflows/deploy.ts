// deploy-<env>.yml: push to the environment's branch -> CI (the same ci.yml, called) -> build the artifact once ->
// ship it to each host in turn -> public health check -> summary, notification, failure issue.
import type { PipelineConfig } from "../../config/types";
import { RELEASE_ID_SHELL } from "../agentProtocol";
import { CI_WORKFLOW_PATH } from "../githubNames";
import { ACTIONS, actionRef } from "./actions";
import { failureIssueJob } from "./failureIssue";
import { BRANCH_GUARD_JOB, branchGuardJob } from "./branchGuard";
import { deployRunsConcurrency, environmentJob, hostStepsTimeoutMinutes } from "./environmentJob";
import { BASH_DEFAULTS, type CallJob, type Step, type StepsJob, type Workflow } from "./model";
import { outcomeSteps, recordStartStep } from "./reporting";
import { singleQuote } from "../../primitives/shellQuote";
import { type ShipInputs, renderShipScript } from "../runner/shipScript";
import { backupBeforeMigrationsSteps, backupJobPermissions, workflowBacksUpFirst } from "./backupSteps";
import { checkoutStep, installSteps } from "./setup";
import { hasBuildStep } from "../../config/appSchema";
import { PACK_EXCLUDES } from "../artifactPack";
import { hostLoopEnv, writeSshFilesStep } from "./sshSteps";

export const SHIP_STEP_NAME = "Ship to each host in turn";
const ARTIFACT_NAME = "release";
const ARTIFACT_FILE = "release.tgz";
const RELEASE_ID_OUTPUT = "${{ needs.build.outputs.release_id }}";

/**
 * Runs ci.yml's jobs on the commit being deployed: the deploy cannot start unless they pass. Not `workflow_run`:
 * such runs execute the default branch's copy of the workflow with GITHUB_REF set to the default branch, so the
 * environment's deployment branch policy (only config.branch) would reject every non-default-branch deploy, and
 * the workflow logic would come from another commit than the code it ships.
 */
function ciJob(): CallJob {
  return { permissions: { contents: "read" }, uses: `./${CI_WORKFLOW_PATH}` };
}

/** The build: install and build, or for an app without a build step (app.buildCommand "") the checkout alone. */
function buildSteps(app: PipelineConfig["app"]): Step[] {
  if (!hasBuildStep(app)) return [checkoutStep()];
  return [...installSteps(app), { name: "Build", run: app.buildCommand }];
}

function buildJob(config: PipelineConfig): StepsJob {
  const paths = config.app.artifactPaths.map(singleQuote).join(" ");
  return {
    name: "build artifact",
    needs: ["ci"],
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 20,
    permissions: { contents: "read" },
    outputs: { release_id: "${{ steps.release.outputs.id }}" },
    steps: [
      ...buildSteps(config.app),
      {
        name: "Name the release",
        id: "release",
        run: `release_id=${RELEASE_ID_SHELL}\necho "id=$release_id" >> "$GITHUB_OUTPUT"`,
      },
      {
        name: "Pack the artifact",
        run: `tar ${PACK_EXCLUDES.join(" ")} -czf "$RUNNER_TEMP/${ARTIFACT_FILE}" -- ${paths}`,
      },
      {
        name: "Upload the artifact",
        uses: actionRef(ACTIONS.uploadArtifact),
        with: {
          name: ARTIFACT_NAME,
          path: `\${{ runner.temp }}/${ARTIFACT_FILE}`,
          "if-no-files-found": "error",
          // A re-run of this job uploads again under the same name: replace the artifact instead of failing.
          overwrite: true,
          "compression-level": 0,
          "retention-days": 7,
        },
      },
    ],
  };
}

function deployJob(config: PipelineConfig): StepsJob {
  const release = { RELEASE_ID: RELEASE_ID_OUTPUT };
  return environmentJob(config, {
    name: `deploy to ${config.environment}`,
    needs: ["build"],
    timeoutMinutes: hostStepsTimeoutMinutes(config),
    permissions: backupJobPermissions(config),
    steps: [
      recordStartStep(),
      {
        name: "Download the artifact",
        uses: actionRef(ACTIONS.downloadArtifact),
        with: { name: ARTIFACT_NAME, path: "${{ runner.temp }}/artifact" },
      },
      writeSshFilesStep(),
      // Once, on the first host (the database is shared), and off-host with aws.backupBucket: the hosts then skip
      // their own backup before the migrations. Without the step the hosts back up when their release has
      // migrations to run.
      ...backupBeforeMigrationsSteps(config),
      {
        name: SHIP_STEP_NAME,
        env: {
          ...hostLoopEnv(),
          ...({
            ARTIFACT: `\${{ runner.temp }}/artifact/${ARTIFACT_FILE}`,
            ...release,
            ACTOR: "${{ github.actor }}",
          } satisfies ShipInputs),
        },
        run: renderShipScript(config, { backupTaken: workflowBacksUpFirst(config) }),
      },
      ...outcomeSteps(config, {
        title: `Deploy to ${config.environment}`,
        env: release,
        columns: [
          { header: "Release", value: "$RELEASE_ID" },
          { header: "Commit", value: "${GITHUB_SHA:0:12}" },
        ],
        message: `Deploy of \${RELEASE_ID:-?} to ${config.environment}: $JOB_STATUS ($RUN_URL)`,
      }),
    ],
  });
}

export function deployWorkflow(config: PipelineConfig): Workflow {
  const jobs: Record<string, CallJob | StepsJob> = {
    [BRANCH_GUARD_JOB]: branchGuardJob(config),
    ci: ciJob(),
    build: buildJob(config),
    deploy: deployJob(config),
  };
  if (config.notifications.openIssueOnFailure)
    jobs["report-failure"] = failureIssueJob(config, ["ci", "build", "deploy"]);
  return {
    name: `Deploy ${config.environment}`,
    on: { push: { branches: [config.branch] }, workflow_dispatch: null },
    permissions: {},
    concurrency: deployRunsConcurrency(config.environment),
    defaults: BASH_DEFAULTS,
    jobs,
  };
}
