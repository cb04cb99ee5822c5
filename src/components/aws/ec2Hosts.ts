import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { AwsHostsConfig } from "../../config/awsSchema";
import type { PipelineConfig } from "../../config/types";
import { cloudInitUserData } from "../../render/aws/cloudInitUserData";
import { AWS_SSH_PORT, securityGroupIngress } from "../../render/aws/securityGroupRules";
import { childName } from "../naming";
import type { FleetHost } from "../vps/fleetHost";

/** Debian's own AWS account, which publishes the official cloud images (debian-12-amd64-<date>-<build>). */
export const DEBIAN_AMI_OWNER = "136693071363";
export const DEBIAN_12_AMI_NAME = "debian-12-amd64-*";

/**
 * How long Pulumi keeps dialing a new instance before giving up: it boots, cloud-init installs the host key,
 * then sshd starts. pulumi-command dials again after each failed attempt, up to dialErrorLimit times.
 */
const BOOT_WAIT = { dialErrorLimit: 60, perDialTimeout: 30 };

export interface Ec2HostsArgs {
  config: PipelineConfig & { aws: { hosts: AwsHostsConfig } };
  adminPrivateKey: pulumi.Input<string>;
}

/**
 * The EC2 hosts of aws.hosts: Debian 12 instances with IMDSv2 only and encrypted root volumes, an Elastic IP
 * each, a security group like the host firewall, the admin key as a key pair, and per host an ED25519 bootstrap
 * host key the program generates and cloud-init installs, so the first connection is pinned too. That key is in
 * the user data, which the instance serves for its whole life: the fleet's first step replaces it on the host
 * (ProvisionedHost), and no later connection trusts it.
 */
export class Ec2Hosts extends pulumi.ComponentResource {
  /** The hosts, in deploy order, as the fleet provisions them. */
  readonly hosts: FleetHost[];
  readonly publicIps: pulumi.Output<string>[];

