// Who may read and write the backup bucket, as IAM policy documents: the role that only one environment's
// GitHub workflows can assume (through GitHub's OIDC provider), what that role may do, and the bucket's own policy
// that refuses requests not made over TLS, writes that could replace an object, and objects encrypted with a
// customer's key. Pure: the AWS component turns them into JSON.

/** GitHub Actions' OIDC issuer (the `iss` of its tokens) and the audience aws-actions/configure-aws-credentials asks for. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
export const GITHUB_OIDC_URL = `https://${GITHUB_OIDC_HOST}`;
export const STS_AUDIENCE = "sts.amazonaws.com";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: { Federated: string } | { AWS: string };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/**
 * The `sub` claim of a job that runs in a GitHub environment: `repo:<owner>/<repo>:environment:<name>` (GitHub's
 * OIDC reference, "Filtering for a specific environment"). Only jobs that name the environment carry it, and
 * GitHub lets a job into the environment only from the branches its deployment policy allows.
 */
export function githubEnvironmentSubject(owner: string, repository: string, environment: string): string {
  return `repo:${owner}/${repository}:environment:${environment}`;
}

/** The key prefix of one environment's backups: every environment writes under its own name. */
export function backupPrefix(environment: string): string {
  return `${environment}/`;
}

/** Trusted by the OIDC provider only, for tokens meant for STS and issued to exactly that environment's jobs. */
export function backupRoleTrustPolicy(oidcProviderArn: string, subject: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GitHubEnvironmentOnly",
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE,
            [`${GITHUB_OIDC_HOST}:sub`]: subject,
          },
        },
      },
    ],
  };
}

/** Put and get objects under the environment's prefix, and list only that prefix; nothing else. */
export function backupRolePolicy(bucket: string, environment: string): PolicyDocument {
  const prefix = backupPrefix(environment);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadAndWriteOwnBackups",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: `arn:aws:s3:::${bucket}/${prefix}*`,
      },
      {
        Sid: "ListOwnBackups",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
      },
    ],
  };
}

/**
 * For every principal: refuses requests made without TLS (AWS's documented pattern: a Deny for every S3 action
 * when aws:SecureTransport is false); refuses every write without `If-None-Match: *` (AWS's pattern for enforcing
 * S3's conditional writes), so that S3 refuses a key that exists and a backup is written once, never replaced
 * (this also leaves out multipart uploads, whose first requests cannot carry the header, and copies); and refuses
 * writes that bring their own encryption key (SSE-C: a backup only its writer could read). Its wildcards only take
 * rights away.
 */
export function backupBucketPolicy(bucket: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyOverwrites",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { Null: { "s3:if-none-match": "true" } },
      },
      {
        Sid: "DenyCustomerKeys",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } },
      },
    ],
  };
}
