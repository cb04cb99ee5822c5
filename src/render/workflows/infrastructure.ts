// This repository's own workflows (.github/workflows/preview.yml and up.yml), rendered from the same model and
// pins as the app's workflows. test/render/workflows/infrastructure.test.ts keeps the committed files in sync.
import { ACTIONS, actionRef } from "./actions";
import { BASH_DEFAULTS, type Step, type StepsJob, type Workflow } from "./model";
import { checkoutStep } from "./setup";
import { workflowToYaml } from "./toYaml";

type StackName = "staging" | "production";

const NODE_VERSION = 20;

/**
 * Credentials of `pulumi preview/up`: the Pulumi backend and the GitHub provider (its token needs the `workflow`
 * scope). No cloud keys: the program reaches the VPSes over SSH with the stack's own secret config.
 * Whoever holds PULUMI_ACCESS_TOKEN can decrypt that config (the admin key: root on the hosts), and a pull request
 * runs its own version of this file and of the program, so these are environment secrets only, of the
 * environments below, never repository secrets: a job gets them only in an environment, after its rules.
 */
const PULUMI_ENV = {
  PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
  GITHUB_TOKEN: "${{ secrets.PIPELINE_GITHUB_TOKEN }}",
};

function npmSetupSteps(): Step[] {
  return [
    checkoutStep(),
    {
      name: "Set up Node.js",
      uses: actionRef(ACTIONS.setupNode),
      with: { "node-version": NODE_VERSION, cache: "npm" },
    },
    { name: "Install dependencies", run: "npm ci" },
  ];
}

function testJob(): StepsJob {
  return {
    name: "npm test",
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 20,
    permissions: { contents: "read" },
    steps: [
      ...npmSetupSteps(),
      // The lint layer fails when shellcheck is missing; hosted Ubuntu runners ship it.
      { name: "Check for shellcheck", run: "shellcheck --version" },
      { name: "Test", run: "npm test" },
    ],
  };
}

function pulumiStep(command: "preview" | "up", stack: StackName): Step {
  return {
    name: `pulumi ${command} --stack ${stack}`,
    uses: actionRef(ACTIONS.pulumi),
    with: { command, "stack-name": stack, ...(command === "preview" ? { "comment-on-pr": true } : {}) },
    env: PULUMI_ENV,
  };
}

/**
 * Environments of this repository that hold PULUMI_ENV's secrets. `pulumi-preview` has required reviewers: a
 * maintainer reads the pull request's code before it runs with the credentials. `pulumi-up` and
 * `pulumi-up-production` let only `main` deploy (production also waits for its reviewers).
 */
export const INFRASTRUCTURE_ENVIRONMENTS = {
  preview: "pulumi-preview",
  up: { staging: "pulumi-up", production: "pulumi-up-production" },
} as const;

function previewJob(stack: StackName): StepsJob {
  return {
    name: `preview ${stack}`,
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 20,
    permissions: { contents: "read", "pull-requests": "write" },
    environment: { name: INFRASTRUCTURE_ENVIRONMENTS.preview },
    steps: [
      ...npmSetupSteps(),
      // Offline, no secrets: every stack file together (one owner, required checks = jobs of the one ci.yml, ...).
      { name: "Check every stack (npm run check)", run: "npm run check" },
      pulumiStep("preview", stack),
    ],
  };
}

function upJob(stack: StackName, needs: string[]): StepsJob {
  return {
    name: `up ${stack}`,
    needs,
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 60,
    permissions: { contents: "read" },
    environment: { name: INFRASTRUCTURE_ENVIRONMENTS.up[stack] },
    steps: [...npmSetupSteps(), pulumiStep("up", stack)],
  };
}

export function previewWorkflow(): Workflow {
  return {
    name: "Preview",
    on: { pull_request: null },
    permissions: {},
    concurrency: { group: "preview-${{ github.ref }}", "cancel-in-progress": true },
    defaults: BASH_DEFAULTS,
    jobs: {
      test: testJob(),
      "preview-staging": previewJob("staging"),
      "preview-production": previewJob("production"),
    },
  };
}

export function upWorkflow(): Workflow {
  return {
    name: "Up",
    on: { push: { branches: ["main"] } },
    permissions: {},
    // Never cancel a running `pulumi up`: a half-applied update needs a human.
    concurrency: { group: "pulumi-up", "cancel-in-progress": false },
    defaults: BASH_DEFAULTS,
    jobs: {
      test: testJob(),
      staging: upJob("staging", ["test"]),
      production: upJob("production", ["staging"]),
    },
  };
}

export const REGENERATE_COMMAND =
  "UPDATE_WORKFLOWS=1 npx vitest run --project unit test/render/workflows/infrastructure.test.ts";

export interface InfrastructureFile {
  path: string;
  content: string;
}

export function renderInfrastructureWorkflows(): InfrastructureFile[] {
  const by = { renderer: "src/render/workflows/infrastructure.ts", regenerate: REGENERATE_COMMAND };
  return [
    { path: ".github/workflows/preview.yml", content: workflowToYaml(previewWorkflow(), by) },
    { path: ".github/workflows/up.yml", content: workflowToYaml(upWorkflow(), by) },
  ];
}
