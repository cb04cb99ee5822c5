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

  it("has the bucket refuse, for every principal, requests without TLS, writes that could replace an object and writes with a customer's key (SSE-C)", () => {
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
        Sid: "DenyOverwrites",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::b/*",
        Condition: { Null: { "s3:if-none-match": "true" } },
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
