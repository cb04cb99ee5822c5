// Names AWS accepts: the backup bucket of stacks whose app and environment names are valid in config but would
// make the provider's auto-name too long or invalid for S3.
import { beforeAll, describe, expect, it } from "vitest";
import { autoNamesIntoValidBucket, autoNamesIntoValidRole } from "../../src/render/aws/autoNames";
import { exampleStack, type ProgramRun, runStacks } from "./fixtures";
import { ofType } from "./mockRuntime";

const BUCKET = "aws:s3/bucket:Bucket";
const ROLE = "aws:iam/role:Role";

let run: ProgramRun;

beforeAll(async () => {
  const app = (name: string) => ({ ...exampleStack("production").config.app, name });
  run = await runStacks([
    exampleStack("production", { app: app("acme-storefront-checkout-api"), aws: { backupBucket: {} } }),
    exampleStack("staging", { environment: "Staging_EU", branch: "staging", aws: { backupBucket: {} } }),
  ]);
});

describe("the backup bucket's name", () => {
  it("fits S3's 63 characters and characters for an app name of 28 and the environment production", () => {
    const names = ofType(run.runtime, BUCKET).map((b) => b.name);
    expect(names).toContain("acme-storefront-checkout-api-production-backups");
    for (const name of names) expect(autoNamesIntoValidBucket(name), name).toBe(true);
  });

  it("the role's name fits IAM's 64 characters", () => {
    const names = ofType(run.runtime, ROLE).map((r) => r.name);
    expect(names).toHaveLength(2);
    for (const name of names) expect(autoNamesIntoValidRole(name), name).toBe(true);
  });

  it("is valid for an environment name with '_' and capitals", () => {
    expect(ofType(run.runtime, BUCKET).map((b) => b.name)).toContain("storefront-staging-eu-backups");
  });
});
