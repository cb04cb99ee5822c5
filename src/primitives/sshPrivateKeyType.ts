// The type of an SSH private key (OpenSSH or PEM), read with ssh2's parser, without ever printing the key.
import { utils } from "ssh2";

/** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ...; undefined for a key ssh2 cannot read (encrypted, damaged). */
export function sshPrivateKeyType(privateKey: string): string | undefined {
  const parsed = utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error) return undefined;
  return key.type;
}
