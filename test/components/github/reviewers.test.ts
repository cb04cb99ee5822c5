import { describe, expect, it } from "vitest";
import { partitionReviewers } from "../../../src/components/github/reviewers";

describe("partitionReviewers", () => {
  it("splits logins from org/team slugs and keeps only the team part of a slug", () => {
    expect(partitionReviewers(["octocat", "acme/release-managers", "hubot", "acme/ops"])).toEqual({
      users: ["octocat", "hubot"],
      teams: ["release-managers", "ops"],
    });
  });

  it("returns empty lists for no reviewers", () => {
    expect(partitionReviewers([])).toEqual({ users: [], teams: [] });
  });
});
