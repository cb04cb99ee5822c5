import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { reportMalformed } from "../providerValues";

export interface ReviewerIds {
  users: number[];
  teams: number[];
}

/** Splits reviewers into users (`octocat`) and teams (`org/team`); pure, so it is tested alone. */
export function partitionReviewers(reviewers: readonly string[]): { users: string[]; teams: string[] } {
  return {
    users: reviewers.filter((r) => !r.includes("/")),
    teams: reviewers.filter((r) => r.includes("/")).map((r) => r.slice(r.indexOf("/") + 1)),
  };
}

/** GitHub's environment API takes numeric ids: look each login and team slug up through the provider. */
export function resolveReviewerIds(
  reviewers: readonly string[],
  opts: pulumi.InvokeOutputOptions,
): pulumi.Output<ReviewerIds> {
  const { users, teams } = partitionReviewers(reviewers);
  const userIds = users.map((username) =>
    github.getUserOutput({ username }, opts).id.apply(toId(`user ${username}`)),
  );
  const teamIds = teams.map((slug) =>
    github.getTeamOutput({ slug, summaryOnly: true }, opts).id.apply(toId(`team ${slug}`)),
  );
  return pulumi.all([pulumi.all(userIds), pulumi.all(teamIds)]).apply(([u, t]) => ({ users: u, teams: t }));
}

function toId(what: string) {
  return (id: string | undefined): number => {
    const numeric = Number(id);
    if (Number.isInteger(numeric) && numeric > 0) return numeric;
    return reportMalformed(
      `pipeline:reviewers: GitHub returned no numeric id for ${what} (check the login or team slug)`,
      0,
    );
  };
}
