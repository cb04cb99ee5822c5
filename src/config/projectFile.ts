// The config declarations of Pulumi.yaml, generated from the schema (npm run docs) and checked by a test.
import { stringify } from "yaml";
import { configReference } from "./reference";

/**
 * Pulumi treats a declared key without a default as required, so optional keys are declared with their
 * default, and optional keys without one with "" (the loader reads "" as unset). Keys are declared without a
 * type (Pulumi then checks nothing but presence; this program validates every value), except the admin key:
 * `type: string, secret: true` makes Pulumi itself require it and refuse a plaintext value. Optional secrets
 * cannot be declared secret (Pulumi would refuse their plain "" default): the program refuses plaintext ones.
 */
function projectConfigDeclarations(): Record<string, Record<string, unknown>> {
  const declarations: Record<string, Record<string, unknown>> = {};
  for (const doc of configReference()) {
    if (doc.key.includes(".")) continue;
    if (doc.key === ADMIN_KEY) {
      declarations[doc.key] = { type: "string", description: doc.description, secret: true };
      continue;
    }
    const declaration: Record<string, unknown> = { description: doc.description };
    if (!doc.required) declaration["default"] = defaultForPulumi(doc.defaultValue);
    declarations[doc.key] = declaration;
  }
  return declarations;
}

const ADMIN_KEY = "adminPrivateKey";

function defaultForPulumi(value: unknown): unknown {
  if (value === undefined) return "";
  return value;
}

const PROJECT_FILE_HEADER = `# The config block below is generated from src/config/schema.ts by \`npm run docs\`; edit the schema, not this block.
name: pipeline
description: A Node.js app's CI/CD pipeline (GitHub environments, branch rules, workflows, VPS provisioning), one stack per environment
runtime:
  name: nodejs
  options:
    typescript: true
    packagemanager: npm
# Read every resource back before each preview and up: a workflow file changed on GitHub by hand (or by a bot)
# is then updated from its current content instead of failing on a stale blob SHA, and overwritten.
options:
  refresh: always
`;

export function renderProjectFile(): string {
  return `${PROJECT_FILE_HEADER}${stringify({ config: projectConfigDeclarations() }, { lineWidth: 0 })}`;
}
