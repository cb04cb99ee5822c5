import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type * as pulumi from "@pulumi/pulumi";
import { loadFromValues } from "../../src/config/fromValues";
import { readStackFile } from "../../src/config/fromStackFile";
import type { PipelineConfig, PipelineSecrets } from "../../src/config/types";
import { createPipeline, type PipelineOutputs } from "../../src/pipeline";
import { type MockPullRequest, type MockRuntime, awaitOutput, installMocks, settled } from "./mockRuntime";

export const SECRETS = {
  adminPrivateKey: generateKeyPairSync("ed25519")
    .privateKey.export({ format: "pem", type: "pkcs8" })
    .toString(),
  appEnv:
    "DATABASE_URL=postgres://shop:s3cr3t-db-password@db/shop\nSESSION_SECRET=very-secret-session-value\n",
  notificationWebhook: "https://hooks.example.com/services/T000/B000/super-secret-token",
};

/**
 * Config as `pulumi up` hands it to the program for Pulumi.<stack>.yaml (every value a string, objects as JSON),
 * with the secrets `pulumi config set --secret` would add.
 */
export function pulumiConfigOf(stack: "staging" | "production"): Record<string, string> {
  const document = parse(readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> };
  const config = Object.fromEntries(
    Object.entries(document.config).map(([key, value]) => [
      key,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
  return {
    ...config,
    "pipeline:adminPrivateKey": SECRETS.adminPrivateKey,
    "pipeline:appEnv": SECRETS.appEnv,
  };
}

/** A stack as its Pulumi.<stack>.yaml defines it, with the secrets `pulumi config set --secret` would add. */
export function exampleStack(
  stack: "staging" | "production",
  overrides: Record<string, unknown> = {},
): { config: PipelineConfig; secrets: PipelineSecrets } {
  const file = readStackFile(`Pulumi.${stack}.yaml`);
  const owner = stack === "production";
  const values = {
    ...file.values,
    notifications: { webhook: true },
    adminPrivateKey: SECRETS.adminPrivateKey,
    appEnv: SECRETS.appEnv,
    ...(owner ? { notificationWebhook: SECRETS.notificationWebhook } : {}),
    ...overrides,
  };
  return loadFromValues(values, file.githubOwner, { stack, requireSecrets: true });
}

export interface Dependency {
  name: string;
  dependsOn: string[];
}

export interface ProgramRun {
  runtime: MockRuntime;
  outputs: Record<string, PipelineOutputs>;
  resolved: Record<string, { knownHosts: string; deployPublicKey: string }>;
  /** dependsOn of every resource, by resource name, as given to the SDK. */
  dependencies: Map<string, string[]>;
  /** The names of the `{ name }` aliases of every resource that has some, by resource name. */
  aliases: Map<string, string[]>;
  /** The ignoreChanges option of every resource that has one, by resource name. */
  ignoredChanges: Map<string, string[]>;
}

/** Builds the given stacks in one process under mocks and waits until every resource is registered. */
export async function runStacks(
  stacks: Array<{ config: PipelineConfig; secrets: PipelineSecrets }>,
  baseFiles?: Map<string, string>,
  pullRequests?: readonly MockPullRequest[],
): Promise<ProgramRun> {
  const runtime = installMocks("test", baseFiles, pullRequests);
  const names = new WeakMap<pulumi.Resource, string>();
  const dependencies = new Map<string, string[]>();
  const aliases = new Map<string, string[]>();
  const ignoredChanges = new Map<string, string[]>();
  const pending: Array<Promise<void>> = [];
  const record: pulumi.ResourceTransformation = (args) => {
    names.set(args.resource, args.name);
    const aliasNames = (args.opts.aliases ?? []).map((alias) =>
      typeof alias === "object" && "name" in alias ? String(alias.name) : String(alias),
    );
    if (aliasNames.length > 0) aliases.set(args.name, aliasNames);
    if (args.opts.ignoreChanges !== undefined) ignoredChanges.set(args.name, args.opts.ignoreChanges);
    const dependsOn = args.opts.dependsOn;
    pending.push(
      Promise.resolve(resolveDependsOn(dependsOn)).then((resources) => {
        dependencies.set(
          args.name,
          resources.map((r) => names.get(r) ?? "?"),
        );
      }),
    );
    return undefined;
  };
  const outputs: Record<string, PipelineOutputs> = {};
  for (const { config, secrets } of stacks) {
    outputs[config.stack] = createPipeline(
      config,
      secrets,
      { npmRegistry: "https://registry.test/" },
      { transformations: [record] },
    );
  }
  const resolved: ProgramRun["resolved"] = {};
  for (const [stack, out] of Object.entries(outputs)) {
    resolved[stack] = {
      knownHosts: await awaitOutput(out.knownHosts),
      deployPublicKey: await awaitOutput(out.deployPublicKey),
    };
  }
  await settled(runtime);
  await Promise.all(pending);
  return { runtime, outputs, resolved, dependencies, aliases, ignoredChanges };
}

async function resolveDependsOn(
  dependsOn: pulumi.CustomResourceOptions["dependsOn"],
): Promise<pulumi.Resource[]> {
  if (dependsOn === undefined) return [];
  const value = await new Promise<unknown>((resolve) => {
    const maybeOutput = dependsOn as { apply?: (f: (v: unknown) => void) => void };
    if (typeof maybeOutput.apply === "function") maybeOutput.apply(resolve);
    else resolve(dependsOn);
  });
  const list = Array.isArray(value) ? value : [value];
  const resources = await Promise.all(
    list.map(
      (item) =>
        new Promise<unknown>((resolve) => {
          const maybeOutput = item as { apply?: (f: (v: unknown) => void) => void };
          if (typeof maybeOutput?.apply === "function") maybeOutput.apply(resolve);
          else resolve(item);
        }),
    ),
  );
  return resources.flat() as pulumi.Resource[];
}

/** Every resource `name` waits for, directly or through others. */
export function transitiveDependencies(run: ProgramRun, name: string, seen = new Set<string>()): Set<string> {
  for (const dependency of run.dependencies.get(name) ?? []) {
    if (seen.has(dependency)) continue;
    seen.add(dependency);
    transitiveDependencies(run, dependency, seen);
  }
  return seen;
}
