import type * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { childName } from "../naming";

/**
 * The CI deploy key of one rotation. Its resource name carries the rotation number, so bumping
 * pipeline:deployKeyRotation creates a new key next to the old one; Pulumi deletes the old key (and the
 * commands that authorized it) only at the end of the update, after the secret has switched.
 */
export function createDeployKey(name: string, rotation: number, parent: pulumi.Resource): tls.PrivateKey {
  return new tls.PrivateKey(childName(name, "deploy-key", rotation), { algorithm: "ED25519" }, { parent });
}
