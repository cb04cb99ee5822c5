// Reads Pulumi.yaml + Pulumi.<stack>.yaml without the Pulumi CLI, for the offline render.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parse } from "yaml";
import { loadFromValues } from "./fromValues";
import { PROJECT, SECRET_KEYS, type SecretKey, projectValues } from "./keys";
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

/** This project's own Pulumi.yaml (the repository root), for stack files that have none beside them. */
export const OWN_PROJECT_FILE = join(__dirname, "..", "..", "Pulumi.yaml");

export interface ProjectFileCheck {
  /** The project file that was read. */
  projectFile: string;
  /** Set when no project file sits beside the stack file and this project's own was used: say so. */
  note?: string;
}

/**
 * Project name from the Pulumi.yaml next to the stack file, checked against the config namespace. Without one,
 * this project's own Pulumi.yaml stands in: the offline render and check only need the project name, and the
 * program that reads the stack file is this project. `pulumi up/preview` still need it beside the stack file.
 */
export function checkProjectFile(stackFile: string): ProjectFileCheck {
  const beside = ["Pulumi.yaml", "Pulumi.yml"].map((name) => join(dirname(stackFile), name)).find(existsSync);
  if (beside === undefined && !existsSync(OWN_PROJECT_FILE)) {
    throw new Error(
      `${join(dirname(stackFile), "Pulumi.yaml")}: no such project file, and this project's own ${OWN_PROJECT_FILE} is missing too (copy the project's Pulumi.yaml beside ${basename(stackFile)})`,
    );
  }
  const projectFile = beside ?? OWN_PROJECT_FILE;
  const project = parse(readFileSync(projectFile, "utf8")) as { name?: string } | null;
  if (project?.name !== PROJECT) {
    throw new Error(`${projectFile}: project name is '${String(project?.name)}', expected '${PROJECT}'`);
  }
  if (beside !== undefined) return { projectFile };
  return {
    projectFile,
    note: `no Pulumi.yaml beside ${stackFile}: using this project's ${projectFile} (pulumi preview/up need it there: copy it beside the stack file)`,
  };
}

/** Every secret key still readable in a stack file was written without --secret. */
export function plaintextSecrets(values: Record<string, unknown>): SecretKey[] {
  return SECRET_KEYS.filter((key) => values[key] !== undefined && values[key] !== "");
}

/** A stack file's readable values, validated without the secrets that only pulumi up/preview need. */
export function loadFromStackFile(file: string): LoadedStack & { encryptedKeys: string[] } {
  const { stack, githubOwner, values, encryptedKeys } = readStackFile(file);
  return {
    ...loadFromValues(values, githubOwner, {
      stack,
      requireSecrets: false,
      plaintextSecrets: plaintextSecrets(values),
    }),
    encryptedKeys,
  };
}
