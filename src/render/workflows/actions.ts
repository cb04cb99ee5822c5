// Every third-party action the generated workflows use, pinned to a full commit SHA (tags are mutable).
// Each SHA is the commit of the named release tag. The pins are owned here: update them in this file (and
// pulumi up), never through Dependabot's github-actions ecosystem, which would edit the generated files.

export interface ActionPin {
  repository: string;
  sha: string;
  version: string;
}

export const ACTIONS = {
  checkout: {
    repository: "actions/checkout",
    sha: "11bd71901bbe5b1630ceea73d27597364c9af683",
    version: "v4.2.2",
  },
  setupNode: {
    repository: "actions/setup-node",
    sha: "49933ea5288caeca8642d1e84afbd3f7d6820020",
    version: "v4.4.0",
  },
  setupPnpm: {
    repository: "pnpm/action-setup",
    sha: "a7487c7e89a18df4991f7f222e4898a00d66ddda",
    version: "v4.1.0",
  },
  uploadArtifact: {
    repository: "actions/upload-artifact",
    sha: "ea165f8d65b6e75b540449e92b4886f43607fa02",
    version: "v4.6.2",
  },
  downloadArtifact: {
    repository: "actions/download-artifact",
    sha: "d3f86a106a0bac45b974a628896c90dbdf5c8093",
    version: "v4.3.0",
  },
  githubScript: {
    repository: "actions/github-script",
    sha: "60a0d83039c74a4aee543508d2ffcb1c3799cdea",
    version: "v7.0.1",
  },
  configureAwsCredentials: {
    repository: "aws-actions/configure-aws-credentials",
    sha: "61815dcd50bd041e203e49132bacad1fd04d2708",
    version: "v5.1.1",
  },
  pulumi: {
    repository: "pulumi/actions",
    sha: "8e5e406f4007fca908480587cb9893c07090f58d",
    version: "v7.0.0",
  },
} as const satisfies Record<string, ActionPin>;

/** The value of a step's `uses:`. */
export function actionRef(pin: ActionPin): string {
  return `${pin.repository}@${pin.sha}`;
}

const VERSION_BY_REF = new Map<string, string>(
  Object.values(ACTIONS).map((pin) => [actionRef(pin), pin.version]),
);

/** The release tag of a pinned `uses:` value (rendered as a `# vX.Y.Z` comment), if it is one of ours. */
export function pinnedVersion(ref: string): string | undefined {
  return VERSION_BY_REF.get(ref);
}
