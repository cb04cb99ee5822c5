// The config declarations of Pulumi.yaml, generated from the schema (npm run docs) and checked by a test.
import { stringify } from "yaml";
import { configReference } from "./reference";

/**
 * Pulumi treats a declared key without a default as required, so optional keys are declared with their
 * default, and optional keys without one with "" (the loader reads "" as unset). Group objects
 * (app, deploy, ...) are declared without a type: Pulumi's declaration types cover only scalars and arrays.
 */
function projectConfigDeclarations(): Record<string, Record<string, unknown>> {
  const declarations: Record<string, Record<string, unknown>> = {};
  for (const doc of configReference()) {
    if (doc.key.includes(".")) continue;
    const declaration: Record<string, unknown> = { description: doc.description };
    // pulumi up needs the admin key: declared without default, Pulumi itself asks for it.
    if (!doc.required && doc.key !== "adminPrivateKey")
      declaration["default"] = defaultForPulumi(doc.defaultValue);
    declarations[doc.key] = declaration;
  }
  return declarations;
}

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
`;

export function renderProjectFile(): string {
  return `${PROJECT_FILE_HEADER}${stringify({ config: projectConfigDeclarations() }, { lineWidth: 0 })}`;
}