  constructor(name: string, args: Ec2HostsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pipeline:aws:Ec2Hosts", name, {}, opts);
    const { config } = args;
    const settings = config.aws.hosts;
    const parent = { parent: this };
    const tags = (suffix: string) => ({ Name: childName(name, suffix), "pipeline:stack": config.stack });

    const ami = aws.ec2.getAmiOutput(
      {
        owners: [DEBIAN_AMI_OWNER],
        mostRecent: true,
        filters: [
          { name: "name", values: [DEBIAN_12_AMI_NAME] },
          { name: "architecture", values: ["x86_64"] },
          { name: "root-device-type", values: ["ebs"] },
          { name: "virtualization-type", values: ["hvm"] },
        ],
      },
      parent,
    );
    const { group: securityGroup, rules: securityGroupRules } = this.createSecurityGroup(
      name,
      config,
      tags("ssh-web"),
    );
    const adminPublicKey = adminPublicKeyOf(args.adminPrivateKey, this);
    const keyPair = new aws.ec2.KeyPair(
      childName(name, "admin"),
      { publicKey: adminPublicKey, tags: tags("admin") },
      parent,
    );

    const made = Array.from({ length: settings.count }, (_, index) => {
      const hostName = `aws-${index + 1}`;
      const hostKey = new tls.PrivateKey(
        childName(name, hostName, "host-key"),
        { algorithm: "ED25519" },
        parent,
      );
      const userData = pulumi
        .all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh, adminPublicKey])
        .apply(([privateKeyOpenssh, publicKeyOpenssh, admin]) =>
          cloudInitUserData({
            adminUser: config.adminUser,
            adminPublicKey: admin,
            hostKey: { privateKeyOpenssh, publicKeyOpenssh },
          }),
        );
      const instance = new aws.ec2.Instance(
        childName(name, hostName),
        {
          ami: ami.id,
          instanceType: settings.instanceType,
          ...(settings.subnetId !== undefined ? { subnetId: settings.subnetId } : {}),
          vpcSecurityGroupIds: [securityGroup.id],
          keyName: keyPair.keyName,
          userData: pulumi.secret(userData),
          metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
          rootBlockDevice: {
            encrypted: true,
            volumeType: "gp3",
            volumeSize: settings.rootVolumeGigabytes,
            deleteOnTermination: true,
          },
          tags: tags(hostName),
          volumeTags: tags(hostName),
        },
        {
          parent: this,
          // A newer Debian image is for new hosts; the running ones are updated by apt, not replaced. The user data
          // and the key pair only bootstrap a new instance (cloud-init applies user data once per instance): a new
          // admin key or admin user replaces no instance.
          ignoreChanges: ["ami", "userData", "keyName"],
          additionalSecretOutputs: ["userData"],
          // The provider removes the default allow-all egress of a new group: the instance boots, and its host
          // steps dial in and install packages, only once the group's own rules exist.
          dependsOn: securityGroupRules,
        },
      );
      const address = new aws.ec2.Eip(
        childName(name, hostName, "ip"),
        { domain: "vpc", instance: instance.id, tags: tags(hostName) },
        parent,
      );
      const host: FleetHost = {
        name: hostName,
        host: address.publicIp,
        port: AWS_SSH_PORT,
        hostKey: hostKey.publicKeyOpenssh, // the bootstrap key: the first step replaces it
        machine: { id: instance.id, bootWait: BOOT_WAIT, adminPublicKey },
      };
      return { host, publicIp: address.publicIp };
    });
    this.hosts = made.map((m) => m.host);
    this.publicIps = made.map((m) => m.publicIp);
    this.registerOutputs({ publicIps: this.publicIps });
  }

  /** Inbound exactly as securityGroupIngress() lists it (the host firewall's ports); outbound anywhere. */
  private createSecurityGroup(
    name: string,
    config: Ec2HostsArgs["config"],
    tags: Record<string, string>,
  ): { group: aws.ec2.SecurityGroup; rules: pulumi.Resource[] } {
    const subnetId = config.aws.hosts.subnetId;
    const vpcId =
      subnetId === undefined ? undefined : aws.ec2.getSubnetOutput({ id: subnetId }, { parent: this }).vpcId;
    const group = new aws.ec2.SecurityGroup(
      childName(name, "hosts"),
      {
        description: `pipeline ${config.stack}: SSH from aws.hosts.sshCidrs, web from anywhere`,
        ...(vpcId !== undefined ? { vpcId } : {}),
        tags,
      },
      { parent: this },
    );
    const inGroup = { parent: group };
    const rules: pulumi.Resource[] = [];
    for (const rule of securityGroupIngress(config)) {
      const ingress = new aws.vpc.SecurityGroupIngressRule(
        childName(name, "in", rule.name),
        {
          securityGroupId: group.id,
          ipProtocol: "tcp",
          fromPort: rule.port,
          toPort: rule.port,
          ...(rule.cidrIpv4 !== undefined ? { cidrIpv4: rule.cidrIpv4 } : {}),
          ...(rule.cidrIpv6 !== undefined ? { cidrIpv6: rule.cidrIpv6 } : {}),
          description: rule.description,
        },
        inGroup,
      );
      rules.push(ingress);
    }
    for (const [family, range] of [
      ["v4", { cidrIpv4: "0.0.0.0/0" }],
      ["v6", { cidrIpv6: "::/0" }],
    ] as const) {
      const egress = new aws.vpc.SecurityGroupEgressRule(
        childName(name, "out", family),
        { securityGroupId: group.id, ipProtocol: "-1", ...range, description: "all outbound" },
        inGroup,
      );
      rules.push(egress);
    }
    return { group, rules };
  }
}

/** The OpenSSH public half of adminPrivateKey (an OpenSSH or a PEM private key), derived by the tls provider. */
function adminPublicKeyOf(
  adminPrivateKey: pulumi.Input<string>,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  return pulumi.output(adminPrivateKey).apply((key) => {
    const privateKey = key.includes("BEGIN OPENSSH PRIVATE KEY")
      ? { privateKeyOpenssh: key }
      : { privateKeyPem: key };
    return tls.getPublicKeyOutput(privateKey, { parent }).publicKeyOpenssh.apply((k) => k.trim());
  });
}
