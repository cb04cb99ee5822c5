// What no single stack can prove, because each `pulumi up` sees only its own config: the stacks of one project
// together (docs/invariants.md #17-#21). `npm run check` renders every stack file and runs these offline.
import { parse } from "yaml";
import { PROJECT } from "../config/keys";
import type { AppConfig, PipelineConfig } from "../config/types";
import { CI_WORKFLOW_PATH } from "./githubNames";
import { type ManagedKind, type ManagedObject, managedGitHubObjects } from "./managedObjects";
import { renderRepositoryFiles, requiredStatusChecks } from "./workflows";
import { CI_JOB_COMMAND_KEYS } from "./workflows/ci";

/** One stack as the checks see it: what it manages, what its branch requires, what its ci.yml defines. */
export interface RenderedStack {
  config: PipelineConfig;
  objects: ManagedObject[];
  /** Paths of the repository-wide files it commits (only the stack that owns repository settings has any). */
  repositoryFiles: string[];
  /** The checks its branch protection requires; [] when protection is off. */
  requiredChecks: string[];
  /** The check names (job `name:`, else the id) of the ci.yml it commits; undefined when it commits none. */
  ciChecks: string[] | undefined;
}

export function renderStack(config: PipelineConfig): RenderedStack {
  const files = renderRepositoryFiles(config);
  const ci = files.find((file) => file.path === CI_WORKFLOW_PATH);
  return {
    config,
    objects: managedGitHubObjects(config),
    repositoryFiles: files.filter((file) => file.scope === "repository").map((file) => file.path),
    requiredChecks: config.protection.enabled ? requiredStatusChecks(config) : [],
    ciChecks: ci === undefined ? undefined : checkNamesOf(ci.content),
  };
}

function checkNamesOf(workflowYaml: string): string[] {
  const workflow = parse(workflowYaml) as { jobs?: Record<string, { name?: unknown }> };
  return Object.entries(workflow.jobs ?? {}).map(([id, job]) =>
    typeof job.name === "string" ? job.name : id,
  );
}

/**
 * Every cross-stack problem of a project's stacks, each `<stacks>: <key>: <what is wrong> (<how to fix>)`,
 * naming the stack(s) and the config key to change. [] when the stacks are consistent.
 */
export function crossStackProblems(configs: readonly PipelineConfig[]): string[] {
  return problemsOf(configs.map(renderStack));
}

/** The checks on already rendered stacks (tests feed stacks whose objects no config can produce today). */
export function problemsOf(rendered: readonly RenderedStack[]): string[] {
  const stacks = [...rendered].sort((a, b) => a.config.stack.localeCompare(b.config.stack));
  const reference = stacks.find((s) => s.config.ownsRepositorySettings) ?? stacks[0];
  if (reference === undefined) return [];
  // A stack of another repository is reported once, as such; the other checks run on the reference's repository.
  const group = stacks.filter((s) => repositoryOf(s) === repositoryOf(reference));
  const explained = new Set<string>();
  return [
    ...sameRepository(stacks, reference),
    ...repositoryOwnership(group, explained),
    ...distinctEnvironments(group, explained),
    ...distinctBranches(group, explained),
    ...unexplainedSharedObjects(group, explained),
    ...requiredChecksAreCiJobs(group),
    ...sameEnvironmentNames(group),
  ];
}

/** Short lines for a consistent project: what was proved. */
export function crossStackSummary(configs: readonly PipelineConfig[]): string[] {
  const stacks = configs.map(renderStack);
  const owners = stacks.filter((s) => s.ciChecks !== undefined).map((s) => s.config.stack);
  const repositories = [...new Set(stacks.map((s) => `${s.config.githubOwner}/${s.config.repository}`))];
  const objects = stacks.reduce((n, s) => n + s.objects.length, 0);
  const protectedBranches = stacks.filter((s) => s.requiredChecks.length > 0);
  const checks = [...new Set(protectedBranches.flatMap((s) => s.requiredChecks))];
  return [
    `${stacks.length} stack(s) of ${repositories.join(", ")}: ${stacks.map((s) => s.config.stack).join(", ")}`,
    `repository settings owned by: ${owners.join(", ") || "none"}`,
    `${objects} GitHub objects, none managed by two stacks`,
    `required checks ${checks.join(", ") || "(none)"} on ${protectedBranches.map((s) => `'${s.config.branch}'`).join(", ") || "no protected branch"}: all jobs of ci.yml`,
    "same environment secret and variable names in every environment",
  ];
}

// --- the checks --------------------------------------------------------------------------------------------

