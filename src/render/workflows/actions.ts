// Every third-party action the generated workflows use, pinned to a full commit SHA (tags are mutable).
// Each SHA is the commit of the named release tag. The pins are owned here, kept current by Renovate in this
// repository (renovate.json: sha and version move together); in the app repositories, Dependabot's github-actions
// ecosystem stays off, since it would edit the generated files.

export interface ActionPin {
  repository: string;
  sha: string;
  version: string;
}

export const ACTIONS = {
  checkout: {
    repository: "actions/checkout",
    sha: "3d3c42e5aac5ba805825da76410c181273ba90b1",
    version: "v7.0.1",
  },
  setupNode: {
    repository: "actions/setup-node",
    sha: "820762786026740c76f36085b0efc47a31fe5020",
    version: "v7.0.0",
  },
  uploadArtifact: {
    repository: "actions/upload-artifact",
    sha: "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
    version: "v7.0.0",
  },
  downloadArtifact: {
    repository: "actions/download-artifact",
    sha: "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
    version: "v8.0.1",
  },
  githubScript: {
    repository: "actions/github-script",
    sha: "ed597411d8f924073f98dfc5c65a23a2325f34cd",
    version: "v8.0.0",
  },
  configureAwsCredentials: {
    repository: "aws-actions/configure-aws-credentials",
    sha: "e6de054238d6b7531b4efff3b6587d9aade6a06c",
    version: "v6.2.3",
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
