import * as pulumi from "@pulumi/pulumi";
import type { AwsConfig } from "../../config/awsSchema";
import type { PipelineConfig } from "../../config/types";
import { childName } from "../naming";
import type { FleetHost } from "../vps/fleetHost";
import { BackupBucket } from "./backupBucket";
import { createDnsRecord } from "./dnsRecord";
import { Ec2Hosts } from "./ec2Hosts";

export interface AwsInfrastructureArgs {
  config: PipelineConfig & { aws: AwsConfig };
  adminPrivateKey: pulumi.Input<string>;
}

/** What the aws group asks for: EC2 hosts (and their DNS record), the backup bucket and its role. */
export class AwsInfrastructure extends pulumi.ComponentResource {
  /** The EC2 hosts to provision, with aws.hosts. */
  readonly hosts?: FleetHost[];
  /** The GitHub environment variables of the backup bucket, with aws.backupBucket. */
  readonly backupVariables?: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: AwsInfrastructureArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:aws:AwsInfrastructure", name, {}, opts);
    const { config } = args;
    const { hosts, backupBucket, dnsZone } = config.aws;
    if (hosts !== undefined) {
      const ec2 = new Ec2Hosts(
        childName(name, "hosts"),
        { config: { ...config, aws: { ...config.aws, hosts } }, adminPrivateKey: args.adminPrivateKey },
        { parent: this },
      );
      this.hosts = ec2.hosts;
      if (dnsZone !== undefined) {
        createDnsRecord(
          childName(name, "dns"),
          {
            zone: dnsZone,
            recordName: new URL(config.url).hostname.toLowerCase(),
            ttlSeconds: config.aws.dnsTtlSeconds,
            addresses: ec2.publicIps,
          },
          this,
        );
      }
    }
    if (backupBucket !== undefined) {
      const backups = new BackupBucket(
        childName(name, "backups"),
        { config: { ...config, aws: { ...config.aws, backupBucket } } },
        { parent: this },
      );
      this.backupVariables = backups.variables;
    }
    this.registerOutputs({});
  }
}
