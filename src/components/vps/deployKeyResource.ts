import type * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { childName } from "../naming";

/**
 * The CI deploy key of one rotation. Its resource name carries the rotation number, so bumping
 * pipeline:deployKeyRotation creates a new key next to the old one (the old key leaves state at the end of the
 * update). The hosts authorize the new key before the secret switches and retire the old line after it.
 */
export function createDeployKey(name: string, rotation: number, parent: pulumi.Resource): tls.PrivateKey {
  return new tls.PrivateKey(childName(name, "deploy-key", rotation), { algorithm: "ED25519" }, { parent });
}
