// The config reference (README table, Pulumi.yaml declarations) generated from the schema, so that each
// description and default is written once, in src/config/schema.ts.
import { SECRET_KEYS } from "./keys";
import { pipelineSchema } from "./schema";
import { objectShape, unwrap } from "./schemaWalk";

interface ConfigKeyDoc {
  /** Path as used with `pulumi config set --path`, e.g. `app.nodeVersion`. */
  key: string;
  description: string;
  required: boolean;
  secret: boolean;
  /** undefined when the key has no default. */
  defaultValue: unknown;
}

const GROUPS_DOCUMENTED_BY_FIELD = [
  "app",
  "deploy",
  "protection",
  "release",
  "dependencyUpdates",
  "notifications",
  "files",
  "vps",
  "firewall",
  "ingress",
  "backup",
  "database",
  "aws",
];

export function configReference(): ConfigKeyDoc[] {
  return Object.entries(objectShape(pipelineSchema)).flatMap(([key, node]) =>
    GROUPS_DOCUMENTED_BY_FIELD.includes(key) ? describeGroup(key, node) : [describeNode(key, node)],
  );
}

/** A group and its fields, and the fields of the groups inside it (aws.hosts.count, ...). */
function describeGroup(key: string, node: unknown): ConfigKeyDoc[] {
  const fields = Object.entries(objectShape(node)).flatMap(([field, child]) =>
    isGroup(child) ? describeGroup(`${key}.${field}`, child) : [describeNode(`${key}.${field}`, child)],
  );
  return [describeNode(key, node), ...fields];
}

function isGroup(node: unknown): boolean {
  return unwrap(node).inner.def.type === "object";
}

function isDocumentedGroup(key: string): boolean {
  return GROUPS_DOCUMENTED_BY_FIELD.some((group) => key === group || key.startsWith(`${group}.`))
    ? isGroup(configNode(key))
    : false;
}

function configNode(key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => objectShape(node)[part], pipelineSchema);
}

function describeNode(key: string, node: unknown): ConfigKeyDoc {
  const { description, optional, defaultValue } = unwrap(node);
  return {
    key,
    description,
    required: !optional,
    secret: (SECRET_KEYS as readonly string[]).includes(key),
    defaultValue,
  };
}

/** The Markdown table in the README between the config-reference markers. */
export function configReferenceMarkdown(): string {
  const rows = configReference().map((doc) => {
    const shown = doc.required
      ? "**required**"
      : isDocumentedGroup(doc.key)
        ? "see below"
        : doc.defaultValue === undefined
          ? "none"
          : `\`${JSON.stringify(doc.defaultValue)}\``;
    return `| \`pipeline:${doc.key}\`${doc.secret ? " (secret)" : ""} | ${shown} | ${doc.description.replace(/\|/g, "\\|")} |`;
  });
  return ["| key | default | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
