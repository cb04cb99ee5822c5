import type * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../../config/types";

/**
 * A host the fleet provisions: one of the configured `hosts`, or an EC2 instance the program created (its
 * address and host key are then provider outputs). Either way every connection is pinned to `hostKey`.
 */
export interface FleetHost {
  /** Logical name: the host's resources are named after it, never after its address. */
  name: string;
  host: pulumi.Input<string>;
  port: number;
  /**
   * The OpenSSH public host key every connection is pinned to; for a `machine`, only the first step's, which
   * replaces the key on the host and pins the rest to the new one.
   */
  hostKey: pulumi.Input<string>;
  /**
   * A host made by the program: its id (the steps run again on a new machine, the host key rotation first), and
   * the SSH wait at boot.
   */
  machine?: {
    id: pulumi.Input<string>;
    bootWait: { dialErrorLimit: number; perDialTimeout: number };
    /** The admin key the machine must accept alone (the user data's is the one of its creation). */
    adminPublicKey: pulumi.Input<string>;
  };
  /** The address-based resource name of stacks from before hosts had names (configured hosts only). */
  legacyName?: { host: string; port: number };
}

/** The configured hosts, as the fleet takes them. */
export function configuredHosts(config: Pick<PipelineConfig, "hosts">): FleetHost[] {
  return config.hosts.map((h) => ({
    name: h.name,
    host: h.host,
    port: h.port,
    hostKey: h.hostKey,
    legacyName: { host: h.host, port: h.port },
  }));
}
