// A failed deploy opens an issue labelled `deploy-failure`, or comments on the one already open for the environment.
import type { PipelineConfig } from "../../config/types";
import { ACTIONS, actionRef } from "./actions";
import type { StepsJob } from "./model";
import { RUN_URL } from "./reporting";

const FAILURE_LABEL = "deploy-failure";

// Reads everything from process.env and context: no expression is interpolated into the script.
const SCRIPT = `const { owner, repo } = context.repo;
const label = process.env.FAILURE_LABEL;
const title = process.env.ISSUE_TITLE;
const body = [
  \`Deploy run failed: \${process.env.RUN_URL}\`,
  \`Commit: \${context.sha}, triggered by @\${context.actor} (\${context.eventName}).\`,
].join("\\n");
try {
  await github.rest.issues.getLabel({ owner, repo, name: label });
} catch (error) {
  if (error.status !== 404) throw error;
  await github.rest.issues.createLabel({ owner, repo, name: label, color: "d73a4a", description: "A deploy workflow failed" });
}
const open = await github.paginate(github.rest.issues.listForRepo, { owner, repo, state: "open", labels: label, per_page: 100 });
const existing = open.find((issue) => issue.title === title && !issue.pull_request);
if (existing) {
  await github.rest.issues.createComment({ owner, repo, issue_number: existing.number, body });
} else {
  await github.rest.issues.create({ owner, repo, title, body, labels: [label] });
}
`;

export function failureIssueJob(config: Pick<PipelineConfig, "environment">, needs: string[]): StepsJob {
  return {
    name: "report failure",
    needs,
    if: "${{ failure() }}",
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 5,
    permissions: { issues: "write" },
    steps: [
      {
        name: "Open or update the failure issue",
        uses: actionRef(ACTIONS.githubScript),
        env: { FAILURE_LABEL, ISSUE_TITLE: `Deploy to ${config.environment} failed`, RUN_URL },
        with: { script: SCRIPT },
      },
    ],
  };
}
