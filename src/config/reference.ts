// The config reference (README table, Pulumi.yaml declarations) generated from the schema, so that each
// description and default is written once, in src/config/schema.ts.
import { SECRET_KEYS } from "./load";
import { pipelineSchema } from "./schema";

export interface ConfigKeyDoc {
  /** Path as used with `pulumi config set --path`, e.g. `app.nodeVersion`. */
  key: string;
  description: string;
  required: boolean;
  secret: boolean;
  /** undefined when the key has no default. */
  defaultValue: unknown;
}

interface SchemaNode {
  description?: string;
  def: {
    type: string;
    innerType?: SchemaNode;
    in?: SchemaNode;
    out?: SchemaNode;
    defaultValue?: unknown;
    shape?: Record<string, SchemaNode>;
  };
  shape?: Record<string, SchemaNode>;
}

const GROUPS_DOCUMENTED_BY_FIELD = [
  "app",
  "deploy",
  "protection",
  "release",
  "dependencyUpdates",
  "notifications",
  "vps",
];

export function configReference(): ConfigKeyDoc[] {
  const root = pipelineSchema as unknown as SchemaNode;
  const shape = objectShape(root);
  return Object.entries(shape).flatMap(([key, node]) => {
    const top = describeNode(key, node);
    if (!GROUPS_DOCUMENTED_BY_FIELD.includes(key)) return [top];
    const fields = Object.entries(objectShape(node)).map(([field, child]) =>
      describeNode(`${key}.${field}`, child),
    );
    return [top, ...fields];
  });
}

function describeNode(key: string, node: SchemaNode): ConfigKeyDoc {
  let defaultValue: unknown;
  let optional = false;
  let current: SchemaNode | undefined = node;
  for (let depth = 0; current && depth < 10; depth++) {
    const def: SchemaNode["def"] = current.def;
    if (def.type === "default") defaultValue = def.defaultValue;
    if (def.type === "default" || def.type === "optional" || def.type === "prefault") optional = true;
    current = def.innerType ?? (def.type === "pipe" ? def.out : undefined);
  }
  return {
    key,
    description: node.description ?? "",
    required: !optional,
    secret: (SECRET_KEYS as readonly string[]).includes(key),
    defaultValue,
  };
}

function objectShape(node: SchemaNode): Record<string, SchemaNode> {
  let current: SchemaNode | undefined = node;
  for (let depth = 0; current && depth < 10; depth++) {
    if (current.def.type === "object") return current.def.shape ?? current.shape ?? {};
    current = current.def.innerType ?? current.def.in;
  }
  return {};
}

/** The Markdown table in the README between the config-reference markers. */
export function configReferenceMarkdown(): string {
  const rows = configReference().map((doc) => {
    const shown = doc.required
      ? "**required**"
      : GROUPS_DOCUMENTED_BY_FIELD.includes(doc.key)
        ? "see below"
        : doc.defaultValue === undefined
          ? "none"
          : `\`${JSON.stringify(doc.defaultValue)}\``;
    return `| \`pipeline:${doc.key}\`${doc.secret ? " (secret)" : ""} | ${shown} | ${doc.description.replace(/\|/g, "\\|")} |`;
  });
  return ["| key | default | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
