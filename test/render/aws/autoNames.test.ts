import { describe, expect, it } from "vitest";
import {
  autoNamesIntoValidBucket,
  autoNamesIntoValidRole,
  backupBucketResourceName,
  backupRoleResourceName,
} from "../../../src/render/aws/autoNames";

/** What the AWS provider makes of a resource name: "-" and 7 random characters (lowercased for a bucket). */
const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** Names the config accepts (app: 40 characters at most; environment: 63, with '_' and '.'). */
const LONG_OR_ODD: [string, string][] = [
  ["acme-storefront-checkout-api", "production"], // the review's case: 58 characters before the provider's 8
  ["shop", "production_eu"],
  ["shop", "eu.prod"],
  [
    "a-very-long-application-name-of-forty-c",
    "An_Environment.Name-that-is-also-quite-long-1234567890-abcdefghi",
  ],
];

describe("the backup bucket's resource name", () => {
  it("keeps the component's child name when it auto-names into a valid bucket (an existing bucket is not replaced)", () => {
    const child = "storefront-production-aws-backups-bucket";
    expect(backupBucketResourceName(child, "storefront", "production")).toBe(child);
  });

  it.each(LONG_OR_ODD)(
    "app %s, environment %s: a name S3 accepts, with the provider's suffix",
    (app, env) => {
      const child = `${app}-${env}-aws-backups-bucket`;
      expect(autoNamesIntoValidBucket(child)).toBe(false);
      const name = backupBucketResourceName(child, app, env);
      expect(`${name.toLowerCase()}-abc1234`).toMatch(S3_BUCKET_NAME);
      expect(name).toMatch(/-backups$/);
    },
  );

  it("derives readable names", () => {
    expect(backupBucketResourceName("x_", "acme-storefront-checkout-api", "production")).toBe(
      "acme-storefront-checkout-api-production-backups",
    );
    expect(backupBucketResourceName("x_", "shop", "Production_EU")).toBe("shop-production-eu-backups");
  });
});

describe("the backup role's resource name", () => {
  it("keeps the component's child name when it fits IAM's 64 characters", () => {
    const child = "acme-storefront-checkout-api-production-aws-backups-role";
    expect(backupRoleResourceName(child, "acme-storefront-checkout-api", "production")).toBe(child);
  });

  it.each(LONG_OR_ODD)(
    "app %s, environment %s: at most 64 characters with the provider's suffix",
    (app, env) => {
      const name = backupRoleResourceName(`${app}-${env}-aws-backups-role`, app, env);
      expect(autoNamesIntoValidRole(name)).toBe(true);
      expect(`${name}-abc1234`).toMatch(IAM_ROLE_NAME);
    },
  );
});
