import * as pulumi from "@pulumi/pulumi";
import type * as tls from "@pulumi/tls";
import { hostDatabase } from "../../config/databaseSchema";
import type { PipelineConfig } from "../../config/types";
import { knownHostsFile } from "../../render/knownHosts";
import { childName } from "../naming";
import { createDeployKey } from "./deployKeyResource";
import type { FleetHost } from "./fleetHost";
import { hostDatabaseSecrets } from "./hostDatabaseSecrets";
import { ProvisionedHost } from "./provisionedHost";

export interface FleetArgs {
  config: PipelineConfig;
  /** The hosts to provision, in deploy order: configuredHosts(config) or the EC2 hosts the program made. */
  hosts: FleetHost[];
  adminPrivateKey: pulumi.Input<string>;
  appEnv?: pulumi.Input<string>;
  npmRegistry: string;
}

/** Every host of the stack, provisioned the same way, and the CI deploy key they all accept. */
export class Fleet extends pulumi.ComponentResource {
  readonly deployKey: tls.PrivateKey;
  readonly hosts: ProvisionedHost[];
  readonly knownHosts: pulumi.Output<string>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:vps:Fleet", name, {}, opts);
    const { config } = args;
    this.deployKey = createDeployKey(name, config.deployKeyRotation, this);
    // One password for the fleet's database: the config refuses the database group with more than one host.
    const database = hostDatabase(config);
    const databaseSecrets =
      database === undefined
        ? undefined
        : hostDatabaseSecrets(name, database, config.database.passwordRotation, args.appEnv, this);
    const appEnv = databaseSecrets?.appEnv ?? args.appEnv;
    this.hosts = args.hosts.map(
      (host) =>
        new ProvisionedHost(
          // The logical name, never the address: a host that moves keeps its resources (updated in place).
          childName(name, host.name),
          {
            config,
            host,
            adminPrivateKey: args.adminPrivateKey,
            ...(appEnv !== undefined ? { appEnv } : {}),
            ...(databaseSecrets ? { databasePassword: databaseSecrets.password } : {}),
            deployPublicKey: this.deployKey.publicKeyOpenssh,
            npmRegistry: args.npmRegistry,
          },
          // Before hosts had names, the resources were named after the address: adopt them, do not delete them.
          {
            parent: this,
            ...(host.legacyName
              ? { aliases: [{ name: childName(name, host.legacyName.host, host.legacyName.port) }] }
              : {}),
          },
        ),
    );
    this.knownHosts = pulumi.all(this.hosts.map((h) => h.knownHostsLine)).apply(knownHostsFile);
    this.registerOutputs({ knownHosts: this.knownHosts });
  }

  /** The deploy key is authorized on every host: safe to hand it to the workflows. */
  get deployKeyAuthorizedEverywhere(): pulumi.Resource[] {
    return this.hosts.map((h) => h.deployKeyAuthorized);
  }

  /**
   * Once the workflows hold the current key (`secretSwitched`), every host retires the key lines of earlier
   * rotations (docs/invariants.md #6). createPipeline() calls this after building the GitHub side.
   */
  continueAfterDeployKeySecret(secretSwitched: pulumi.Resource[]): void {
    for (const host of this.hosts) host.continueAfterDeployKeySecret(secretSwitched);
  }
}
