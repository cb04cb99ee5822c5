import { describe, expect, it } from "vitest";
import {
  backupBucketPolicy,
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

  it("lets the role write only new keys: every put without If-None-Match is denied, under any prefix", () => {
    const statements = backupRolePolicy("b", "staging").Statement;
    const denies = statements.filter((statement) => statement.Effect === "Deny");
    expect(denies).toEqual([
      {
        Sid: "WriteOnlyNewKeys",
        Effect: "Deny",
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::b/*",
        Condition: { Null: { "s3:if-none-match": "true" } },
      },
    ]);
    // Nothing else the role may do replaces or removes an object.
    const allowed = statements.filter((s) => s.Effect === "Allow").flatMap((s) => [s.Action].flat());
    expect(allowed).toEqual(["s3:PutObject", "s3:GetObject", "s3:ListBucket"]);
  });

  it("has the bucket refuse, for every principal, requests without TLS and writes with a customer's key (SSE-C)", () => {
    expect(backupBucketPolicy("b").Statement).toEqual([
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:*",
        Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyCustomerKeys",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::b/*",
        Condition: { Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } },
      },
    ]);
  });
});
