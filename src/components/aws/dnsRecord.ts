import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { childName } from "../naming";

export interface DnsRecordArgs {
  /** aws.dnsZone: a public hosted zone. */
  zone: string;
  /** The url's host name. */
  recordName: string;
  ttlSeconds: number;
  /** Every host's Elastic IP. */
  addresses: pulumi.Input<string>[];
}

/** One A record set for the url's host name with every host's address (Route53 keeps one set per name and type). */
export function createDnsRecord(
  name: string,
  args: DnsRecordArgs,
  parent: pulumi.Resource,
): aws.route53.Record {
  const zone = aws.route53.getZoneOutput({ name: args.zone, privateZone: false }, { parent });
  return new aws.route53.Record(
    childName(name, "a-record"),
    { zoneId: zone.zoneId, name: args.recordName, type: "A", ttl: args.ttlSeconds, records: args.addresses },
    { parent },
  );
}