function sameRepository(stacks: readonly RenderedStack[], reference: RenderedStack): string[] {
  const ref = reference.config;
  const refName = describeReference(reference);
  const fix = "(use the same github:owner and repository in every stack of a project)";
  return stacks.flatMap(({ config }) => {
    const out: string[] = [];
    if (config.githubOwner.toLowerCase() !== ref.githubOwner.toLowerCase()) {
      out.push(
        `${config.stack}: github:owner: is '${config.githubOwner}', but ${refName} uses '${ref.githubOwner}' ${fix}`,
      );
    }
    if (config.repository.toLowerCase() !== ref.repository.toLowerCase()) {
      out.push(
        `${config.stack}: ${PROJECT}:repository: is '${config.repository}', but ${refName} uses '${ref.repository}' ${fix}`,
      );
    }
    return out;
  });
}

function repositoryOwnership(stacks: readonly RenderedStack[], explained: Set<string>): string[] {
  const key = `${PROJECT}:ownsRepositorySettings`;
  const owners = stacks.filter((s) => s.config.ownsRepositorySettings);
  const first = stacks[0];
  if (owners.length === 0 && first !== undefined) {
    const wouldOwn = renderStack({ ...first.config, ownsRepositorySettings: true }).repositoryFiles;
    return [
      `${names(stacks)}: ${key}: is false in every stack, so no stack commits ${wouldOwn.join(", ")} or manages the repository secrets, and the required checks never report (set it to true in exactly one stack)`,
    ];
  }
  if (owners.length < 2) return [];
  const shared = sharedObjects(owners, (o, s) => causeOf(o, s) === "ownsRepositorySettings");
  for (const id of shared.keys()) explained.add(id);
  return [
    `${names(owners)}: ${key}: is true in each, so ${owners.length === 2 ? "both" : "all"} would manage ${listObjects([...shared.keys()])} (set it to true in exactly one stack, false in the others)`,
  ];
}

function distinctEnvironments(stacks: readonly RenderedStack[], explained: Set<string>): string[] {
  // GitHub environment names ignore case: "Staging" and "staging" are one environment.
  return [...groupBy(stacks, (s) => s.config.environment.toLowerCase()).values()]
    .filter((group) => group.length > 1)
    .map((group) => {
      const values = [...new Set(group.map((s) => `'${s.config.environment}'`))];
      const shared = sharedObjects(group, (o, s) => causeOf(o, s) === "environment");
      for (const id of shared.keys()) explained.add(id);
      const manage =
        shared.size > 0 ? `; ${bothOrAll(group)} would manage ${listObjects([...shared.keys()])}` : "";
      const same =
        values.length > 1
          ? `${values.join(" and ")} are one GitHub environment (its names ignore case)`
          : `is ${values.join("")} in each`;
      return `${names(group)}: ${PROJECT}:environment: ${same}${manage} (give each stack its own environment)`;
    });
}

function distinctBranches(stacks: readonly RenderedStack[], explained: Set<string>): string[] {
  return [...groupBy(stacks, (s) => s.config.branch).values()]
    .filter((group) => group.length > 1)
    .map((group) => {
      const branch = group[0]?.config.branch ?? "";
      const shared = sharedObjects(group, (o, s) => causeOf(o, s) === "branch");
      for (const id of shared.keys()) explained.add(id);
      const manage =
        shared.size > 0 ? `, and ${bothOrAll(group)} would manage ${listObjects([...shared.keys()])}` : "";
      return `${names(group)}: ${PROJECT}:branch: is '${branch}' in each, so a push to '${branch}' deploys to ${bothOrAll(group)} environments${manage} (give each stack its own branch)`;
    });
}

/** Objects managed twice that neither ownership nor a shared environment or branch explains. */
function unexplainedSharedObjects(
  stacks: readonly RenderedStack[],
  explained: ReadonlySet<string>,
): string[] {
  const shared = sharedObjects(stacks, () => true);
  const byStacks = new Map<string, { stacks: RenderedStack[]; objects: Map<string, ManagedObject> }>();
  for (const [id, { object, stacks: holders }] of shared) {
    if (explained.has(id)) continue;
    const key = names(holders);
    const entry = byStacks.get(key) ?? { stacks: holders, objects: new Map() };
    entry.objects.set(id, object);
    byStacks.set(key, entry);
  }
  return [...byStacks.values()].map(({ stacks: holders, objects }) => {
    const causes = [...new Set([...objects.values()].map((o) => causeOf(o, holders[0])))];
    const keys = causes.map((cause) => `${PROJECT}:${cause}`).join(", ");
    return `${names(holders)}: ${keys}: ${bothOrAll(holders)} would manage ${listObjects([...objects.keys()])} (no GitHub object may be managed by two stacks: change ${keys} in one of them)`;
  });
}

function requiredChecksAreCiJobs(stacks: readonly RenderedStack[]): string[] {
  const problems: string[] = [];
  for (const owner of stacks) {
    if (owner.ciChecks === undefined) continue;
    const jobs = new Set(owner.ciChecks);
    for (const stack of stacks) {
      for (const check of stack.requiredChecks.filter((c) => !jobs.has(c))) {
        problems.push(missingCheck(stack, check, owner));
      }
    }
  }
  return problems;
}

