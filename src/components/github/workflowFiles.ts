import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../../config/types";
import {
  baseIsCurrent,
  commitMessage,
  generationKey,
  programBranchPrefix,
  pullRequestText,
  rejectedGenerationWarning,
  rejectingPullRequest,
} from "../../render/fileDelivery";
import type { RepositoryFile } from "../../render/workflows";
import { childName } from "../naming";
import { reportMalformed } from "../providerValues";

/** What the stack registered to bring its files to the base branch (see src/render/fileDelivery.ts). */
export interface DeliveredFiles {
  /** direct mode: the last commit on the base branch; branch protection of that branch waits for it. */
  lastDirectCommit?: github.RepositoryFile;
  /** pullRequest mode: the branch, its commits and the pull request, or undefined when the base is current. */
  proposal?: pulumi.Output<Proposal | undefined>;
}

export interface Proposal {
  branch: github.Branch;
  files: github.RepositoryFile[];
  pullRequest: github.RepositoryPullRequest;
}

export function deliverFiles(
  name: string,
  config: PipelineConfig,
  files: readonly RepositoryFile[],
  parent: pulumi.Resource,
): DeliveredFiles {
  if (files.length === 0) return {};
  if (config.files.mode === "direct") {
    const committed = commitChain(name, "file", config, files, { parent }, []);
    return { lastDirectCommit: committed[committed.length - 1] };
  }
  return { proposal: proposeFiles(name, config, files, parent) };
}

/**
 * Commits files one after another: parallel writes to one branch fail with 409 Conflict.
 * `overwriteOnCreate`: a file may already exist (on the base branch, or on a branch made from it).
 */
function commitChain(
  name: string,
  kind: string,
  config: PipelineConfig,
  files: readonly RepositoryFile[],
  opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
  first: pulumi.Resource[],
  branch?: pulumi.Input<string>,
): github.RepositoryFile[] {
  const committed: github.RepositoryFile[] = [];
  files.forEach((file, index) => {
    const previous = committed[committed.length - 1];
    committed.push(
      new github.RepositoryFile(
        childName(name, kind, file.path),
        {
          repository: config.repository,
          ...(branch !== undefined
            ? { branch }
            : config.files.baseBranch
              ? { branch: config.files.baseBranch }
              : {}),
          file: file.path,
          content: file.content,
          commitMessage: commitMessage(config, file, index, files.length),
          overwriteOnCreate: true,
        },
        { ...opts, dependsOn: previous ? [previous] : first },
      ),
    );
  });
  return committed;
}

/**
 * pullRequest mode. Reads what the base branch holds at the generated paths; when it differs from the rendered
 * files, makes the branch <prefix>/<generation> from the base, commits every file on it and opens a pull request,
 * unless GitHub lists that branch's pull request as closed (turned down: nothing is registered, a warning says how
 * to propose again). The lookup asks GitHub, not the state: a refresh drops the deleted branch and its files but
 * keeps the closed pull request, and registering them again would recreate the branch and run CI on it for a pull
 * request that stays closed.
 * A new generation replaces all three: github_branch renames on a name change (Update), so `replaceOnChanges`
 * makes a fresh branch from the base instead; `branch` and `head_ref` are ForceNew for files and pull requests.
 * The old pull request is closed by the provider's Delete (a no-op once merged or closed), the old branch
 * deleted; the old files are retained, since deleting them would only add commits to a branch that goes away.
 */
function proposeFiles(
  name: string,
  config: PipelineConfig,
  files: readonly RepositoryFile[],
  parent: pulumi.Resource,
): pulumi.Output<Proposal | undefined> {
  const repository = config.repository;
  const base = config.files.baseBranch
    ? pulumi.output(config.files.baseBranch)
    : github
        .getRepositoryOutput({ name: repository }, { parent })
        .defaultBranch.apply((branch) =>
          branch
            ? branch
            : reportMalformed(
                `pipeline:files.baseBranch: GitHub reported no default branch for ${repository} (set files.baseBranch)`,
                "main",
              ),
        );
  const baseContents = files.map((file) =>
    github
      .getRepositoryFileOutput({ repository, file: file.path, branch: base }, { parent })
      .apply((found): string | undefined =>
        typeof found.content === "string" && found.content !== "" ? found.content : undefined,
      ),
  );
  return pulumi.all([base, pulumi.all(baseContents)]).apply(([baseBranch, contents]) => {
    if (baseIsCurrent(files, contents)) return pulumi.output<Proposal | undefined>(undefined);
    const head = `${programBranchPrefix(config)}/${generationKey(files, contents, baseBranch, config.files.repropose)}`;
    return github
      .getRepositoryPullRequestsOutput(
        {
          baseRepository: repository,
          baseRef: baseBranch,
          headRef: `${config.githubOwner}:${head}`,
          state: "all",
        },
        { parent },
      )
      .results.apply((listed): Proposal | undefined => {
        const rejecting = rejectingPullRequest(
          Array.isArray(listed)
            ? listed
            : reportMalformed(
                `pipeline:files: GitHub returned no list of the pull requests of ${head} (the program cannot tell whether this generation was turned down)`,
                [],
              ),
        );
        if (rejecting === undefined) return openProposal(name, config, files, parent, baseBranch, head);
        void pulumi.log.warn(rejectedGenerationWarning(config, head, baseBranch, rejecting), parent);
        return undefined;
      });
  });
}

function openProposal(
  name: string,
  config: PipelineConfig,
  files: readonly RepositoryFile[],
  parent: pulumi.Resource,
  baseBranch: string,
  head: string,
): Proposal {
  const repository = config.repository;
  const branch = new github.Branch(
    childName(name, "program-branch"),
    { repository, branch: head, sourceBranch: baseBranch },
    { parent, replaceOnChanges: ["branch"] },
  );
  const committed = commitChain(
    name,
    "proposed-file",
    config,
    files,
    { parent, retainOnDelete: true },
    [branch],
    branch.branch,
  );
  const text = pullRequestText(config, files);
  const pullRequest = new github.RepositoryPullRequest(
    childName(name, "pull-request"),
    { baseRepository: repository, baseRef: baseBranch, headRef: branch.branch, ...text },
    { parent, dependsOn: committed.slice(-1) },
  );
  return { branch, files: committed, pullRequest };
}
