// Pulumi resource names of the AWS resources the provider auto-names from them: the name AWS gets is the resource
// name, "-" and 7 random characters (pulumi-aws resources.go: the bucket's AutoNameTransform("bucket", 63,
// ToLower), the role's AutoName("name", 64, "-")), and a resource name too long for that is refused at
// `pulumi up` ("name ... plus 8 random chars is longer than maximum length"). App and environment names the
// config accepts can be that long, and '_' or '.' in an environment name are no part of a bucket name (S3 takes
// a-z, 0-9, '.', '-'; dotted names break the TLS of the virtual-hosted requests the workflows' AWS CLI makes).

const RANDOM_SUFFIX = 8;

interface AutoNamedKind {
  maxLength: number;
  /** Whether AWS accepts `<name>-<7 random characters>` as this kind's name. */
  accepts: (resourceName: string) => boolean;
  suffix: string;
}

const BUCKET: AutoNamedKind = {
  maxLength: 63,
  accepts: (name) => {
    const lower = name.toLowerCase();
    return /^[a-z0-9][a-z0-9-]*$/.test(lower) && !lower.startsWith("xn--") && !lower.startsWith("sthree-");
  },
  suffix: "-backups",
};

const ROLE: AutoNamedKind = {
  maxLength: 64,
  accepts: (name) => /^[\w+=,.@-]+$/.test(name),
  suffix: "-backups-role",
};

function fits(kind: AutoNamedKind, resourceName: string): boolean {
  return resourceName.length + RANDOM_SUFFIX <= kind.maxLength && kind.accepts(resourceName);
}

/**
 * The component's own child name when it already auto-names into a valid name (a stack whose resource exists
 * keeps it: a new resource name would replace it); otherwise `<app>-<environment>` lowercased, every character
 * S3 refuses turned into '-', shortened to fit, and the kind's suffix. A stack in that case could never create
 * the resource, so nothing is replaced.
 */
function fitted(kind: AutoNamedKind, childName: string, app: string, environment: string): string {
  if (fits(kind, childName)) return childName;
  const room = kind.maxLength - RANDOM_SUFFIX - kind.suffix.length;
  const base = `${app}-${environment}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^(-|xn--|sthree-)+/, "")
    .slice(0, room)
    .replace(/-+$/, "");
  return `${base || "pipeline"}${kind.suffix}`;
}

export const backupBucketResourceName = (childName: string, app: string, environment: string): string =>
  fitted(BUCKET, childName, app, environment);

export const backupRoleResourceName = (childName: string, app: string, environment: string): string =>
  fitted(ROLE, childName, app, environment);

/** `<resource name>-<7 random>` as AWS gets it, for tests: whether each kind accepts a resource name. */
export const autoNamesIntoValidBucket = (resourceName: string): boolean => fits(BUCKET, resourceName);
export const autoNamesIntoValidRole = (resourceName: string): boolean => fits(ROLE, resourceName);
