// Stack configs for the workflow renderer tests, built through the real config loader.
import { loadConfig } from "../../../src/config/load";
import type { PipelineConfig } from "../../../src/config/types";
import { renderRepositoryFiles, type RepositoryFile } from "../../../src/render/workflows";

const OWNER = "acme-shop";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R";

function load(stack: string, values: Record<string, unknown>): PipelineConfig {
  return loadConfig({ repository: "storefront", ...values }, OWNER, { stack, requireSecrets: false });
}

export function stagingConfig(overrides: Record<string, unknown> = {}): PipelineConfig {
  return load("staging", {
    environment: "staging",
    branch: "staging",
    url: "https://staging.storefront.example.com",
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
    reviewers: ["octocat", "acme-shop/ops"],
    hosts: [{ host: "203.0.113.10", hostKey: HOST_KEY }],
    ownsRepositorySettings: true,
    app: { name: "storefront" },
    ...overrides,
  });
}

/** Two hosts (one on a non-default port), no reviewers, another environment name, CI services. */
export function qaConfig(overrides: Record<string, unknown> = {}): PipelineConfig {
  return load("qa", {
    environment: "qa",
    branch: "release/qa",
    url: "https://qa.storefront.example.com/",
    hosts: [{ host: "qa-1.storefront.example.com" }, { host: "qa-2.storefront.example.com", port: 2222 }],
    ownsRepositorySettings: true,
    app: { name: "storefront", services: [{ type: "postgres" }, { type: "redis" }] },
    ...overrides,
  });
}

/** Every service type, optional jobs off, drafts, no failure issue: the other branches of the renderers. */
export function variantConfig(): PipelineConfig {
  return qaConfig({
    environment: "sandbox",
    branch: "sandbox",
    app: {
      name: "storefront",
      lintCommand: "",
      typecheckCommand: "",
      services: [{ type: "mysql" }, { type: "mongodb", version: "6" }, { type: "postgres" }, { type: "redis" }],
    },
    release: { draft: true },
    notifications: { openIssueOnFailure: false },
  });
}

export const ALL_CONFIGS = (): PipelineConfig[] => [stagingConfig(), productionConfig(), qaConfig(), variantConfig()];

/** Rendered files of every fixture, each path once (repository files are the same text for one config). */
export function allRenderedFiles(): Array<RepositoryFile & { stack: string }> {
  return ALL_CONFIGS().flatMap((config) => renderRepositoryFiles(config).map((file) => ({ ...file, stack: config.stack })));
}
