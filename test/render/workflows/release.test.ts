import { describe, expect, it } from "vitest";
import { RELEASE_WORKFLOW_PATH } from "../../../src/render/githubNames";
import { renderRepositoryFiles } from "../../../src/render/workflows";
import { jobOf, productionConfig, variantConfig, workflowAt } from "./fixtures";

const releaseOf = (config = productionConfig()) =>
  workflowAt(renderRepositoryFiles(config), RELEASE_WORKFLOW_PATH);

describe("release.yml", () => {
  it("runs on v*.*.* tags and only its job may write contents", () => {
    const release = releaseOf();
    expect(release.on).toEqual({ push: { tags: ["v*.*.*"] } });
    expect(release.permissions).toEqual({});
    expect(jobOf(release, "release").permissions).toEqual({ contents: "write" });
  });

  it("creates the release with gh from env-passed values, as a draft when configured", () => {
    const step = jobOf(releaseOf(), "release").steps?.[0];
    expect(step?.env).toEqual({
      GH_TOKEN: "${{ github.token }}",
      GH_REPO: "${{ github.repository }}",
      TAG: "${{ github.ref_name }}",
    });
    expect(step?.run).toBe('gh release create "$TAG" --title "$TAG" --generate-notes --verify-tag');
    expect(jobOf(releaseOf(variantConfig()), "release").steps?.[0]?.run).toContain("--verify-tag --draft");
  });
});
