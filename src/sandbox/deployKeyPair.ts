import { type SshKeyPair, generateEd25519KeyPair } from "../primitives/sshKeyPair";

export type DeployKeyPair = SshKeyPair;

/** An ED25519 key in OpenSSH format, as @pulumi/tls hands the stack's deploy key to the workflows. */
export function generateDeployKey(comment: string): DeployKeyPair {
  return generateEd25519KeyPair(comment);
}
