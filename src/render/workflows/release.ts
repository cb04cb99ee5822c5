// release.yml: a pushed v*.*.* tag becomes a GitHub release with generated notes. The gh CLI is on every
// hosted runner, so no third-party release action (and its token) is involved.
import type { PipelineConfig } from "../../config/types";
import { BASH_DEFAULTS, type Workflow } from "./model";

const RELEASE_TAG_PATTERN = "v*.*.*";

export function releaseWorkflow(config: Pick<PipelineConfig, "release">): Workflow {
  const draft = config.release.draft ? " --draft" : "";
  return {
    name: "Release",
    on: { push: { tags: [RELEASE_TAG_PATTERN] } },
    permissions: {},
    defaults: BASH_DEFAULTS,
    jobs: {
      release: {
        name: "release",
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 10,
        permissions: { contents: "write" },
        steps: [
          {
            name: "Create the GitHub release",
            env: {
              GH_TOKEN: "${{ github.token }}",
              GH_REPO: "${{ github.repository }}",
              TAG: "${{ github.ref_name }}",
            },
            run: `gh release create "$TAG" --title "$TAG" --generate-notes --verify-tag${draft}`,
          },
        ],
      },
    },
  };
}
