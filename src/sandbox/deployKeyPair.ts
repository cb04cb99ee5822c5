import { utils } from "ssh2";

export interface DeployKeyPair {
  privateKey: string;
  publicKey: string;
}

/** An ED25519 key in OpenSSH format, as @pulumi/tls hands the stack's deploy key to the workflows. */
export function generateDeployKey(comment: string): DeployKeyPair {
  const pair = utils.generateKeyPairSync("ed25519", { comment });
  return { privateKey: pair.private, publicKey: pair.public };
}
