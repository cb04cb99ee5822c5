// Reads Pulumi.yaml + Pulumi.<stack>.yaml without the Pulumi CLI, for the offline render.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { loadFromValues } from "./fromValues";
import { PROJECT, projectValues } from "./keys";
import type { LoadedStack } from "./types";

interface StackFileValues {
  stack: string;
  githubOwner: string | undefined;
  /** Project-namespace values keyed without `pipeline:`; encrypted `secure:` values are left out. */
  values: Record<string, unknown>;
  /** Keys whose values are encrypted in the file (present, but not readable without the Pulumi CLI). */
  encryptedKeys: string[];
}

/** The stack name of `Pulumi.<stack>.yaml`. */
function stackNameOf(file: string): string {
  const match = /Pulumi\.([^/\\]+)\.ya?ml$/.exec(file);
  return match?.[1] ?? "stack";
}

export function readStackFile(file: string): StackFileValues {
  const document = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const entries = Object.entries(document.config ?? {});
  const encryptedKeys = entries.filter(([, value]) => isEncrypted(value)).map(([key]) => key);
  const readable = Object.fromEntries(entries.filter(([, value]) => !isEncrypted(value)));
  return { stack: stackNameOf(file), ...projectValues(readable), encryptedKeys };
}

function isEncrypted(value: unknown): boolean {
  return typeof value === "object" && value !== null && "secure" in value;
}

/** Project name from Pulumi.yaml next to the stack file, checked against the config namespace. */
export function checkProjectFile(stackFile: string): void {
  const projectFile = join(dirname(stackFile), "Pulumi.yaml");
  const project = parse(readFileSync(projectFile, "utf8")) as { name?: string };
  if (project.name !== PROJECT) {
    throw new Error(`${projectFile}: project name is '${String(project.name)}', expected '${PROJECT}'`);
  }
}

/** A stack file's readable values, validated without the secrets that only pulumi up/preview need. */
export function loadFromStackFile(file: string): LoadedStack & { encryptedKeys: string[] } {
  const { stack, githubOwner, values, encryptedKeys } = readStackFile(file);
  return { ...loadFromValues(values, githubOwner, { stack, requireSecrets: false }), encryptedKeys };
}
