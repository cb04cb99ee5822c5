// Stack configs for the workflow renderer tests, built through the real config loader.
import { parse } from "yaml";
import { loadFromValues } from "../../../src/config/fromValues";
import type { PipelineConfig } from "../../../src/config/types";
import { renderRepositoryFiles, type RepositoryFile } from "../../../src/render/workflows";

const OWNER = "acme-shop";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R";

function load(stack: string, values: Record<string, unknown>): PipelineConfig {
  return loadFromValues({ repository: "storefront", ...values }, OWNER, { stack, requireSecrets: false })
    .config;
}

export function stagingConfig(overrides: Record<string, unknown> = {}): PipelineConfig {
  return load("staging", {
    environment: "staging",
    branch: "staging",
    url: "https://staging.storefront.example.com",
    ingress: { acmeEmail: "ops@storefront.example.com" },
    hosts: [{ host: "staging-1.storefront.example.com", hostKey: HOST_KEY }],
    app: { name: "storefront" },
    ...overrides,
  });
}

export function productionConfig(overrides: Record<string, unknown> = {}): PipelineConfig {
  return load("production", {
    environment: "production",
    branch: "main",
    url: "https://storefront.example.com",
    ingress: { acmeEmail: "ops@storefront.example.com" },
    reviewers: ["octocat", "acme-shop/ops"],
    hosts: [{ host: "203.0.113.10", hostKey: HOST_KEY }],
    ownsRepositorySettings: true,
    app: { name: "storefront" },
    ...overrides,
  });
}

/**
 * Two hosts (one on a non-default port) behind a load balancer that ends TLS, no reviewers, another environment
 * name, CI services.
 */
export function qaConfig(overrides: Record<string, unknown> = {}): PipelineConfig {
  return load("qa", {
    environment: "qa",
    branch: "release/qa",
    url: "https://qa.storefront.example.com/",
    ingress: { tls: "off", trustedProxies: ["192.0.2.10/32"] },
    hosts: [
      { host: "qa-1.storefront.example.com", hostKey: HOST_KEY },
      { host: "qa-2.storefront.example.com", port: 2222, hostKey: HOST_KEY },
    ],
    ownsRepositorySettings: true,
    app: { name: "storefront", services: [{ type: "postgres" }, { type: "redis" }] },
    notifications: { webhook: true },
    ...overrides,
  });
}

/**
 * Every service type, optional jobs off, an app without a build step, drafts, no failure issue: the other branches
 * of the renderers.
 */
export function variantConfig(): PipelineConfig {
  return qaConfig({
    environment: "sandbox",
    branch: "sandbox",
    app: {
      name: "storefront",
      packageManagerField: false,
      pnpmVersion: 10,
      lintCommand: "",
      typecheckCommand: "",
      buildCommand: "",
      startScript: "server.js",
      services: [
        { type: "mysql" },
        { type: "mongodb", version: "6" },
        { type: "postgres" },
        { type: "redis" },
      ],
    },
    release: { draft: true },
    notifications: { openIssueOnFailure: false, webhook: false },
    // backups before migrations, streamed to the S3 bucket (the workflows' AWS steps)
    aws: { backupBucket: {} },
    backup: { beforeMigrations: true },
  });
}

export const ALL_CONFIGS = (): PipelineConfig[] => [
  stagingConfig(),
  productionConfig(),
  qaConfig(),
  variantConfig(),
];

/** Rendered files of every fixture, each path once (repository files are the same text for one config). */
export function allRenderedFiles(): Array<RepositoryFile & { stack: string }> {
  return ALL_CONFIGS().flatMap((config) =>
    renderRepositoryFiles(config).map((file) => ({ ...file, stack: config.stack })),
  );
}

/** A rendered workflow as the tests read it back (yaml.parse). */
export interface ParsedStep {
  name: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
export interface ParsedJob {
  name?: string;
  uses?: string;
  needs?: string[];
  if?: string;
  permissions: Record<string, string>;
  environment?: { name: string; url?: string };
  concurrency?: { group: string; "cancel-in-progress": boolean | string };
  services?: Record<
    string,
    { image: string; options: string; ports: string[]; env?: Record<string, string> }
  >;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  "timeout-minutes"?: number;
  steps?: ParsedStep[];
}
export interface ParsedWorkflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean | string };
  jobs: Record<string, ParsedJob>;
}

export function parseWorkflowText(content: string): ParsedWorkflow {
  return parse(content) as ParsedWorkflow;
}

export function fileAt(files: readonly RepositoryFile[], path: string): RepositoryFile {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no rendered file ${path}; have ${files.map((f) => f.path).join(", ")}`);
  return file;
}

export function workflowAt(files: readonly RepositoryFile[], path: string): ParsedWorkflow {
  return parseWorkflowText(fileAt(files, path).content);
}

export function jobOf(workflow: ParsedWorkflow, id: string): ParsedJob {
  const job = workflow.jobs[id];
  if (!job) throw new Error(`no job ${id}; have ${Object.keys(workflow.jobs).join(", ")}`);
  return job;
}

export function stepNamed(job: ParsedJob, name: string): ParsedStep {
  const step = job.steps?.find((s) => s.name === name);
  if (!step) throw new Error(`no step ${name}`);
  return step;
}
