// Plain stack config values -> validated PipelineConfig and secrets, or every problem at once.
import type { z } from "zod";
import { ConfigError, MISSING_ADMIN_KEY } from "./errors";
import { PROJECT, type SecretKey } from "./keys";
import { crossFieldProblems, type ParsedFields } from "./crossFieldRules";
import { nodeLineWarning } from "./nodeReleaseSchedule";
import { editDistance, hostKeyFix, isProductionLike } from "./rules";
import { pipelineSchema } from "./schema";
import { arrayElement, objectShape } from "./schemaWalk";
import type { LoadedStack, PipelineConfig, PipelineSecrets } from "./types";

interface LoadOptions {
  stack: string;
  /** pulumi up/preview need the admin key; the offline render does not. */
  requireSecrets: boolean;
  /** Secret keys whose values are known to be stored in plain text (not set with --secret). */
  plaintextSecrets?: readonly SecretKey[];
  /** The day warnings are about (a Node.js line past its end of life); default: now. */
  today?: Date;
}

/** How to store each secret key encrypted. */
const SET_SECRET: Record<SecretKey, string> = {
  adminPrivateKey: "pulumi config set --secret adminPrivateKey < ~/.ssh/id_ed25519",
  appEnv: "pulumi config set --secret appEnv < .env.<stack>",
  notificationWebhook: "pulumi config set --secret notificationWebhook <url>",
};

/**
 * @param values config values keyed without the namespace, e.g. `{ repository: "app", hosts: [...] }`;
 *   `github:owner` is passed separately. Object/array values may still be JSON strings (how Pulumi stores them).
 */
export function loadFromValues(
  values: Record<string, unknown>,
  githubOwner: string | undefined,
  options: LoadOptions,
): LoadedStack {
  const problems: string[] = [];
  if (!githubOwner) problems.push("github:owner: is not set (pulumi config set github:owner <user-or-org>)");

  const input = decodeJsonStrings(dropUnsetPlaceholders(values));
  const parsed = pipelineSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) problems.push(...firstIssuePerPath(parsed.error.issues).flatMap(describeIssue));
  const context = { githubOwner, requireSecrets: options.requireSecrets };
  problems.push(
    ...crossFieldProblems(fieldsThatParse(input), context).map(
      ({ path, message }) => `${PROJECT}:${formatPath(path)}: ${message}`,
    ),
  );
  if (
    options.requireSecrets &&
    (values["adminPrivateKey"] === undefined || values["adminPrivateKey"] === "")
  ) {
    problems.push(MISSING_ADMIN_KEY);
  }
  for (const key of options.plaintextSecrets ?? []) {
    problems.push(
      `${PROJECT}:${key}: is stored in plain text in the stack file; a secret must be encrypted (${SET_SECRET[key].replace("<stack>", options.stack)})`,
    );
  }
  if (problems.length > 0 || !parsed.success || !githubOwner) throw new ConfigError(problems);

  const { preventSelfReview, adminPrivateKey, appEnv, notificationWebhook, hosts, ...rest } = parsed.data;
  const config: PipelineConfig = {
    ...rest,
    hosts: hosts ?? [],
    stack: options.stack,
    githubOwner,
    preventSelfReview: preventSelfReview ?? isProductionLike(parsed.data.environment),
  };
  const secrets: PipelineSecrets = {
    ...(adminPrivateKey !== undefined ? { adminPrivateKey } : {}),
    ...(appEnv !== undefined ? { appEnv } : {}),
    ...(notificationWebhook !== undefined ? { notificationWebhook } : {}),
  };
  const nodeWarning = nodeLineWarning(config.app.nodeVersion, options.today ?? new Date());
  return { config, secrets, warnings: nodeWarning === undefined ? [] : [nodeWarning] };
}

/**
 * Each top-level key that passes its own schema, with its parsed value; a key left out that may be left out is
 * present with the value undefined (the cross-field rules tell "not set" from "did not parse").
 */
function fieldsThatParse(input: Record<string, unknown>): ParsedFields {
  const fields: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(pipelineSchema.shape)) {
    const result = schema.safeParse(input[key]);
    if (result.success) fields[key] = result.data;
  }
  // Each value is the output of its own key's schema.
  return fields as ParsedFields;
}

/** Pulumi.yaml declares optional keys with the default "" (a declared key without default is required). */
function dropUnsetPlaceholders(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ""));
}

function decodeJsonStrings(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => {
      if (typeof value === "string" && /^\s*[[{]/.test(value)) {
        try {
          return [key, JSON.parse(value) as unknown];
        } catch {
          return [key, value];
        }
      }
      return [key, value];
    }),
  );
}

/** zod may run a list's length check on a value that is not even a list: keep the first issue of each path. */
function firstIssuePerPath(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    if (issue.code === "unrecognized_keys") return true;
    const key = formatPath(issue.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === "number") return `${out}[${part}]`;
    return out === "" ? String(part) : `${out}.${String(part)}`;
  }, "");
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = (path: readonly PropertyKey[]) => `${PROJECT}:${formatPath(path)}`;
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      const near = known.filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
      const fix =
        near.length > 0 ? `did you mean ${near.join(" or ")}?` : `remove it; known keys: ${known.join(", ")}`;
      return `${at([...issue.path, key])}: unknown key (${fix})`;
    });
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [`${at(issue.path)}: is required (${requiredFix(issue.path)})`];
  }
  return [`${at(issue.path)}: ${issue.message}`];
}

function requiredFix(path: readonly PropertyKey[]): string {
  const key = formatPath(path);
  if (path[0] === "hosts" && path.at(-1) === "hostKey") return hostKeyFix(key);
  return `pulumi config set ${path.length > 1 ? "--path " : ""}${key} <value>`;
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = pipelineSchema;
  for (const part of path) {
    schema = typeof part === "number" ? arrayElement(schema) : objectShape(schema)[String(part)];
  }
  return Object.keys(objectShape(schema));
}