function missingCheck(stack: RenderedStack, check: string, owner: RenderedStack): string {
  const { stack: name, branch } = stack.config;
  const ownerName = owner.config.stack;
  const never = `pull requests into '${branch}' can never merge`;
  const commandKey = (CI_JOB_COMMAND_KEYS as Record<string, keyof AppConfig | undefined>)[check];
  const ownerCommand: unknown = commandKey === undefined ? undefined : owner.config.app[commandKey];
  if (commandKey !== undefined && typeof ownerCommand === "string" && ownerCommand.trim() === "") {
    return `${name}: ${PROJECT}:app.${commandKey}: differs from the owning stack's: branch protection of '${branch}' requires the check '${check}', but the ci.yml of ${ownerName} has no job '${check}' because ${ownerName}'s app.${commandKey} is empty, so ${never} (ci.yml runs ${ownerName}'s commands: set app.${commandKey} to "" here too, or give ${ownerName} the command)`;
  }
  const key = commandKey === undefined ? "app" : `app.${commandKey}`;
  return `${name}: ${PROJECT}:${key}: branch protection of '${branch}' requires the check '${check}', which is not a job of the ci.yml of ${ownerName} (jobs: ${owner.ciChecks?.join(", ") || "none"}), so ${never} (give ${name} the same app commands as ${ownerName}, whose ci.yml is the one committed)`;
}

function sameEnvironmentNames(stacks: readonly RenderedStack[]): string[] {
  const problems: string[] = [];
  const kinds: Array<[ManagedKind, string]> = [
    ["environment-secret", "secret"],
    ["environment-variable", "variable"],
  ];
  for (const [kind, word] of kinds) {
    const namesOf = (s: RenderedStack) =>
      new Set(
        s.objects.filter((o) => o.kind === kind).map((o) => o.id.slice(s.config.environment.length + 1)),
      );
    const all = [...new Set(stacks.flatMap((s) => [...namesOf(s)]))].sort();
    for (const stack of stacks) {
      const own = namesOf(stack);
      for (const missing of all.filter((n) => !own.has(n))) {
        const holders = stacks.filter((s) => namesOf(s).has(missing));
        problems.push(
          `${stack.config.stack}: ${PROJECT}:environment: environment '${stack.config.environment}' has no ${word} ${missing}, which ${names(holders)} declare${holders.length === 1 ? "s" : ""} (every environment needs the same ${word} names, because the workflows read the same names everywhere: configure ${stack.config.stack} like ${names(holders)})`,
        );
      }
    }
  }
  return problems;
}

// --- helpers -----------------------------------------------------------------------------------------------

type Cause = "ownsRepositorySettings" | "environment" | "branch";

/** The key that decides whether a stack manages this object. */
function causeOf(object: ManagedObject, stack: RenderedStack | undefined): Cause {
  if (object.kind === "repository-secret") return "ownsRepositorySettings";
  if (object.kind === "file" && stack?.repositoryFiles.includes(object.id)) return "ownsRepositorySettings";
  if (object.kind === "branch-protection") return "branch";
  return "environment";
}

interface Shared {
  object: ManagedObject;
  stacks: RenderedStack[];
}

/** Objects (by kind and id) that two or more of the given stacks manage, keeping those `keep` selects. */
function sharedObjects(
  stacks: readonly RenderedStack[],
  keep: (object: ManagedObject, stack: RenderedStack) => boolean,
): Map<string, Shared> {
  const all = new Map<string, Shared>();
  for (const stack of stacks) {
    for (const object of stack.objects) {
      if (!keep(object, stack)) continue;
      const id = `${object.kind} ${object.id}`;
      const entry = all.get(id) ?? { object, stacks: [] };
      entry.stacks.push(stack);
      all.set(id, entry);
    }
  }
  return new Map([...all].filter(([, entry]) => entry.stacks.length > 1));
}

function listObjects(ids: readonly string[], max = 6): string {
  const more = ids.length > max ? ` and ${ids.length - max} more` : "";
  return `${ids.slice(0, max).join(", ")}${more}`;
}

function repositoryOf(stack: RenderedStack): string {
  return `${stack.config.githubOwner}/${stack.config.repository}`.toLowerCase();
}

function describeReference(stack: RenderedStack): string {
  return stack.config.ownsRepositorySettings
    ? `${stack.config.stack} (the stack that owns repository settings)`
    : stack.config.stack;
}

function names(stacks: readonly RenderedStack[]): string {
  return stacks.map((s) => s.config.stack).join(", ");
}

function bothOrAll(stacks: readonly unknown[]): string {
  return stacks.length === 2 ? "both" : "all";
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
