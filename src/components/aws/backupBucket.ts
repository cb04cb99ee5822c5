import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsConfig } from "../../config/awsSchema";
import type { PipelineConfig } from "../../config/types";
import {
  GITHUB_OIDC_URL,
  STS_AUDIENCE,
  backupBucketPolicy,
  backupPrefix,
  backupRolePolicy,
  backupRoleTrustPolicy,
  githubEnvironmentSubject,
} from "../../render/aws/backupAccess";
import { backupBucketResourceName, backupRoleResourceName } from "../../render/aws/autoNames";
import { AWS_BACKUP_VARS } from "../../render/githubNames";
import { childName } from "../naming";

export interface BackupBucketArgs {
  config: PipelineConfig & { aws: AwsConfig & { backupBucket: NonNullable<AwsConfig["backupBucket"]> } };
}

/**
 * The backup bucket (versioned, encrypted, SSE-C refused, public access blocked, TLS only, expiring) and the role
 * that only this stack's GitHub environment can assume through GitHub's OIDC provider, allowed to add (never
 * replace), get and list objects under `<environment>/` and nothing else.
 */
export class BackupBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly role: aws.iam.Role;
  /** The environment variables the backup workflows read (AWS_BACKUP_VARS). */
  readonly variables: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:aws:BackupBucket", name, {}, opts);
    const { config } = args;
    const settings = config.aws.backupBucket;
    const inBucket = () => ({ parent: this.bucket });

    this.bucket = new aws.s3.Bucket(
      backupBucketResourceName(childName(name, "bucket"), config.app.name, config.environment),
      { forceDestroy: false },
      { parent: this },
    );
    const bucket = this.bucket.bucket;
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      childName(name, "public-access"),
      {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      inBucket(),
    );
    new aws.s3.BucketPolicy(
      // Named for its first statement: a new name would delete the bucket's one policy after writing its successor.
      childName(name, "tls-only"),
      { bucket, policy: bucket.apply((b) => JSON.stringify(backupBucketPolicy(b))) },
      // S3 refuses a policy while the access block is being written; a Deny is no public policy.
      { ...inBucket(), dependsOn: [publicAccess] },
    );
    const versioning = new aws.s3.BucketVersioning(
      childName(name, "versioning"),
      { bucket, versioningConfiguration: { status: "Enabled" } },
      inBucket(),
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      childName(name, "encryption"),
      {
        bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" },
            bucketKeyEnabled: true,
            blockedEncryptionTypes: ["SSE-C"],
          },
        ],
      },
      inBucket(),
    );
    new aws.s3.BucketLifecycleConfiguration(
      childName(name, "expiry"),
      {
        bucket,
        rules: [
          {
            id: "expire-backups",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { days: settings.expireDays },
            noncurrentVersionExpiration: { noncurrentDays: settings.noncurrentExpireDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { ...inBucket(), dependsOn: [versioning] },
    );

    const providerArn = this.oidcProviderArn(name, config.aws.oidcProvider);
    const subject = githubEnvironmentSubject(config.githubOwner, config.repository, config.environment);
    this.role = new aws.iam.Role(
      backupRoleResourceName(childName(name, "role"), config.app.name, config.environment),
      {
        description: `GitHub Actions of ${config.githubOwner}/${config.repository}, environment ${config.environment}: backups under ${backupPrefix(config.environment)}`,
        assumeRolePolicy: pulumi
          .output(providerArn)
          .apply((arn) => JSON.stringify(backupRoleTrustPolicy(arn, subject))),
        maxSessionDuration: 3600,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      childName(name, "role-policy"),
      {
        role: this.role.id,
        policy: bucket.apply((b) => JSON.stringify(backupRolePolicy(b, config.environment))),
      },
      { parent: this.role },
    );

    this.variables = {
      [AWS_BACKUP_VARS.roleArn]: this.role.arn,
      [AWS_BACKUP_VARS.bucket]: bucket,
      [AWS_BACKUP_VARS.prefix]: pulumi.output(backupPrefix(config.environment)),
      [AWS_BACKUP_VARS.region]: aws.getRegionOutput({}, { parent: this }).region,
    };
    this.registerOutputs({ bucket, roleArn: this.role.arn });
  }

  /** GitHub's OIDC provider: created here ('create'), or the account's existing one by ARN. */
  private oidcProviderArn(name: string, setting: string): pulumi.Input<string> {
    if (setting !== "create") return setting;
    return new aws.iam.OpenIdConnectProvider(
      childName(name, "github-oidc"),
      { url: GITHUB_OIDC_URL, clientIdLists: [STS_AUDIENCE] },
      { parent: this },
    ).arn;
  }
}
