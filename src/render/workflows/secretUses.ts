// Finds every `secrets.X` / `vars.X` a rendered job reads, with the job's environment (invariant 2's input).
import { parse } from "yaml";
import { WORKFLOW_DIR } from "../githubNames";

export interface SecretUse {
  kind: "secrets" | "vars";
  name: string;
  path: string;
  job: string;
  environment?: string;
}

interface FileLike {
  path: string;
  content: string;
}

const REFERENCE = /\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)/g;

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function environmentName(job: Record<string, unknown>): string | undefined {
  const environment = job["environment"];
  if (typeof environment === "string") return environment;
  const name = record(environment)["name"];
  return typeof name === "string" ? name : undefined;
}

function usesInText(texts: readonly string[]): Array<Pick<SecretUse, "kind" | "name">> {
  const found = new Map<string, Pick<SecretUse, "kind" | "name">>();
  for (const text of texts) {
    for (const match of text.matchAll(REFERENCE)) {
      const kind = match[1] === "secrets" ? "secrets" : "vars";
      const name = match[2] ?? "";
      found.set(`${kind}.${name}`, { kind, name });
    }
  }
  return [...found.values()];
}

/** Workflow-level `env:` is visible to every job, so its references count for each job. */
export function secretUses(files: readonly FileLike[]): SecretUse[] {
  return files
    .filter((file) => file.path.startsWith(`${WORKFLOW_DIR}/`))
    .flatMap((file) => {
      const workflow = record(parse(file.content));
      const shared = strings(workflow["env"]);
      return Object.entries(record(workflow["jobs"])).flatMap(([jobId, jobValue]) => {
        const job = record(jobValue);
        const environment = environmentName(job);
        return usesInText([...shared, ...strings(job)]).map((use) => ({
          ...use,
          path: file.path,
          job: jobId,
          ...(environment !== undefined ? { environment } : {}),
        }));
      });
    });
}
