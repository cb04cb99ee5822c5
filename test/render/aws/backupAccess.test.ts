import { describe, expect, it } from "vitest";
import {
  backupPrefix,
  backupRolePolicy,
  backupRoleTrustPolicy,
  githubEnvironmentSubject,
} from "../../../src/render/aws/backupAccess";

describe("backup access policies", () => {
  it("names GitHub's subject of an environment's jobs exactly", () => {
    expect(githubEnvironmentSubject("acme", "shop", "production")).toBe(
      "repo:acme/shop:environment:production",
    );
  });

  it("keeps two environments of one bucket apart: each role reaches only its own prefix", () => {
    const staging = JSON.stringify(backupRolePolicy("b", "staging"));
    expect(staging).toContain("arn:aws:s3:::b/staging/*");
    expect(staging).not.toContain("production");
    expect(backupPrefix("staging")).toBe("staging/");
  });

  it("matches the audience and the subject with StringEquals, never a pattern", () => {
    const [statement] = backupRoleTrustPolicy(
      "arn:aws:iam::1:oidc-provider/x",
      "repo:a/b:environment:c",
    ).Statement;
    expect(Object.keys(statement?.Condition ?? {})).toEqual(["StringEquals"]);
  });
});
