// Realistic stack configs for the shell renderer tests (validated by the real loader).
import { loadFromValues } from "../../../src/config/fromValues";
import type { PipelineConfig } from "../../../src/config/types";

/** Stand-in for `npm config get registry`: a reserved example domain, never a real registry. */
export const TEST_REGISTRY = "https://npm.registry.example.test/";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R";
export const CI_PUBLIC_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHK2biZm7XqjGOeqszDuTB0oGj5yOtpPmCxgza5jHHl\n";

const app = {
  name: "storefront",
  nodeVersion: 26,
  pnpmVersion: 9,
  port: 3000,
  healthPath: "/health",
  startScript: "dist/server.js",
  services: [{ type: "postgres" }, { type: "redis" }],
};

const stagingValues = {
  repository: "storefront",
  environment: "staging",
  branch: "staging",
  url: "https://staging.storefront.example.com",
  ingress: { acmeEmail: "ops@storefront.example.com" },
  hosts: [{ host: "staging-1.storefront.example.com", hostKey: HOST_KEY }],
  adminUser: "root",
  deployUser: "deploy",
  deployKeyRotation: 0,
  app: { ...app, instances: 2 },
  vps: { nodeSource: "npm" },
};

/** Staging: one host, root admin, Node from the npm registry (as on the test machine). */
export const staging: PipelineConfig = loadFromValues(stagingValues, "acme-shop", {
  stack: "staging",
  requireSecrets: false,
}).config;

/** Staging with PostgreSQL on its host (the database group), reached through a sudo admin. */
export const stagingWithDatabase: PipelineConfig = loadFromValues(
  { ...stagingValues, adminUser: "admin", database: { enabled: true, name: "shop", port: 5433 } },
  "acme-shop",
  { stack: "staging", requireSecrets: false },
).config;

/**
 * Production: two hosts behind a load balancer that ends TLS, a sudo admin, official Node tarballs, a custom
 * migration command.
 */
export const production: PipelineConfig = loadFromValues(
  {
    repository: "storefront",
    environment: "production",
    branch: "main",
    url: "https://storefront.example.com",
    ingress: { tls: "off", trustedProxies: ["192.0.2.10/32", "192.0.2.11/32"] },
    reviewers: ["acme-shop/release-managers", "octocat"],
    hosts: [
      { host: "web-1.storefront.example.com", hostKey: HOST_KEY },
      {
        host: "web-2.storefront.example.com",
        port: 2222,
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDxnAY+s9V4Vuwk3oQzt2JWnYd1y2M2zHaq1sjdmCMww",
      },
    ],
    adminUser: "admin",
    deployUser: "app",
    deployKeyRotation: 3,
    ownsRepositorySettings: true,
    app: {
      ...app,
      instances: "max",
      healthPath: "/health?deep=1",
      migrateCommand: "pnpm exec knex migrate:latest",
    },
    deploy: { keepReleases: 10, healthTimeoutSeconds: 90, lockTimeoutSeconds: 120 },
    vps: { nodeSource: "nodejs", logMaxSize: "50M", logRetainDays: 30 },
  },
  "acme-shop",
  { stack: "production", requireSecrets: false },
).config;

export const EXAMPLE_CONFIGS = { staging, production, stagingWithDatabase } as const;
