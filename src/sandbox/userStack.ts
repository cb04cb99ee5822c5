// A user's stack file (Pulumi.<stack>.yaml) pointed at local disposable hosts: its app, deploy, vps, ingress, ...
// settings as written, with only what cannot work locally replaced (hosts, url, how hosts reach Node and npm,
// TLS without a public name, the admin user the local hosts have). The stack's hosts are replaced whole: their
// addresses and host keys need not be real (pulumi up still requires and checks them).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { plaintextSecrets, readStackFile } from "../config/fromStackFile";
import { loadFromValues } from "../config/fromValues";
import type { PipelineConfig } from "../config/types";
import type { HostHandle } from "../testhost";
import { generateDeployKey } from "./deployKeyPair";
import { localUrl } from "./stackOnHosts";

/** What the sandbox puts in place of one of the stack's hosts. */
export type LocalHost = Pick<HostHandle, "address" | "port" | "hostKey" | "npmRegistry">;

/** `--stack <name>` is the stack file Pulumi.<name>.yaml of the working directory, as `pulumi --stack` reads it. */
export function stackFileOf(options: { stack?: string | undefined; config?: string | undefined }): string {
  if (options.stack !== undefined && options.config !== undefined)
    throw new Error("give --stack <name> or --config <file>, not both");
  const file = options.config ?? `Pulumi.${options.stack ?? ""}.yaml`;
  const path = resolve(file);
  if (!existsSync(path))
    throw new Error(
      options.config !== undefined
        ? `${path}: no such stack file (--config takes the path of a Pulumi.<stack>.yaml)`
        : `${path}: no such stack file (--stack <name> reads Pulumi.<name>.yaml of the current directory; or give --config <file>)`,
    );
  return path;
}

/** How many hosts the stack file lists (the sandbox makes as many by default). */
export function stackHostCount(stackFile: string): number {
  const hosts = readStackFile(stackFile).values["hosts"];
  return Array.isArray(hosts) && hosts.length > 0 ? hosts.length : 1;
}

function objectValue(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The stack file's host names (its Pulumi resource names) on the local hosts, in order. */
function localHosts(stackHosts: unknown, hosts: readonly LocalHost[]): Record<string, unknown>[] {
  const listed = Array.isArray(stackHosts) ? stackHosts.map(objectValue) : [];
  return hosts.map((h, index) => {
    const name = listed[index]?.["name"];
    return { ...(name !== undefined ? { name } : {}), host: h.address, port: h.port, hostKey: h.hostKey };
  });
}

/** The stack file's config on the given hosts. Config errors name the stack file's keys, as `npm run render` does. */
export function userStackOnHosts(stackFile: string, hosts: readonly LocalHost[]): PipelineConfig {
  const first = hosts[0];
  if (!first) throw new Error("userStackOnHosts: no host");
  const { stack, githubOwner, values } = readStackFile(stackFile);
  const app = objectValue(values["app"]);
  const port = typeof app["port"] === "number" ? app["port"] : 3000;
  const firewall = objectValue(values["firewall"]);
  const extraTcpPorts = Array.isArray(firewall["extraTcpPorts"])
    ? (firewall["extraTcpPorts"] as unknown[])
    : [];
  const local = {
    ...values,
    url: localUrl(first),
    hosts: localHosts(values["hosts"], hosts),
    // The local hosts are reached as root; a stack's own admin user does not exist on them.
    adminUser: "root",
    vps: { ...objectValue(values["vps"]), nodeSource: "npm", npmRegistry: first.npmRegistry },
    // Caddy's local CA: a local host has no public name for Let's Encrypt to check.
    ingress: { ...objectValue(values["ingress"]), tls: "internal" },
    // The app's ports are opened too (side-by-side releases alternate between app.port and the next one), so
    // that it can be reached from this machine without the proxy.
    firewall: { ...firewall, extraTcpPorts: [...new Set([...extraTcpPorts, port, port + 1])] },
  };
  return loadFromValues(local, githubOwner ?? "sandbox", {
    stack,
    requireSecrets: false,
    plaintextSecrets: plaintextSecrets(values),
  }).config;
}

/**
 * Before any host exists (to stop on config errors and build the app first): the stack file's config as the sandbox
 * will use it, on stand-in hosts of the documentation range (RFC 5737) with a throwaway key; nothing of them reaches
 * a host.
 */
export function userStackBeforeHosts(stackFile: string): PipelineConfig {
  const hostKey = generateDeployKey("stand-in").publicKey;
  const standIns = Array.from({ length: stackHostCount(stackFile) }, (_, index): LocalHost => ({
    address: `192.0.2.${index + 1}`,
    port: 22,
    hostKey,
    npmRegistry: "https://192.0.2.1/",
  }));
  return userStackOnHosts(stackFile, standIns);
}

/** Said on `up` when the stack file lists host keys: the sandbox does not use them. */
export function ignoredHostKeysNote(stackFile: string): string | undefined {
  const hosts = readStackFile(stackFile).values["hosts"];
  const withKeys = (Array.isArray(hosts) ? hosts.map(objectValue) : []).filter(
    (h) => h["hostKey"] !== undefined,
  );
  if (withKeys.length === 0) return undefined;
  return `the stack's host keys (hosts[].hostKey) are ignored: the sandbox replaces its hosts with local ones and pins their own keys`;
}
