// ED25519 key pairs in OpenSSH format, generated in-process with ssh2.
import { utils } from "ssh2";

export interface SshKeyPair {
  /** OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----). */
  privateKey: string;
  /** `ssh-ed25519 AAAA... <comment>` */
  publicKey: string;
}

/**
 * ssh2's generateKeyPairSync("ed25519") strips leading zero bytes from the public key, so about one pair in 256
 * cannot be parsed back ("Malformed OpenSSH private key"; mscdex/ssh2 issues 1390 and 1513, open). A pair that
 * ssh2 itself cannot read is drawn again.
 */
export function generateEd25519KeyPair(comment: string): SshKeyPair {
  for (let attempt = 1; ; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment });
    const readable =
      !(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error);
    if (readable) return { privateKey: pair.private, publicKey: pair.public };
    if (attempt >= 20) throw new Error("ssh2 generated 20 unreadable ED25519 key pairs in a row");
  }
}
