// Names of the GitHub objects the workflows read. Same names in every environment (values differ per stack).

/** Environment secrets, set by each stack on its own environment. */
export const ENV_SECRETS = {
  deployKey: "DEPLOY_SSH_KEY",
} as const;

/** Environment variables (not secret), set by each stack on its own environment. */
export const ENV_VARS = {
  /** Space-separated `host:port` entries, deployed in this order. */
  hosts: "DEPLOY_HOSTS",
  deployUser: "DEPLOY_USER",
  /** known_hosts lines of every host (pinned: workflows use StrictHostKeyChecking=yes). */
  knownHosts: "DEPLOY_KNOWN_HOSTS",
} as const;

/**
 * Environment variables of a stack with aws.backupBucket: where the backup workflows stream backups to, and the
 * role they assume through GitHub's OIDC provider (no AWS keys anywhere). Values differ per stack.
 */
export const AWS_BACKUP_VARS = {
  roleArn: "AWS_BACKUP_ROLE_ARN",
  bucket: "AWS_BACKUP_BUCKET",
  /** `<environment>/`: the only prefix the role may write, read and list. */
  prefix: "AWS_BACKUP_PREFIX",
  region: "AWS_REGION",
} as const;

/** Repository secrets, managed only by the stack with ownsRepositorySettings. */
export const REPO_SECRETS = {
  notificationWebhook: "NOTIFY_WEBHOOK_URL",
} as const;

export const WORKFLOW_DIR = ".github/workflows";

export function deployWorkflowPath(environment: string): string {
  return `${WORKFLOW_DIR}/deploy-${environment}.yml`;
}
export function rollbackWorkflowPath(environment: string): string {
  return `${WORKFLOW_DIR}/rollback-${environment}.yml`;
}
export function migrateWorkflowPath(environment: string): string {
  return `${WORKFLOW_DIR}/migrate-${environment}.yml`;
}
export function restoreWorkflowPath(environment: string): string {
  return `${WORKFLOW_DIR}/restore-${environment}.yml`;
}
export const CI_WORKFLOW_PATH = `${WORKFLOW_DIR}/ci.yml`;
export const RELEASE_WORKFLOW_PATH = `${WORKFLOW_DIR}/release.yml`;
export const DEPENDABOT_PATH = ".github/dependabot.yml";
/** `name:` of the CI workflow; each deploy workflow calls it (workflow_call) and deploys only when it passes. */
export const CI_WORKFLOW_NAME = "CI";
